/// The local crash-safe journal: which step of a destructive sequence this daemon is in. Written (atomically, fsynced)
/// before every destructive step, so a restarted daemon knows whether it may have stopped its member.
public struct JournalEntry: Codable, Sendable, Equatable {
    public enum Step: String, Codable, Sendable {
        /// The sequence began: the record says stopping (once `recordWrittenAt` is set); the stop is issued only
        /// through the gate on an observation newer than that write, and `stoppedAt` says it was.
        case stopping
        case stopped
        case switched
        /// The member was started on the new (or, rolling back, the old) binary; verification runs.
        case started
    }

    public var rolloutID: RolloutID
    public var step: Step
    /// The binary this sequence is moving to: the rollout's `to`, or `from` while rolling back.
    public var target: EtcdVersion
    public var rollingBack: Bool
    /// Why the rollback happened (kept for the halt).
    public var reason: String?
    /// Monotonic seconds (the shell's boot-time clock, rebased after a reboot) when the stop was issued: the one
    /// deadline from the stop to verified (`Timing.verifyTimeoutSeconds`) runs from here.
    public var stoppedAt: Double?
    /// Monotonic seconds when the member was started.
    public var startedAt: Double?
    /// What the binary link pointed at before the first switch: where a rollback goes back to.
    public var previousBinary: String?
    /// The version the member ran before this sequence (the rollout's `from`): what a rollback verifies.
    public var from: EtcdVersion?
    /// Failed start attempts in this sequence: a start that keeps failing is rolled back, not retried forever.
    public var startFailures: Int
    /// The last start failure, for the rollback's reason.
    public var lastError: String?
    /// The boot the monotonic times belong to (the shell rebases them when it differs).
    public var bootID: String?
    /// Monotonic seconds when the fenced record write before the stop returned: the stop's gate is decided only on
    /// health asked for after it (a write that failed over can take long enough for a peer to die meanwhile).
    public var recordWrittenAt: Double?
    /// What identifies the issued stop to the controller (the stop command's pid and start time, or the systemd
    /// job), so a restarted daemon knows whether it is still pending instead of waiting blindly.
    public var stopTicket: String?
    /// Monotonic seconds when a recovery started the member: it is started once, then given time to answer.
    public var recoveryStartedAt: Double?
    /// Monotonic seconds when the member was down (its stop returned or was seen landed): the deadline to verified
    /// runs from here — a stop that took its time (a leader's handover, a slow shutdown) does not eat into it.
    public var downAt: Double?

    /// Rolling back: the version it rolled back from (a recovery falls back on it when the previous binary cannot run:
    /// the cluster version moved meanwhile).
    public var rolledBackFrom: EtcdVersion?
    /// The process this sequence started and verifies (its `process_start_time_seconds`, noted when first seen): a
    /// process with another start time is a restart — the target died — whether or not this daemon saw it happen.
    public var processStartTime: Double?
    /// Starts a recovery made (they alternate between the two binaries once the first attempts did not bring it up).
    public var recoveryStarts: Int = 0
    /// Recovery starts in a row after which the member never answered (reset when one did): after two, a forward
    /// recovery alternates between the binaries. A start that came up and crashed later is no reason to try the
    /// other binary (found by the simulator, seed 1181879075: a good old member crashed during its recovery and was
    /// started on the unverified target, which then died).
    public var recoveryNoShows: Int = 0
    /// The last member of a minor step asked the leader for leadership once verified (whatever the answer: asked
    /// once), so the cluster version moves now rather than at the leader's next periodic check.
    public var leadershipAsked: Bool = false

    /// Where the one deadline from the stop to verified runs from.
    public var deadlineFrom: Double? { downAt ?? stoppedAt }

    public init(
        rolloutID: RolloutID, step: Step, target: EtcdVersion, rollingBack: Bool = false, reason: String? = nil,
        stoppedAt: Double? = nil, startedAt: Double? = nil, previousBinary: String? = nil, from: EtcdVersion? = nil,
        startFailures: Int = 0, lastError: String? = nil, bootID: String? = nil
    ) {
        self.rolloutID = rolloutID
        self.step = step
        self.target = target
        self.rollingBack = rollingBack
        self.reason = reason
        self.stoppedAt = stoppedAt
        self.startedAt = startedAt
        self.previousBinary = previousBinary
        self.from = from
        self.startFailures = startFailures
        self.lastError = lastError
        self.bootID = bootID
    }

    enum CodingKeys: String, CodingKey {
        case rolloutID, step, target, rollingBack, reason, stoppedAt, startedAt, previousBinary, from, startFailures,
            lastError, bootID
        case recordWrittenAt, stopTicket, recoveryStartedAt, downAt, rolledBackFrom, recoveryStarts, processStartTime,
            recoveryNoShows, leadershipAsked
    }

