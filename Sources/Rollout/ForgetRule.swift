/// `etcd-shepherd forget MEMBER`, the break-glass way out of a record whose daemon is gone for good (DESIGN.md: a
/// daemon that dies while its record is destructive blocks the rollout on purpose). Forgetting stands in for the
/// owner's own clearing write, so it is allowed only where that write would be: the member is not down — it answers
/// healthy again, or it is no longer in the member list — and no daemon still holds a lease that could let it stop.
public enum ForgetRule {
    /// What is stored under `<prefix>/members/<name>`.
    public enum Stored: Sendable, Equatable {
        case none
        case record(MemberRecord)
        /// A value this daemon cannot decode (a newer daemon's phase, a corrupted value).
        case unreadable
    }

    /// Nil when `name`'s record may be forgotten now, else why not and what to do.
    /// - `member`: that name in the current member list, if it is there.
    /// - `leaseAlive`: whether the lease the record was written under still holds a lock key.
    public static func refusal(name: MemberName, stored: Stored, member: MemberView?, leaseAlive: Bool) -> String? {
        switch stored {
        case .none:
            return "there is no record for \(name)"
        case let .record(r) where !r.phase.isDestructive:
            return "\(name)'s record is \(r.phase.rawValue), which blocks nothing: there is nothing to forget"
        case let .record(r) where leaseAlive:
            return
                "\(name)'s daemon still holds the upgrade lock (lease \(r.leaseID ?? "?")): it clears its own record; if it is stuck, stop that daemon and wait for the lease to expire"
        default:
            break
        }
        guard let m = member else { return nil }
        if !m.reachable || !m.healthy {
            return
                "\(name) is in the member list but not healthy: forgetting its record could let another member stop while it is down; start it (or remove it with etcdctl member remove) first"
        }
        return nil
    }
}
