import EtcdClient
import Foundation
import Rollout
import Systemd

/// The executor: one small function per action, each doing what the action says and reaching the world only through
/// the ports. Nothing here decides: the journal entries, binary paths and record phases come in the actions. The
/// journal is written before every destructive step, so a crash anywhere leaves a state the core knows how to continue.
extension Supervisor {
    func perform(_ action: Action, _ o: Observation) async throws {
        let me = config.member.name
        let r = o.rollout
        switch action {
        case .idle, .wait, .waitForClusterVersion:
            return

        case .acquireLock:
            let wait = Duration.milliseconds(Int64(max(2, o.timing.tickSeconds * 3) * 1000))
            if try await ports.lock.acquire(wait: wait), let h = await ports.lock.current() {
                events.emit(
                    .lockAcquired, .info, "\(me) holds the upgrade lock (\(h.key), revision \(h.revision))", rollout: r)
                // The sequence's first write follows at once when the core, given this observation with the lock in
                // it and the time now, still begins it: it is intent only (the stop is gated again on health asked for
                // after it), and an observation older than the window makes the core wait for a fresh one instead.
                // (Not the completion: a daemon queued behind the one that completed would complete it again.)
                guard o.journal == nil else { return }
                var held = o
                held.lock = h
                held.now = ports.clock.now()
                let next = Decide.next(held)
                if case .beginStop = next { try await perform(next, held) }
            }

        case let .takeBackup(leaderURL):
            guard let r, let h = o.lock else { return }
            events.history?.record("backupStarted", rolloutID: r.id, text: "snapshot of the leader started")
            let leader = o.members.first { $0.clientURL == leaderURL }
            let rec = try await ports.maintenance.takeBackup(
                leaderURL: leaderURL, leaderID: leader.map { $0.id.description } ?? "",
                backupKey: r.backupKey, node: me
            ) { [heartbeat] _ in heartbeat.beat() }
            try await fenced { try await self.ports.store.putBackupFenced(r.backupKey, rec, lock: h, avoiding: []) }
            metrics?.backupTaken(size: rec.size, at: ports.clock.wallNow())
            events.emit(
                .backupTaken, .notice,
                "snapshot of \(leader?.name.rawValue ?? leaderURL) saved to \(rec.path) (\(rec.size) bytes, sha256 \(rec.sha256))",
                rollout: r, phase: "backup")

        case let .transferLeadership(leaderURL, target):
            try await ports.maintenance.transferLeadership(leaderURL: leaderURL, to: target)
            events.emit(
                .leadershipTransferred, .notice,
                "\(me) handed leadership to \(target) before its own upgrade", rollout: r)

        case let .takeLeadership(leaderURL):
            guard var j = o.journal, let local = o.local else { return }
            // Asked once, whatever the answer: a refused or failed transfer leaves the cluster version to the
            // leader's periodic check, which is no reason to fail the verified member.
            do {
                try await ports.maintenance.transferLeadership(leaderURL: leaderURL, to: local.id)
                events.emit(
                    .leadershipTransferred, .notice,
                    "\(me) took leadership back, so the cluster version is checked now (the last member verified)",
                    rollout: r)
            } catch {
                events.logger.warning(
                    "\(me) could not take leadership back (\(error)); the cluster version moves at the next check")
            }
            j.leadershipAsked = true
            try ports.journal.write(j)

        case let .beginStop(entry):
            guard let r, let h = o.lock else { return }
            var j = entry
            try ports.journal.write(j)
            if j.rollingBack {
                events.emit(
                    .rollback, .error, "rolling \(me) back to \(j.target): \(j.reason ?? "?")", rollout: r,
                    phase: "rollingBack", reason: j.reason)
            }
            try await writeRecord(r, o, phase: j.rollingBack ? .rollingBack : .stopping, lock: h, error: j.reason)
            // The stop's gate is decided again on health asked for after this instant.
            j.recordWrittenAt = ports.clock.now()
            try ports.journal.write(j)

        case let .stopMember(issueBy, minLease):
            try await stop(issueBy: issueBy, minLease: minLease, o)

        case .markStopped:
            guard var j = o.journal else { return }
            j.step = .stopped
            j.downAt = ports.clock.now()
            try ports.journal.write(j)
            events.logger.info("\(me): the stop issued earlier has landed; going on")

        case let .rollBackWhileDown(entry):
            events.emit(
                .rollback, .error, "rolling \(me) back to \(entry.target) (its member is down): \(entry.reason ?? "?")",
                rollout: r, phase: "rollingBack", reason: entry.reason)
            try ports.journal.write(entry)
            if let r, let h = o.lock { try await writeRecord(r, o, phase: .rollingBack, lock: h, error: entry.reason) }

        case .switchBinary, .startMember, .recoverStart:
            try await performOffline(action, rollout: r, observation: o)

        case let .noteProcess(startTime):
            guard var j = o.journal else { return }
            j.processStartTime = startTime
            try ports.journal.write(j)

        case let .adoptVerification(entry):
            guard let r, let h = o.lock else { return }
            try ports.journal.write(entry)
            try await writeRecord(r, o, phase: .verifying, lock: h)

        case let .markDone(processStartTime):
            guard let r, let h = o.lock, let j = o.journal else { return }
            let downtime = memory.downtime
            try await writeRecord(r, o, phase: .done, lock: h, downtime: downtime, processStartTime: processStartTime)
            try ports.journal.clear()
            _ = memory.takeDowntime()
            if let downtime { metrics?.memberDowntime(downtime) }
            events.emit(
                .memberVerified, .notice,
                "\(me) verified on \(j.target) (down \(String(format: "%.2f", downtime ?? 0)) s)", rollout: r,
                phase: "done",
                memberID: o.local?.id.description)
            // The last member verified: the lock is kept for the completion, which the next tick decides on every
            // member's process read afresh (or lets go of the lock if it cannot complete yet) — not queued for again
            // behind every other daemon that saw the record change.
            if o.members.allSatisfy({ $0.name == me || o.isVerifiedOnTarget($0) }) {
                completing = true
                return
            }
            await ports.lock.release()
            events.emit(.lockReleased, .info, "\(me) released the upgrade lock", rollout: r)

        case let .halt(reason, phase, keepJournal):
            // Every write here throws on failure: the next tick decides the halt again (each step is idempotent), so
            // a transient error never leaves the rollout active behind a member that gave up. Our record first: whoever
            // follows the rollout to its end (`request --wait`, status) sees its final phase with the halt.
            if let r, o.journal != nil || o.localRecord?.phase.isDestructive == true {
                if let h = o.lock {
                    try await writeRecord(r, o, phase: phase, lock: h, error: reason)
                } else {
                    try await clearRecord(o, to: phase, reason: reason)  // owner clears, no lock needed
                }
            }
            if let r, !r.state.isTerminal {
                // An operator's abort (or another daemon's halt) stands; the sequence still ends cleanly.
                _ = try await ports.store.setRolloutState(
                    .halted, reason: reason, allowedFrom: [.active, .paused], avoiding: [localURL], fence: nil)
            }
            // Our member is down: the journal stays, and the recovery (no lock needed) brings it up.
            if !keepJournal { try ports.journal.clear() }
            events.emit(
                .rolloutHalted, .critical, "rollout halted: \(reason)", rollout: r, phase: "halted", reason: reason)
            if phase == .rolledBack {
                events.notify(
                    "member_rolled_back", "\(me) is back on \(r?.from.description ?? "?")", rollout: r, reason: reason)
            }
            await releaseIfHeld(o)

        case .release:
            await releaseIfHeld(o)

        case .markCompleted:
            // Fenced on the lock: a daemon frozen between its observation and this write loses the lock's lease, and
            // the write with it (a member may have restarted meanwhile).
            guard let h = o.lock else { return }
            var completed: RolloutRecord?
            try await fenced {
                completed = try await self.ports.store.setRolloutState(
                    .completed, reason: nil, allowedFrom: [.active], avoiding: [], fence: h,
                    lastLook: { try await self.lookAtVerifiedProcesses(o) })
            }
            guard let done = completed else { return }
            events.emit(
                .rolloutCompleted, .notice,
                "rollout \(done.id) completed: cluster on \(done.to), cluster version \(o.clusterVersion ?? "?")",
                rollout: done, phase: "completed", clusterVersion: o.clusterVersion)

        case .advanceHop:
            guard let r, let h = o.lock else { return }
            var advanced: RolloutRecord?
            try await fenced {
                advanced = try await self.ports.store.advanceHop(
                    r, fence: h, lastLook: { try await self.lookAtVerifiedProcesses(o) })
            }
            guard let next = advanced else { return }
            events.emit(
                .hopCompleted, .notice,
                "rollout \(r.id): every member on \(r.to), cluster version \(o.clusterVersion ?? "?"); next hop \(next.from) → \(next.to)",
                rollout: next, phase: "active", clusterVersion: o.clusterVersion)

        case let .restoreLink(path):
            // On what the member says it runs now, not on the observation (which may be seconds old: the node
            // replaced meanwhile on another release, seed 3233525676): the link names what runs, or nothing changes.
            let runs = await ports.cluster.runningVersion(localURL)
            guard let runs, o.binaryPath(runs) == path else {
                throw ControllerError(
                    thing: "\(me)",
                    cause: "runs \(runs?.description ?? "nothing that answers /version") now, not \(path): "
                        + "its binary link is left as it is")
            }
            events.logger.warning(
                "\(me): the member runs another binary than the link named; binary link \(config.member.binaryLink) → \(path)"
            )
            try ports.link.point(to: path)

        case let .leaveSequence(reason):
            try await clearRecord(o, to: .interrupted, reason: reason)
            try ports.journal.clear()
            events.emit(
                .sequenceLeft, .warning, "\(me) left its sequence and cleared its record: \(reason)",
                rollout: r, phase: "interrupted", reason: reason)
            await releaseIfHeld(o)
        }
    }

