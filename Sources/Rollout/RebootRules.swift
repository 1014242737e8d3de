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
        /// The same client holds it already (a pre-reboot asked again) and every gate still passes now, our own hold
        /// aside: 200 again, nothing written.
        case alreadyHeld
        /// The same client holds it, but a gate fails now (a peer went down since the grant, or since a grant whose
        /// answer never arrived): the hold is deleted (CAS) and the answer is this refusal. Never 200 on an old check.
        case withdraw(kind: String, why: String)
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
            guard mine.clientID == clientID else {
                return .refuse(
                    kind: "held_by_other_client",
                    why: "\(o.localName)'s reboot lock is held by client '\(mine.clientID)', not '\(clientID)'")
            }
            // The hold keeps every other stop and reboot out, so no lock is needed to judge it again; a failed
            // delete of a withdrawn hold, or a confirmation that never ran, is judged again here, never granted blind.
            var aside = o
            aside.reboots[o.localName] = nil
            if let (kind, why) = refusal(aside) { return .withdraw(kind: kind, why: why) }
            return .alreadyHeld
        }
        if let (kind, why) = refusal(o) { return .refuse(kind: kind, why: why) }
        return o.lock == nil ? .needLock : .grant
    }

    /// The gates of a reboot on `o`, in the order an operator fixes them; nil: none fails.
    static func refusal(_ o: Observation) -> (kind: String, why: String)? {
        if let r = o.rollout, !r.state.isTerminal {
            return (
                "rollout_in_progress",
                "rollout \(r.id) (\(r.from) → \(r.to)) is \(r.state.rawValue): reboots wait until it ends "
                    + "(etcd-shepherd status)"
            )
        }
        if o.journal != nil || o.records[o.localName]?.phase.isDestructive == true {
            return ("member_mid_upgrade", "\(o.localName) is in the middle of an upgrade step")
        }
        if let busy = Gates.otherDestructive(o) { return ("member_mid_upgrade", busy) }
        let sick = o.members.compactMap { m in Gates.problem(m, o).map { "\(m.name)\($0)" } }
        if !sick.isEmpty {
            return ("cluster_unhealthy", "not healthy: " + sick.joined(separator: ", "))
        }
        if o.local == nil {
            return ("not_a_member", "\(o.localName) is not in the member list")
        }
        let voters = o.members.filter { !$0.isLearner }.count
        if let small = Gates.smallClusterForStop(o) { return ("quorum_margin", small) }
        if voters - 1 < Gates.quorum(voters), !o.allowSmallCluster {
            return (
                "quorum_margin",
                "rebooting one of \(voters) voting members leaves \(voters - 1) < quorum \(Gates.quorum(voters))"
            )
        }
        if let closed = Gates.maintenance(o) { return ("outside_maintenance_window", closed) }
        return nil
    }

    /// After the hold's write, on an observation asked after it: every gate again with our own hold set aside
    /// (a peer that failed in the meantime takes the grant back).
    public static func confirm(_ o: Observation, clientID: String) -> PreReboot {
        var o = o
        guard o.reboots[o.localName]?.clientID == clientID else {
            return .refuse(kind: "changed", why: "\(o.localName)'s reboot hold is not the one just written")
        }
        o.reboots[o.localName] = nil
        if let (kind, why) = refusal(o) { return .refuse(kind: kind, why: why) }
        return o.lock == nil ? .refuse(kind: "lock_busy", why: "lock lost") : .grant
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
