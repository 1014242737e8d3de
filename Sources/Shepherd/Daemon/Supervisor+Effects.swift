import Foundation
import Rollout
import Systemd

/// The executor: one small function per action, each reaching the world only through the ports. The journal is
/// written before every destructive step, so a crash anywhere leaves a state the core knows how to continue.
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
                events.emit(.lockAcquired, .info, "\(me) holds the upgrade lock (\(h.key), revision \(h.revision))", rollout: r)
            }

        case let .takeBackup(leaderURL):
            guard let r, let h = o.lock else { return }
            let leader = o.members.first { $0.clientURL == leaderURL }
            let rec = try await ports.maintenance.takeBackup(leaderURL: leaderURL, leaderID: leader.map { String($0.id, radix: 16) } ?? "",
                                                             rolloutID: r.backupKey, node: me) { [heartbeat] _ in heartbeat.beat() }
            try await fenced { try await self.ports.store.putBackupFenced(r.backupKey, rec, lock: h, avoiding: []) }
            metrics?.backupTaken(size: rec.size, at: ports.clock.wallNow())
            events.emit(.backupTaken, .notice, "snapshot of \(leader?.name ?? leaderURL) saved to \(rec.path) (\(rec.size) bytes, sha256 \(rec.sha256))",
                        rollout: r, phase: "backup")

        case let .transferLeadership(leaderURL, target):
            try await ports.maintenance.transferLeadership(leaderURL: leaderURL, to: target)
            events.emit(.leadershipTransferred, .notice, "\(me) handed leadership to \(String(target, radix: 16)) before its own upgrade", rollout: r)

        case let .stopMember(target, rollingBack, reason):
            try await stop(target: target, rollingBack: rollingBack, reason: reason, o)

        case let .rollBack(reason):
            guard let r else { return }
            events.emit(.rollback, .error, "rolling \(me) back to \(r.from): \(reason)", rollout: r, phase: "rollingBack", reason: reason)
            try await stop(target: r.from, rollingBack: true, reason: reason, o)

        case let .rollBackStopped(reason):
            guard var j = o.journal else { return }
            let from = j.from ?? r?.from ?? j.target
            events.emit(.rollback, .error, "rolling \(me) back to \(from) (its member is down): \(reason)", rollout: r, phase: "rollingBack", reason: reason)
            j.beginRollbackWhileDown(to: from, reason: reason, now: ports.clock.now())
            try ports.journal.write(j)
            if let r, let h = o.lock { try await writeRecord(r, o, phase: .rollingBack, lock: h, error: reason) }

        case .switchBinary, .startMember, .recoverStart:
            try await performOffline(action, rollout: r, observation: o)

        case .adoptVerification:
            guard let r, let h = o.lock else { return }
            let now = ports.clock.now()
            try ports.journal.write(JournalEntry(rolloutID: r.id, step: .started, target: r.to, stoppedAt: now, startedAt: now))
            try await writeRecord(r, o, phase: .verifying, lock: h)

        case .markDone:
            guard let r, let h = o.lock, let j = o.journal else { return }
            let downtime = memory.downtime
            try await writeRecord(r, o, phase: .done, lock: h, downtime: downtime)
            try ports.journal.clear()
            _ = memory.takeDowntime()
            if let downtime { metrics?.memberDowntime(downtime) }
            events.emit(.memberVerified, .notice,
                        "\(me) verified on \(j.target) (down \(String(format: "%.2f", downtime ?? 0)) s)", rollout: r, phase: "done",
                        memberID: o.local.map { String($0.id, radix: 16) })
            await ports.lock.release()
            events.emit(.lockReleased, .info, "\(me) released the upgrade lock", rollout: r)

        case let .halt(reason):
            // Every write here throws on failure: the next tick decides the halt again (each step is idempotent), so
            // a transient error never leaves the rollout active behind a member that gave up.
            if let r, !r.state.isTerminal {
                // An operator's abort (or another daemon's halt) stands; the sequence still ends cleanly below.
                _ = try await ports.store.setRolloutState(.halted, reason: reason, allowedFrom: [.active, .paused], avoiding: [localURL])
            }
            if let r, let h = o.lock {
                try await writeRecord(r, o, phase: o.journal?.rollingBack == true ? .rolledBack : .interrupted, lock: h, error: reason)
            }
            try ports.journal.clear()
            events.emit(.rolloutHalted, .critical, "rollout halted: \(reason)", rollout: r, phase: "halted", reason: reason)
            await releaseIfHeld(o)

        case .release:
            await releaseIfHeld(o)

        case .markCompleted:
            let done = try await ports.store.setRolloutState(.completed, reason: nil, allowedFrom: [.active], avoiding: [])
            events.emit(.rolloutCompleted, .notice, "rollout \(done.id) completed: cluster on \(done.to), cluster version \(o.clusterVersion ?? "?")",
                        rollout: done, phase: "completed", clusterVersion: o.clusterVersion)

        case .advanceHop:
            guard let r else { return }
            let next = try await ports.store.advanceHop(r)
            events.emit(.hopCompleted, .notice, "rollout \(r.id): every member on \(r.to), cluster version \(o.clusterVersion ?? "?"); next hop \(next.from) → \(next.to)",
                        rollout: next, phase: "active", clusterVersion: o.clusterVersion)

        case let .clearInterrupted(reason):
            let snap = try await ports.store.read(avoiding: [localURL])
            if let rec = snap.records[me], rec.phase.isDestructive {
                var cleared = rec
                cleared.phase = .interrupted; cleared.error = reason; cleared.updatedAt = ports.clock.wallNow()
                guard try await ports.store.writeRecordCAS(me, cleared, modRevision: snap.recordModRevisions[me] ?? 0) else {
                    throw StoreError(detail: "record of \(me) changed while clearing it; retrying")
                }
            }
            try ports.journal.clear()
            events.emit(.rollback, .warning, "\(me) left its sequence and cleared its record: \(reason)",
                        rollout: r, phase: "interrupted", reason: reason)
        }
    }

    /// The steps that bring our own member back up. They need no read of etcd, so they also run when the cluster
    /// cannot be observed (`Decide.offline`); the record write after a start is then left to the next steps.
    func performOffline(_ action: Action, rollout r: RolloutRecord? = nil, observation o: Observation? = nil) async throws {
        let me = config.member.name
        switch action {
        case let .switchBinary(version):
            guard var j = try ports.journal.read() else { return }
            let path = j.rollingBack ? (j.previousBinary ?? config.member.binaryPath(version)) : config.member.binaryPath(version)
            try ports.link.point(to: path)
            j.step = .switched
            try ports.journal.write(j)
            events.logger.info("\(me): binary link \(config.member.binaryLink) → \(path)")

        case .startMember:
            guard var j = try ports.journal.read() else { return }
            do { try await ports.controller.start() } catch {
                j.startFailures += 1; j.lastError = "\(error)"
                try ports.journal.write(j)
                events.emit(.startFailed, .error, "starting \(me) on \(j.target) failed (attempt \(j.startFailures)): \(error)",
                            rollout: r, phase: "starting", reason: "\(error)")
                throw error
            }
            j.step = .started
            j.startedAt = ports.clock.now()
            try ports.journal.write(j)
            events.emit(.memberStarted, .notice, "\(me) started on \(j.target)", rollout: r, phase: "verifying")
            if let r, let o, let h = o.lock {
                try await writeRecord(r, o, phase: j.rollingBack ? .rollingBack : .verifying, lock: h, error: j.reason)
            }

        case let .recoverStart(restore):
            let j = try ports.journal.read()
            if restore, let previous = j?.previousBinary {
                events.logger.warning("\(me): the new binary was never verified; binary link back to \(previous)")
                try ports.link.point(to: previous)
            }
            events.logger.warning("\(me): starting the member left down by an interrupted sequence")
            try await ports.controller.start()

        case let .rollBackStopped(reason):
            guard var j = try ports.journal.read(), let from = j.from else { return }
            events.emit(.rollback, .error, "rolling \(me) back to \(from) (its member is down, the cluster unobservable): \(reason)", phase: "rollingBack", reason: reason)
            j.beginRollbackWhileDown(to: from, reason: reason, now: ports.clock.now())
            try ports.journal.write(j)

        default:
            return
        }
    }

    /// Journal, fenced record write, the window re-checked, then the stop (DESIGN: fence-then-record before every stop).
    func stop(target: EtcdVersion, rollingBack: Bool, reason: String?, _ o: Observation) async throws {
        guard let r = o.rollout, let h = o.lock else { return }
        let me = config.member.name
        var j = o.journal ?? JournalEntry(rolloutID: r.id, step: .stopping, target: target, rollingBack: rollingBack, reason: reason,
                                          previousBinary: ports.link.target(), from: r.from)
        if o.journal?.rollingBack != rollingBack {   // a rollback starts a new sequence on the same journal
            j.step = .stopping; j.target = target; j.rollingBack = rollingBack; j.reason = reason; j.startedAt = nil
            j.startFailures = 0; j.lastError = nil
        }
        try ports.journal.write(j)
        try await writeRecord(r, o, phase: rollingBack ? .rollingBack : .stopping, lock: h, error: reason)
        // The window bound, once more right before the stop (monotonic): the fenced write took time, and a pause here
        // must not turn an old observation or a lapsing lease into a stop.
        let lease = await ports.lock.current()?.leaseRemaining ?? 0
        let age = ports.clock.now() - (o.now - o.observationAge)
        if o.localProcessUp, let why = Gates.window(observationAge: age, leaseRemaining: lease, timing: o.timing) {
            throw StoreError(detail: "not stopping \(me): \(why)")
        }
        events.emit(.memberStopping, .notice, "stopping \(me) for \(target)\(rollingBack ? " (rollback)" : "")", rollout: r,
                    phase: rollingBack ? "rollingBack" : "stopping", memberID: o.local.map { String($0.id, radix: 16) })
        // Our own streams on the member first: etcd 3.4 waits up to 7 s for open gRPC streams before it exits.
        await ports.streams.close()
        j.stoppedAt = ports.clock.now()
        try ports.journal.write(j)
        try await ports.controller.stop()
        j.step = .stopped
        try ports.journal.write(j)
    }

    func writeRecord(_ r: RolloutRecord, _ o: Observation, phase: MemberPhase, lock h: LockHold, error: String? = nil,
                     downtime: Double? = nil) async throws {
        let id = o.local.map { String($0.id, radix: 16) } ?? o.localRecord?.memberID ?? ""
        let rec = MemberRecord(rolloutID: r.id, memberID: o.localRecord?.memberID ?? id, phase: phase, from: r.from, to: r.to,
                               leaseID: String(UInt64(bitPattern: h.leaseID), radix: 16), lockRevision: h.revision,
                               updatedAt: ports.clock.wallNow(), error: error, downtimeSeconds: downtime)
        try await fenced { try await self.ports.store.writeRecordFenced(self.config.member.name, rec, lock: h, avoiding: [self.localURL]) }
    }

    /// A fenced write whose fence failed means the lock is gone: forget it, so the next tick takes the owner-clears path.
    func fenced(_ body: () async throws -> Void) async throws {
        do { try await body() } catch let e as RolloutStore.FenceLost {
            await ports.lock.markLost(e.detail)
            throw e
        }
    }

    func releaseIfHeld(_ o: Observation) async {
        guard await ports.lock.current() != nil else { return }
        await ports.lock.release()
        events.emit(.lockReleased, .info, "\(config.member.name) released the upgrade lock", rollout: o.rollout)
    }
}
