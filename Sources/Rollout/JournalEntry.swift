/// The local crash-safe journal: which step of a destructive sequence this daemon is in. Written (atomically, fsynced)
/// before every destructive step, so a restarted daemon knows whether it may have stopped its member.
public struct JournalEntry: Codable, Sendable, Equatable {
    public enum Step: String, Codable, Sendable {
        /// The record says stopping; the stop may have been issued.
        case stopping
        case stopped
        case switched
        /// The member was started on the new (or, rolling back, the old) binary; verification runs.
        case started
    }

    public var rolloutID: String
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

    public init(rolloutID: String, step: Step, target: EtcdVersion, rollingBack: Bool = false, reason: String? = nil,
                stoppedAt: Double? = nil, startedAt: Double? = nil, previousBinary: String? = nil, from: EtcdVersion? = nil,
                startFailures: Int = 0, lastError: String? = nil, bootID: String? = nil) {
        self.rolloutID = rolloutID; self.step = step; self.target = target; self.rollingBack = rollingBack
        self.reason = reason; self.stoppedAt = stoppedAt; self.startedAt = startedAt; self.previousBinary = previousBinary
        self.from = from; self.startFailures = startFailures; self.lastError = lastError; self.bootID = bootID
    }

    enum CodingKeys: String, CodingKey {
        case rolloutID, step, target, rollingBack, reason, stoppedAt, startedAt, previousBinary, from, startFailures, lastError, bootID
    }

    public init(from d: Decoder) throws {
        let c = try d.container(keyedBy: CodingKeys.self)
        rolloutID = try c.decode(String.self, forKey: .rolloutID)
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
    }

    /// Whether a recovery without the lock must point the link back at `previousBinary` before starting: always,
    /// except once the new binary was started by a forward sequence (it may be fine, and the cluster version may
    /// already rely on it). Rolling back, the previous binary is the goal anyway. Found by the simulator: a daemon
    /// that crashed mid-rollback restarted the bad target forever.
    public var recoveryRestoresPreviousBinary: Bool {
        previousBinary != nil && (rollingBack || step != .started)
    }

    /// Turns this sequence into a rollback of a member that is already down: the next steps switch to the previous
    /// binary and start it, with a fresh deadline.
    public mutating func beginRollbackWhileDown(to from: EtcdVersion, reason: String, now: Double) {
        rollingBack = true; target = from; self.reason = reason
        step = .stopped; stoppedAt = now; startedAt = nil; startFailures = 0; lastError = nil
    }
}
