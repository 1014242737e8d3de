/// The decision function: the next action for the local member, from one observation. Pure: no I/O, no clock.
public enum Decide {
    public static func next(_ o: Observation) -> Action {
        // A destructive sequence in progress comes first: finish it under the lock, or, without the lock, bring the
        // member up and clear the record (owner clears — model-checked rule).
        if let j = o.journal {
            return continueSequence(j, o)
        }
        guard let r = o.rollout else { return o.lock != nil ? .release : .idle("no rollout") }

        switch r.state {
        case .completed, .aborted, .halted:
            return o.lock != nil ? .release : .idle("rollout \(r.id) \(r.state.rawValue)\(r.reason.map { ": \($0)" } ?? "")")
        case .paused:
            return o.lock != nil ? .release : .wait("rollout paused")
        case .active:
            break
        }

        // Completion: every member on the target with its record done, and the cluster version caught up.
        let allOnTarget = o.members.allSatisfy { $0.version == r.to && o.record($0.name)?.phase == .done }
        if allOnTarget {
            if o.lock != nil { return .release }
            if o.clusterVersion == r.to.minorVersion { return .markCompleted }
            return .waitForClusterVersion("all members on \(r.to); waiting for the cluster version to move from \(o.clusterVersion ?? "?")")
        }

        guard let local = o.local else { return .wait("\(o.localName) is not in the member list") }
        let myRecord = o.localRecord
        if myRecord?.phase == .done && local.version == r.to {
            return o.lock != nil ? .release : .wait("\(local.name) done; waiting for the others")
        }
        if myRecord?.phase == .rolledBack {
            return o.lock != nil ? .release : .wait("\(local.name) rolled back")
        }
        if !o.preflightBlocking.isEmpty {
            return o.lock != nil ? .release : .wait("preflight: " + o.preflightBlocking.joined(separator: "; "))
        }

        // Leader last: the leader's daemon waits while any other member still runs `from`.
        let othersPending = o.members.filter { $0.name != local.name && $0.version != r.to }
        if local.isLeader && !othersPending.isEmpty {
            return o.lock != nil ? .release : .wait("leader goes last (\(othersPending.map(\.name).joined(separator: ", ")) first)")
        }

        guard let lock = o.lock else { return .acquireLock }

        // Already on the target (an interrupted sequence that got as far as the start): verify and record.
        if local.version == r.to && local.healthy {
            return .adoptVerification
        }

        let failing = Gates.evaluate(o).filter { !$0.passed }
        if let f = failing.first { return .wait("gate \(f.number) (\(f.name)): \(f.detail)") }

        if local.isLeader {
            let upgraded = o.members.filter { $0.name != local.name && $0.version == r.to && $0.healthy }
            guard let target = upgraded.max(by: { $0.raftIndex < $1.raftIndex }) else {
                return .wait("leader: no upgraded healthy member to hand leadership to")
            }
            return .transferLeadership(leaderURL: local.clientURL, target: target.id)
        }

        if o.backup == nil {
            guard let leader = o.leader else { return .wait("no leader to take the backup from") }
            return .takeBackup(leaderURL: leader.clientURL)
        }

        // Bound the window between the observation the gates used and the stop.
        if o.observationAge > o.timing.maxObservationAgeSeconds {
            return .wait("observation is \(o.observationAge) s old; observing again before the stop")
        }
        if lock.leaseRemaining < o.timing.minLeaseRemainingSeconds {
            return .wait("lock lease has \(lock.leaseRemaining) s left; renewing before the stop")
        }
        return .stopMember(target: r.to, rollingBack: false, reason: nil)
    }

    static func continueSequence(_ j: JournalEntry, _ o: Observation) -> Action {
        guard o.lock != nil else {
            // We left the sequence without the lock (lost lease, restart): member up first, then clear the record.
            if !o.localProcessUp { return .recoverStart }
            return .clearInterrupted(reason: j.rollingBack ? (j.reason ?? "rollback interrupted")
                                                           : "daemon lost the lock during \(j.step.rawValue)")
        }
        switch j.step {
        case .stopping:
            return .stopMember(target: j.target, rollingBack: j.rollingBack, reason: j.reason)
        case .stopped:
            return .switchBinary(to: j.target)
        case .switched:
            return .startMember
        case .started:
            let failure = Gates.verification(o, target: j.target)
            if failure == nil && o.verifiedFor >= o.timing.settleSeconds {
                return j.rollingBack ? .halt(reason: j.reason ?? "rolled back") : .markDone
            }
            let elapsed = o.now - (j.startedAt ?? o.now)
            if elapsed < o.timing.verifyTimeoutSeconds {
                return .wait(failure.map { "verifying: \($0)" } ?? "verifying: settling \(Int(o.verifiedFor))/\(Int(o.timing.settleSeconds)) s")
            }
            let why = "\(o.localName) not verified on \(j.target) within \(Int(o.timing.verifyTimeoutSeconds)) s: \(failure ?? "not settled")"
            if j.rollingBack { return .halt(reason: "rollback failed: " + why) }
            guard let r = o.rollout else { return .halt(reason: why) }
            if r.from.minorVersion != r.to.minorVersion, o.clusterVersion == r.to.minorVersion {
                return .halt(reason: why + "; the cluster version already moved to \(r.to.minorVersion), binary rollback is impossible: restore the snapshot")
            }
            return .rollBack(reason: why)
        }
    }
}
