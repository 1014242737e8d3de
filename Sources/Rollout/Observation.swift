/// What one member looked like at one tick.
public struct MemberView: Sendable, Equatable {
    public var name: MemberName
    public var id: MemberID
    public var clientURL: String
    public var reachable: Bool
    public var healthy: Bool
    public var hasLeader: Bool
    public var isLeader: Bool
    public var version: EtcdVersion?
    public var raftIndex: UInt64
    /// A learner: not a voter (it counts for no quorum and is never handed leadership).
    public var isLearner: Bool

    public init(
        name: MemberName, id: MemberID, clientURL: String, reachable: Bool, healthy: Bool, hasLeader: Bool,
        isLeader: Bool, version: EtcdVersion?, raftIndex: UInt64, isLearner: Bool = false
    ) {
        self.name = name
        self.id = id
        self.clientURL = clientURL
        self.reachable = reachable
        self.healthy = healthy
        self.hasLeader = hasLeader
        self.isLeader = isLeader
        self.version = version
        self.raftIndex = raftIndex
        self.isLearner = isLearner
    }
}

/// What the member controller says of the local member's process. `unknown` (no status command, a status call that
/// failed or timed out, a systemd read that failed) is never read as "stopped" when a stop is decided.
public enum ProcessState: String, Sendable, Equatable {
    case running, stopped, unknown
}

/// The lock as this daemon holds it.
public struct LockHold: Sendable, Equatable {
    public var key: String
    /// The revision returned by the completed lock call: the lock key's create_revision, the fence of every write.
    public var revision: Int64
    public var leaseID: Int64
    /// Seconds of lease left at the last keepalive answer.
    public var leaseRemaining: Double
    /// Monotonic seconds when the lock was acquired.
    public var heldSince: Double
    public init(key: String, revision: Int64, leaseID: Int64, leaseRemaining: Double, heldSince: Double = 0) {
        self.key = key
        self.revision = revision
        self.leaseID = leaseID
        self.leaseRemaining = leaseRemaining
        self.heldSince = heldSince
    }
}

/// Timing knobs the decisions depend on (seconds).
public struct Timing: Sendable, Equatable, Codable {
    public var tickSeconds: Double
    public var lockTTLSeconds: Int
    public var verifyTimeoutSeconds: Double
    /// A watched settle: the member must stay healthy with the same process (etcd's `process_start_time_seconds`)
    /// for all of it. 30 s by default, so a target that dies within 30 s of its start is caught while the cluster is
    /// still mixed (it costs that much per member).
    public var settleSeconds: Double
    /// The oldest health answer a stop may rely on (DESIGN: bound the window before the stop).
    public var maxObservationAgeSeconds: Double
    /// Lease time that must remain when the stop is issued.
    public var minLeaseRemainingSeconds: Double
    /// How far behind the leader's raft index a verified member may be.
    public var raftSlack: UInt64
    /// How long a stop issued by an earlier incarnation may still be pending when the controller cannot tell (no
    /// ticket of the stop was journalled): owner-clears waits this long for the member to go down. With a ticket (the
    /// stop command's pid and start time, or the systemd job) the controller knows, and nothing waits blindly.
    public var stopPendingSeconds: Double = 60
    /// After a recovery started the member, how long before it is started again if it still does not answer.
    public var startGraceSeconds: Double = 15
    /// A verified member that does not answer for this long (its process not seen running) is taken as crashed.
    public var crashGraceSeconds: Double = 5
    /// How long a daemon holds the lock while a gate fails before it lets go (another daemon may need the lock to
    /// bring back the very member it waits on).
    public var lockWaitSeconds: Double = 10
    /// The observe period while there is nothing to act on (no rollout, or a finished one, and nothing of ours in
    /// flight). A change under the key prefix or a new request file still wakes the daemon at once; only the status
    /// line and the daemon's own metrics age up to this long. Never below `tickSeconds`.
    public var idleTickSeconds: Double = 5
    /// How long the completion's last look at every member's process may take: its answers are at most this old when
    /// the write follows (a restart inside a slower answer goes unseen). Raise it where `/metrics` answers take longer
    /// (members far apart); a look slower than this completes nothing and is tried again next tick.
    public var lastLookSeconds: Double = 1
    /// How far back restarts of the local process count: a target that restarts `Decide.maxStartFailures` times
    /// within it does not stay up.
    public var restartWindowSeconds: Double { max(300, 2 * verifyTimeoutSeconds) }

    public init(
        tickSeconds: Double = 1, lockTTLSeconds: Int = 30, verifyTimeoutSeconds: Double = 60,
        settleSeconds: Double = 30,
        maxObservationAgeSeconds: Double = 3, minLeaseRemainingSeconds: Double = 10, raftSlack: UInt64 = 16
    ) {
        self.tickSeconds = tickSeconds
        self.lockTTLSeconds = lockTTLSeconds
        self.verifyTimeoutSeconds = verifyTimeoutSeconds
        self.settleSeconds = settleSeconds
        self.maxObservationAgeSeconds = maxObservationAgeSeconds
        self.minLeaseRemainingSeconds = minLeaseRemainingSeconds
        self.raftSlack = raftSlack
    }
}

/// etcd auth as this daemon sees it (present only when the cluster has auth enabled: the config names a user).
public struct AuthView: Sendable, Equatable {
    /// sha256 of the users, their roles and the roles' permissions, read this tick; nil when not read (only a rollout
    /// with `authFingerprint` needs it) or when reading failed.
    public var fingerprint: String?
    public init(fingerprint: String?) { self.fingerprint = fingerprint }
}

