import Foundation
import Logging
import Rollout

@testable import Shepherd

/// A whole fleet in one process: a simulated etcd behind the production client protocol (`EtcdAPI`: kv with
/// revisions and CAS txns, leases that expire in simulated time, the v3 lock queue, members with learners and
/// removal, a leader and quorum, raft indexes that lag after a restart), simulated nodes, and N production
/// `Supervisor`s with their production store, lock (and keepalive), observer and request intake. One seeded
/// scheduler, one simulated clock; invariants after every step and at every stop.
///
/// Determinism: the scheduler runs one daemon task at a time and no port suspends on anything but the simulator, so
/// every interleaving comes from the seed; nothing iterates a dictionary where order matters.
///
/// The parts: the world's etcd (Fleet+Etcd.swift) and its client (SimClient.swift), the node stand-ins
/// (SimNode.swift), the scheduler and fault point (Fleet+Scheduler.swift), the environment and operators
/// (Fleet+Environment.swift), the invariants (Fleet+Invariants.swift).
final class Fleet: @unchecked Sendable {
    let seed: UInt64
    var n: Int
    var rng: SeededRandom
    /// Streams of their own for operator faults and node unkindness, so one kind of fault does not shift another.
    var opsRng: SeededRandom
    var nodeRng: SeededRandom
    var faults: FaultProfile
    var faultsActive = true
    let timing: Timing
    static func timing(settleSeconds: Double) -> Timing {
        var t = Timing(
            tickSeconds: 0.5, lockTTLSeconds: 15, verifyTimeoutSeconds: 30, settleSeconds: settleSeconds,
            maxObservationAgeSeconds: 3, minLeaseRemainingSeconds: 5, raftSlack: 16)
        t.stopPendingSeconds = 60
        t.startGraceSeconds = 10
        t.crashGraceSeconds = 5
        return t
    }
    let prefix = "/etcd-shepherd"
    let from = EtcdVersion(3, 4, 23)
    /// The final target; `via`, when the rollout runs in two hops, the first one.
    let to: EtcdVersion
    let via: EtcdVersion?
    let allowSmallCluster: Bool
    /// The `windows` profile's maintenance windows, every node's.
    let maintenance: MaintenanceSchedule?
    var windowCache = MaintenanceSchedule.Cache()
    /// Each node's Zincati: the FleetLock call it makes next, and when (it survives daemon restarts and reboots).
    var zincati: [Int: (call: FleetLockCall, at: Double)] = [:]
    var rebootsGranted = 0

    var now = 0.0
    var wallOffset = 1_800_000_000.0
    var members: [SimMember] = []
    var daemons: [SimDaemon] = []
    var leader: Int? = 0 { didSet { if leader != oldValue { leaderSince = now } } }
    var leaderSince = 0.0
    var staged: [Bool] = []
    var notActiveSince: Double?
    /// When an operator last removed a voting member: a stop whose gate observation predates it is the residual no
    /// gate sees (the small-cluster invariant allows it).
    var voterRemovedAt: Double?
    var terminalSince: Double?
    /// Set while the simulated operator writes by hand: the invariants judge the daemons' writes, not theirs.
    var handWriting = false
    var operatorResumeAt: Double?
    var daemonStops = 0
    var newerNode: Int?
    /// Stops under way that land at their time even if the daemon that issued them is gone (a systemd job, a stop
    /// command that outlives it): node → (lands at, ticket, issued by incarnation).
    var pendingStops: [Int: (at: Double, ticket: String, by: Int)] = [:]
    var clusterVersion = "3.4"
    /// The leader the last version check was made by, and when the next is due (see `environment()`).
    var versionCheckLeader: Int?
    var nextVersionCheck = 0.0
    var kv: [String: KV] = [:]
    var revision: Int64 = 1
    var leases: [Int64: SimLease] = [:]
    var nextLease: Int64 = 0x100
    var nextMemberID: UInt64 = 0x2000
    var nextTicket = 0
    /// Processes of the controller's view a few seconds ago (for late answers): node → [(time, up)].
    var processHistory: [Int: [(Double, Bool)]] = [:]
    var violations: [String] = []
    var trace: [String] = []
    let verbose: Bool
    var steps = 0
    /// The daemons' health probes (node → member ID → when it was asked) and the time their last KV write returned:
    /// a stop must rest on probes asked after its own last write, within the window (invariants).
    var probes: [Int: [UInt64: Double]] = [:]
    /// When each daemon last read each member's process start time (node → member ID → time), for the completion's
    /// residual race (invariants).
    var processRead: [Int: [UInt64: Double]] = [:]
    var lastWrite: [Int: Double] = [:]
    /// When each daemon last read the member list, and which daemon is writing now: a completion is judged on the
    /// members its writer could have seen (a member added after that read is a race no txn can close).
    var memberListRead: [Int: Double] = [:]
    var writer: Int?
    /// When the write being applied left its daemon (before any freeze or delay on the way to etcd).
    var writeSentAt: Double?
    var authDigest = "users-0"
    var authChangedAt: Double?
    var authChangedWhileMixed = false
    /// When the current rollout's record was first written (an auth change before it is one its request saw).
    var rolloutCreated: (id: RolloutID, at: Double)?
    var rolloutCreatedAt: Double? { rolloutCreated?.at }
    /// crashAfterVerify: the one target process (member, incarnation) that dies after its verification.
    var doomed: (member: Int, incarnation: Int)?
    /// crashAtTheEnd: the crash has happened; the lock holder's member reads since every member was done.
    var endCrashFired = false
    var endReads = 0
    var crashInSettleRestarts = false
    var rolloutCache: (revision: Int64, record: RolloutRecord?)?
    /// The operator's request is not yet accepted (it is dropped again after a refusal).
    var requestPending = false
    var requestRetryAt: Double?
    var requestDroppedAt = 0.0
    /// A rollout record deleted by hand, and when the operator writes it back.
    var restoreRollout: (at: Double, record: RolloutRecord)?

