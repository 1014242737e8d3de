import EtcdClient
import Explained
import Foundation
import Rollout
import Synchronization

/// The protocol's keys in etcd (DESIGN.md): `<p>/rollout`, `<p>/members/<name>`, `<p>/lock/<lease hex>`,
/// `<p>/backups/<rollout id>`, and the reads and guarded writes the daemons make on them.
public struct RolloutStore: RolloutStoring {
    public let prefix: String
    public let cluster: any EtcdAPI
    /// Each key's value decoded once per mod revision: a daemon reads every record every tick, and most ticks nothing
    /// changed.
    let decoded = DecodedRecords()

    public init(prefix: String, cluster: any EtcdAPI) {
        self.prefix = prefix
        self.cluster = cluster
    }

    public var rolloutKey: String { prefix + "/rollout" }
    public var lockName: String { prefix + "/lock" }
    public func memberKey(_ name: MemberName) -> String { prefix + "/members/" + name.rawValue }
    public func backupKey(_ id: String) -> String { prefix + "/backups/" + id }
    public func rebootKey(_ node: MemberName) -> String { prefix + "/reboots/" + node.rawValue }

    /// Everything under the prefix, read in one linearizable range.
    public struct Snapshot: Sendable {
        public var rollout: RolloutRecord?
        public var rolloutModRevision: Int64 = 0
        public var records: [MemberName: MemberRecord] = [:]
        public var recordModRevisions: [MemberName: Int64] = [:]
        public var backups: [String: BackupRecord] = [:]
        /// FleetLock's reboot holds, by node, and their mod revisions (the owner's clearing CAS).
        public var reboots: [MemberName: RebootHold] = [:]
        public var rebootModRevisions: [MemberName: Int64] = [:]
        /// Keys under `<prefix>/reboots/` this daemon cannot read, by node: they block every stop (fail closed).
        public var undecodableReboots: [String] = []
        /// Keys under the lock name, oldest first: the first is the holder's, the rest are waiters (a v3 lock is a
        /// queue of keys ordered by create revision).
        public var lockKeys: [String] = []
        /// Keys under the prefix whose value could not be read (a newer daemon's format, a corrupted value).
        public var undecodable: [String] = []
        /// Names of the member records among `undecodable`: gate 4 treats them as destructive. A name that fails
        /// `Identifier` is shown escaped (`Identifier.shown`).
        public var undecodableRecords: [String] = []
        /// Why the rollout record was set aside (an id that fails `Identifier`): the daemons then run nothing.
        public var rolloutProblem: String?
        public init() {}
    }

    public func read(avoiding: Set<String> = []) async throws -> Snapshot {
        let r = try await cluster.range(prefix + "/", prefix: true, avoiding: avoiding)
        var s = Snapshot()
        let dec = JSONDecoder()
        var locks: [(key: String, revision: Int64)] = []
        var seen: [String: (Int64, DecodedRecords.Value)] = [:]
        func decode<T: Decodable>(
            _ type: T.Type, _ key: String, _ kv: KeyValue, _ wrap: (T) -> DecodedRecords.Value,
            _ unwrap: (DecodedRecords.Value) -> T?
        ) throws -> T {
            if let cached = decoded.value(key, revision: kv.modRevision), let v = unwrap(cached) {
                seen[key] = (kv.modRevision, cached)
                return v
            }
            let v = try dec.decode(T.self, from: Data(kv.value))
            seen[key] = (kv.modRevision, wrap(v))
            return v
        }
        defer { decoded.replace(with: seen) }
        for kv in r.kvs {
            let key = kv.keyString
            do {
                if key == rolloutKey {
                    let r = try decode(
                        RolloutRecord.self, key, kv, { .rollout($0) },
                        { if case let .rollout(r) = $0 { r } else { nil } })
                    s.rolloutModRevision = kv.modRevision
                    // Intent from anyone who can write etcd: an id that could become a path runs nothing.
                    if let why = r.id.problem {
                        s.rolloutProblem = "rollout id '\(Identifier.shown(r.id.rawValue))' \(why)"
                        s.undecodable.append(key)
                    } else {
                        s.rollout = r
                    }
                } else if key.hasPrefix(prefix + "/members/") {
                    let name = MemberName(String(key.dropFirst((prefix + "/members/").count)))
                    if name.problem != nil {
                        // Fail closed, like any record this daemon cannot read: it blocks gate 4 until removed.
                        let shown = Identifier.shown(name.rawValue)
                        s.undecodable.append(prefix + "/members/" + shown)
                        s.undecodableRecords.append(shown)
                        s.recordModRevisions[MemberName(shown)] = kv.modRevision
                        continue
                    }
                    s.records[name] = try decode(
                        MemberRecord.self, key, kv, { .member($0) }, { if case let .member(m) = $0 { m } else { nil } })
                    s.recordModRevisions[name] = kv.modRevision
                } else if key.hasPrefix(prefix + "/backups/") {
                    s.backups[String(key.dropFirst((prefix + "/backups/").count))] =
                        try decode(
                            BackupRecord.self, key, kv, { .backup($0) },
                            { if case let .backup(b) = $0 { b } else { nil } })
                } else if key.hasPrefix(prefix + "/reboots/") {
                    let node = MemberName(String(key.dropFirst((prefix + "/reboots/").count)))
                    s.rebootModRevisions[node] = kv.modRevision
                    s.reboots[node] = try dec.decode(RebootHold.self, from: Data(kv.value))
                } else if key.hasPrefix(lockName + "/") {
                    locks.append((key, kv.createRevision))
                }
            } catch {
                s.undecodable.append(key)
                if key.hasPrefix(prefix + "/reboots/") {
                    s.undecodableReboots.append(String(key.dropFirst((prefix + "/reboots/").count)))
                }
                if key.hasPrefix(prefix + "/members/") {
                    let name = String(key.dropFirst((prefix + "/members/").count))
                    s.undecodableRecords.append(name)
                    s.recordModRevisions[MemberName(name)] = kv.modRevision
                }
            }
        }
        s.lockKeys = locks.sorted { $0.revision < $1.revision }.map(\.key)
        return s
    }

