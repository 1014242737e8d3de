/// A destructive sequence in flight (the journal exists): stop → switch → start → verify, or the way out of it.
/// Every stop — first, retried, rollback — passes `stopGate`, on an observation newer than the write before it.
extension Decide {
    static func sequence(_ j: JournalEntry, _ o: Observation) -> Action {
        // Removed from the cluster (an operator replacing the node): never stopped, started or rolled back again.
        guard o.local != nil else {
            return .leaveSequence(
                reason: "\(o.localName) was removed from the cluster during its \(j.step.rawValue) step; "
                    + "its sequence is abandoned and nothing of it is touched again")
        }
        // The target failed while it was verified, and this daemon lost its lock meanwhile: the rollout halts at once
        // (no lock needed), then the member is rolled back under the lock, as with the lock held.
        if o.lock == nil, orphaned(j, o) == nil, let failure = targetFailed(j, o), let r = o.rollout {
            if r.state == .active || r.state == .paused {
                let next =
                    rollbackPossible(j, r, o)
                    ? "rolling it back to \(j.from ?? r.from)"
                    : "the cluster version moved to \(o.clusterVersion ?? "?"), so no binary rollback: read its log (journalctl -u etcd), "
                        + "fix the cause and start it, or restore the snapshot (etcd-shepherd backups --restore \(r.backupKey))"
                return .halt(reason: "\(failure); \(next)", recordPhase: .verifying, keepJournal: true)
            }
            // Halted: the lock only for a rollback still possible; after the flip only the recovery is left (found
            // by the simulator, seed 67556990: the lock taken again and again for a rollback that could not be).
            if rollbackPossible(j, r, o) { return .acquireLock }
        }
        // A rollback decided but not yet stopped — its member still runs the target that failed, started by this
        // sequence — whose lock was lost: the rollout halts (the journal stays), then the rollback is finished under
        // the lock while the cluster version allows it. Let go here, the failing target was left running with nobody
        // to bring it back when it died a moment later (found by the simulator, seed 2135429622).
        // Not while another record is destructive: its rollback (or sequence) would wait on ours and ours on it, each
        // taking the lock in turn for ever (seed 2636290534) — then the recovery below, as before.
        if o.lock == nil, orphaned(j, o) == nil, j.rollingBack, j.step == .stopping, j.stoppedAt == nil,
            let r = o.rollout, Gates.otherDestructive(o) == nil
        {
            let stillPossible =
                j.target.minorVersion == (j.rolledBackFrom ?? r.to).minorVersion
                || o.clusterVersion == j.target.minorVersion
            if stillPossible {
                if r.state == .active || r.state == .paused {
                    return .halt(
                        reason: j.reason ?? "rolling \(o.localName) back to \(j.target)", recordPhase: .rollingBack,
                        keepJournal: true)
                }
                return .acquireLock
            }
        }
        // The rollout this sequence belongs to is gone or changed (deleted or rewritten by hand), or the lock is lost:
        // finish our own part safely — member up on what it ran — then clear our record (owner clears) and let go.
        if let why = orphaned(j, o) ?? (o.lock == nil ? "this daemon lost the lock during \(j.step.rawValue)" : nil) {
            return recover(j, o, why: j.rollingBack && o.lock == nil ? (j.reason ?? why) : why)
        }
        let elapsed = o.now - (j.deadlineFrom ?? o.now)
        let expired = elapsed >= o.timing.verifyTimeoutSeconds
        switch j.step {
        case .stopping:
            if j.stoppedAt != nil {
                // The stop was issued and its call failed or did not return. Landed: go on. Still queued: wait for it.
                // Otherwise the member still runs, or may: a stop again only through the gate. Landed means not
                // answering for `crashGraceSeconds` beside a stopped process: a member that misses a health answer in
                // an election while a lying status says "stopped" is not down (WrongProcessStateTests).
                if o.localDown && o.localUnreachableFor >= o.timing.crashGraceSeconds { return .markStopped }
                if o.stopPending == true { return .wait(.stopPending(member: o.localName)) }
            } else if o.localDown && o.localProcess == .stopped && o.localUnreachableFor >= o.timing.crashGraceSeconds {
                // It went down on its own before our stop: nothing to stop; the sequence goes on (it is brought up).
                return .markStopped
            }
            return stopGate(j, o)
        case .stopped, .switched:
            // A member that answers on another release than the target, seen after its stop landed, was not stopped
            // after all or was started again since (a recovery's start, systemd): its binary is not switched under
            // it, nor is it started "again" — its stop is decided anew, through the gate (found by the simulator's
            // link invariant, seed 261328: a recovery's start taken for a landed stop, the link switched under the
            // running old release).
            if let local = o.local, local.reachable, let running = local.version, running != j.target,
                let down = j.downAt, o.observedAt > down
            {
                var again = j
                again.step = .stopping
                again.stoppedAt = nil
                again.recordWrittenAt = nil
                again.stopTicket = nil
                again.downAt = nil
                return .beginStop(again)
            }
            if expired || j.startFailures >= maxStartFailures {
                let why =
                    j.startFailures >= maxStartFailures
                    ? "\(o.localName) failed to start on \(j.target) \(j.startFailures) times: \(j.lastError ?? "?")"
                    : "\(o.localName) not started on \(j.target) within \(Int(o.timing.verifyTimeoutSeconds)) s of its stop"
                return failed(j, o, why: why)
            }
            return j.step == .stopped
                ? .switchBinary(path: switchPath(j, o.binaryPathTemplate))
                : .startMember(phase: j.rollingBack ? .rollingBack : .verifying)
        case .started:
            // A target that dies seconds after each start (exited, or restarted: its process start time changed) is
            // rolled back now, not after the whole deadline.
            if let failure = targetFailed(j, o) { return failed(j, o, why: failure) }
            if j.processStartTime == nil, let t = o.localStartTime { return .noteProcess(startTime: t) }
            // Settle is watched on the process start time: a tick without it (the scrape failed) proves nothing,
            // and a restart it would have shown passed as settled (found by the simulator, seed 3413090).
            let failure =
                Gates.verification(o, target: j.target)
                ?? (o.localStartTime == nil ? "\(o.localName)'s process start time not read" : nil)
            if failure == nil && o.verifiedFor >= o.timing.settleSeconds {
                if let leader = leaderToAsk(j, o) { return .takeLeadership(leaderURL: leader.clientURL) }
                return j.rollingBack
                    ? halt(j.reason ?? "rolled back", o, phase: .rolledBack)
                    : .markDone(processStartTime: j.processStartTime ?? o.localStartTime)
            }
            if !expired {
                return .wait(
                    failure.map { .verifying(problem: $0) }
                        ?? .settling(elapsed: Int(o.verifiedFor), of: Int(o.timing.settleSeconds)))
            }
            return failed(
                j, o,
                why:
                    "\(o.localName) not verified on \(j.target) within \(Int(o.timing.verifyTimeoutSeconds)) s: \(failure ?? "not settled")"
            )
        }
    }

