/// What the shell should do next for this daemon's member. Every action carries what it needs: the shell performs it
/// as written, records the outcome, observes again and asks again. No path to a stop exists outside `Decide`.
public enum Action: Sendable, Equatable {
    /// No rollout, or nothing for this member to do.
    case idle(String)
    /// Something must change first; the reason is shown in STATUS.
    case wait(WaitReason)
    /// Every member runs the target; etcd moves the cluster version on its own (at a new leader, else within 4 s):
    /// poll it closely.
    case waitForClusterVersion(WaitReason)
    case acquireLock
    /// Take, verify and record the rollout's snapshot from the leader (once per rollout, before the first stop).
    case takeBackup(leaderURL: String)
    /// Ask the leader (at `leaderURL`) to hand leadership to `target`, an upgraded voting member.
    case transferLeadership(leaderURL: String, target: MemberID)
    /// The last member of a minor step, verified: ask the leader (at `leaderURL`) to hand leadership to our member, so
    /// the new leader checks the cluster version at once; journal that it was asked — once, whatever the answer (a
    /// refusal only leaves the version to the leader's periodic check).
    case takeLeadership(leaderURL: String)
    /// A sequence begins (or a rollback of a running member): write `journal`, then the member record in its phase
    /// (`.stopping`, or `.rollingBack`), fenced on the lock, then journal when that write returned. No stop yet.
    case beginStop(JournalEntry)
    /// The gate passed on an observation newer than the record write: close our own streams on the member, check the
    /// monotonic clock is still before `issueBy` and the lease keeps `minLease` seconds, journal, stop, wait for the
    /// process to exit, journal `.stopped`.
    case stopMember(issueBy: Double, minLease: Double)
    /// A stop issued earlier (its call failed or did not return) has landed: the member is down. Journal only.
    case markStopped
    /// Atomically repoint the binary link to `path`, journal `.switched`.
    case switchBinary(path: String)
    /// Start the member; journal `.started`; write the record in `phase` (fenced) when given.
    case startMember(phase: MemberPhase?)
    /// Fenced record write: the member is done (its process start time recorded, for the watch after it); journal
    /// cleared.
    case markDone(processStartTime: Double?)
    /// A rollback of a member that is down: write `journal` (a rollback to the previous binary, no stop needed) and
    /// the record `.rollingBack` (fenced); then switch and start as usual.
    case rollBackWhileDown(JournalEntry)
    /// Set the rollout to halted with the reason, write our record in `recordPhase` (when the lock is held), then
    /// release the lock. `keepJournal`: the member is down — the journal stays, so the recovery brings it up.
    case halt(reason: String, recordPhase: MemberPhase, keepJournal: Bool)
    case release
    case markCompleted
    /// Every member on this hop's target and the cluster version caught up: the record moves to the next hop.
    case advanceHop
    /// The owner's own clean-up after it left a destructive sequence: bring the member up first — pointing the link
    /// at `binary` when given (a new binary that was never verified is not trusted) — journalling when it did.
    /// `noShow`: the previous recovery start never answered (counted in the journal: see `recoveryNoShows`).
    case recoverStart(binary: String?, noShow: Bool = false)
    /// The member answers on a binary other than the one the link names (the sequence switched the link, and the
    /// member came back on the old binary, or the other way round): point the link at the binary it runs before the
    /// sequence is left, so its next restart — systemd's, a reboot's — is not on a binary nobody verifies.
    case restoreLink(path: String)
    /// The member is up (or must not be touched again): rewrite our own record to `interrupted` with the reason (CAS,
    /// no lock needed), clear the journal, release the lock if held.
    case leaveSequence(reason: String)
    /// Journal the process this sequence verifies (its start time), first seen now.
    case noteProcess(startTime: Double)
    /// Start verification of a member that already runs the target (an interrupted sequence): journal `.started`.
    case adoptVerification(JournalEntry)
}