    static func encode<T: Encodable>(_ v: T) -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return Array((try? enc.encode(v)) ?? Data())
    }

    /// A write made under the lock: it succeeds only while our lock key still exists with the create revision our
    /// lock call returned (a waiter's key exists too, so existence alone proves nothing).
    public func fencedPut(_ key: String, _ value: [UInt8], lock: LockHold, avoiding: Set<String>) async throws {
        let t = try await cluster.txn(
            compare: [Compare(key: lock.key, .equal, .createRevision(lock.revision))],
            success: [.put(key: key, value: value)], avoiding: avoiding)
        guard t.succeeded else {
            throw StoreError.fenceLost(
                lock.key, "it is no longer ours (revision \(lock.revision)); write to \(key) refused")
        }
    }

    public func putBackupFenced(
        _ key: String, _ rec: BackupRecord, lock: LockHold, avoiding: Set<String>
    ) async throws {
        try await fencedPut(backupKey(key), Self.encode(rec), lock: lock, avoiding: avoiding)
    }

    public func writeRecordFenced(
        _ name: MemberName, _ rec: MemberRecord, lock: LockHold, avoiding: Set<String>
    ) async throws {
        try await fencedPut(memberKey(name), Self.encode(rec), lock: lock, avoiding: avoiding)
    }

    /// A reboot hold, written under the lock (fenced) once every gate passed.
    public func putRebootFenced(_ hold: RebootHold, lock: LockHold) async throws {
        try await fencedPut(rebootKey(hold.node), Self.encode(hold), lock: lock, avoiding: [])
    }

    /// The owner's (or an operator's) clearing of a reboot hold: a delete, CAS on its mod revision.
    public func deleteRebootCAS(_ node: MemberName, modRevision: Int64) async throws -> Bool {
        let key = rebootKey(node)
        return try await cluster.txn(
            compare: [Compare(key: key, .equal, .modRevision(modRevision))], success: [.delete(key: key)], avoiding: []
        ).succeeded
    }

    /// The owner's own clearing write, without the lock: a compare-and-swap on the record's mod revision.
    public func writeRecordCAS(_ name: MemberName, _ rec: MemberRecord, modRevision: Int64) async throws -> Bool {
        let key = memberKey(name)
        let cmp = modRevision == 0 ? Compare.absent(key) : Compare(key: key, .equal, .modRevision(modRevision))
        return try await cluster.txn(compare: [cmp], success: [.put(key: key, value: Self.encode(rec))], avoiding: [])
            .succeeded
    }

    /// The operator's `forget`: a CAS on the record's mod revision that rewrites it (`replacement`) or, for a value
    /// nobody can read, deletes it. False when the record changed since it was read.
    public func forgetCAS(_ name: MemberName, modRevision: Int64, replacement: MemberRecord?) async throws -> Bool {
        let key = memberKey(name)
        let op: TxnOp = replacement.map { .put(key: key, value: Self.encode($0)) } ?? .delete(key: key)
        return try await cluster.txn(
            compare: [Compare(key: key, .equal, .modRevision(modRevision))], success: [op], avoiding: []
        ).succeeded
    }

    /// Creates the rollout record if there is none, the existing one is terminal, or it was set aside as unsafe
    /// (`setAside`: its mod revision) — each a CAS on what was read.
    public func createRollout(
        _ rec: RolloutRecord, replacing existing: (RolloutRecord, Int64)?, setAside: Int64? = nil
    ) async throws -> Bool {
        let cmp: Compare
        if let (old, rev) = existing {
            guard old.state.isTerminal else { return false }
            cmp = Compare(key: rolloutKey, .equal, .modRevision(rev))
        } else if let rev = setAside {
            cmp = Compare(key: rolloutKey, .equal, .modRevision(rev))
        } else {
            cmp = .absent(rolloutKey)
        }
        return try await cluster.txn(
            compare: [cmp], success: [.put(key: rolloutKey, value: Self.encode(rec))], avoiding: []
        ).succeeded
    }

    /// Changes the rollout's state with a CAS loop; `allowed` says from which states the change is legal.
    public func setRolloutState(
        _ state: RolloutState, reason: String?, allowedFrom: Set<RolloutState>,
        avoiding: Set<String> = [], fence: LockHold? = nil, lastLook: (@Sendable () async throws -> Void)? = nil
    ) async throws -> RolloutRecord {
        try await updateRollout(avoiding: avoiding, fence: fence, lastLook: lastLook) { cur in
            guard let cur else { throw StoreError(thing: "the rollout record", cause: "there is no rollout") }
            if cur.state == state { return (cur, write: false) }
            guard allowedFrom.contains(cur.state) else {
                throw StoreError(
                    thing: "rollout \(cur.id)", cause: "is \(cur.state.rawValue); cannot make it \(state.rawValue)")
            }
            var r = cur
            r.state = state
            if let reason { r.reason = reason }
            return (r, write: true)
        }
    }

    public func advanceHop(
        _ r: RolloutRecord, fence: LockHold?, lastLook: (@Sendable () async throws -> Void)? = nil
    ) async throws -> RolloutRecord {
        try await updateRollout(avoiding: [], fence: fence, lastLook: lastLook) { cur in
            guard let cur, cur.id == r.id else { throw StoreError(thing: "rollout \(r.id)", cause: "was replaced") }
            if (cur.stage ?? 0) > (r.stage ?? 0) { return (cur, write: false) }
            guard cur.state == .active else {
                throw StoreError(
                    thing: "rollout \(r.id)", cause: "is \(cur.state.rawValue); not moving to its next hop")
            }
            guard let next = cur.advanced() else {
                throw StoreError(thing: "rollout \(r.id)", cause: "has no next hop")
            }
            return (next, write: true)
        }
    }

    /// The CAS loop on the rollout record: `change` sees the current record and returns the one to keep and whether
    /// it must be written; a write goes through only if nobody changed the record since it was read (5 tries) and,
    /// with a `fence`, only while that lock key is still ours (a `StoreError` that `isFenceLost` once it is gone).
    /// `lastLook` runs right before each write, after the read it rests on: a look that throws writes nothing.
    func updateRollout(
        avoiding: Set<String>, fence: LockHold? = nil, lastLook: (@Sendable () async throws -> Void)? = nil,
        _ change: (RolloutRecord?) throws -> (RolloutRecord, write: Bool)
    ) async throws -> RolloutRecord {
        for _ in 0..<5 {
            let s = try await read(avoiding: avoiding)
            // The key's name holds our lease ID: present means still ours.
            if let fence, !s.lockKeys.contains(fence.key) {
                throw StoreError.fenceLost(fence.key, "it is no longer ours; the rollout record is left as it is")
            }
            let (r, write) = try change(s.rollout)
            guard write else { return r }
            try await lastLook?()
            var compare = [Compare(key: rolloutKey, .equal, .modRevision(s.rolloutModRevision))]
            if let fence { compare.append(Compare(key: fence.key, .equal, .createRevision(fence.revision))) }
            let t = try await cluster.txn(
                compare: compare, success: [.put(key: rolloutKey, value: Self.encode(r))], avoiding: avoiding)
            if t.succeeded { return r }
        }
        throw StoreError(thing: "the rollout record", cause: "kept changing", fix: "try again")
    }
}

