/// The decision function: the next action for the local member, from one observation. Pure: no I/O, no clock.
/// Outside a sequence (no journal) the fresh path below; inside one, `Decide+Sequence.swift`.
public enum Decide {
    /// Start attempts after which a sequence stops retrying and rolls back.
    public static let maxStartFailures = 3

    public static func next(_ o: Observation) -> Action {
        if let j = o.journal { return sequence(j, o) }
        return fresh(o)
    }

    /// The path to a first stop: every gate, then the sequence begins (`beginStop`); the stop itself is decided on
    /// the next observation (`stopGate`).
    static func fresh(_ o: Observation) -> Action {
        guard let r = o.rollout else { return o.lock != nil ? .release : .idle("no rollout") }

        // A member of ours verified in this rollout whose process crashed since: the rollout halts at once (no lock
        // needed, so nobody else stops anything meanwhile), then the member is rolled back while that is possible.
        if r.state != .completed, let local = o.local, let mine = o.localRecord, mine.isDone(in: r),
            local.version == r.to || local.version == nil, let crash = crashedAfterDone(o, mine)
        {
            return afterCrash(crash, r, o)
        }
        if let why = crashLooping(r, o) { return halt(why, o) }

        switch r.state {
        case .completed, .aborted, .halted:
            return o.lock != nil
                ? .release : .idle("rollout \(r.id) \(r.state.rawValue)\(r.reason.map { ": \($0)" } ?? "")")
        case .paused:
            return o.lock != nil ? .release : .wait(.rolloutPaused)
        case .active:
            break
        }
        // A step etcd does not support with auth (accepted by the request) must not see users or roles change while
        // the cluster is mixed: halt once no sequence of ours is in flight (this path runs without one). Also when
        // every member runs the target by now: nothing tells when the change was made, and one made while the last
        // member was down is first seen once it is up (found by the simulator, seed 544106572: completed over a change
        // made in the 0.4 s the last member was down).
        if r.watchesAuth, let seen = o.auth?.fingerprint, seen != r.authFingerprint {
            return halt(
                "etcd users, roles or permissions changed during \(r.from) → \(r.to), which etcd does not support with auth enabled; "
                    + "check the cluster and finish by hand or roll back", o)
        }

        // Completion: every member on the target with its record done, and the cluster version caught up.
        let allOnTarget = o.members.allSatisfy(o.isVerifiedOnTarget)
        if allOnTarget {
            // Every member still runs the process that was verified (one that restarted unseen is its daemon's to
            // roll back or halt; nothing completes over it).
            let unproven = o.members.filter { m in
                guard let noted = o.record(m.name)?.processStartTime else { return false }
                return o.startTimes[m.name].map { !ProcessStart.same($0, noted) } ?? true
            }
            if !unproven.isEmpty {
                if o.lock != nil { return .release }
                return .wait(.completionUnproven(members: unproven.map(\.name)))
            }
            // Completed only on users and roles read unchanged (the check above needs them read).
            if r.watchesAuth && o.auth?.fingerprint == nil {
                if o.lock != nil { return .release }
                return .wait(.completionAuthUnread)
            }
            // On start times read just now: an observation that took long (a peer frozen) may hold a process that has
            // restarted since (found by the simulator, seed 649359: completed 10 s after a member crashed).
            if o.observationAge > o.timing.maxObservationAgeSeconds {
                return .wait(.completionObservationOld(seconds: Int(o.observationAge)))
            }
            // Written under the lock, fenced on it, on an observation inside the window: a daemon frozen between
            // this observation and its write (a member may restart meanwhile) loses the lock's lease and the write
            // with it (found by the simulator, seed 12092314: completed 18 s after its decision, over a member that
            // had crashed and been restarted by systemd meanwhile).
            if o.clusterVersion == r.to.minorVersion {
                guard let lock = o.lock else { return .acquireLock }
                if let why = Gates.window(
                    observationAge: o.observationAge, leaseRemaining: lock.leaseRemaining, timing: o.timing)
                {
                    return .wait(.completionWindow(why))
                }
                return r.nextHop == nil ? .markCompleted : .advanceHop
            }
            if o.lock != nil { return .release }
            return .waitForClusterVersion(.clusterVersion(target: r.to, current: o.clusterVersion))
        }

        // Removed from the cluster (an operator replacing the node): nothing here is touched again.
        guard let local = o.local else {
            return o.lock != nil
                ? .release
                : .idle("\(o.localName) is not in the member list (removed from the cluster): nothing to do here")
        }
        // What is left of the cluster cannot go through a rolling upgrade: say so once and for all.
        let voters = o.members.filter { !$0.isLearner }.count
        if voters < 3 && !o.allowSmallCluster {
            return halt("the cluster has \(voters) voting member(s): \(Gates.smallCluster(voters))", o)
        }
        let myRecord = o.localRecord
        // (A member that does not answer reports no version: its record says what it was verified on.)
        if let mine = myRecord, mine.isDone(in: r), local.version == r.to || local.version == nil {
            // Verified: watched until the rollout ends (above); a target that crashes after its verification is caught.
            return o.lock != nil ? .release : .wait(.memberDone(member: local.name))
        }
        if myRecord?.phase == .rolledBack {
            return o.lock != nil ? .release : .wait(.memberRolledBack(member: local.name))
        }
        if !o.preflightBlocking.isEmpty {
            return o.lock != nil ? .release : .wait(.preflight(problems: o.preflightBlocking))
        }
        // A member that answers with a release this rollout does not name (the record rewritten by hand, a member
        // upgraded by hand) never resolves by waiting: gate 5 would hold the rollout active for ever.
        let odd = o.members.filter { m in m.version.map { $0 != r.from && $0 != r.to } ?? false }
        if !odd.isEmpty, myRecord?.phase.isDestructive != true {
            return halt(
                "\(odd.map { "\($0.name) runs \($0.version!)" }.joined(separator: ", ")), neither \(r.from) nor \(r.to) "
                    + "of rollout \(r.id): bring it to one of them by hand, then request again", o)
        }

        // Leader last: the leader's daemon waits while any other member still runs `from`.
        let othersPending = o.members.filter { $0.name != local.name && $0.version != r.to }
        if local.isLeader && !othersPending.isEmpty {
            return o.lock != nil
                ? .release : .wait(.leaderGoesLast(others: othersPending.map(\.name)))
        }

        // A member already on the target but not verified (its sequence was lost on the way) needs the lock to
        // verify or roll back; everyone else steps aside until it has. Holding the lock while gate 2 waits on it
        // deadlocked (found by the simulator, seed 2185645).
        let unverified = o.members.filter {
            $0.name != local.name && $0.version == r.to && !$0.healthy
                && ![.done, .rolledBack].contains(o.record($0.name)?.phase)
        }
        if !unverified.isEmpty {
            return o.lock != nil
                ? .release
                : .wait(.unverifiedGoFirst(members: unverified.map(\.name), target: r.to))
        }

        // Already on the target (an interrupted sequence that got as far as the start): verify under the deadline,
        // healthy or not — a sick target left by a lost sequence must be rolled back or halted, not waited on at
        // gate 2 with the lock held forever (found by the simulator, seed 285085). A member of ours that is down on
        // the target's binary is the same case (it reports no version): nothing else would ever bring it back.
        let downOnTarget =
            o.localDown && o.localUnreachableFor >= o.timing.crashGraceSeconds && o.linkTarget == o.binaryPath(r.to)
            && myRecord != nil
        let onTarget = local.version == r.to || downOnTarget
        // Gate 8 before the lock: outside a maintenance window nothing is stopped, so the lock is not even taken (a
        // member already on the target is verified whatever the time: that stops nothing).
        if !onTarget, let closed = Gates.maintenance(o) {
            return o.lock != nil ? .release : .wait(.maintenanceWindow(closed: closed))
        }

        guard let lock = o.lock else { return .acquireLock }

        if onTarget {
            return .adoptVerification(
                JournalEntry(
                    rolloutID: r.id, step: .started, target: r.to, stoppedAt: o.now, startedAt: o.now,
                    previousBinary: o.binaryPath(r.from), from: r.from))
        }

        let failing = Gates.evaluate(o).filter { !$0.passed }
        if let f = failing.first {
            // Held while a gate fails, but not for long: the member it waits on may need the lock to be brought back.
            if o.now - lock.heldSince > o.timing.lockWaitSeconds {
                return .release
            }
            return .wait(.gate(number: f.number, name: f.name, detail: f.detail))
        }

        // Gate 7: hand leadership over first, to an upgraded voter (a lone member has nobody to hand it to: found by
        // the simulator; a learner cannot lead).
        if local.isLeader && o.members.count > 1 {
            let upgraded = o.members.filter {
                $0.name != local.name && $0.version == r.to && $0.healthy && !$0.isLearner
            }
            guard let target = upgraded.max(by: { $0.raftIndex < $1.raftIndex }) else {
                return .wait(.noLeadershipTarget)
            }
            return .transferLeadership(leaderURL: local.clientURL, target: target.id)
        }

        if o.backup == nil {
            guard let leader = o.leader else { return .wait(.noLeaderForBackup) }
            return .takeBackup(leaderURL: leader.clientURL)
        }

        // Bound the window between the observation the gates used and the stop.
        if let why = Gates.window(
            observationAge: o.observationAge, leaseRemaining: lock.leaseRemaining, timing: o.timing)
        {
            return .wait(.window(why))
        }
        // The binary to roll back to: what the link names, unless an earlier sequence left it on the target (found by
        // the simulator, seed 37195544: a rollback "to" the bad target, the member left down).
        let previous = o.linkTarget.flatMap { $0 == o.binaryPath(r.to) ? nil : $0 } ?? o.binaryPath(r.from)
        return .beginStop(
            JournalEntry(rolloutID: r.id, step: .stopping, target: r.to, previousBinary: previous, from: r.from))
    }