    /// The steps that bring our own member back up. They need no read of etcd, so they also run when the cluster
    /// cannot be observed (`Decide.offline`); the record write after a start is then left to the next steps.
    func performOffline(
        _ action: Action, rollout r: RolloutRecord? = nil, observation o: Observation? = nil
    ) async throws {
        let me = config.member.name
        switch action {
        case let .switchBinary(path):
            guard var j = try ports.journal.read() else { return }
            try await pointLinkOfStoppedMember(to: path)
            j.step = .switched
            try ports.journal.write(j)
            events.logger.info("\(me): binary link \(config.member.binaryLink) → \(path)")

        case let .startMember(phase):
            guard var j = try ports.journal.read() else { return }
            if j.step == .started {
                // Started before, found dead (a lone member seen only offline): this start counts as a failure.
                j.startFailures += 1
                j.lastError = "exited after its start"
            }
            do { try await ports.controller.start() } catch {
                j.startFailures += 1
                j.lastError = "\(error)"
                try ports.journal.write(j)
                events.emit(
                    .startFailed, .error, "starting \(me) on \(j.target) failed (attempt \(j.startFailures)): \(error)",
                    rollout: r, phase: "starting", reason: "\(error)")
                throw error
            }
            j.step = .started
            j.startedAt = ports.clock.now()
            try ports.journal.write(j)
            events.emit(.memberStarted, .notice, "\(me) started on \(j.target)", rollout: r, phase: "verifying")
            if let phase, let r, let o, let h = o.lock {
                try await writeRecord(r, o, phase: phase, lock: h, error: j.reason)
            }

        case let .recoverStart(binary, noShow):
            guard var j = try ports.journal.read()?.countingRecoveryStart(noShow: noShow) else { return }
            if let binary {
                events.logger.warning("\(me): the new binary was never verified; binary link back to \(binary)")
                try await pointLinkOfStoppedMember(to: binary)
            }
            events.logger.warning("\(me): starting the member left down by an interrupted sequence")
            // Journalled first: it is started once, then given time to answer.
            j.recoveryStartedAt = ports.clock.now()
            j.recoveryStarts += 1
            try ports.journal.write(j)
            try await ports.controller.start()
            // And again once the start returned: the graces run from the start itself, not from a call that may have
            // taken long (found by the simulator, seed 1107163310: a start that returned after 17 s was let go at once
            // and died a moment later with nobody to start it).
            j.recoveryStartedAt = ports.clock.now()
            try ports.journal.write(j)

        case .markStopped:
            guard var j = try ports.journal.read() else { return }
            j.step = .stopped
            j.downAt = ports.clock.now()
            try ports.journal.write(j)

        case let .rollBackWhileDown(entry):
            events.emit(
                .rollback, .error,
                "rolling \(me) back to \(entry.target) (its member is down, the cluster unobservable): \(entry.reason ?? "?")",
                phase: "rollingBack", reason: entry.reason)
            try ports.journal.write(entry)

        default:
            return
        }
    }

