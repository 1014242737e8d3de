import Rollout
@testable import Shepherd

/// SplitMix64: the one source of randomness of a run, so a seed replays exactly.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func chance(_ p: Double) -> Bool { p > 0 && Double.random(in: 0..<1, using: &self) < p }
}

/// Which faults a run may inject, and how often (per port call or per scheduler step).
struct FaultProfile: Sendable {
    var callFails = 0.02
    var callAmbiguous = 0.01
    var crashAtCall = 0.004
    var pauseAtCall = 0.002
    var memberCrash = 0.02
    /// A member cut off from its peers: its process runs and answers, but unhealthy and without a leader.
    var memberCutOff = 0.01
    var nodeLost = 0.0005
    var quorumLoss = 0.001
    var clockStep = 0.003
    var corruptRecord = 0.001
    var diskFull = 0.005
    /// The target binary exits at once (the whole run): the rollout must roll back and halt.
    var badTarget = false
    /// The target starts but its member never becomes healthy: verification fails with the process running, so the
    /// rollback has a stop of its own (re-gated on the peers).
    var sickTarget = false
    /// The operator pauses the rollout (and resumes it a few seconds later), per step.
    var operatorPause = 0.0
    /// Pauses of a daemon shorter than its lease TTL as well: the lease survives, the observation goes stale.
    var shortPauses = false
    /// A 2-member cluster whose config does not allow small clusters: nothing may ever be stopped.
    var smallClusterRefused = false
    /// The rollout record (written straight into etcd, not through a request) names a step the version policy
    /// refuses (a known-bad target without allowKnownBad): nothing may ever be stopped.
    var refusedStep = false
    /// One node has not staged the target binary until the faults end: its member must not be stopped before.
    var unstagedNode = false
    /// One node runs a newer daemon whose destructive phases the others cannot decode.
    var newerDaemon = false
    /// A stop command outlives the daemon that issued it (a queued systemd job) and lands a few seconds later.
    var pendingStop = 0.0
    /// A daemon freezes right at its stop call, past its TTL (the model's trail T1): only gate 4 keeps the next lock
    /// holder from stopping its own member meanwhile.
    var pauseAtStop = 0.0
    /// A daemon freezes briefly (its lease survives) at the record write right before its stop: the observation its
    /// gates used goes stale while peers may crash (the window bound, model trail T5).
    var pauseBeforeStop = 0.0
    /// A daemon dies at the start call after it switched the binary link (and with it goes its lock): recovery must
    /// not start a new binary that was never verified.
    var crashAtStart = 0.0
    /// etcd auth is on and the request accepted the 3.4 → 3.5 auth risk: the daemons watch the users and roles, and
    /// an operator changes them once, at a random moment (`authChange` per step, while faults run).
    var authWatch = false
    var authChange = 0.0
    /// The rollout runs in two hops (3.4.23 → 3.5.0 → 3.5.1, as `request 3.5.1 --via 3.5.0` writes it).
    var twoHop = false

    /// Runs whose correct outcome is that nothing happens: the rollout stays active, every member up.
    var expectsNoStop: Bool { smallClusterRefused || refusedStep }

    static func named(_ name: String) -> FaultProfile {
        var p = FaultProfile()
        switch name {
        case "badTarget": p.badTarget = true; p.crashAtStart = 0.25
        case "badTargetNoStartCrash": p.badTarget = true   // as when seed 14483852 was pinned
        case "sickTarget": p.sickTarget = true
        case "ops": p.operatorPause = 0.003; p.shortPauses = true; p.pauseAtCall = 0.004; p.newerDaemon = true; p.pendingStop = 0.15; p.pauseAtStop = 0.1; p.pauseBeforeStop = 0.15
        case "smallRefused": p.smallClusterRefused = true
        case "refusedStep": p.refusedStep = true
        case "unstaged": p.unstagedNode = true; p.shortPauses = true
        case "twoHop": p.twoHop = true
        case "authWatch": p.authWatch = true; p.authChange = 0.004
        case "twoHopOps": p.twoHop = true; p.operatorPause = 0.003; p.shortPauses = true; p.pauseAtCall = 0.004; p.pauseAtStop = 0.1
        default: break
        }
        return p
    }

    static let none = FaultProfile(callFails: 0, callAmbiguous: 0, crashAtCall: 0, pauseAtCall: 0, memberCrash: 0, memberCutOff: 0, nodeLost: 0,
                                   quorumLoss: 0, clockStep: 0, corruptRecord: 0, diskFull: 0)
}

enum SimError: Error, CustomStringConvertible {
    case unavailable(String)
    case ambiguous(String)
    case crashed
    case diskFull(String)
    case startFailed(String)
    var description: String {
        switch self {
        case let .unavailable(c): "sim: \(c) failed (no answer)"
        case let .ambiguous(c): "sim: \(c) applied but answered with an error"
        case .crashed: "sim: this daemon incarnation crashed"
        case let .diskFull(p): "sim: \(p): no space left on device"
        case let .startFailed(b): "sim: \(b) exited 1"
        }
    }
}

/// A stored value under the key prefix, typed (the simulator does not round-trip JSON): `garbage` is a value no
/// daemon can read.
enum Stored {
    case rollout(RolloutRecord), member(MemberRecord), backup(BackupRecord), lockKey, garbage
    /// A record in a destructive phase this version does not know, written by a newer daemon: only its writer
    /// reads it.
    case newer(MemberRecord, writer: Int)
}

struct KV {
    var value: Stored
    var createRevision: Int64
    var modRevision: Int64
    var lease: Int64
}

/// One etcd member and the node it runs on.
struct SimMember {
    enum Down: Equatable { case byDaemon, crashed, lost }
    var name: String
    var id: UInt64
    var url: String { "http://\(name):2379" }
    var up = true
    var down: Down?
    var downSince = 0.0
    /// A crashed member comes back by itself (systemd) at this time.
    var restartAt: Double?
    /// Cut off from the others until then (running, answering, unhealthy, not counted for quorum).
    var cutOffUntil: Double?
    var cutOffSince = 0.0
    var version: EtcdVersion
    /// The binary link's target.
    var link: String
    var inList = true
}

/// A daemon on a node: its current incarnation (nil while crashed) and its disk (journal) that survives crashes.
final class SimDaemon: @unchecked Sendable {
    let node: Int
    var incarnation = 0
    var supervisor: Supervisor?
    var lock: SimLock?
    var journal: JournalEntry?
    var restartAt: Double?
    var paused = false
    var lost = false
    init(node: Int) { self.node = node }
}
