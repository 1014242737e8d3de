import Rollout
@testable import Shepherd

/// In-memory ports of one daemon incarnation. Each call goes through `Fleet.enter` (the fault point) and then applies
/// etcd's or the node's semantics; none of them decides anything about the rollout.
enum SimPorts {
    static func make(fleet: Fleet, node: Int, incarnation: Int, lock: SimLock) -> SupervisorPorts {
        let id = SimID(fleet: fleet, node: node, incarnation: incarnation)
        return SupervisorPorts(cluster: SimCluster(id: id), store: SimStore(id: id), lock: lock, controller: SimController(id: id),
                               link: SimLink(id: id), journal: SimJournal(id: id), maintenance: SimMaintenance(id: id),
                               preflight: SimPreflight(id: id), clock: SimClock(fleet: fleet))
    }
}

struct SimID: @unchecked Sendable {
    let fleet: Fleet
    let node: Int
    let incarnation: Int
    func enter(_ call: String, quorum: Bool = true, pauseChance: Double? = nil, short: Bool = false) async throws -> Bool {
        try await fleet.enter(call, node: node, incarnation: incarnation, needsQuorum: quorum, pauseChance: pauseChance, shortForced: short)
    }
    func local(_ what: String) throws {
        guard fleet.alive(node, incarnation) else { throw SimError.crashed }
    }
}

struct SimClock: ShepherdClock, @unchecked Sendable {
    let fleet: Fleet
    func now() -> Double { fleet.now }
    func wallNow() -> Double { fleet.wall }
}

/// The node's view of its staged binaries (what the production preflight finds on disk); no decision.
struct SimPreflight: Preflighting {
    let id: SimID
    func check(_ config: Config, rollout: RolloutRecord) async -> [Finding] {
        guard rollout.to == id.fleet.to, !id.fleet.staged[id.node] else { return [] }
        return [Finding(severity: .blocking, what: "target binary \(id.fleet.binary(rollout.to)) is missing", fix: "stage it")]
    }
}

struct SimCluster: ClusterObserving {
    let id: SimID
    func observe(metricsOf: String?) async throws -> ClusterView {
        _ = try await id.enter("observe", quorum: false)
        let f = id.fleet
        guard f.members.contains(where: { $0.up && $0.inList }) else { throw SimError.unavailable("member list (no member up)") }
        let q = f.quorum
        let details = f.members.enumerated().filter { $0.element.inList }.map { i, m -> MemberDetail in
            let q = q && !(f.faults.sickTarget && m.version == f.to)   // a sick target answers, without a leader
            return MemberDetail(name: m.name, idHex: String(m.id, radix: 16), id: m.id, clientURL: m.url, reachable: m.up,
                         healthy: m.up && q && m.cutOffUntil == nil,
                         problem: m.up ? (q && m.cutOffUntil == nil ? nil : "no leader") : "unreachable", serverVersion: m.up ? m.version.description : nil,
                         isLeader: m.up && q && f.leader == i && m.cutOffUntil == nil, hasLeader: m.up && q && m.cutOffUntil == nil, raftIndex: m.up ? UInt64(f.revision) : 0, dbSizeBytes: 1 << 20)
        }
        return ClusterView(members: details, clusterVersion: q ? f.clusterVersion : nil, startedAt: f.now)
    }
    /// etcd's users and roles, as the `authWatch` profile changes them (a call that may fail like any other).
    func authFingerprint() async throws -> String {
        _ = try await id.enter("auth fingerprint", quorum: false)
        return id.fleet.authDigest
    }
}

struct SimStore: RolloutStoring {
    let id: SimID
    var f: Fleet { id.fleet }
    var p: String { f.prefix }

    func read(avoiding: Set<String>) async throws -> RolloutStore.Snapshot {
        _ = try await id.enter("range")
        var s = RolloutStore.Snapshot()
        var locks: [(String, Int64)] = []
        for (k, v) in f.kv {
            switch v.value {
            case let .rollout(r): s.rollout = r; s.rolloutModRevision = v.modRevision
            case let .member(m):
                let name = String(k.dropFirst((p + "/members/").count))
                s.records[name] = m; s.recordModRevisions[name] = v.modRevision
            case let .backup(b): s.backups[String(k.dropFirst((p + "/backups/").count))] = b
            case .lockKey: locks.append((k, v.createRevision))
            case let .newer(m, writer) where writer == id.node:
                let name = String(k.dropFirst((p + "/members/").count))
                s.records[name] = m; s.recordModRevisions[name] = v.modRevision
            case .garbage, .newer:
                s.undecodable.append(k)
                if k.hasPrefix(p + "/members/") { s.undecodableRecords.append(String(k.dropFirst((p + "/members/").count))) }
            }
        }
        s.lockKeys = locks.sorted { $0.1 < $1.1 }.map(\.0)
        return s
    }