    /// Where the link goes for a sequence's switch: the target's binary, or rolling back, the one it ran before.
    static func switchPath(_ j: JournalEntry, _ template: String) -> String {
        let target = template.replacing("{version}", with: j.target.description)
        return j.rollingBack ? (j.previousBinary ?? target) : target
    }

    /// Halting keeps our own member up: with a sequence in flight whose member does not answer, the journal stays and
    /// the recovery starts it (or clears it once it answers). Not only when it is seen down: a process state that
    /// says "running" may be wrong (found by the simulator, seed 38866453: a member left down after a halt).
    static func halt(_ reason: String, _ o: Observation, phase: MemberPhase = .interrupted) -> Action {
        // Its journal cleared, the member is nobody's: first the link at what it runs (see `linkToRestore`).
        if let j = o.journal, let path = linkToRestore(j, o) { return .restoreLink(path: path) }
        return .halt(reason: reason, recordPhase: phase, keepJournal: o.journal != nil && !answersNow(o))
    }

    /// Whether the local member answers on an observation fresh enough to let its journal go: an answer asked
    /// before a long observation (a peer slow to answer, calls timing out) says nothing of now (found by the
    /// simulator, seed 1972512035: a sequence left on an answer asked 7 s earlier, its member dead since, nobody to
    /// start it again).
    static func answersNow(_ o: Observation) -> Bool {
        o.local?.reachable == true && o.observationAge <= o.timing.maxObservationAgeSeconds
    }