    /// The leader to ask for leadership when our member is the last of a minor step to be verified. etcd moves the
    /// cluster version only when its leader checks every member's version: at once when a leader is new, else every
    /// 4 s (`monitorVersions`; "when there is a new leader, it is forced to do a version checking immediately", etcd
    /// commit e866314). The last member is the old leader (it goes last and hands leadership away before its stop, to
    /// a leader that checks while it still runs the old version), so without this the rollout waits up to 4 s for the
    /// next check. Taking leadership back costs one graceful transfer (a round trip, no election timeout) and puts the
    /// leader back where it was. Not rolling back, not asked twice (`leadershipAsked`), not for a patch step (the
    /// cluster version does not move), and only with every other member done on the target.
    static func leaderToAsk(_ j: JournalEntry, _ o: Observation) -> MemberView? {
        guard !j.rollingBack, !j.leadershipAsked, let r = o.rollout, let local = o.local, !local.isLeader,
            !local.isLearner, let leader = o.leader, leader.healthy, let version = o.clusterVersion,
            version != j.target.minorVersion,
            o.members.allSatisfy({
                $0.name == local.name || ($0.version == j.target && o.record($0.name)?.isDone(in: r) == true)
            })
        else { return nil }
        return leader
    }

    /// The one gate decision before every stop. The record write before it must have returned, and the observation
    /// must have been asked for after it; then every gate of a first stop (or, rolling back, the peers' gate), then
    /// the window. A retried stop — its call failed, its process state unknown or wrong — comes here too.
    static func stopGate(_ j: JournalEntry, _ o: Observation) -> Action {
        guard let r = o.rollout else { return recover(j, o, why: "the rollout record is gone") }
        if j.rollingBack {
            // A minor step back only while the cluster version is still the lower minor (it may have moved since the
            // rollback was decided): after that no binary swap goes back.
            if j.target.minorVersion != r.to.minorVersion, o.clusterVersion != j.target.minorVersion {
                guard let cv = o.clusterVersion else {
                    return .wait(.rollbackNeedsClusterVersion(member: o.localName))
                }
                // (A stop retried here may have landed: the journal stays unless the member answers now.)
                return halt(
                    (j.reason ?? "rollback")
                        + "; the cluster version moved to \(cv) before the rollback's stop, so a binary "
                        + "rollback is impossible: restore the snapshot (etcd-shepherd backups --restore \(r.backupKey))",
                    o)
            }
            if let small = Gates.smallClusterForStop(o) {
                return halt((j.reason ?? "rollback") + "; not rolled back: \(small)", o)
            }
            if let peers = Gates.peersForRollback(o) {
                // Not held for long: the peer it waits on may need the lock (as in `afterCrash`).
                if let lock = o.lock, o.now - lock.heldSince > o.timing.lockWaitSeconds { return .release }
                return .wait(.rollbackWaitsForPeers(member: o.localName, peers: peers))
            }
            guard let written = j.recordWrittenAt else { return .beginStop(j) }
            if o.observedAt <= written { return .wait(.observingAfterRecordWrite) }
        } else {
            // The window closed (or closes too soon) since the sequence began: its stop waits for the next one.
            if let closed = Gates.maintenance(o) {
                let why = "\(o.localName) not stopped outside a maintenance window: \(closed)"
                return j.stoppedAt == nil ? .leaveSequence(reason: why) : recover(j, o, why: why)
            }
            // Every gate of a first stop, decided as a fresh one would be.
            switch fresh(o) {
            case .beginStop:
                guard let written = j.recordWrittenAt else { return .beginStop(j) }
                if o.observedAt <= written { return .wait(.observingAfterRecordWrite) }
            case let .wait(why):
                return .wait(why)
            case let a where a.isStepBeforeTheStop:
                return a
            case let a:
                // A stop already issued may have landed: what is left of the sequence is a recovery, not a clean exit.
                let why = "sequence left before the stop of \(o.localName) for \(r.to): \(a)"
                return j.stoppedAt == nil ? .leaveSequence(reason: why) : recover(j, o, why: why)
            }
        }
        guard let lock = o.lock else { return .wait(.noLock) }
        if let why = Gates.window(
            observationAge: o.observationAge, leaseRemaining: lock.leaseRemaining, timing: o.timing)
        {
            return .wait(.window(why))
        }
        return .stopMember(
            issueBy: o.observedAt + o.timing.maxObservationAgeSeconds, minLease: o.timing.minLeaseRemainingSeconds)
    }

