/// The decision function: the next action for the local member, from one observation. Pure: no I/O, no clock.
public enum Decide {
    /// Start attempts after which a sequence stops retrying and rolls back.
    public static let maxStartFailures = 3

    public static func next(_ o: Observation) -> Action {
        if let j = o.journal {
            // A stop that may not have been issued (the member still runs) is re-gated like a first stop: any error
            // between the journal write and the stop must not turn into an ungated stop.
            if j.step == .stopping, o.localProcessUp, o.lock != nil {
                return j.rollingBack ? rollbackStop(j, o) : fresh(o, abandoning: j)
            }
            return continueSequence(j, o)
        }
        return fresh(o, abandoning: nil)
    }

    /// The path to a first stop. `abandoning`: a journal at `.stopping` whose member still runs; anything short of
    /// the stop itself means the sequence is left (owner clears its record, then the lock goes).
    static func fresh(_ o: Observation, abandoning j: JournalEntry?) -> Action {
        let a = decideFresh(o)
        guard let j else { return a }
        switch a {
        case .stopMember, .wait, .takeBackup, .transferLeadership, .acquireLock: return a
        case .adoptVerification: return a
        default:
            return .clearInterrupted(reason: "sequence left before the stop (\(j.step.rawValue)): \(a)")
        }
    }