    /// Why a verified member of ours is taken as crashed: its process restarted since its verification, or it has not
    /// answered (its process not seen running) for `crashGraceSeconds`.
    static func crashedAfterDone(_ o: Observation, _ rec: MemberRecord) -> String? {
        if let was = rec.processStartTime, let now = o.localStartTime, !ProcessStart.same(now, was) {
            return "\(o.localName) restarted after its verification on \(rec.to) (process start time changed)"
        }
        // Down, not merely silent: its process is seen stopped (an unknown state, or a member without quorum, is not
        // taken for a crash).
        if o.localProcess == .stopped, o.localUnreachableFor >= o.timing.crashGraceSeconds {
            return
                "\(o.localName) has been down for \(Int(o.localUnreachableFor)) s since its verification on \(rec.to)"
        }
        return nil
    }

    /// Whether the cluster version still lets a member go back from `to` to `from` by swapping its binary: a patch
    /// step always; a minor step only while the cluster version is still `from`'s minor. Nil while it is unknown.
    public static func binaryRollbackAllowed(from: EtcdVersion, to: EtcdVersion, clusterVersion: String?) -> Bool? {
        if from.minorVersion == to.minorVersion { return true }
        return clusterVersion.map { $0 == from.minorVersion }
    }

    /// Why the rollout halts on a target that does not stay up on our node outside any sequence of ours (the one
    /// that started it was lost): it keeps restarting under systemd, and no lock, no verification would ever settle
    /// it (found by the simulator, seed 111269870: a rollout active for ever beside a crash-looping member).
    static func crashLooping(_ r: RolloutRecord, _ o: Observation) -> String? {
        guard r.state == .active || r.state == .paused, o.localRestarts >= maxStartFailures,
            o.local?.version == r.to || o.linkTarget == o.binaryPath(r.to)
        else { return nil }
        let back =
            binaryRollbackAllowed(from: r.from, to: r.to, clusterVersion: o.clusterVersion) == true
            ? "or put it back on \(r.from)'s binary while the cluster version allows it"
            : "or restore the snapshot (etcd-shepherd backups --restore \(r.backupKey))"
        return
            "\(o.localName) restarted \(o.localRestarts) times within \(Int(o.timing.restartWindowSeconds)) s on \(r.to): "
            + "a target that does not stay up; read its log (journalctl -u etcd), fix the cause and start it, \(back)"
    }

