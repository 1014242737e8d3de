/// What the shell should do next for this daemon's member. The shell performs it, records the outcome, observes
/// again and asks again.
public enum Action: Sendable, Equatable {
    /// No rollout, or nothing for this member to do.
    case idle(String)
    /// Something must change first; the reason is shown in STATUS.
    case wait(String)
    /// Every member runs the target; etcd moves the cluster version on its own (~4 s): poll it closely.
    case waitForClusterVersion(String)
    case acquireLock
    /// Take, verify and record the rollout's snapshot from the leader (once per rollout, before the first stop).
    case takeBackup(leaderURL: String)
    /// Ask the leader (at `leaderURL`) to hand leadership to `target`, an upgraded member.
    case transferLeadership(leaderURL: String, target: UInt64)
    /// Fenced record write (phase stopping), journal, then stop the member and wait for its process to exit.
    case stopMember(target: EtcdVersion, rollingBack: Bool, reason: String?)
    /// Atomically repoint the binary link to `version`.
    case switchBinary(to: EtcdVersion)
    case startMember
    /// Fenced record write: the member is done (journal cleared).
    case markDone
    /// Verification failed in time: go back to the old binary (a stop, switch, start of its own). The member runs:
    /// the core asked only after the peers passed the rollback gate.
    case rollBack(reason: String)
    /// The sequence ran out of time (or its start kept failing) while the member is down: rewrite the journal to a
    /// rollback to the previous binary (no stop needed), then switch and start as usual.
    case rollBackStopped(reason: String)
    /// Set the rollout to halted with the reason (then the lock is released).
    case halt(reason: String)
    case release
    case markCompleted
    /// Every member on this hop's target and the cluster version caught up: the record moves to the next hop.
    case advanceHop
    /// The owner's own clean-up after it left a destructive sequence without the lock: bring the member up first...
    /// `restorePreviousBinary`: the new binary was never verified (the sequence ended before its start), so the
    /// link goes back to the recorded previous binary before the start.
    case recoverStart(restorePreviousBinary: Bool)
    /// ...then rewrite its own record to `interrupted` (CAS on the record, no lock) and clear the journal.
    case clearInterrupted(reason: String)
    /// Start verification of a member that already runs the target (e.g. after an interrupted sequence).
    case adoptVerification
}