    /// Why the process this sequence started has failed, from what the journal noted and what is seen now: it exited
    /// (the controller sees it stopped and it does not answer), it was found dead after its starts, or it restarted.
    static func targetFailed(_ j: JournalEntry, _ o: Observation) -> String? {
        guard j.step == .started, !j.rollingBack || o.lock != nil else { return nil }
        if o.localProcess == .stopped, o.localUnreachableFor >= o.timing.crashGraceSeconds {
            return
                "\(o.localName) exited after its start on \(j.target) (not running, not answering for \(Int(o.localUnreachableFor)) s)"
        }
        if j.startFailures >= maxStartFailures {
            return "\(o.localName) exited after its start on \(j.target) \(j.startFailures) times"
        }
        if j.restarted(seen: o.localStartTime) {
            return "\(o.localName) restarted while it was verified on \(j.target) (its process start time changed)"
        }
        return nil
    }

    /// Why `j` no longer belongs to the rollout in etcd: the record is missing or unreadable, another rollout replaced
    /// it, or it names another target (rewritten by hand).
    static func orphaned(_ j: JournalEntry, _ o: Observation) -> String? {
        guard let r = o.rollout else { return "the rollout record \(j.rolloutID) is missing or unreadable" }
        if r.id != j.rolloutID { return "rollout \(j.rolloutID) was replaced by \(r.id)" }
        let expected = j.rollingBack ? (j.from ?? r.from) : r.to
        if j.target != expected || (j.from != nil && j.rollingBack == false && j.from != r.from) {
            return
                "rollout \(r.id) now says \(r.from) → \(r.to), not the \(j.from.map { "\($0) → " } ?? "")\(j.target) this sequence was for"
        }
        return nil
    }

