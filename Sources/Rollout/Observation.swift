/// What one member looked like at one tick.
public struct MemberView: Sendable, Equatable {
    public var name: String
    public var id: UInt64
    public var clientURL: String
    public var reachable: Bool
    public var healthy: Bool
    public var hasLeader: Bool
    public var isLeader: Bool
    public var version: EtcdVersion?
    public var raftIndex: UInt64

    public init(name: String, id: UInt64, clientURL: String, reachable: Bool, healthy: Bool, hasLeader: Bool,
                isLeader: Bool, version: EtcdVersion?, raftIndex: UInt64) {
        self.name = name; self.id = id; self.clientURL = clientURL; self.reachable = reachable; self.healthy = healthy
        self.hasLeader = hasLeader; self.isLeader = isLeader; self.version = version; self.raftIndex = raftIndex
    }
}

/// The lock as this daemon holds it.
public struct LockHold: Sendable, Equatable {
    public var key: String
    /// The revision returned by the completed lock call: the lock key's create_revision, the fence of every write.
    public var revision: Int64
    public var leaseID: Int64
    /// Seconds of lease left at the last keepalive answer.
    public var leaseRemaining: Double
    public init(key: String, revision: Int64, leaseID: Int64, leaseRemaining: Double) {
        self.key = key; self.revision = revision; self.leaseID = leaseID; self.leaseRemaining = leaseRemaining
    }
}

/// Timing knobs the decisions depend on (seconds).
public struct Timing: Sendable, Equatable, Codable {
    public var tickSeconds: Double
    public var lockTTLSeconds: Int
    public var verifyTimeoutSeconds: Double
    public var settleSeconds: Double
    /// The oldest health answer a stop may rely on (DESIGN: bound the window before the stop).
    public var maxObservationAgeSeconds: Double
    /// Lease time that must remain when the stop is issued.
    public var minLeaseRemainingSeconds: Double
    /// How far behind the leader's raft index a verified member may be.
    public var raftSlack: UInt64
    /// How long a stop issued by an earlier incarnation may still be pending (a stop command or a queued systemd
    /// job outliving the daemon that issued it): owner-clears waits this long for the member to go down.
    public var stopPendingSeconds: Double = 60

    public init(tickSeconds: Double = 1, lockTTLSeconds: Int = 30, verifyTimeoutSeconds: Double = 60, settleSeconds: Double = 2,
                maxObservationAgeSeconds: Double = 3, minLeaseRemainingSeconds: Double = 10, raftSlack: UInt64 = 16) {
        self.tickSeconds = tickSeconds; self.lockTTLSeconds = lockTTLSeconds; self.verifyTimeoutSeconds = verifyTimeoutSeconds
        self.settleSeconds = settleSeconds; self.maxObservationAgeSeconds = maxObservationAgeSeconds
        self.minLeaseRemainingSeconds = minLeaseRemainingSeconds; self.raftSlack = raftSlack
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
    public var localName: String
    /// Every member of the member list, with what this tick learned about it.
    public var members: [MemberView]
    /// "3.4", "3.5": the cluster version (major.minor), when known.
    public var clusterVersion: String?
    public var rollout: RolloutRecord?
    /// Member records by member name.
    public var records: [String: MemberRecord]
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
    /// Whether the local member's process is running (the controller's view, independent of etcd answering).
    public var localProcessUp: Bool
    /// Seconds since the oldest health answer in `members` (monotonic).
    public var observationAge: Double
    /// Seconds the local member has continuously passed verification (0 when it does not).
    public var verifiedFor: Double
    public var allowSmallCluster: Bool
    /// The effective version policy (built in, made stricter by this node's policy files): gate 5.
    public var policy: VersionPolicy = .builtIn
    /// Monotonic seconds (never the wall clock: an NTP step must not move a deadline).
    public var now: Double
    public var timing: Timing

    public init(localName: String, members: [MemberView], clusterVersion: String?, rollout: RolloutRecord?,
                records: [String: MemberRecord], backup: BackupRecord?, lock: LockHold?, journal: JournalEntry?,
                preflightBlocking: [String], localProcessUp: Bool, observationAge: Double, verifiedFor: Double,
                allowSmallCluster: Bool = false, undecodableRecords: [String] = [], now: Double, timing: Timing) {
        self.localName = localName; self.members = members; self.clusterVersion = clusterVersion; self.rollout = rollout
        self.records = records; self.backup = backup; self.lock = lock; self.journal = journal
        self.preflightBlocking = preflightBlocking; self.localProcessUp = localProcessUp; self.observationAge = observationAge
        self.verifiedFor = verifiedFor; self.allowSmallCluster = allowSmallCluster; self.undecodableRecords = undecodableRecords; self.now = now; self.timing = timing
    }

    public var local: MemberView? { members.first { $0.name == localName } }
    public var leader: MemberView? { members.first { $0.isLeader } }
    public var localRecord: MemberRecord? {
        guard let r = records[localName], r.rolloutID == rollout?.id else { return nil }
        return r
    }
    /// Records of this rollout only; a record from an older rollout says nothing about this one.
    public func record(_ name: String) -> MemberRecord? {
        guard let r = records[name], r.rolloutID == rollout?.id else { return nil }
        return r
    }
}
