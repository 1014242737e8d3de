import Rollout

@testable import Shepherd

/// One etcd member and the node it runs on, as the simulated world knows it (the truth the invariants read).
struct SimMember {
    enum Down: Equatable { case byDaemon, crashed, lost, removed, rebooting }
    var name: String
    var id: UInt64
    var url: String { "http://\(name):2379" }
    /// The process runs.
    var up = true
    var down: Down?
    var downSince = 0.0
    /// A crashed member comes back by itself (systemd's restart policy) at this time.
    var restartAt: Double?
    /// Cut off from the others until then (running, answering, unhealthy, not counted for quorum).
    var cutOffUntil: Double?
    var cutOffSince = 0.0
    var version: EtcdVersion
    /// The binary link's target.
    var link: String
    var inList = true
    var isLearner = false
    /// `process_start_time_seconds` of the running process (wall clock), and when it started (monotonic).
    var processStartWall = 0.0
    var processStartedAt = 0.0
    /// A restarted member lags the leader's raft index until then (it answers healthy meanwhile).
    var lagUntil = 0.0
    /// This process dies at that time (a crash-looping target, a start that returns before the process dies).
    var dieAt: Double?
    /// Since when it has not been sound (healthy, caught up, counted) — nil while it is.
    var unsoundSince: Double? = nil
    /// The processes of this member, counted (the process start time changes with each).
    var incarnations = 0
    /// Since when this member ID exists (added, or its node replaced).
    var idSince = 0.0
}

/// A daemon on a node: its current incarnation (nil while crashed) and its disk (journal) that survives crashes.
final class SimDaemon: @unchecked Sendable {
    let node: Int
    var incarnation = 0
    var supervisor: Supervisor?
    var lock: LeaseLock?
    var journal: JournalEntry?
    var restartAt: Double?
    /// Frozen (SIGSTOP, a VM pause): nothing of it runs, not even its keepalive.
    var paused = false
    /// Blocked inside a call (its task awaits the world): its other tasks (the keepalive) still run.
    var blocked = false
    /// When its current block or freeze ends: once past, no daemon starts a tick until it has resumed.
    var resumesAt: Double?
    var lost = false
    var nextKeepalive = 0.0
    /// A request the operator dropped on this node, and what became of it.
    var request: UpgradeRequest?
    var settled: (accepted: Bool, reason: String)?
    init(node: Int) { self.node = node }
}

/// A key of the simulated etcd.
struct KV {
    var value: [UInt8]
    var createRevision: Int64
    var modRevision: Int64
    var version: Int64
    var lease: Int64
    /// Simulated time of the write (for the invariants: what a daemon could have read).
    var writtenAt: Double = 0
}

struct SimLease {
    var ttl: Double
    var expiresAt: Double
    var owner: (node: Int, incarnation: Int)
}

enum SimError: Error, CustomStringConvertible {
    case unavailable(String)
    /// Nothing listens at the member's URL (its process is down): what a refused connection says.
    case refused(String)
    case ambiguous(String)
    case crashed
    case diskFull(String)
    case startFailed(String)
    var description: String {
        switch self {
        case let .unavailable(c), let .refused(c): "sim: \(c) failed (no answer)"
        case let .ambiguous(c): "sim: \(c) applied but answered with an error"
        case .crashed: "sim: this daemon incarnation crashed"
        case let .diskFull(p): "sim: \(p): no space left on device"
        case let .startFailed(b): "sim: \(b) exited 1"
        }
    }
}