    /// Leaving a sequence without going on with it: a member that is down is started (once, then given time), on the
    /// previous binary unless the new one was started forward; one that is up while a stop we issued may still be on
    /// its way (its command or job outlived us) is waited on — clearing now would let it go down after its record
    /// says it is safe; then our record is cleared and it is left as it is.
    static func recover(_ j: JournalEntry, _ o: Observation, why: String) -> Action {
        // A member that does not stay up (found by the simulator, seed 5788790: a crash-looping target after the
        // flip, started for ever): the rollout halts with the reason — nothing else is stopped meanwhile — and the
        // journal stays, so this daemon goes on starting it.
        if j.recoveryStarts >= maxStartFailures, let r = o.rollout, r.id == j.rolloutID,
            r.state == .active || r.state == .paused
        {
            return .halt(
                reason: "\(o.localName) does not stay up after \(j.recoveryStarts) starts while its sequence was left "
                    + "(\(why)); read its log (journalctl -u etcd); this daemon keeps starting it",
                recordPhase: .interrupted,
                keepJournal: true)
        }
        // A member this journal touched: stopped, started — or rolling back, which follows a start of the target (a
        // rollback not yet stopped still leaves behind the target this sequence started).
        let touched = j.stoppedAt != nil || j.step != .stopping || j.rollingBack
        if o.localDown && touched {
            if let started = j.recoveryStartedAt, o.now - started < o.timing.startGraceSeconds {
                return .wait(.recoveryStarted(member: o.localName, secondsAgo: Int(o.now - started)))
            }

            // The previous start never answered: it has not answered since that start.
            let noShow = j.recoveryStartedAt.map { o.localUnreachableFor >= o.now - $0 - 1 } ?? false
            return .recoverStart(
                binary: j.countingRecoveryStart(noShow: noShow).recoveryBinary(
                    template: o.binaryPathTemplate, clusterVersion: o.clusterVersion),
                noShow: noShow)
        }
        if j.step == .stopping, let issued = j.stoppedAt {
            switch o.stopPending {
            case true?:
                return .wait(.stopStillPending(member: o.localName, issuedAgo: Int(o.now - issued)))
            case nil where o.now - issued < o.timing.stopPendingSeconds:
                return .wait(
                    .stopMayBePending(
                        member: o.localName, issuedAgo: Int(o.now - issued),
                        clearsIn: Int(o.timing.stopPendingSeconds - (o.now - issued))))
            default:
                // Over: journalled first, so that whether the member runs is judged on health asked after it landed
                // (an answer asked while it landed would say it runs).
                return .markStopped
            }
        }
        // Cleared only on evidence that the member runs: it answers (a process state alone may be wrong or late), on an
        // observation fresh enough to say so of now (`answersNow`).
        if !answersNow(o) && touched {
            return .wait(
                o.local?.reachable == true
                    ? .localAnswerOld(member: o.localName, seconds: Int(o.observationAge))
                    : .localNotAnswering(member: o.localName))
        }
        // A member this sequence or its recovery started is let go only once it has run `crashGraceSeconds`: a start
        // that dies a moment later would be left down with nobody to start it again (found by the simulator, seeds
        // 28951865 and, for the sequence's own start, 923284130: the lock lost 0.4 s after the start). Run, as seen:
        // on an observation made that long after the start, not merely decided that long after it (seed 4858924183:
        // seen up 3.5 s after its start, let go at 5.5 s, dead since 4 s — a crash-looping target left down after the
        // halt that said this daemon keeps starting it).
        if let started = [j.startedAt, j.recoveryStartedAt].compactMap({ $0 }).max(),
            o.observedAt - started < o.timing.crashGraceSeconds
        {
            return .wait(
                .recoveryRunning(
                    member: o.localName, secondsAgo: Int(o.now - started), grace: Int(o.timing.crashGraceSeconds)))
        }
        if let path = linkToRestore(j, o) { return .restoreLink(path: path) }
        // A rollback left half-way (its lock lost) still ends the rollout: its reason stands.
        if j.rollingBack, let r = o.rollout, r.id == j.rolloutID, r.state == .active || r.state == .paused {
            return .halt(reason: j.reason ?? why, recordPhase: .rolledBack, keepJournal: false)
        }
        return .leaveSequence(reason: why)
    }