    /// Points the binary link, never under a running member: its next restart (by anyone: systemd restarting a
    /// crash-looping target is one) would run a release it was not verified on, or one the daemon does not know it
    /// runs. A member that responds (`ClusterObserving.responds`: anything but a refused connection — an unhealthy
    /// answer from one restarted without quorum, a late one) was not stopped or was started again; the core sees it on
    /// the next observation and decides its stop anew, through the gate (a stop also ends systemd's restart loop). The
    /// status command is not asked: one that always says "running" would leave the member down for good.
    func pointLinkOfStoppedMember(to path: String) async throws {
        let me = config.member.name
        if await ports.cluster.responds(localURL) {
            throw ControllerError(
                thing: "\(me)",
                cause: "responds on its client URL: it is not stopped, so its binary link is not switched to \(path)")
        }
        try ports.link.point(to: path)
    }

    /// The stop, on a gate decided by the core on health asked for after the record write: our own streams on the
    /// member closed first, the deadline and the lease the action carries checked once more on the monotonic clock,
    /// the journal stamped (with the stop's ticket as soon as it is under way), then the stop, waited for.
    func stop(issueBy: Double, minLease: Double, _ o: Observation) async throws {
        guard let r = o.rollout, var j = o.journal else { return }
        let me = config.member.name
        // Our own streams on the member first: etcd 3.4 waits up to 7 s for open gRPC streams before it exits.
        await ports.streams.close()
        let now = ports.clock.now()
        let lease = await ports.lock.current()?.leaseRemaining ?? 0
        // Gate 8 once more on the wall clock of this instant: a clock stepped since the observation may have closed
        // the window.
        if !j.rollingBack, let schedule = config.maintenance,
            let closed = Gates.maintenance(windows.view(schedule, at: ports.clock.wallNow()), timing: config.timing)
        {
            throw StoreError(thing: "\(me)", cause: "not stopped: \(closed)")
        }
        guard now <= issueBy, lease >= minLease else {
            throw StoreError(
                thing: "\(me)",
                cause: "not stopped: "
                    + (now > issueBy
                        ? "the gate's observation is \(String(format: "%.1f", now - issueBy)) s past its window; observing again"
                        : "the lock lease has \(String(format: "%.1f", lease)) s left; renewing first"))
        }
        events.emit(
            .memberStopping, .notice, "stopping \(me) for \(j.target)\(j.rollingBack ? " (rollback)" : "")", rollout: r,
            phase: j.rollingBack ? "rollingBack" : "stopping", memberID: o.local?.id.description)
        j.stoppedAt = now
        try ports.journal.write(j)
        let journal = ports.journal
        let stamped = j
        try await ports.controller.stop(issued: { ticket in
            var t = stamped
            t.stopTicket = ticket
            try? journal.write(t)
        })
        // The controller's contract: its stop returns once the process has exited. A member that still answers was
        // not stopped (a stop command that returned early, or stopped another process): the binary is not switched
        // under it. The step stays `stopping` with its stop issued, so the next tick decides again — a stop still
        // pending is waited for, and a new one goes through the gate.
        if await ports.cluster.responds(localURL) {
            throw ControllerError(
                thing: "\(me)",
                cause: "the stop command returned, but it still answers /health: it was not stopped; "
                    + "not switching its binary",
                fix: "check the controller's stop command")
        }
        // Re-read: the ticket was journalled meanwhile.
        j = (try ports.journal.read()) ?? j
        j.step = .stopped
        j.downAt = ports.clock.now()
        try ports.journal.write(j)
    }

