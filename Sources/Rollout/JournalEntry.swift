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
    public var stoppedAt: Double?
    public var startedAt: Double?
    /// What the binary link pointed at before the first switch: where a rollback goes back to.
    public var previousBinary: String?

    public init(rolloutID: String, step: Step, target: EtcdVersion, rollingBack: Bool = false, reason: String? = nil,
                stoppedAt: Double? = nil, startedAt: Double? = nil, previousBinary: String? = nil) {
        self.rolloutID = rolloutID; self.step = step; self.target = target; self.rollingBack = rollingBack
        self.reason = reason; self.stoppedAt = stoppedAt; self.startedAt = startedAt; self.previousBinary = previousBinary
    }
}