    public init(from d: Decoder) throws {
        let c = try d.container(keyedBy: CodingKeys.self)
        rolloutID = try c.decode(RolloutID.self, forKey: .rolloutID)
        step = try c.decode(Step.self, forKey: .step)
        target = try c.decode(EtcdVersion.self, forKey: .target)
        rollingBack = try c.decodeIfPresent(Bool.self, forKey: .rollingBack) ?? false
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        stoppedAt = try c.decodeIfPresent(Double.self, forKey: .stoppedAt)
        startedAt = try c.decodeIfPresent(Double.self, forKey: .startedAt)
        previousBinary = try c.decodeIfPresent(String.self, forKey: .previousBinary)
        from = try c.decodeIfPresent(EtcdVersion.self, forKey: .from)
        startFailures = try c.decodeIfPresent(Int.self, forKey: .startFailures) ?? 0
        lastError = try c.decodeIfPresent(String.self, forKey: .lastError)
        bootID = try c.decodeIfPresent(String.self, forKey: .bootID)
        recordWrittenAt = try c.decodeIfPresent(Double.self, forKey: .recordWrittenAt)
        stopTicket = try c.decodeIfPresent(String.self, forKey: .stopTicket)
        recoveryStartedAt = try c.decodeIfPresent(Double.self, forKey: .recoveryStartedAt)
        downAt = try c.decodeIfPresent(Double.self, forKey: .downAt)
        rolledBackFrom = try c.decodeIfPresent(EtcdVersion.self, forKey: .rolledBackFrom)
        recoveryStarts = try c.decodeIfPresent(Int.self, forKey: .recoveryStarts) ?? 0
        recoveryNoShows = try c.decodeIfPresent(Int.self, forKey: .recoveryNoShows) ?? 0
        processStartTime = try c.decodeIfPresent(Double.self, forKey: .processStartTime)
        leadershipAsked = try c.decodeIfPresent(Bool.self, forKey: .leadershipAsked) ?? false
    }

    /// Whether the process seen now (its start time) is not the one this sequence noted.
    public func restarted(seen: Double?) -> Bool {
        guard step == .started, let noted = processStartTime, let seen else { return false }
        return !ProcessStart.same(seen, noted)
    }

    /// Whether a recovery without the lock must point the link back at `previousBinary` before starting: always,
    /// except once the new binary was started by a forward sequence (it may be fine, and the cluster version may
    /// already rely on it). Rolling back, the previous binary is the goal anyway. Found by the simulator: a daemon
    /// that crashed mid-rollback restarted the bad target forever.
    public var recoveryRestoresPreviousBinary: Bool {
        previousBinary != nil && (rollingBack || step != .started)
    }

    /// This sequence turned into a rollback to `from`: of a member that is down (`down`: the next steps switch to the
    /// previous binary and start it, with a fresh deadline), or of one that runs (a stop of its own, gated again).
    public func rollback(to from: EtcdVersion, reason: String, down: Bool, now: Double) -> JournalEntry {
        var e = self
        e.rolledBackFrom = rollingBack ? rolledBackFrom : target
        e.rollingBack = true
        e.target = from
        e.reason = reason
        e.step = down ? .stopped : .stopping
        e.stoppedAt = down ? now : nil
        e.downAt = down ? now : nil
        e.startedAt = nil
        e.startFailures = 0
        e.lastError = nil
        e.recordWrittenAt = nil
        e.stopTicket = nil
        e.recoveryStartedAt = nil
        e.recoveryStarts = 0
        e.recoveryNoShows = 0
        e.processStartTime = nil
        return e
    }

    /// This journal with the next recovery start counted: `noShow` (the previous start never answered) adds one to
    /// `recoveryNoShows`, anything else resets it. The core picks the binary on it; the shell journals it.
    public func countingRecoveryStart(noShow: Bool) -> JournalEntry {
        var e = self
        e.recoveryNoShows = noShow ? recoveryNoShows + 1 : 0
        return e
    }

    /// What a recovery starts (nil: the link as it is). Forward: the previous binary unless the new one was started
    /// (then the link as it is), the target at once when the cluster version is known to be on its minor (etcd refuses
    /// the older one), and after two starts that never answered the two in turn. Rolling back: never a binary the
    /// cluster version left behind — the newer one when the cluster version is known to have moved past the target,
    /// and every other attempt once two starts never answered (the cluster version may be unknown: the cluster
    /// cannot be observed while this member is down).
    public func recoveryBinary(template: String, clusterVersion: String?) -> String? {
        let base = recoveryRestoresPreviousBinary ? previousBinary : nil
        if !rollingBack, let previous = previousBinary {
            // Started forward: the link as it is (the target) for the first two starts.
            if step == .started && recoveryNoShows < 2 { return base }
            let targetPath = template.replacing("{version}", with: target.description)
            // Known to have moved to the target's minor: the previous binary would only be refused.
            if let cv = clusterVersion, let from, from.minorVersion != target.minorVersion, cv == target.minorVersion {
                return targetPath
            }
            // Two starts that did not come up: the other binary every other time — a bad target started forward
            // (found by the simulator, seed 337365239), or a previous binary the cluster version left behind while the
            // cluster cannot be observed (seed 476787153: a replaced node on the target, stopped, started on the old
            // binary for ever). etcd refuses to start below the cluster version, and a target brought up this way is
            // verified before it counts (the fresh path adopts a member on the target: `adoptVerification`).
            guard recoveryNoShows >= 2 else { return base }
            let (first, other) = step == .started ? (targetPath, previous) : (previous, targetPath)
            return recoveryNoShows % 2 == 0 ? other : first
        }
        guard rollingBack, let newer = rolledBackFrom, newer.minorVersion != target.minorVersion else { return base }
        let newerPath = template.replacing("{version}", with: newer.description)
        if let cv = clusterVersion.flatMap(EtcdVersion.init), cv.minorVersion != target.minorVersion, cv > target {
            return newerPath
        }
        // The old binary failed its starts already (a rollback overtaken by the flip): the newer one first. Counted,
        // as forward, in starts that never answered: an old binary that came up and crashed later is started again.
        if startFailures >= Decide.maxStartFailures { return recoveryNoShows % 2 == 0 ? newerPath : base }
        return recoveryNoShows >= 2 && recoveryNoShows % 2 == 0 ? newerPath : base
    }
}