    init(seed: UInt64, n: Int, faults: FaultProfile, verbose: Bool = false) {
        self.seed = seed
        self.n = n
        self.faults = faults
        self.verbose = verbose
        timing = Self.timing(settleSeconds: faults.settleSeconds)
        rng = SeededRandom(seed: seed)
        opsRng = SeededRandom(seed: seed ^ 0x5EED_0F_0A75)
        nodeRng = SeededRandom(seed: seed ^ 0x0DE5_1DE5_0DE5)
        to = faults.refusedStep ? EtcdVersion(3, 5, 1) : EtcdVersion(3, 5, 30)
        via = faults.twoHop ? EtcdVersion(3, 5, 16) : nil
        allowSmallCluster = n < 3 && !faults.smallClusterRefused
        maintenance = faults.windows ? Self.maintenanceWindows : nil
        staged = Array(repeating: true, count: n)
        if faults.newerDaemon { newerNode = Int.random(in: 0..<n, using: &opsRng) }
        if faults.unstagedNode { staged[Int.random(in: 0..<n, using: &opsRng)] = false }
        crashInSettleRestarts = opsRng.chance(0.5)
        for i in 0..<n {
            var m = SimMember(name: "s\(i + 1)", id: UInt64(0x1000 + i), version: from, link: binary(from))
            m.processStartWall = wallOffset - 1000
            m.incarnations = 1
            members.append(m)
            daemons.append(SimDaemon(node: i))
        }
        leader = Int.random(in: 0..<n, using: &rng)
        if faults.expectsNoStop {
            // A record written straight into etcd (the request path would refuse it): nothing may ever be stopped.
            let r = RolloutRecord(
                id: "r1", from: from, to: to, requestedBy: "s1", requestedAt: wall, allowKnownBad: false)
            put(prefix + "/rollout", RolloutStore.encode(r))
        } else {
            // The operator drops a request on one node; its production intake validates it and writes the record.
            let node = Int.random(in: 0..<n, using: &opsRng)
            daemons[node].request = UpgradeRequest(
                version: to.description, allowAuthRisk: faults.authWatch ? true : nil,
                via: via?.description)
            requestPending = true
        }
        for d in daemons { restart(d) }
    }

    func binary(_ v: EtcdVersion) -> String { "/opt/etcd/\(v)/etcd" }

    /// 3-minute windows every 5 minutes from 07:30 to 08:30 UTC on every day, in three zones in turn (UTC, Berlin,
    /// Kolkata: whole and half-hour offsets; January, no DST). The wall clock starts at 08:00 UTC; a window needs 34 s
    /// left for a stop (verify 30 + settle 4).
    static let maintenanceWindows: MaintenanceSchedule = {
        let zones = [("UTC", 0), ("Europe/Berlin", 60), ("Asia/Kolkata", 330)]
        return MaintenanceSchedule(
            windows: (0..<12).map { i in
                let (zone, offset) = zones[i % 3]
                let local = (7 * 60 + 30 + 5 * i + offset) % 1440
                return MaintenanceWindow(
                    weekdays: Array(1...7), hour: local / 60, minute: local % 60, duration: 180,
                    timeZone: TimeZone(identifier: zone)!, zoneName: zone)
            })
    }()
    var wall: Double { now + wallOffset }
    var listed: [Int] { members.indices.filter { members[$0].inList } }
    var voters: [Int] { listed.filter { !members[$0].isLearner } }
    /// Counted without building arrays: asked at every call and for every member.
    var quorum: Bool {
        var voters = 0, live = 0
        for m in members where m.inList && !m.isLearner {
            voters += 1
            if m.up && m.cutOffUntil == nil { live += 1 }
        }
        return live >= voters / 2 + 1
    }

    func log(_ s: @autoclosure () -> String) {
        let line = String(format: "%8.2f ", now) + s()
        trace.append(line)
        if trace.count > 600 { trace.removeFirst(150) }
        if verbose { print(line) }
    }

    /// The rollout record as stored (decoded once per revision of the key).
    var rollout: RolloutRecord? {
        guard let kv = kv[prefix + "/rollout"] else { return nil }
        if let c = rolloutCache, c.revision == kv.modRevision { return c.record }
        let r = try? JSONDecoder().decode(RolloutRecord.self, from: Data(kv.value))
        rolloutCache = (kv.modRevision, r)
        return r
    }

    /// Faults for `faultSeconds` of simulated time, then none until the rollout ends (or `drainSeconds` pass).
    func run(faultSeconds: Double, drainSeconds: Double = 900) async {
        while now < faultSeconds && !finished { await step() }
        faultsActive = false
        operatorRepairs()
        for d in daemons where d.paused { d.paused = false }
        // Where nothing may happen, a minute without faults shows that nothing does.
        let end = now + (faults.expectsNoStop ? 60 : drainSeconds)
        while now < end && !finished { await step() }
        checkEnd()
    }

    /// Terminal, every member back, no journal, no lock key and no lease left.
    var finished: Bool {
        guard let r = rollout, r.state.isTerminal else { return false }
        return listed.allSatisfy { members[$0].up } && daemons.allSatisfy { $0.journal == nil || $0.lost }
            && !kv.keys.contains { $0.hasPrefix(prefix + "/lock/") } && leases.isEmpty
            && !zincati.contains { !daemons[$0.key].lost && members[$0.key].inList }
    }
}
