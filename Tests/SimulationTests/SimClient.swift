import EtcdClient
import Foundation
import Rollout

@testable import Shepherd

/// The simulated etcd behind the production client protocol, as one daemon incarnation reaches it. Every call goes
/// through the fault point (`Fleet.enter`: fail, time out, crash or freeze the daemon, or apply and then report an
/// error), then applies etcd's semantics to the world. The production store, lock, observer and intake run on it.
struct SimClient: EtcdAPI, @unchecked Sendable {
    let fleet: Fleet
    let node: Int
    let incarnation: Int
    /// A background task's calls (the lock's keepalive) may fail, but never freeze or crash the daemon themselves.
    var background = false

    var f: Fleet { fleet }

    func enter(_ call: String, quorum: Bool = true, pause: Double? = nil, short: Bool = false) async throws -> Bool {
        try await f.enter(
            call, node: node, incarnation: incarnation, needsQuorum: quorum, pauseChance: pause, shortForced: short,
            background: background)
    }

    // MARK: kv

    func range(_ key: String, prefix: Bool, avoiding: Set<String>) async throws -> RangeResult {
        _ = try await enter("range \(key)")
        let keys = f.kv.keys.filter { prefix ? $0.hasPrefix(key) : $0 == key }.sorted()
        let kvs = keys.map { k in
            let v = f.kv[k]!
            return KeyValue(
                key: Array(k.utf8), value: v.value, createRevision: v.createRevision, modRevision: v.modRevision,
                version: v.version, lease: v.lease)
        }
        return RangeResult(header: ResponseHeader(revision: f.revision), kvs: kvs)
    }

    func txn(compare: [Compare], success: [TxnOp], failure: [TxnOp], avoiding: Set<String>) async throws -> TxnResult {
        let writes = success.contains { if case .put = $0 { return true } else { return false } }
        let beforeStop =
            writes
            && success.contains { op in
                if case let .put(k, v, _) = op, k.hasPrefix(f.prefix + "/members/"),
                    let rec = try? JSONDecoder().decode(MemberRecord.self, from: Data(v))
                {
                    return rec.phase == .stopping || rec.phase == .rollingBack
                }
                return false
            }
        let sent = f.now
        let ambiguous = try await enter("txn", pause: beforeStop ? f.faults.pauseBeforeStop : nil, short: true)
        let ok = compare.allSatisfy { c in
            let k = String(decoding: c.key, as: UTF8.self)
            let v = f.kv[k]
            let actual: Int64
            switch c.target {
            case .createRevision: actual = v?.createRevision ?? 0
            case .modRevision: actual = v?.modRevision ?? 0
            case .version: actual = v?.version ?? 0
            case let .value(bytes): return c.result == .equal ? v?.value == bytes : v?.value != bytes
            }
            let want: Int64
            switch c.target {
            case let .createRevision(r), let .modRevision(r), let .version(r): want = r
            case .value: want = 0
            }
            switch c.result {
            case .equal: return actual == want
            case .notEqual: return actual != want
            case .greater: return actual > want
            case .less: return actual < want
            }
        }
        var ranges: [RangeResult] = []
        for op in ok ? success : failure {
            switch op {
            case let .put(k, v, lease):
                f.writer = node
                f.writeSentAt = sent
                defer { (f.writer, f.writeSentAt) = (nil, nil) }
                f.put(k, v, lease: lease)
                f.recordWritten(key: k, value: v, by: node)
            case let .delete(k): f.delete(k)
            case let .range(k):
                if let v = f.kv[k] {
                    ranges.append(
                        RangeResult(
                            header: nil,
                            kvs: [
                                KeyValue(
                                    key: Array(k.utf8), value: v.value, createRevision: v.createRevision,
                                    modRevision: v.modRevision, version: v.version, lease: v.lease)
                            ]))
                }
            }
        }
        f.lastWrite[node] = f.now
        if ambiguous { throw SimError.ambiguous("txn") }
        return TxnResult(succeeded: ok, header: ResponseHeader(revision: f.revision), ranges: ranges)
    }

    func memberList(avoiding: Set<String>) async throws -> [Member] {
        _ = try await enter("member list", quorum: false)
        guard f.members.contains(where: { $0.up && $0.inList }) else {
            throw SimError.unavailable("member list (no member up)")
        }
        f.memberListRead[node] = f.now
        return f.members.filter(\.inList).map {
            Member(
                id: $0.id, name: $0.name, peerURLs: ["http://\($0.name):2380"], clientURLs: [$0.url],
                isLearner: $0.isLearner)
        }
    }

    // MARK: leases and the lock

    func leaseGrant(ttl: Int64, avoiding: Set<String>) async throws -> Lease {
        let ambiguous = try await enter("lease grant")
        let id = f.grant(ttl: Double(ttl), owner: (node, incarnation))
        if ambiguous { throw SimError.ambiguous("lease grant") }  // granted, never used: it expires
        return Lease(id: id, ttl: ttl)
    }

    func leaseKeepAlive(_ id: Int64, avoiding: Set<String>) async throws -> Lease {
        _ = try await enter("lease keepalive")
        guard var l = f.leases[id] else { return Lease(id: id, ttl: 0) }
        l.expiresAt = f.now + l.ttl
        f.leases[id] = l
        return Lease(id: id, ttl: Int64(l.ttl))
    }