/// Everything the core may base a decision on. Built by the shell each tick; time comes in as values.
public struct Observation: Sendable {
    public var localName: MemberName
    /// Every member of the member list, with what this tick learned about it.
    public var members: [MemberView]
    /// "3.4", "3.5": the cluster version (major.minor), when known.
    public var clusterVersion: String?
    public var rollout: RolloutRecord?
    /// Member records by member name.
    public var records: [MemberName: MemberRecord]
    /// The mod revision each record was read at, by member name: a write the core decided on what it saw is a CAS
    /// on it (it fails if the record changed since), with no read of its own before it.
    public var recordRevisions: [MemberName: Int64] = [:]
    /// Keys under `<prefix>/members/` whose value this daemon cannot read (a newer daemon's phase, a corrupted value):
    /// they may be destructive, so gate 4 treats them as such.
    public var undecodableRecords: [String]
    /// nil: the cluster has no auth enabled (as far as the config says).
    public var auth: AuthView? = nil
    public var backup: BackupRecord?
    public var lock: LockHold?
    public var journal: JournalEntry?
    /// Blocking findings of the local preflight for the rollout's target (gate 6).
    public var preflightBlocking: [String]
    /// The local member's process as the controller reports it (independent of etcd answering).
    public var localProcess: ProcessState
    /// Monotonic seconds when the oldest health answer in `members` was asked for: a stop rests only on answers asked
    /// for after the last write before it.
    public var observedAt: Double
    /// Seconds the local member has continuously passed verification with the same process (0 when it does not).
    public var verifiedFor: Double
    /// The local member's `process_start_time_seconds` this tick (nil when not read: unreachable, or not needed).
    public var localStartTime: Double? = nil
    /// Every member's `process_start_time_seconds`, by name, when they were read (before the rollout completes).
    public var startTimes: [MemberName: Double] = [:]
    /// Seconds the local member has not answered with its process not seen running.
    public var localUnreachableFor: Double = 0
    /// Restarts of the local process (its start time changed) seen in the last `Timing.restartWindowSeconds`.
    public var localRestarts: Int = 0
    /// Whether a stop this daemon issued (the journal's ticket) may still be pending: nil when the controller cannot
    /// tell.
    public var stopPending: Bool? = nil
    /// Where the binary link points now (a sequence remembers it to go back to).
    public var linkTarget: String? = nil
    /// This node's `member.binaryPathTemplate` (`{version}` replaced by a version): where each version's binary is.
    public var binaryPathTemplate: String = "/usr/local/bin/etcd-{version}"
    public var allowSmallCluster: Bool
    /// The effective version policy (built in, made stricter by this node's policy files): gate 5.
    public var policy: VersionPolicy = .builtIn
    /// Reboot holds granted through FleetLock, by node: each blocks every stop and every other reboot (gate 4).
    public var reboots: [MemberName: RebootHold] = [:]
    /// The mod revision each reboot hold was read at, by node: its clearing is a CAS on it, as a record's is.
    public var rebootRevisions: [MemberName: Int64] = [:]
    /// The maintenance windows at this tick (gate 8); nil: none configured.
    public var maintenance: MaintenanceView? = nil
    /// Monotonic seconds (never the wall clock: an NTP step must not move a deadline).
    public var now: Double
    public var timing: Timing

    public init(
        localName: MemberName, members: [MemberView], clusterVersion: String?, rollout: RolloutRecord?,
        records: [MemberName: MemberRecord], backup: BackupRecord?, lock: LockHold?, journal: JournalEntry?,
        preflightBlocking: [String], localProcess: ProcessState, observedAt: Double, verifiedFor: Double = 0,
        allowSmallCluster: Bool = false, undecodableRecords: [String] = [], now: Double, timing: Timing
    ) {
        self.localName = localName
        self.members = members
        self.clusterVersion = clusterVersion
        self.rollout = rollout
        self.records = records
        self.backup = backup
        self.lock = lock
        self.journal = journal
        self.preflightBlocking = preflightBlocking
        self.localProcess = localProcess
        self.observedAt = observedAt
        self.verifiedFor = verifiedFor
        self.allowSmallCluster = allowSmallCluster
        self.undecodableRecords = undecodableRecords
        self.now = now
        self.timing = timing
    }

    /// Seconds since the oldest health answer was asked for.
    public var observationAge: Double { now - observedAt }
    /// The local member is down as far as anything can tell: it does not answer and its process is not seen running.
    /// Enough to *start* it (harmless if it runs); never a reason to skip the gates of a stop.
    public var localDown: Bool { !(local?.reachable ?? false) && localProcess != .running }
    /// The binary of `version` on this node.
    public func binaryPath(_ version: EtcdVersion) -> String {
        binaryPathTemplate.replacing("{version}", with: version.description)
    }

    public var local: MemberView? { members.first { $0.name == localName } }
    public var leader: MemberView? { members.first { $0.isLeader } }
    public var localRecord: MemberRecord? {
        guard let r = records[localName], r.rolloutID == rollout?.id else { return nil }
        return r
    }
    /// Records of this rollout only; a record from an older rollout says nothing about this one.
    public func record(_ name: MemberName) -> MemberRecord? {
        guard let r = records[name], r.rolloutID == rollout?.id else { return nil }
        return r
    }
    /// `m` runs the hop's target and its record is done in this hop (what completion needs of every member).
    public func isVerifiedOnTarget(_ m: MemberView) -> Bool {
        guard let r = rollout else { return false }
        return m.version == r.to && record(m.name)?.isDone(in: r) == true
    }
}