    /// The owner's own clearing write, without the lock: a destructive record of ours, as the observation saw it,
    /// rewritten to `phase` — a CAS on the mod revision it was seen at, so a record changed since is left as it is
    /// and the next tick decides on the change.
    func clearRecord(_ o: Observation, to phase: MemberPhase, reason: String) async throws {
        let me = config.member.name
        // Whichever rollout it names (a sequence orphaned by a replaced rollout clears its old record too).
        guard let rec = o.records[me], rec.phase.isDestructive else { return }
        var cleared = rec
        cleared.phase = phase
        cleared.error = reason
        cleared.updatedAt = ports.clock.wallNow()
        guard try await ports.store.writeRecordCAS(me, cleared, modRevision: o.recordRevisions[me] ?? 0) else {
            throw StoreError(thing: "record of \(me)", cause: "changed since this tick's observation; deciding again")
        }
    }

    func writeRecord(
        _ r: RolloutRecord, _ o: Observation, phase: MemberPhase, lock h: LockHold, error: String? = nil,
        downtime: Double? = nil, processStartTime: Double? = nil
    ) async throws {
        // The ID the sequence began with stays in the record (gate 2 compares it with the member's after a restart).
        guard let id = o.localRecord?.memberID ?? o.local?.id else {
            throw StoreError(
                thing: "\(config.member.name)",
                cause: "its member ID is not known (not in the member list): no record written")
        }
        let rec = MemberRecord(
            rolloutID: r.id, memberID: id, phase: phase, from: r.from, to: r.to,
            leaseID: Lease.hex(h.leaseID), lockRevision: h.revision,
            updatedAt: ports.clock.wallNow(), error: error, downtimeSeconds: downtime,
            processStartTime: processStartTime)
        try await fenced {
            try await self.ports.store.writeRecordFenced(
                self.config.member.name, rec, lock: h, avoiding: [self.localURL])
        }
    }

    /// A fenced write whose fence failed means the lock is gone: forget it, so the next tick takes the owner-clears
    /// path.
    func fenced(_ body: () async throws -> Void) async throws {
        do { try await body() } catch let e as StoreError where e.isFenceLost {
            await ports.lock.markLost(e.description)
            throw e
        }
    }

    func releaseIfHeld(_ o: Observation) async {
        guard await ports.lock.current() != nil else { return }
        await ports.lock.release()
        events.emit(.lockReleased, .info, "\(config.member.name) released the upgrade lock", rollout: o.rollout)
    }
}