    func leaseRevoke(_ id: Int64, avoiding: Set<String>) async throws {
        let ambiguous = try await enter("lease revoke")
        f.revoke(id)
        if ambiguous { throw SimError.ambiguous("lease revoke") }
    }

    func authFingerprint() async throws -> String {
        _ = try await enter("auth fingerprint", quorum: false)
        return f.authDigest
    }

    // MARK: one member

    /// A member answers when its process runs; a slow answer is computed first and returned later (stale), or not
    /// at all past the caller's deadline. Without quorum a member takes its time and then says it has no leader.
    func answer<T>(_ call: String, _ url: String, timeout: Duration, _ body: (Int) throws -> T) async throws -> T {
        _ = try await enter(call, quorum: false)
        guard let i = f.index(url: url), f.members[i].up else {
            throw SimError.refused("\(call) on \(url): connection refused")
        }
        let limit = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        if !f.quorum {
            try await f.block(node, incarnation, seconds: limit)
            throw EtcdError.timeout(endpoint: url, call: call, seconds: limit)
        }
        let value = try body(i)
        if f.faultsActive, f.nodeRng.chance(f.faults.slowAnswer) {
            let delay = f.nodeRng.between(0.2, limit * 1.3)
            try await f.block(node, incarnation, seconds: min(delay, limit))
            if delay >= limit { throw EtcdError.timeout(endpoint: url, call: call, seconds: limit) }
        }
        return value
    }

    func health(of url: String, timeout: Duration) async throws -> HealthReport {
        let asked = f.now
        let h = try await answer("health", url, timeout: timeout) { i -> HealthReport in
            let m = f.members[i]
            let ok = m.cutOffUntil == nil && !(f.faults.sickTarget && m.version == f.to)
            return HealthReport(healthy: ok, reason: ok ? "" : "RAFT NO LEADER")
        }
        if let i = f.index(url: url) { f.probes[node, default: [:]][f.members[i].id] = asked }
        return h
    }

    func status(of url: String, timeout: Duration) async throws -> MemberStatus {
        try await answer("status", url, timeout: timeout) { i -> MemberStatus in
            let m = f.members[i]
            let hasLeader = m.cutOffUntil == nil && !(f.faults.sickTarget && m.version == f.to)
            let leaderID = hasLeader ? f.leader.map { f.members[$0].id } ?? 0 : 0
            return MemberStatus(
                header: ResponseHeader(memberID: m.id, revision: f.revision), version: m.version.description,
                dbSize: 1 << 20,
                leader: leaderID, raftIndex: f.raftIndex(i))
        }
    }

    func version(of url: String, timeout: Duration) async throws -> VersionInfo {
        if f.faultsActive, f.nodeRng.chance(f.faults.versionFails) { throw SimError.unavailable("version on \(url)") }
        return try await answer("version", url, timeout: timeout) { i in
            VersionInfo(server: f.members[i].version.description, cluster: f.clusterVersion + ".0")
        }
    }

    func metrics(of url: String, only: Set<String>?, timeout: Duration) async throws -> PrometheusText {
        var hidden = false
        let text = try await answer("metrics", url, timeout: timeout) { i in
            let m = f.members[i]
            f.processRead[node, default: [:]][m.id] = f.now
            // The lock holder's reads once every member is done: its tick's observation, then its last look.
            if f.faults.crashAtTheEnd, !f.endCrashFired, f.everyListedDone, f.holdsLock(node) {
                f.endReads += 1
                if f.endReads == f.listed.count + 1 {
                    f.endCrashFired = true
                    f.members[i].dieAt = f.now + 0.01
                    hidden = true
                    f.log("FAULT \(m.name) crashes right after its /metrics answer to the last look, which is slow")
                }
            }
            return PrometheusText(samples: [
                PrometheusSample(name: "process_start_time_seconds", value: m.processStartWall),
                PrometheusSample(name: "etcd_server_leader_changes_seen_total", value: 1),
                PrometheusSample(name: "etcd_server_has_leader", value: m.cutOffUntil == nil ? 1 : 0),
            ])
        }
        // crashAtTheEnd: the answer arrives late, within the caller's deadline (systemd restarts the member 1–3 s after
        // its crash: often before the answer arrives).
        if hidden {
            let limit = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            try await f.block(node, incarnation, seconds: limit * 0.95)
        }
        return text
    }

    func moveLeader(at url: String, to target: UInt64, timeout: Duration) async throws {
        _ = try await enter("move leader")
        guard let l = f.leader, f.members[l].url == url,
            let t = f.members.firstIndex(where: { $0.id == target && $0.inList }),
            f.members[t].up, !f.members[t].isLearner
        else {
            throw SimError.unavailable("move leader (not leader, or the target is down or a learner)")
        }
        f.leader = t
        f.log("leadership → \(f.members[t].name)")
    }
}

extension Fleet {
    /// A KV write by a daemon: the invariants look at what it says (a member done on what truth).
    func recordWritten(key: String, value: [UInt8], by node: Int) {
        guard key.hasPrefix(prefix + "/members/"),
            let rec = try? JSONDecoder().decode(MemberRecord.self, from: Data(value))
        else { return }
        let name = String(key.dropFirst((prefix + "/members/").count))
        log("\(name) record → \(rec.phase.rawValue)\(rec.error.map { " (\($0))" } ?? "")")
        if rec.phase == .done, let i = members.firstIndex(where: { $0.name == name && $0.inList }) {
            checkDone(i, rec, by: node)
        }
    }
}
