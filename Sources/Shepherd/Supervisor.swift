import EtcdClient
import Foundation
import Logging
import Rollout
import Systemd

/// The imperative shell around `Decide`: each tick it observes the local member and the cluster, hands the request
/// file to `RequestIntake`, asks the core for the next action and performs it. Owns the lock, the journal and the
/// member controller; one tick at a time.
public actor Supervisor {
    public private(set) var config: Config
    let cluster: EtcdCluster
    let store: RolloutStore
    let lock: LeaseLock
    let controller: any MemberController
    let journal: LocalJournal
    let events: Events
    let notifier = Notifier()
    let intake: RequestIntake

    private var verifiedSince: ContinuousClock.Instant?
    private var lastHealthy: Bool?
    private var downtime: Double?
    private var preflightCache: (key: String, blocking: [String], at: ContinuousClock.Instant)?
    private var lastStatus = ""
    private var lastWait = ""
    private var metricsWatch = MetricsWatch()
    private var lastScrape: ContinuousClock.Instant?
    /// How often the local member's `/metrics` is read: its counters lose nothing between reads, and a scrape is
    /// ~150 KB that each tick would pay for.
    static let metricsInterval: Duration = .seconds(5)

    public init(config: Config, cluster: EtcdCluster, controller: any MemberController, logger: Logger) {
        self.config = config
        self.cluster = cluster
        store = RolloutStore(prefix: config.cluster.keyPrefix, cluster: cluster)
        lock = LeaseLock(cluster: cluster, name: store.lockName, ttlSeconds: config.timing.lockTTLSeconds,
                         localURL: config.member.clientURL)
        self.controller = controller
        journal = LocalJournal(stateDir: config.stateDir)
        events = Events(logger: logger, member: config.member.name)
        intake = RequestIntake(config: config, store: store, events: events)
    }

    var localURL: String { config.member.clientURL }

    /// Applies a reloaded configuration (timing, request file, paths). Endpoints, TLS and the member identity need a restart.
    public func reload(_ new: Config) -> [String] {
        var ignored: [String] = []
        if new.member != config.member { ignored.append("member") }
        if new.cluster != config.cluster { ignored.append("cluster") }
        if new.controller != config.controller { ignored.append("controller") }
        if new.timing.lockTTLSeconds != config.timing.lockTTLSeconds { ignored.append("timing.lockTTLSeconds") }
        var applied = config
        applied.timing = new.timing; applied.requestFile = new.requestFile; applied.backupDir = new.backupDir
        applied.timing.lockTTLSeconds = config.timing.lockTTLSeconds   // the lock's lease keeps the TTL it started with
        config = applied
        intake.config = applied
        preflightCache = nil
        return ignored
    }

    /// True while a destructive sequence is in progress (the journal exists): shutdown must wait for it.
    public func sequenceInProgress() -> Bool { (try? journal.read()) != nil }

    // MARK: the tick

    /// One observe → decide → act round. Errors are reported and the next tick tries again.
    @discardableResult
    public func tick(shuttingDown: Bool = false) async -> Action {
        do {
            var (obs, view) = try await observe()
            if !shuttingDown, obs.journal == nil, await intake.poll(view: view, rollout: obs.rollout, now: obs.now) {
                (obs, view) = try await observe()
            }
            let action = Decide.next(obs)
            report(action, obs, view)
            if shuttingDown && obs.journal == nil {
                await releaseIfHeld(obs)
                return .idle("shutting down")
            }
            let t0 = ContinuousClock.now
            try await perform(action, obs)
            let took = ContinuousClock.now - t0
            if took > .milliseconds(500) { events.logger.debug("\(action) took \(took)") }
            return action
        } catch {
            let text = "tick failed: \(error)"
            if text != lastWait { events.logger.warning("\(text)"); lastWait = text }
            setStatus("\(config.member.name): error: \(error)")
            return .wait(text)
        }
    }

    func observe() async throws -> (Observation, ClusterView) {
        let t0 = ContinuousClock.now
        defer { if ContinuousClock.now - t0 > .milliseconds(500) { events.logger.debug("observe took \(ContinuousClock.now - t0)") } }
        let scrape = lastScrape.map { ContinuousClock.now - $0 >= Self.metricsInterval } ?? true
        let view = try await ClusterObserver(cluster: cluster, metrics: scrape ? .member(clientURL: localURL) : .none).observe()
        if scrape { lastScrape = .now }
        let snap = try await store.read()
        let entry = try journal.read()
        let now = Date().timeIntervalSince1970
        let members = view.members.map(\.view)
        let local = members.first { $0.name == config.member.name }
        trackLocalHealth(local, view: view, rollout: snap.rollout)
        if let scrape = view.metrics[localURL] { reportMetrics(scrape, view: view, rollout: snap.rollout) }

        var blocking: [String] = []
        if let r = snap.rollout, r.state == .active { blocking = await preflight(r) }
        let processUp: Bool
        if let running = await controller.isRunning() { processUp = running } else { processUp = local?.reachable ?? false }

        let held = await lock.current
        if let why = await lock.takeLossReason() { events.logger.warning("lock lost: \(why)") }
        var obs = Observation(
            localName: config.member.name, members: members, clusterVersion: view.clusterVersion, rollout: snap.rollout,
            records: snap.records, backup: snap.rollout.flatMap { snap.backups[$0.id] }, lock: held, journal: entry,
            preflightBlocking: blocking, localProcessUp: processUp,
            observationAge: (ContinuousClock.now - view.startedAt).seconds, verifiedFor: 0,
            allowSmallCluster: config.cluster.allowSmallCluster, now: now, timing: config.timing)

        // Verification must hold continuously for the settle period: the shell keeps the clock, the core the rule.
        if let entry, entry.step == .started {
            if local?.healthy == true, downtime == nil, let stopped = entry.stoppedAt {
                downtime = now - stopped   // stop issued → first healthy answer
            }
            if Gates.verification(obs, target: entry.target) == nil {
                if verifiedSince == nil { verifiedSince = .now }
            } else { verifiedSince = nil }
        } else { verifiedSince = nil }
        obs.verifiedFor = verifiedSince.map { (ContinuousClock.now - $0).seconds } ?? 0
        return (obs, view)
    }

    /// Gate 6 for this node: the target binary, the data dir and the member's configuration. A clean result is
    /// cached per rollout (spawning `--version` each tick would be wasteful); a blocking one is re-checked every 15 s
    /// so a fixed configuration is noticed, and a reload clears the cache.
    func preflight(_ r: RolloutRecord) async -> [String] {
        let key = "\(r.id)|\(r.to)"
        if let c = preflightCache, c.key == key, c.blocking.isEmpty || ContinuousClock.now - c.at < .seconds(15) { return c.blocking }
        let previous = preflightCache?.key == key ? preflightCache?.blocking : nil
        let findings = await Preflight.all(config, from: r.from, to: r.to, binary: targetBinary(r), sha256: r.sha256)
        let blocking = findings.filter { $0.severity == .blocking }.map { "\($0.what); \($0.fix)" }
        preflightCache = (key, blocking, .now)
        if !blocking.isEmpty && blocking != previous {
            events.emit(.preflightBlocked, .error, "preflight blocks \(config.member.name): \(blocking.joined(separator: " | "))",
                        rollout: r, reason: blocking.joined(separator: " | "))
        }
        return blocking
    }

    func targetBinary(_ r: RolloutRecord) -> String {
        if let b = r.binary, FileManager.default.fileExists(atPath: b) { return b }
        return config.member.binaryPath(r.to)
    }

    func trackLocalHealth(_ local: MemberView?, view: ClusterView, rollout: RolloutRecord?) {
        let healthy = local?.healthy ?? false
        defer { lastHealthy = healthy }
        guard let was = lastHealthy, was != healthy else { return }
        let detail = view.members.first { $0.name == config.member.name }
        if healthy {
            events.emit(.memberRecovered, .notice, "\(config.member.name) is healthy again", rollout: rollout, memberID: detail?.idHex)
        } else if (try? journal.read()) == nil {
            events.emit(.memberUnhealthy, .warning, "\(config.member.name) is unhealthy: \(detail?.problem ?? "?")",
                        rollout: rollout, memberID: detail?.idHex, reason: detail?.problem)
        }
    }

    /// The local member's `/metrics` (every `metricsInterval`): leader changes it saw, its db against the backend quota.
    func reportMetrics(_ m: MemberMetrics, view: ClusterView, rollout: RolloutRecord?) {
        let me = config.member.name
        for event in metricsWatch.update(m) {
            switch event {
            case let .leaderChanged(total, by):
                let leader = view.members.first(where: \.isLeader)?.name ?? "none yet"
                events.emit(.leaderChanged, .notice, "\(me) saw a leader change (\(by) new, \(total) since it started); leader now \(leader)",
                            rollout: rollout, fields: ["etcd_leader_changes_seen": "\(total)", "etcd_leader": "\(leader)"])
            case let .dbNearQuota(size, quota):
                events.emit(.dbNearQuota, .warning,
                            "\(me) db is \(StatusReport.bytes(size)) of its \(StatusReport.bytes(quota)) quota: defragment or compact before NOSPACE stops writes",
                            rollout: rollout, fields: ["etcd_db_size_bytes": "\(size)", "etcd_quota_backend_bytes": "\(quota)"])
            case let .dbBelowQuota(size, quota):
                events.logger.notice("\(me) db is back under \(Int(MetricsWatch.nearQuota * 100))% of its quota (\(StatusReport.bytes(size)) of \(StatusReport.bytes(quota)))")
            }
        }
    }

    // MARK: actions

    func perform(_ action: Action, _ o: Observation) async throws {
        let me = config.member.name
        let r = o.rollout
        switch action {
        case .idle, .wait, .waitForClusterVersion:
            return

        case .acquireLock:
            let wait = Duration.milliseconds(Int64(max(2, o.timing.tickSeconds * 3) * 1000))
            if try await lock.acquire(wait: wait), let h = await lock.current {
                events.emit(.lockAcquired, .info, "\(me) holds the upgrade lock (\(h.key), revision \(h.revision))", rollout: r)
            }

        case let .takeBackup(leaderURL):
            guard let r, let h = o.lock else { return }
            try FileIO.ensureDirectory(config.backupDir)
            let leader = o.members.first { $0.clientURL == leaderURL }
            let path = "\(config.backupDir)/\(r.id)-\(leader.map { String($0.id, radix: 16) } ?? "leader").db"
            let before = try await cluster.endpoint(leaderURL).status()
            if let short = BackupSpace.shortfall(dir: config.backupDir, dbSize: before.dbSize) {
                throw StoreError(detail: "\(short.what) — fix: \(short.fix)")
            }
            let info = try await cluster.endpoint(leaderURL).snapshot(to: path)
            let status = try await cluster.endpoint(leaderURL).status()
            let rec = BackupRecord(leaderID: leader.map { String($0.id, radix: 16) } ?? "", revision: status.header?.revision ?? 0,
                                   size: info.size, sha256: info.sha256, node: me, path: path)
            try await fenced { try await self.store.fencedPut(self.store.backupKey(r.id), RolloutStore.encode(rec), lock: h, avoiding: []) }
            events.emit(.backupTaken, .notice, "snapshot of \(leader?.name ?? leaderURL) saved to \(path) (\(info.size) bytes, sha256 \(info.sha256))",
                        rollout: r, phase: "backup")

        case let .transferLeadership(leaderURL, target):
            try await cluster.endpoint(leaderURL).moveLeader(to: target, timeout: .seconds(10))
            let moved = await waitUntil(seconds: 5) { [cluster] in
                (try? await cluster.endpoint(leaderURL).status(timeout: .seconds(1)))?.leader == target
            }
            guard moved else { throw StoreError(detail: "leadership did not move to \(String(target, radix: 16)) within 5 s") }
            events.emit(.leadershipTransferred, .notice, "\(me) handed leadership to \(String(target, radix: 16)) before its own upgrade", rollout: r)

        case let .stopMember(target, rollingBack, reason):
            try await stop(target: target, rollingBack: rollingBack, reason: reason, o)

        case let .rollBack(reason):
            guard let r else { return }
            events.emit(.rollback, .error, "rolling \(me) back to \(r.from): \(reason)", rollout: r, phase: "rollingBack", reason: reason)
            try await stop(target: r.from, rollingBack: true, reason: reason, o)

        case let .switchBinary(version):
            guard var j = o.journal, let r else { return }
            let path = j.rollingBack ? (j.previousBinary ?? config.member.binaryPath(version)) : targetBinary(r)
            try BinaryLink(path: config.member.binaryLink).point(to: path)
            j.step = .switched
            try journal.write(j)
            events.logger.info("\(me): binary link \(config.member.binaryLink) → \(path)")

        case .startMember:
            guard var j = o.journal, let r, let h = o.lock else { return }
            try await controller.start()
            j.step = .started
            j.startedAt = o.now
            try journal.write(j)
            try await writeRecord(r, o, phase: j.rollingBack ? .rollingBack : .verifying, lock: h, error: j.reason)
            events.emit(.memberStarted, .notice, "\(me) started on \(j.target)", rollout: r, phase: "verifying")

        case .adoptVerification:
            guard let r, let h = o.lock else { return }
            try journal.write(JournalEntry(rolloutID: r.id, step: .started, target: r.to, startedAt: o.now))
            try await writeRecord(r, o, phase: .verifying, lock: h)

        case .markDone:
            guard let r, let h = o.lock, let j = o.journal else { return }
            try await writeRecord(r, o, phase: .done, lock: h, downtime: downtime)
            try journal.clear()
            events.emit(.memberVerified, .notice,
                        "\(me) verified on \(j.target) (down \(String(format: "%.2f", downtime ?? 0)) s)", rollout: r, phase: "done",
                        memberID: o.local.map { String($0.id, radix: 16) })
            downtime = nil
            await lock.release()
            events.emit(.lockReleased, .info, "\(me) released the upgrade lock", rollout: r)

        case let .halt(reason):
            if let r, let h = o.lock {
                let phase: MemberPhase = o.journal?.rollingBack == true ? .rolledBack : .interrupted
                try? await writeRecord(r, o, phase: phase, lock: h, error: reason)
            }
            // An operator's abort (or another daemon's halt) stands; the sequence still ends cleanly below.
            if let r, !r.state.isTerminal {
                _ = try await store.setRolloutState(.halted, reason: reason, allowedFrom: [.active, .paused], avoiding: [localURL])
            }
            try journal.clear()
            events.emit(.rolloutHalted, .critical, "rollout halted: \(reason)", rollout: r, phase: "halted", reason: reason)
            await releaseIfHeld(o)

        case .release:
            await releaseIfHeld(o)

        case .markCompleted:
            let done = try await store.setRolloutState(.completed, reason: nil, allowedFrom: [.active])
            events.emit(.rolloutCompleted, .notice, "rollout \(done.id) completed: cluster on \(done.to), cluster version \(o.clusterVersion ?? "?")",
                        rollout: done, phase: "completed", clusterVersion: o.clusterVersion)

        case .recoverStart:
            events.logger.warning("\(me): starting the member left down by an interrupted sequence")
            try await controller.start()

        case let .clearInterrupted(reason):
            let snap = try await store.read(avoiding: [localURL])
            if let rec = snap.records[me], rec.phase.isDestructive {
                var cleared = rec
                cleared.phase = .interrupted; cleared.error = reason; cleared.updatedAt = o.now
                guard try await store.writeRecordCAS(me, cleared, modRevision: snap.recordModRevisions[me] ?? 0) else {
                    throw StoreError(detail: "record of \(me) changed while clearing it; retrying")
                }
            }
            try journal.clear()
            events.emit(.rollback, .warning, "\(me) left its sequence without the lock and cleared its record: \(reason)",
                        rollout: r, phase: "interrupted", reason: reason)
        }
    }

    /// Journal, fenced record write, then the stop (DESIGN: fence-then-record before every stop).
    func stop(target: EtcdVersion, rollingBack: Bool, reason: String?, _ o: Observation) async throws {
        guard let r = o.rollout, let h = o.lock else { return }
        let me = config.member.name
        var j = o.journal ?? JournalEntry(rolloutID: r.id, step: .stopping, target: target, rollingBack: rollingBack, reason: reason,
                                          previousBinary: BinaryLink(path: config.member.binaryLink).target())
        if o.journal?.rollingBack != rollingBack {   // a rollback starts a new sequence on the same journal
            j.step = .stopping; j.target = target; j.rollingBack = rollingBack; j.reason = reason; j.startedAt = nil
        }
        try journal.write(j)
        try await writeRecord(r, o, phase: rollingBack ? .rollingBack : .stopping, lock: h, error: reason)
        // The window bound: the fenced write took time; re-check the lease margin right before the stop.
        if let now = await lock.current, now.leaseRemaining < config.timing.minLeaseRemainingSeconds / 2 {
            throw StoreError(detail: "lock lease too short (\(now.leaseRemaining) s) to stop safely; re-gating")
        }
        events.emit(.memberStopping, .notice, "stopping \(me) for \(target)\(rollingBack ? " (rollback)" : "")", rollout: r,
                    phase: rollingBack ? "rollingBack" : "stopping", memberID: o.local.map { String($0.id, radix: 16) })
        j.stoppedAt = o.now
        try journal.write(j)
        downtime = nil
        try await controller.stop()
        j.step = .stopped
        try journal.write(j)
    }

    func writeRecord(_ r: RolloutRecord, _ o: Observation, phase: MemberPhase, lock h: LockHold, error: String? = nil,
                     downtime: Double? = nil) async throws {
        let id = o.local.map { String($0.id, radix: 16) } ?? o.localRecord?.memberID ?? ""
        let rec = MemberRecord(rolloutID: r.id, memberID: o.localRecord?.memberID ?? id, phase: phase, from: r.from, to: r.to,
                               leaseID: String(UInt64(bitPattern: h.leaseID), radix: 16), lockRevision: h.revision,
                               updatedAt: Date().timeIntervalSince1970, error: error, downtimeSeconds: downtime)
        try await fenced { try await self.store.writeRecordFenced(self.config.member.name, rec, lock: h, avoiding: [self.localURL]) }
    }

    /// A fenced write whose fence failed means the lock is gone: forget it, so the next tick takes the owner-clears path.
    func fenced(_ body: () async throws -> Void) async throws {
        do { try await body() } catch let e as RolloutStore.FenceLost {
            await lock.markLost(e.detail)
            throw e
        }
    }

    func releaseIfHeld(_ o: Observation) async {
        guard await lock.current != nil else { return }
        await lock.release()
        events.emit(.lockReleased, .info, "\(config.member.name) released the upgrade lock", rollout: o.rollout)
    }

    func waitUntil(seconds: Double, _ cond: @Sendable () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if await cond() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    // MARK: reporting

    func report(_ action: Action, _ o: Observation, _ view: ClusterView) {
        let line = StatusLine.make(action: action, o, view, warning: metricsWatch.quotaWarning)
        setStatus(line)
        if case let .wait(why) = action, why != lastWait {
            events.logger.info("\(config.member.name) waits: \(why)")
            lastWait = why
        }
    }

    func setStatus(_ line: String) {
        guard line != lastStatus else { return }
        lastStatus = line
        notifier.status(line)
    }

    public var statusLine: String { lastStatus }
}