    static func decideFresh(_ o: Observation) -> Action {
        guard let r = o.rollout else { return o.lock != nil ? .release : .idle("no rollout") }

        switch r.state {
        case .completed, .aborted, .halted:
            return o.lock != nil ? .release : .idle("rollout \(r.id) \(r.state.rawValue)\(r.reason.map { ": \($0)" } ?? "")")
        case .paused:
            return o.lock != nil ? .release : .wait("rollout paused")
        case .active:
            break
        }
        // A step etcd does not support with auth (accepted by the request) must not see users or roles change while
        // the cluster is mixed: halt once no sequence of ours is in flight (this path runs without one). Once every
        // member runs the target there is nothing left to protect.
        if r.watchesAuth, let seen = o.auth?.fingerprint, seen != r.authFingerprint, o.members.contains(where: { $0.version != r.to }) {
            return .halt(reason: "etcd users, roles or permissions changed during \(r.from) → \(r.to), which etcd does not support with auth enabled; "
                         + "check the cluster and finish by hand or roll back")
        }

        // Completion: every member on the target with its record done, and the cluster version caught up.
        let allOnTarget = o.members.allSatisfy { $0.version == r.to && o.record($0.name)?.phase == .done }
        if allOnTarget {
            if o.lock != nil { return .release }
            if o.clusterVersion == r.to.minorVersion { return r.nextHop == nil ? .markCompleted : .advanceHop }
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

        // A member already on the target but not verified (its sequence was lost on the way) needs the lock to
        // verify or roll back; everyone else steps aside until it has. Holding the lock while gate 2 waits on it
        // deadlocked (found by the simulator, seed 2185645).
        let unverified = o.members.filter {
            $0.name != local.name && $0.version == r.to && !$0.healthy && ![.done, .rolledBack].contains(o.record($0.name)?.phase)
        }
        if !unverified.isEmpty {
            return o.lock != nil ? .release : .wait("\(unverified.map(\.name).joined(separator: ", ")) on \(r.to) but not verified: it goes first")
        }

        guard let lock = o.lock else { return .acquireLock }

        // Already on the target (an interrupted sequence that got as far as the start): verify under the deadline,
        // healthy or not — a sick target left by a lost sequence must be rolled back or halted, not waited on at
        // gate 2 with the lock held forever (found by the simulator, seed 285085).
        if local.version == r.to {
            return .adoptVerification
        }

        let failing = Gates.evaluate(o).filter { !$0.passed }
        if let f = failing.first { return .wait("gate \(f.number) (\(f.name)): \(f.detail)") }

        // Gate 7: hand leadership over first (a lone member has nobody to hand it to: found by the simulator).
        if local.isLeader && o.members.count > 1 {
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
        if let why = Gates.window(observationAge: o.observationAge, leaseRemaining: lock.leaseRemaining, timing: o.timing) {
            return .wait(why)
        }
        return .stopMember(target: r.to, rollingBack: false, reason: nil)
    }

    /// A rollback's stop, (re)issued only while the peers are healthy and none is mid-upgrade, in a fresh window.
    static func rollbackStop(_ j: JournalEntry, _ o: Observation) -> Action {
        if let why = Gates.peersForRollback(o) { return .wait("rollback of \(o.localName) waits: \(why)") }
        if let lock = o.lock, let why = Gates.window(observationAge: o.observationAge, leaseRemaining: lock.leaseRemaining, timing: o.timing) {
            return .wait(why)
        }
        return .stopMember(target: j.target, rollingBack: true, reason: j.reason)
    }

    static func continueSequence(_ j: JournalEntry, _ o: Observation) -> Action {
        guard o.lock != nil else {
            // We left the sequence without the lock (lost lease, restart): member up first, then clear the record
            // (owner clears — model-checked rule). A new binary that was never started is not trusted: the link goes
            // back to the previous one first.
            if !o.localProcessUp {
                return .recoverStart(restorePreviousBinary: j.recoveryRestoresPreviousBinary)
            }
            // A stop we issued may still be on its way (its command or job outlived the daemon): clearing now would
            // let the member go down after its record says it is safe.
            if j.step == .stopping, let issued = j.stoppedAt, o.now - issued < o.timing.stopPendingSeconds {
                return .wait("a stop of \(o.localName) issued \(Int(o.now - issued)) s ago may still be pending; clearing its record after it lands or in \(Int(o.timing.stopPendingSeconds - (o.now - issued))) s")
            }
            return .clearInterrupted(reason: j.rollingBack ? (j.reason ?? "rollback interrupted")
                                                           : "daemon lost the lock during \(j.step.rawValue)")
        }
        // One deadline from the stop to verified, covering switch, start and verification (monotonic time).
        let elapsed = o.now - (j.stoppedAt ?? o.now)
        let expired = elapsed >= o.timing.verifyTimeoutSeconds
        switch j.step {
        case .stopping:
            // The member is down (the stop was issued, or it crashed): finishing the stop call is harmless.
            return .stopMember(target: j.target, rollingBack: j.rollingBack, reason: j.reason)
        case .stopped, .switched:
            if expired || j.startFailures >= maxStartFailures {
                let why = j.startFailures >= maxStartFailures
                    ? "\(o.localName) failed to start on \(j.target) \(j.startFailures) times: \(j.lastError ?? "?")"
                    : "\(o.localName) not started on \(j.target) within \(Int(o.timing.verifyTimeoutSeconds)) s of its stop"
                return failed(j, o, why: why, memberDown: true)
            }
            return j.step == .stopped ? .switchBinary(to: j.target) : .startMember
        case .started:
            let failure = Gates.verification(o, target: j.target)
            if failure == nil && o.verifiedFor >= o.timing.settleSeconds {
                return j.rollingBack ? .halt(reason: j.reason ?? "rolled back") : .markDone
            }
            if !expired {
                return .wait(failure.map { "verifying: \($0)" } ?? "verifying: settling \(Int(o.verifiedFor))/\(Int(o.timing.settleSeconds)) s")
            }
            let why = "\(o.localName) not verified on \(j.target) within \(Int(o.timing.verifyTimeoutSeconds)) s: \(failure ?? "not settled")"
            return failed(j, o, why: why, memberDown: !o.localProcessUp)
        }
    }

    /// The sequence failed: roll back while the cluster is mixed, else halt. A rollback that fails halts.
    static func failed(_ j: JournalEntry, _ o: Observation, why: String, memberDown: Bool) -> Action {
        if j.rollingBack { return .halt(reason: "rollback failed: " + why + (j.reason.map { " (rolling back because: \($0))" } ?? "")) }
        guard let r = o.rollout else { return .halt(reason: why) }
        if r.from.minorVersion != r.to.minorVersion, o.clusterVersion == r.to.minorVersion {
            return .halt(reason: why + "; the cluster version already moved to \(r.to.minorVersion), binary rollback is impossible: restore the snapshot")
        }
        if memberDown { return .rollBackStopped(reason: why) }
        if let peers = Gates.peersForRollback(o) { return .wait("rollback of \(o.localName) waits: \(peers)") }
        return .rollBack(reason: why)
    }

    /// What the daemon may still do when it cannot observe the cluster at all (quorum lost, its own member down and
    /// no peer answering): finish bringing its own member back up. Needs no read of etcd.
    public static func offline(journal j: JournalEntry?, lockHeld: Bool, processUp: Bool, now: Double, timing: Timing) -> Action? {
        guard let j else { return nil }
        if !lockHeld {
            return processUp ? nil : .recoverStart(restorePreviousBinary: j.recoveryRestoresPreviousBinary)
        }
        // A stop that landed but whose call reported failure leaves `.stopping` with the member down: with nothing
        // to observe (a lone member, found by the simulator) the sequence goes on from `.stopped`.
        guard j.step == .stopped || j.step == .switched || (j.step == .stopping && !processUp) else { return nil }
        let expired = now - (j.stoppedAt ?? now) >= timing.verifyTimeoutSeconds || j.startFailures >= maxStartFailures
        if !expired { return j.step == .switched ? .startMember : .switchBinary(to: j.target) }
        // While this member is down the cluster version cannot move (etcd decides it only from every member's
        // version), so going back to the previous binary is always possible here.
        return j.rollingBack || j.from == nil ? nil : .rollBackStopped(reason: "\(j.target) did not start within the deadline while the cluster was unobservable")
    }
}