    /// A verified target that crashed: while the cluster version has not moved, roll it back (with the lock) and halt;
    /// after the flip, halt with the way forward.
    static func afterCrash(_ why: String, _ r: RolloutRecord, _ o: Observation) -> Action {
        let canRollBack = binaryRollbackAllowed(from: r.from, to: r.to, clusterVersion: o.clusterVersion) == true
        if r.state == .active || r.state == .paused {
            guard canRollBack else {
                guard let cv = o.clusterVersion else {
                    return .wait(.clusterVersionUnknown(why: why))
                }
                return halt(
                    "\(why); the cluster version already moved to \(cv), so a binary rollback is impossible: read its log "
                        + "(journalctl -u etcd), fix the cause and start it on \(r.to), or restore the snapshot (etcd-shepherd backups --restore \(r.backupKey))",
                    o)
            }
            return halt("\(why); rolling it back to \(r.from)", o, phase: .done)
        }
        // Halted (or aborted): the crashed member goes back to the binary that ran, while that is still possible.
        guard canRollBack else {
            return o.lock != nil ? .release : .idle("rollout \(r.id) \(r.state.rawValue): \(r.reason ?? why)")
        }
        // A rollback of a running member is a stop: not in a cluster it would leave without quorum (it stays up).
        if !o.localDown, let small = Gates.smallClusterForStop(o) {
            return o.lock != nil
                ? .release : .idle("rollout \(r.id) \(r.state.rawValue): \(o.localName) not rolled back: \(small)")
        }
        guard let lock = o.lock else { return .acquireLock }
        let base = JournalEntry(
            rolloutID: r.id, step: .stopping, target: r.to, previousBinary: o.binaryPath(r.from), from: r.from)
        let entry = base.rollback(to: r.from, reason: why, down: o.localDown, now: o.now)
        if o.localDown { return .rollBackWhileDown(entry) }
        if let peers = Gates.peersForRollback(o) {
            // Not held for long: the peer it waits on may need the lock to finish its own sequence (found by the
            // simulator, seed 19662878: a rollback waited on a verifying peer for ever, the lock in hand).
            if o.now - lock.heldSince > o.timing.lockWaitSeconds { return .release }
            return .wait(.rollbackWaitsForPeers(member: o.localName, peers: peers))
        }
        return .beginStop(entry)
    }

    /// What the daemon may still do when it cannot observe the cluster at all (quorum lost, its own member down and
    /// no peer answering): finish bringing its own member back up. Needs no read of etcd.
    public static func offline(
        journal j: JournalEntry?, lockHeld: Bool, process: ProcessState, binaryPathTemplate: String,
        now: Double, timing: Timing
    ) -> Action? {
        guard let j else { return nil }
        let down = process != .running
        // A recovery start, once: none while the last one is still within its grace to answer.
        var recovery: Action? {
            if let started = j.recoveryStartedAt, now - started < timing.startGraceSeconds { return nil }
            // Nothing answers offline: a previous start counts as one that never came up.
            let noShow = j.recoveryStartedAt != nil
            return .recoverStart(
                binary: j.countingRecoveryStart(noShow: noShow).recoveryBinary(
                    template: binaryPathTemplate, clusterVersion: nil), noShow: noShow)
        }
        if !lockHeld { return down ? recovery : nil }
        // A stop that landed but whose call reported failure leaves `.stopping` with the member down: with nothing
        // to observe (a lone member, found by the simulator) the sequence goes on from `.stopped`.
        if j.step == .stopping, j.stoppedAt != nil ? down : process == .stopped { return .markStopped }
        // Started, then gone (a lone member whose new process died before anyone could look): start it again, so
        // that while it runs the cluster can be observed and the sequence decided (rolled back or halted).
        if j.step == .started, down, now - (j.startedAt ?? now) >= timing.crashGraceSeconds {
            // A rollback whose starts keep failing — the cluster version moved past its binary while nobody could
            // look — is brought up on what can run, as an expired one below (found by the simulator, seed 305095314:
            // a lone member started on the old binary for ever, refused each time).
            return j.rollingBack && j.startFailures >= maxStartFailures ? recovery : .startMember(phase: nil)
        }
        guard j.step == .stopped || j.step == .switched else { return nil }
        let expired =
            now - (j.deadlineFrom ?? now) >= timing.verifyTimeoutSeconds || j.startFailures >= maxStartFailures
        if !expired {
            return j.step == .switched
                ? .startMember(phase: nil) : .switchBinary(path: switchPath(j, binaryPathTemplate))
        }
        // A rollback that cannot start (the cluster version may have moved): the member is brought up on what can run.
        if j.rollingBack { return recovery }
        // While this member is down the cluster version cannot move past what it ran before (etcd decides it from
        // every member's version), and it never ran the target in this sequence: going back is always possible here.
        guard let from = j.from, j.startedAt == nil else { return nil }
        return .rollBackWhileDown(
            j.rollback(
                to: from, reason: "\(j.target) did not start within the deadline while the cluster was unobservable",
                down: true, now: now))
    }
}