/// The store layer's one error: a write the store refused, or a lock the daemon no longer holds.
public struct StoreError: ExplainedError {
    public let thing: String
    public let cause: String
    public let fix: String
    /// The write was fenced on a lock key that is no longer ours: the caller forgets the lock.
    public let isFenceLost: Bool

    public init(thing: String, cause: String, fix: String = "", isFenceLost: Bool = false) {
        self.thing = thing
        self.cause = cause
        self.fix = fix
        self.isFenceLost = isFenceLost
    }

    /// A fenced write refused because the lock key `key` is gone or another's.
    static func fenceLost(_ key: String, _ cause: String) -> StoreError {
        StoreError(thing: "lock key \(key)", cause: cause, isFenceLost: true)
    }
}

/// The records a store decoded, by key and mod revision (only the keys of the last read are kept).
final class DecodedRecords: Sendable {
    enum Value: Sendable {
        case rollout(RolloutRecord), member(MemberRecord), backup(BackupRecord)
    }
    private let values = Mutex<[String: (Int64, Value)]>([:])

    func value(_ key: String, revision: Int64) -> Value? {
        values.withLock { v in v[key].flatMap { $0.0 == revision ? $0.1 : nil } }
    }

    func replace(with new: [String: (Int64, Value)]) { values.withLock { $0 = new } }
}