    func fencedPut(_ key: String, _ value: Stored, lock: LockHold, call: String, pauseChance: Double? = nil) async throws {
        let ambiguous = try await id.enter(call, pauseChance: pauseChance, short: true)
        guard f.kv[lock.key]?.createRevision == lock.revision else {
            throw RolloutStore.FenceLost(detail: "lock key \(lock.key) is no longer ours; write to \(key) refused")
        }
        f.put(key, value)
        if ambiguous { throw SimError.ambiguous(call) }
    }

    func writeRecordFenced(_ name: String, _ rec: MemberRecord, lock: LockHold, avoiding: Set<String>) async throws {
        let value: Stored = f.newerNode == id.node && rec.phase.isDestructive ? .newer(rec, writer: id.node) : .member(rec)
        // The record write right before a stop: a short freeze here ages the observation the gates used (the window).
        let beforeStop = rec.phase == .stopping || rec.phase == .rollingBack
        try await fencedPut(p + "/members/" + name, value, lock: lock, call: "fenced put members/\(name) \(rec.phase)",
                            pauseChance: beforeStop ? f.faults.pauseBeforeStop : nil)
        f.log("\(name) record → \(rec.phase.rawValue)")
    }

    func putBackupFenced(_ rolloutID: String, _ rec: BackupRecord, lock: LockHold, avoiding: Set<String>) async throws {
        try await fencedPut(p + "/backups/" + rolloutID, .backup(rec), lock: lock, call: "fenced put backup")
    }

    func writeRecordCAS(_ name: String, _ rec: MemberRecord, modRevision: Int64) async throws -> Bool {
        let ambiguous = try await id.enter("cas members/\(name)")
        let key = p + "/members/" + name
        guard (f.kv[key]?.modRevision ?? 0) == modRevision else { return false }
        f.put(key, .member(rec))
        f.log("\(name) record → \(rec.phase.rawValue) (owner clears)")
        if ambiguous { throw SimError.ambiguous("cas") }
        return true
    }

    func setRolloutState(_ state: RolloutState, reason: String?, allowedFrom: Set<RolloutState>,
                         avoiding: Set<String>) async throws -> RolloutRecord {
        let ambiguous = try await id.enter("rollout → \(state)")
        guard case var .rollout(r)? = f.kv[p + "/rollout"]?.value else { throw StoreError(detail: "there is no rollout") }
        if r.state == state { return r }
        guard allowedFrom.contains(r.state) else { throw StoreError(detail: "rollout is \(r.state); cannot make it \(state)") }
        r.state = state
        if let reason { r.reason = reason }
        f.put(p + "/rollout", .rollout(r))
        f.log("rollout → \(state.rawValue) \(reason ?? "")")
        if ambiguous { throw SimError.ambiguous("rollout state") }
        return r
    }

    func advanceHop(_ r: RolloutRecord) async throws -> RolloutRecord {
        let ambiguous = try await id.enter("rollout → next hop")
        guard case let .rollout(cur)? = f.kv[p + "/rollout"]?.value, cur.id == r.id else { throw StoreError(detail: "rollout replaced") }
        if (cur.stage ?? 0) > (r.stage ?? 0) { return cur }
        guard cur.state == .active, let next = cur.advanced() else { throw StoreError(detail: "rollout \(cur.state); no next hop") }
        f.put(p + "/rollout", .rollout(next))
        f.log("rollout → hop \(next.stage ?? 0): \(next.from) → \(next.to)")
        if ambiguous { throw SimError.ambiguous("rollout hop") }
        return next
    }
}

/// The v3 lock on a lease of this incarnation: the holder is the lock key with the lowest create revision; a
/// lock call that would wait gives up, and like the production lock it revokes its lease so nothing is left.
actor SimLock: UpgradeLock {
    nonisolated let fleetRef: Fleet
    let node: Int
    let incarnation: Int
    nonisolated(unsafe) var hold: LockHold?
    var lost: String?

    init(fleet: Fleet, node: Int, incarnation: Int) { fleetRef = fleet; self.node = node; self.incarnation = incarnation }
    var id: SimID { SimID(fleet: fleetRef, node: node, incarnation: incarnation) }

    func current() -> LockHold? {
        guard var h = hold else { return nil }
        guard let l = fleetRef.leases[h.leaseID] else {
            hold = nil; lost = "lease expired"; return nil
        }
        h.leaseRemaining = l.expiresAt - fleetRef.now
        return h
    }

    func acquire(wait: Duration) async throws -> Bool {
        if hold != nil { return true }
        _ = try await id.enter("lease grant")
        let f = fleetRef
        let lease = f.grant(ttl: Double(f.timing.lockTTLSeconds), owner: (node, incarnation))
        let ambiguous = try await id.enter("lock")
        let key = f.prefix + "/lock/" + String(lease, radix: 16)
        // etcd refuses a key on a lease that expired meanwhile ("requested lease not found").
        guard f.leases[lease] != nil else { throw SimError.unavailable("lock (lease not found)") }
        f.put(key, .lockKey, lease: lease)
        if ambiguous { throw SimError.ambiguous("lock") }   // the key stays until its lease expires
        let holder = f.kv.filter { $0.key.hasPrefix(f.prefix + "/lock/") }.min { $0.value.createRevision < $1.value.createRevision }
        guard holder?.key == key, let kv = f.kv[key] else {
            f.revoke(lease)
            return false
        }
        hold = LockHold(key: key, revision: kv.createRevision, leaseID: lease, leaseRemaining: Double(f.timing.lockTTLSeconds))
        f.log("\(f.members[node].name) holds the lock \(key)")
        return true
    }

    func markLost(_ why: String) async {
        guard let h = hold else { return }
        hold = nil; lost = why
        if (try? await id.enter("lease revoke")) != nil { fleetRef.revoke(h.leaseID) }
    }

    func release() async {
        guard let h = hold else { return }
        hold = nil
        if (try? await id.enter("lease revoke")) != nil { fleetRef.revoke(h.leaseID); fleetRef.log("\(fleetRef.members[node].name) released the lock") }
    }

    func takeLossReason() -> String? { defer { lost = nil }; return lost }
}