    /// Where the binary link must point before `j` is let go while its member answers: at the binary the member runs,
    /// when the link names this sequence's other binary. A sequence left with the link on a binary that does not run
    /// hands the next restart to a binary nobody verifies (found by the simulator, seed 493211159: a lone member
    /// restarted by systemd on the old binary before the switch, the sequence left, and a later crash brought it back
    /// on a bad target with no journal to recover it). `nil` when they agree or the running version is neither.
    static func linkToRestore(_ j: JournalEntry, _ o: Observation) -> String? {
        guard let running = o.local?.version, o.local?.reachable == true, let link = o.linkTarget else { return nil }
        // The sequence's two binaries: the one it moves away from (the link's path before it) and the newer one.
        let older = j.rollingBack ? j.target : j.from
        let newer = j.rollingBack ? j.rolledBackFrom : j.target
        let binaries: [(version: EtcdVersion, path: String)] = [
            older.map { ($0, j.previousBinary ?? o.binaryPath($0)) }, newer.map { ($0, o.binaryPath($0)) },
        ].compactMap { $0 }
        guard binaries.contains(where: { $0.path == link }),
            let runs = binaries.first(where: { $0.version == running }), runs.path != link
        else { return nil }
        return runs.path
    }

    /// The sequence failed: roll back while the cluster version allows it, else halt. A rollback that fails halts.
    /// Halting never leaves our member down (the journal stays for the recovery).
    static func failed(_ j: JournalEntry, _ o: Observation, why: String) -> Action {
        // What follows (a rollback's stop or its start, a halt) is decided on the member as it is now: an observation
        // that outlived a freeze is asked again (found by the simulator, seed 953788118: a rollback of a "running"
        // member decided on a 28 s old process state, which forgot that the sequence had stopped it).
        if o.observationAge > o.timing.maxObservationAgeSeconds {
            return .wait(.observationOld(why: why, seconds: Int(o.observationAge)))
        }
        // Stopped by this sequence and never started since: down unless it answers (a process state saying
        // "running" may be wrong or late).
        let down = o.localDown || (j.stoppedAt != nil && j.startedAt == nil && o.local?.reachable != true)
        if j.rollingBack {
            return halt(
                "rollback failed: " + why + (j.reason.map { " (rolling back because: \($0))" } ?? ""), o,
                phase: .rolledBack)
        }
        guard let r = o.rollout else { return halt(why, o) }
        let from = j.from ?? r.from
        // A minor step back is possible only while the cluster version is still the lower minor. A member that never
        // ran the target in this sequence kept it there (the cluster version never exceeds any member's version).
        if from.minorVersion != j.target.minorVersion, j.startedAt != nil {
            guard let cv = o.clusterVersion else {
                return .wait(.rollbackToUnknownClusterVersion(why: why, from: from))
            }
            if cv != from.minorVersion {
                return halt(
                    why
                        + "; the cluster version already moved to \(cv), binary rollback is impossible: restore the snapshot "
                        + "(etcd-shepherd backups --restore \(r.backupKey))", o)
            }
        }
        let entry = j.rollback(to: from, reason: why, down: down, now: o.now)
        if down { return .rollBackWhileDown(entry) }
        // A rollback of a running member is a stop: not in a cluster it would leave without quorum — halted, up.
        if let small = Gates.smallClusterForStop(o) { return halt("\(why); not rolled back: \(small)", o) }
        if let peers = Gates.peersForRollback(o) {
            return .wait(.rollbackWaitsForPeers(member: o.localName, peers: peers))
        }
        return .beginStop(entry)
    }

    /// Whether a binary rollback of `j`'s member can still run: it never ran the target in this sequence, or the
    /// cluster version allows it (unknown counts as possible: decided once it is known).
    static func rollbackPossible(_ j: JournalEntry, _ r: RolloutRecord, _ o: Observation) -> Bool {
        j.startedAt == nil
            || binaryRollbackAllowed(from: j.from ?? r.from, to: j.target, clusterVersion: o.clusterVersion) ?? true
    }
}

extension Action {
    /// The steps the fresh path takes before a stop, which a sequence at `.stopping` may still need (leadership moved
    /// to us, the backup record vanished).
    var isStepBeforeTheStop: Bool {
        switch self {
        case .takeBackup, .transferLeadership, .acquireLock, .adoptVerification: return true
        default: return false
        }
    }
}
