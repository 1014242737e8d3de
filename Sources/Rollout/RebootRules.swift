/// FleetLock's two questions, answered from one observation like every other decision. A reboot takes a member down
/// as surely as an upgrade's stop, so it passes the same gates: no rollout under way, nothing mid-upgrade or
/// rebooting elsewhere, every member healthy, one member's margin over quorum, inside a maintenance window — and it
/// is granted only with the upgrade lock held, so the hold's write is fenced like a stop's record.
public enum RebootRules {
    /// What `pre-reboot` from `clientID` gets.
    public enum PreReboot: Sendable, Equatable {
        /// Take the upgrade lock, observe again, and ask again.
        case needLock
        /// Write the hold (fenced on the lock), release the lock, answer 200.
        case grant
        /// The same client holds it already (a reboot retried): 200 again, nothing written.
        case alreadyHeld
        /// An error answer: FleetLock's `kind` and `value`.
        case refuse(kind: String, why: String)
    }

    /// What `steady-state` from `clientID` gets.
    public enum SteadyState: Sendable, Equatable {
        /// Delete our hold (CAS), answer 200.
        case release
        /// Nothing held by this node: 200.
        case nothingHeld
        case refuse(kind: String, why: String)
    }

    public static func preReboot(_ o: Observation, clientID: String) -> PreReboot {
        if let mine = o.reboots[o.localName] {
            return mine.clientID == clientID
                ? .alreadyHeld
                : .refuse(
                    kind: "held_by_other_client",
                    why: "\(o.localName)'s reboot lock is held by client '\(mine.clientID)', not '\(clientID)'")
        }
        if let r = o.rollout, !r.state.isTerminal {
            return .refuse(
                kind: "rollout_in_progress",
                why: "rollout \(r.id) (\(r.from) → \(r.to)) is \(r.state.rawValue): reboots wait until it ends "
                    + "(etcd-shepherd status)")
        }
        if o.journal != nil || o.records[o.localName]?.phase.isDestructive == true {
            return .refuse(
                kind: "member_mid_upgrade", why: "\(o.localName) is in the middle of an upgrade step")
        }
        if let busy = Gates.otherDestructive(o) { return .refuse(kind: "member_mid_upgrade", why: busy) }
        let sick = o.members.compactMap { m in Gates.problem(m, o).map { "\(m.name)\($0)" } }
        if !sick.isEmpty {
            return .refuse(kind: "cluster_unhealthy", why: "not healthy: " + sick.joined(separator: ", "))
        }
        if o.local == nil {
            return .refuse(kind: "not_a_member", why: "\(o.localName) is not in the member list")
        }
        let voters = o.members.filter { !$0.isLearner }.count
        if let small = Gates.smallClusterForStop(o) { return .refuse(kind: "quorum_margin", why: small) }
        if voters - 1 < Gates.quorum(voters), !o.allowSmallCluster {
            return .refuse(
                kind: "quorum_margin",
                why: "rebooting one of \(voters) voting members leaves \(voters - 1) < quorum \(Gates.quorum(voters))")
        }
        if let closed = Gates.maintenance(o) { return .refuse(kind: "outside_maintenance_window", why: closed) }
        return o.lock == nil ? .needLock : .grant
    }

    /// After the hold's write, on an observation asked after it: every gate again with our own hold set aside
    /// (a peer that failed in the meantime takes the grant back).
    public static func confirm(_ o: Observation, clientID: String) -> PreReboot {
        var o = o
        guard o.reboots[o.localName]?.clientID == clientID else {
            return .refuse(kind: "changed", why: "\(o.localName)'s reboot hold is not the one just written")
        }
        o.reboots[o.localName] = nil
        let again = preReboot(o, clientID: clientID)
        return again == .grant ? .grant : again == .needLock ? .refuse(kind: "lock_busy", why: "lock lost") : again
    }

    public static func steadyState(_ o: Observation, clientID: String) -> SteadyState {
        guard let mine = o.reboots[o.localName] else { return .nothingHeld }
        guard mine.clientID == clientID else {
            return .refuse(
                kind: "held_by_other_client",
                why: "\(o.localName)'s reboot lock is held by client '\(mine.clientID)', not '\(clientID)'")
        }
        guard let local = o.local else {
            return .refuse(kind: "member_not_healthy", why: "\(o.localName) is not in the member list")
        }
        if let problem = Gates.problem(local, o) {
            return .refuse(
                kind: "member_not_healthy",
                why: "\(o.localName) is not healthy and caught up yet\(problem); the reboot lock is kept")
        }
        return .release
    }
}