struct SimController: MemberController {
    let id: SimID
    var f: Fleet { id.fleet }

    func stop() async throws {
        let i = id.node
        if f.faultsActive, f.opsRng.chance(f.faults.pendingStop), f.alive(i, id.incarnation) {
            f.pendingStops[i] = f.now + Double.random(in: 0.5...5, using: &f.opsRng)
            f.log("FAULT \(f.members[i].name)'s stop is queued; its daemon crashes")
            f.kill(f.daemons[i])
            throw SimError.crashed
        }
        let ambiguous = try await id.enter("stop member", quorum: false, pauseChance: f.faults.pauseAtStop)
        if f.members[i].up {
            f.stopping(i)
            f.members[i].up = false; f.members[i].down = .byDaemon; f.members[i].downSince = f.now; f.members[i].restartAt = nil
            f.log("\(f.members[i].name) stopped by its daemon")
        }
        if ambiguous { throw SimError.ambiguous("stop member") }
    }

    func start() async throws {
        if f.faultsActive, f.alive(id.node, id.incarnation), f.opsRng.chance(f.faults.crashAtStart) {
            f.log("FAULT \(f.members[id.node].name)'s daemon crashed at the start call")
            f.kill(f.daemons[id.node])
            throw SimError.crashed
        }
        let ambiguous = try await id.enter("start member", quorum: false)
        let i = id.node
        if !f.members[i].up, let why = f.bootMember(i, by: "daemon") { throw SimError.startFailed(why) }
        if ambiguous { throw SimError.ambiguous("start member") }
    }

    func isRunning() async -> Bool? { f.members[id.node].up }
}

struct SimLink: BinaryLinking {
    let id: SimID
    func target() -> String? { id.fleet.members[id.node].link }
    func point(to binary: String) throws {
        try id.local("link")
        if id.fleet.diskFull() { throw SimError.diskFull("/usr/bin/etcd") }
        id.fleet.members[id.node].link = binary
    }
}

struct SimJournal: JournalStoring {
    let id: SimID
    var d: SimDaemon { id.fleet.daemons[id.node] }
    func read() throws -> JournalEntry? { try id.local("journal"); return d.journal }
    func write(_ entry: JournalEntry) throws {
        try id.local("journal")
        if id.fleet.diskFull() { throw SimError.diskFull("/state/journal.json") }
        if entry.step == .stopping, entry.stoppedAt != nil, d.journal?.stoppedAt != entry.stoppedAt { id.fleet.lastWindowCheck[id.node] = id.fleet.now }
        d.journal = entry
    }
    func clear() throws { try id.local("journal"); d.journal = nil }
}

struct SimMaintenance: Maintenance {
    let id: SimID
    func takeBackup(leaderURL: String, leaderID: String, rolloutID: String, node: String,
                    progress: @escaping @Sendable (Int64) -> Void) async throws -> BackupRecord {
        _ = try await id.enter("snapshot")
        if id.fleet.diskFull() { throw SimError.diskFull("/backups") }
        return BackupRecord(leaderID: leaderID, revision: id.fleet.revision, size: 1 << 20, sha256: "00", node: node, path: "/backups/\(rolloutID).db")
    }

    func transferLeadership(leaderURL: String, to target: UInt64) async throws {
        _ = try await id.enter("move leader")
        let f = id.fleet
        guard let l = f.leader, f.members[l].url == leaderURL, let t = f.members.firstIndex(where: { $0.id == target }), f.members[t].up else {
            throw SimError.unavailable("move leader (not leader / target down)")
        }
        f.leader = t
        f.log("leadership → \(f.members[t].name)")
    }
}
