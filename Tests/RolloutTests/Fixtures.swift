@testable import Rollout

let v3423 = EtcdVersion(3, 4, 23), v351 = EtcdVersion(3, 5, 1)

func member(
    _ name: MemberName, id: MemberID, leader: Bool = false, version: EtcdVersion = v3423, healthy: Bool = true,
    raft: UInt64 = 100
) -> MemberView {
    MemberView(
        name: name, id: id, clientURL: "http://\(name):2379", reachable: true, healthy: healthy, hasLeader: healthy,
        isLeader: leader, version: version, raftIndex: raft)
}

let rollout = RolloutRecord(id: "r1", from: v3423, to: v351, requestedBy: "s1", requestedAt: 0, allowKnownBad: true)
let heldLock = LockHold(key: "/p/lock/abc", revision: 7, leaseID: 0xabc, leaseRemaining: 30, heldSince: 995)
let backup = BackupRecord(leaderID: "1", revision: 5, size: 100, sha256: "x", node: "s2", path: "/b")
let template = "/opt/etcd/{version}/etcd"

/// A healthy 3-member 3.4.23 cluster seen from s2 (a follower); s1 leads. `processUp: false`: the local member is down
/// (its process stopped, not answering).
func observation(
    local: MemberName = "s2", members: [MemberView]? = nil, rollout r: RolloutRecord? = rollout,
    records: [MemberName: MemberRecord] = [:], lock: LockHold? = nil, backup b: BackupRecord? = nil,
    journal: JournalEntry? = nil, preflight: [String] = [], processUp: Bool = true, age: Double = 0.1,
    verifiedFor: Double = 0, clusterVersion: String? = "3.4", now: Double = 1000
) -> Observation {
    var ms = members ?? [member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3)]
    if !processUp, let i = ms.firstIndex(where: { $0.name == local }) {
        ms[i].reachable = false
        ms[i].healthy = false
        ms[i].hasLeader = false
        ms[i].version = nil
        ms[i].isLeader = false
    }
    var o = Observation(
        localName: local, members: ms, clusterVersion: clusterVersion, rollout: r, records: records, backup: b,
        lock: lock, journal: journal, preflightBlocking: preflight, localProcess: processUp ? .running : .stopped,
        observedAt: now - age, verifiedFor: verifiedFor, now: now, timing: Timing())
    o.binaryPathTemplate = template
    o.linkTarget = "/opt/etcd/3.4.23/etcd"
    return o
}

func record(_ phase: MemberPhase, id: MemberID = 3) -> MemberRecord {
    MemberRecord(rolloutID: "r1", memberID: id, phase: phase, from: v3423, to: v351, updatedAt: 0)
}

/// The journal `beginStop` writes for s2's first stop, as the shell leaves it once the record write returned at
/// `written`.
func begun(written: Double? = 990, issued: Double? = nil) -> JournalEntry {
    var j = JournalEntry(
        rolloutID: "r1", step: .stopping, target: v351, previousBinary: "/opt/etcd/3.4.23/etcd", from: v3423)
    j.recordWrittenAt = written
    j.stoppedAt = issued
    return j
}
