/// Why a daemon does nothing this tick: each case carries what its sentence needs, worded in one place
/// (`description`, shown in STATUS, `systemctl status` and the journal). `WaitReasonTests` holds one of each.
public enum WaitReason: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    // Before a sequence.
    case rolloutPaused
    case memberDone(member: MemberName)
    case memberRolledBack(member: MemberName)
    case preflight(problems: [String])
    /// The leader's daemon goes last: these members still run the old release.
    case leaderGoesLast(others: [MemberName])
    /// Members on the target whose sequence was lost: they verify (or roll back) first.
    case unverifiedGoFirst(members: [MemberName], target: EtcdVersion)
    /// Gate 8: `closed` says when the next window opens (`Gates.maintenance`).
    case maintenanceWindow(closed: String)
    case gate(number: Int, name: String, detail: String)
    case noLeadershipTarget
    case noLeaderForBackup
    /// The observation is too old, or the lease too short, for a stop (`Gates.window`).
    case window(String)

    // Before the completion.
    case completionUnproven(members: [MemberName])
    case completionAuthUnread
    case completionObservationOld(seconds: Int)
    case completionWindow(String)
    /// Every member on the target; etcd moves the cluster version on its own.
    case clusterVersion(target: EtcdVersion, current: String?)

    // Inside a sequence.
    case stopPending(member: MemberName)
    case observingAfterRecordWrite
    case noLock
    case verifying(problem: String)
    case settling(elapsed: Int, of: Int)
    case rollbackWaitsForPeers(member: MemberName, peers: String)
    case rollbackNeedsClusterVersion(member: MemberName)
    /// A decision that needs the cluster version (`/version` failed).
    case clusterVersionUnknown(why: String)
    case rollbackToUnknownClusterVersion(why: String, from: EtcdVersion)
    case observationOld(why: String, seconds: Int)

    // Recovering a sequence that was left.
    case recoveryStarted(member: MemberName, secondsAgo: Int)
    case recoveryRunning(member: MemberName, secondsAgo: Int, grace: Int)
    case stopStillPending(member: MemberName, issuedAgo: Int)
    case stopMayBePending(member: MemberName, issuedAgo: Int, clearsIn: Int)
    case localAnswerOld(member: MemberName, seconds: Int)
    case localNotAnswering(member: MemberName)

    // The shell's own.
    /// The tick's observation or action threw; the next tick tries again.
    case tickFailed(error: String)

    /// The sentence, quoted: an action prints as before (`wait("rollout paused")`), so a seed's trace reads the same.
    public var debugDescription: String { description.debugDescription }

    public var description: String {
        switch self {
        case .rolloutPaused: return "rollout paused"
        case let .memberDone(m): return "\(m) done; waiting for the others"
        case let .memberRolledBack(m): return "\(m) rolled back"
        case let .preflight(problems): return "preflight: " + problems.joined(separator: "; ")
        case let .leaderGoesLast(others): return "leader goes last (\(others.joined(separator: ", ")) first)"
        case let .unverifiedGoFirst(members, target):
            return "\(members.joined(separator: ", ")) on \(target) but not verified: it goes first"
        case let .maintenanceWindow(closed): return closed
        case let .gate(number, name, detail): return "gate \(number) (\(name)): \(detail)"
        case .noLeadershipTarget: return "leader: no upgraded healthy voting member to hand leadership to"
        case .noLeaderForBackup: return "no leader to take the backup from"
        case let .window(why): return why
        case let .completionUnproven(members):
            return "before completing: \(members.joined(separator: ", ")) not seen on the process that was verified"
        case .completionAuthUnread:
            return "before completing: etcd users, roles and permissions not read; completing once seen unchanged"
        case let .completionObservationOld(s): return "before completing: observation is \(s) s old; observing again"
        case let .completionWindow(why): return "before completing: \(why)"
        case let .clusterVersion(target, current):
            return "all members on \(target); waiting for the cluster version to move from \(current ?? "?")"
        case let .stopPending(m): return "the stop of \(m) is still pending"
        case .observingAfterRecordWrite: return "observing again after the record write, before the stop"
        case .noLock: return "no lock"
        case let .verifying(problem): return "verifying: \(problem)"
        case let .settling(elapsed, of): return "verifying: settling \(elapsed)/\(of) s"
        case let .rollbackWaitsForPeers(m, peers): return "rollback of \(m) waits: \(peers)"
        case let .rollbackNeedsClusterVersion(m):
            return "the cluster version is unknown: not rolling \(m) back until it is known"
        case let .clusterVersionUnknown(why):
            return "\(why); the cluster version is unknown: not deciding until /version answers"
        case let .rollbackToUnknownClusterVersion(why, from):
            return
                "\(why); the cluster version is unknown (/version failed): not rolling back to \(from) until it is known"
        case let .observationOld(why, s): return "\(why); observation is \(s) s old: observing again before deciding"
        case let .recoveryStarted(m, ago): return "\(m) was started \(ago) s ago; waiting for it to answer"
        case let .recoveryRunning(m, ago, grace):
            return "\(m) was started \(ago) s ago; clearing its record once it has run \(grace) s"
        case let .stopStillPending(m, ago):
            return "a stop of \(m) issued \(ago) s ago is still pending; clearing its record after it lands"
        case let .stopMayBePending(m, ago, left):
            return
                "a stop of \(m) issued \(ago) s ago may still be pending; clearing its record after it lands or in \(left) s"
        case let .localAnswerOld(m, s): return "observing \(m) again: the answer it gave is \(s) s old"
        case let .localNotAnswering(m): return "\(m) does not answer yet; clearing its record once it does"
        case let .tickFailed(error): return "tick failed: \(error)"
        }
    }
}
