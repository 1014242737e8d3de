import EtcdClient
import Foundation
import Logging
import Rollout
import Systemd

/// The imperative shell around `Decide`: each tick it observes (through its ports), hands the request file to
/// `RequestIntake`, advances its `SupervisorMemory`, asks the core for the next action and executes it
/// (Supervisor+Effects.swift). One tick at a time; every rule lives in `Rollout`.
public actor Supervisor {
    public private(set) var config: Config
    var ports: SupervisorPorts
    let events: Events
    let notifier = Notifier()
    let intake: RequestIntake?
    /// Beats after every tick and while a long effect (a snapshot) makes progress; the watchdog pings only on beats.
    public nonisolated let heartbeat = Heartbeat()

    var memory = SupervisorMemory()
    private var preflightMemory = PreflightMemory()
    private var lastStatus = ""
    var lastWait = ""
    /// The last tick waited for a maintenance window (its event is sent once per wait).
    private var waitingForWindow = false
    /// The lock key the leader's daemon sees held, since when (monotonic), and whether it said it is stuck.
    private var lockSeen: (key: String, since: Double, reported: Bool)?
    /// The halted rollout whose healthy cluster this daemon has told of.
    private var healthyAfterHalt: RolloutID?
    /// The maintenance windows' occurrences of the coming weeks.
    var windows = MaintenanceSchedule.Cache()
    /// The metrics textfile, written when its text changed.
    private var textfile: MetricsTextfile?
    private var reportedUnreadable: [String] = []
    private var metricsWatch = MetricsWatch()
    private var lastScrape: Double?
    /// Our member is verified in an active rollout: its process is watched every tick.
    private var watchingLocal = false
    /// Every member is verified: every member's process is read before the rollout completes.
    var completing = false
    /// Our member was started by a sequence and has not answered since.
    private var startPending = false
    /// The last tick saw nothing to act on: no rollout or a finished one, no sequence, no lock of ours, no member of
    /// ours watched.
    private var resting = false
    /// The peers the last tick saw verified in the current rollout: whose processes the stop's gate reads.
    private var verifiedPeers: Set<MemberName> = []
    /// How often the local member's `/metrics` is read: its counters lose nothing between reads, and a scrape is
    /// ~150 KB that each tick would pay for.
    static let metricsInterval = 5.0

    /// The daemon's own metrics (nil in the simulator).
    let metrics: DaemonMetrics?

    public init(
        config: Config, ports: SupervisorPorts, logger: Logger, intake: RequestIntake? = nil,
        metrics: DaemonMetrics? = nil, notifications: NotificationSender? = nil, history: HistoryRecorder? = nil
    ) {
        self.config = config
        self.ports = ports
        events = Events(
            logger: logger, member: config.member.name, metrics: metrics, notifications: notifications,
            history: history)
        self.intake = intake
        self.metrics = metrics
        if let metrics, let newest = BackupCatalog.list(dir: config.backupDir).first {
            metrics.backupTaken(size: newest.size, at: newest.takenAt)
        }
    }

    /// The production wiring: etcd through `cluster` (its endpoints grow with the member list), the lease lock, the
    /// local journal and binary link, and the request file.
    public static func live(
        config: Config, cluster: EtcdCluster, controller: any MemberController, logger: Logger,
        metrics: DaemonMetrics? = nil, streams: any LocalStreams = NoStreams(),
        notifications: NotificationSender? = nil
    ) -> Supervisor {
        let store = RolloutStore(prefix: config.cluster.keyPrefix, cluster: cluster)
        let clock = SystemClock()
        let ports = SupervisorPorts(
            cluster: LiveCluster(cluster: cluster, stateDir: config.stateDir, clock: clock), store: store,
            lock: LeaseLock(
                cluster: cluster, name: store.lockName, ttlSeconds: config.timing.lockTTLSeconds,
                localURL: config.member.clientURL, clock: clock, changes: streams.lockChanges),
            controller: controller, link: BinaryLink(path: config.member.binaryLink),
            journal: LocalJournal(stateDir: config.stateDir, clock: clock),
            maintenance: EtcdMaintenance(
                cluster: cluster, backupDir: config.backupDir, retention: config.backupRetention, clock: clock),
            preflight: LivePreflight(), clock: clock, streams: streams, requests: RequestFile(path: config.requestFile))
        let history = HistoryRecorder(
            cluster: cluster, keyPrefix: config.cluster.keyPrefix, member: config.member.name, logger: logger)
        let events = Events(
            logger: logger, member: config.member.name, metrics: metrics, notifications: notifications,
            history: history)
        return Supervisor(
            config: config, ports: ports, logger: logger, intake: RequestIntake(store: store, events: events),
            metrics: metrics, notifications: notifications, history: history)
    }

    var localURL: String { config.member.clientURL }

    /// Applies a reloaded configuration (timing, request file, paths). Endpoints, TLS and the member identity need a
    /// restart; so does anything the lease already in use cannot honour.
    public func reload(_ new: Config) -> [String] {
        var ignored: [String] = []
        if new.member != config.member { ignored.append("member") }
        if new.cluster != config.cluster { ignored.append("cluster") }
        if new.controller != config.controller { ignored.append("controller") }
        if new.timing.lockTTLSeconds != config.timing.lockTTLSeconds { ignored.append("timing.lockTTLSeconds") }
        // Their listener and their queue are set up at start.
        if new.fleetLock != config.fleetLock { ignored.append("fleetLock") }
        if new.notify != config.notify { ignored.append("notify") }
        var applied = config
        if new.requestFile != config.requestFile, ports.requests is RequestFile {
            ports.requests = RequestFile(path: new.requestFile)
        }
        applied.timing = new.timing
        applied.requestFile = new.requestFile
        applied.backupDir = new.backupDir
        applied.policyDir = new.policyDir
        applied.policy = new.policy
        applied.maintenance = new.maintenance
        applied.timing.lockTTLSeconds = config.timing.lockTTLSeconds  // the lock's lease keeps the TTL it started with
        // The stop needs this much lease left; more than the TTL in use could never be met.
        if applied.timing.minLeaseRemainingSeconds >= Double(applied.timing.lockTTLSeconds) {
            applied.timing.minLeaseRemainingSeconds = config.timing.minLeaseRemainingSeconds
            ignored.append(
                "timing.minLeaseRemainingSeconds (must stay below the lock TTL \(applied.timing.lockTTLSeconds) s)")
        }
        config = applied
        preflightMemory.forget()
        return ignored
    }

    /// True while a destructive sequence is in progress (the journal exists): shutdown must wait for it.
    public func sequenceInProgress() -> Bool { (try? ports.journal.read()) != nil }

    /// How closely the loop should poll after a tick that changed nothing.
    public enum PollCloseness: Sendable {
        /// Our member was started and has not answered yet (etcd answers ~0.1 s after its start on loopback): each
        /// 50 ms of the poll is downtime the member pays.
        case startPending
        /// A sequence of ours is in flight (verification, settle), or every member is verified and the rollout is
        /// about to complete.
        case inSequence
        /// A rollout is under way elsewhere, or this daemon waits on something: the tick.
        case idle
        /// Nothing to act on (no rollout or a finished one, nothing of ours in flight): the idle tick. The change
        /// watch and a new request file wake the loop before it.
        case resting
    }

    /// What the last tick saw, for the loop's pause.
    public var pollCloseness: PollCloseness {
        if startPending { return .startPending }
        if completing || sequenceInProgress() { return .inSequence }
        return resting ? .resting : .idle
    }

    /// While our member was started and has not answered: waits until it answers `/health` (up to `limit`), asking
    /// it alone every 25 ms — a tick's observation asks every member, and each 50 ms of polling is downtime.
    public func waitForLocalAnswer(upTo limit: Double) async {
        let until = ports.clock.now() + limit
        while ports.clock.now() < until, !Task.isCancelled {
            if await ports.cluster.answers(localURL) { return }
            try? await ports.clock.sleep(seconds: 0.025)
        }
    }

    // MARK: the tick

    /// One observe → decide → act round. Errors are reported and the next tick tries again.
    @discardableResult
    public func tick(shuttingDown: Bool = false) async -> Action {
        do {
            var obs: Observation, view: ClusterView
            do { (obs, view) = try await observe() } catch {
                // Nothing observable (quorum lost, our own member down and no peer answering): our own member can
                // still be brought back, which needs no read of etcd.
                if let a = try await offlineAction() {
                    events.logger.warning("cannot observe the cluster (\(error)); \(a) without it")
                    try await performOffline(a)
                    return a
                }
                throw error
            }
            // No sequence of ours in flight: the change watch on our own member may be open (closed before our stop).
            if obs.journal == nil { ports.streams.reopen() }
            if !shuttingDown, obs.journal == nil, let intake, let inbox = ports.requests,
                await intake.poll(
                    config: config, inbox: inbox, ports: ports, view: view, rollout: obs.rollout,
                    now: ports.clock.wallNow())
            {
                (obs, view) = try await observe()
            }
            var action = Decide.next(obs)
            startPending = obs.journal?.step == .started && obs.local?.healthy != true
            // (A verified member of ours in a halted rollout whose binary rollback is still possible is watched: not
            // resting.)
            resting =
                obs.journal == nil && obs.lock == nil && !watchingLocal && (obs.rollout?.state.isTerminal ?? true)
            report(action, obs, view)
            if shuttingDown && obs.journal == nil {
                await releaseIfHeld(obs)
                return .idle("shutting down")
            }
            try await perform(action, obs)
            while let next = try await step(after: action, &obs) {
                try await perform(next, obs)
                action = next
            }
            if case .startMember = action { startPending = true }
            return action
        } catch {
            resting = false
            metrics?.tickFailed()
            let reason = WaitReason.tickFailed(error: "\(error)")
            if reason.description != lastWait {
                events.logger.warning("\(reason)")
                lastWait = reason.description
            }
            setStatus("\(config.member.name): error: \(error)")
            return .wait(reason)
        }
    }

    /// The next step of our own sequence when it needs no new look at the cluster, decided by the core on this
    /// tick's observation with the journal as the last step left it and the time now: the binary switched and the
    /// member started right after its stop landed (only while the lock is still ours: a lock lost during the stop
    /// leaves the next tick to recover the member on what it ran), and the verification right after the process
    /// start time was noted (the observation that noted it is the one that verifies). Each would otherwise wait for a
    /// tick's full observation of every member.
    func step(after done: Action, _ obs: inout Observation) async throws -> Action? {
        switch done {
        case .stopMember: guard await ports.lock.current() != nil else { return nil }
        case .switchBinary, .noteProcess: break
        default: return nil
        }
        obs.journal = try ports.journal.read()
        obs.now = ports.clock.now()
        let next = Decide.next(obs)
        switch (done, next) {
        case (.stopMember, .switchBinary), (.switchBinary, .startMember), (.noteProcess, .markDone): return next
        default: return nil
        }
    }

    func offlineAction() async throws -> Action? {
        let journal = try ports.journal.read()
        guard journal != nil else { return nil }
        return Decide.offline(
            journal: journal, lockHeld: await ports.lock.current() != nil, process: await ports.controller.process(),
            binaryPathTemplate: config.member.binaryPathTemplate, now: ports.clock.now(), timing: config.timing)
    }

    func observe() async throws -> (Observation, ClusterView) {
        let now = ports.clock.now()
        let entry = try ports.journal.read()
        // The local member's process start time every tick while it is verified or watched after its verification;
        // its other series every `metricsInterval` (a scrape is ~150 KB).
        let scrape = entry != nil || watchingLocal || lastScrape.map { now - $0 >= Self.metricsInterval } ?? true
        // Every member's process when the rollout may complete; at the stop's gate (the record written, no stop
        // issued) those of the peers verified in this rollout: none may have restarted unseen (~150 KB a member: not
        // on every gated tick). The peers are those the last tick saw verified: one verified since is missing from the
        // scrape, and the gate waits for its process (`Gates.restartedSinceVerified`) until the next tick reads it.
        let gating = entry.map { $0.step == .stopping && $0.stoppedAt == nil } ?? false
        let scope: ClusterObserver.MetricsScope =
            completing
            ? .all
            : gating
                ? .members(clientURL: localURL, names: verifiedPeers)
                : scrape ? .member(clientURL: localURL) : .none
        let view = try await ports.cluster.observe(metrics: scope)
        if scrape { lastScrape = now }
        let snap = try await ports.store.read(avoiding: [])
        verifiedPeers = Set(
            snap.records.compactMap { name, rec in
                name != config.member.name && snap.rollout.map(rec.isDone) == true ? name : nil
            })
        let members = view.members.map(\.view)
        // Every member verified: the rollout may complete on this tick, which needs every member's process — read now,
        // not a tick later.
        if !completing, scope != .all, let r = snap.rollout, r.state == .active,
            members.allSatisfy({ $0.version == r.to && snap.records[$0.name]?.isDone(in: r) == true })
        {
            completing = true
            return try await observe()
        }
        await releasePeersAboutToStop(snap, view)
        if let scrape = view.metrics[localURL] { reportMetrics(scrape, view: view, rollout: snap.rollout) }
        reportUnreadable(snap)

        var blocking: [String] = []
        if let r = snap.rollout, r.state == .active { blocking = await preflight(r) }
        let process = await ports.controller.process()
        let pending: Bool? =
            entry?.stoppedAt == nil ? nil : await ports.controller.stopPending(ticket: entry?.stopTicket)

        let held = await ports.lock.current()
        if let why = await ports.lock.takeLossReason() { events.logger.warning("lock lost: \(why)") }
        var obs = Observation(
            localName: config.member.name, members: members, clusterVersion: view.clusterVersion, rollout: snap.rollout,
            records: snap.records, backup: snap.rollout.flatMap { snap.backups[$0.backupKey] }, lock: held,
            journal: entry,
            preflightBlocking: blocking, localProcess: process, observedAt: view.startedAt,
            allowSmallCluster: config.cluster.allowSmallCluster, undecodableRecords: snap.undecodableRecords,
            now: ports.clock.now(),
            timing: config.timing)
        obs.recordRevisions = snap.recordModRevisions
        obs.localStartTime = view.metrics[localURL]?.processStartTime
        obs.startTimes = Dictionary(
            uniqueKeysWithValues: view.members.compactMap { m in
                view.metrics[m.clientURL]?.processStartTime.map { (m.name, $0) }
            })
        obs.stopPending = pending
        obs.linkTarget = ports.link.target()
        obs.binaryPathTemplate = config.member.binaryPathTemplate
        obs.policy = config.policy
        obs.reboots = snap.reboots
        obs.rebootRevisions = snap.rebootModRevisions
        obs.undecodableRecords += snap.undecodableReboots.map { "reboots/\($0)" }
        if let schedule = config.maintenance { obs.maintenance = windows.view(schedule, at: ports.clock.wallNow()) }
        obs.auth = await observeAuth(snap.rollout)
        // A member of ours verified in this rollout is watched every tick (its process start time) while a crash
        // would still be acted on: the rollout active, or stopped short of completion with the binary rollback still
        // possible. Watched only every `metricsInterval`, a halted rollout's restarted member was seen on one tick
        // and not on the next: its daemon took the lock and let it go every 5 s, never rolling it back.
        watchingLocal =
            snap.rollout.map { r in
                guard r.state != .completed, obs.localRecord?.isDone(in: r) == true else {
                    return false
                }
                return r.state == .active
                    || Decide.binaryRollbackAllowed(from: r.from, to: r.to, clusterVersion: view.clusterVersion) == true
            } ?? false
        completing =
            snap.rollout.map { r in
                r.state == .active && members.allSatisfy(obs.isVerifiedOnTarget)
            } ?? false
        for e in memory.advance(&obs) { reportHealth(e, view: view, rollout: snap.rollout) }
        watchCluster(obs, lockKeys: snap.lockKeys)
        return (obs, view)
    }

    /// Every tick while a peer's record in the current rollout says it is about to be stopped (`stopping`,
    /// `rollingBack`), every connection of ours to it goes after the observation, and the calls that may go to any
    /// member go elsewhere (see `LocalStreams.closeConnections`): one the pool left unwritten would hold its etcd's
    /// exit until the pool's idle timeout. Connections to a member that is stopping serve nothing for long: the next
    /// tick makes new ones.
    func releasePeersAboutToStop(_ snap: RolloutStore.Snapshot, _ view: ClusterView) async {
        var stopping: Set<String> = []
        if let current = snap.rollout?.id {
            for (name, rec) in snap.records
            where name != config.member.name && rec.rolloutID == current
                && (rec.phase == .stopping || rec.phase == .rollingBack)
            {
                guard let url = view.members.first(where: { $0.name == name })?.clientURL else { continue }
                stopping.insert(url)
                await ports.streams.closeConnections(to: url)
            }
        }
        // Nor do calls that may go to any member (the lock queue's polls, the store's reads) go to them meanwhile.
        ports.streams.drain(stopping)
    }

    /// Cluster-wide events, told by the leader's daemon alone: the lock held too long by one daemon, every member
    /// healthy again after a halt (once per halted rollout; a new leader's daemon may tell it once more).
    func watchCluster(_ o: Observation, lockKeys: [String]) {
        guard o.local?.isLeader == true else { return }
        let now = ports.clock.now()
        if let key = lockKeys.first {
            if lockSeen?.key != key { lockSeen = (key, now, false) }
            let limit = config.notify?.lockStuckSeconds ?? 900
            if let seen = lockSeen, !seen.reported, now - seen.since >= limit {
                lockSeen?.reported = true
                let holder = o.records.first { key.hasSuffix("/" + ($0.value.leaseID ?? "-")) }?.key
                events.emit(
                    .lockStuck, .warning,
                    "the upgrade lock has been held by \(holder?.rawValue ?? key) for \(Int(now - seen.since)) s: read that node's journal (journalctl -u etcd-shepherd) and systemctl status etcd-shepherd",
                    rollout: o.rollout, reason: holder?.rawValue ?? key)
            }
        } else {
            lockSeen = nil
        }
        if let r = o.rollout, r.state == .halted, healthyAfterHalt != r.id, !o.members.isEmpty,
            o.members.allSatisfy({ Gates.problem($0, o) == nil })
        {
            healthyAfterHalt = r.id
            events.emit(
                .clusterHealthy, .notice,
                "every member is healthy after rollout \(r.id) halted (\(r.reason ?? "?")); decide what next: etcd-shepherd status",
                rollout: r, reason: r.reason)
        }
    }

    /// Auth as the core needs it: nil without auth; the users/roles digest only while a rollout that accepted an
    /// auth-sensitive step is active (nil when it cannot be read: gate 5 then blocks every stop).
    func observeAuth(_ r: RolloutRecord?) async -> AuthView? {
        guard config.cluster.auth != nil else { return nil }
        guard let r, r.watchesAuth, r.state == .active else { return AuthView(fingerprint: nil) }
        do { return AuthView(fingerprint: try await ports.cluster.authFingerprint()) } catch {
            events.logger.warning(
                "cannot read etcd users and roles (\(error)); no member is stopped until they can be read")
            return AuthView(fingerprint: nil)
        }
    }

    /// Gate 6 for this node, run when `PreflightMemory` says so.
    func preflight(_ r: RolloutRecord) async -> [String] {
        let now = ports.clock.now()
        if let cached = preflightMemory.cached(for: r, now: now) { return cached }
        let findings = await ports.preflight.check(config, rollout: r)
        let blocking = findings.filter { $0.severity == .blocking }.map(\.text)
        if preflightMemory.record(blocking, for: r, now: now) {
            events.emit(
                .preflightBlocked, .error,
                "preflight blocks \(config.member.name): \(blocking.joined(separator: " | "))",
                rollout: r, reason: blocking.joined(separator: " | "))
        }
        return blocking
    }

    // MARK: reporting

    func reportHealth(_ e: SupervisorMemory.Event, view: ClusterView, rollout: RolloutRecord?) {
        let detail = view.members.first { $0.name == config.member.name }
        switch e {
        case .localRecovered:
            events.emit(
                .memberRecovered, .notice, "\(config.member.name) is healthy again", rollout: rollout,
                memberID: detail?.id.description)
        case .localUnhealthy:
            events.emit(
                .memberUnhealthy, .warning, "\(config.member.name) is unhealthy: \(detail?.problem ?? "?")",
                rollout: rollout, memberID: detail?.id.description, reason: detail?.problem)
        case .localRestarted:
            events.emit(
                .memberUnhealthy, .error,
                "\(config.member.name) restarted while it was being verified (its process start time changed)",
                rollout: rollout, memberID: detail?.id.description, reason: "restarted during verification")
        }
    }

    func reportUnreadable(_ snap: RolloutStore.Snapshot) {
        guard snap.undecodable != reportedUnreadable else { return }
        reportedUnreadable = snap.undecodable
        for key in snap.undecodable {
            if key.hasSuffix("/rollout"), let why = snap.rolloutProblem {
                events.emit(
                    .recordUnreadable, .error,
                    "\(key) is set aside: \(why); nothing runs until a new request replaces it",
                    reason: why)
                continue
            }
            events.emit(
                .recordUnreadable, .error,
                "\(key) cannot be read by this daemon (a newer daemon's record or a corrupted value); it blocks every stop until fixed: upgrade this daemon, or once that member's daemon is gone and the member is up, remove the key (etcdctl del \(key))",
                reason: key)
        }
    }

    /// The local member's `/metrics` (every `metricsInterval`): leader changes it saw, its db against the backend
    /// quota.
    func reportMetrics(_ m: MemberMetrics, view: ClusterView, rollout: RolloutRecord?) {
        let me = config.member.name
        for event in metricsWatch.update(MetricsSample(m)) {
            switch event {
            case let .leaderChanged(total, by):
                metrics?.leaderChangesSeen(Double(total))
                let leader = view.members.first(where: \.isLeader)?.name ?? "none yet"
                events.emit(
                    .leaderChanged, .notice,
                    "\(me) saw a leader change (\(by) new, \(total) since it started); leader now \(leader)",
                    rollout: rollout, fields: ["etcd_leader_changes_seen": "\(total)", "etcd_leader": "\(leader)"])
            case let .dbNearQuota(size, quota):
                events.emit(
                    .dbNearQuota, .warning,
                    "\(me) db is \(StatusReport.bytes(size)) of its \(StatusReport.bytes(quota)) quota: defragment or compact before NOSPACE stops writes",
                    rollout: rollout, fields: ["etcd_db_size_bytes": "\(size)", "etcd_quota_backend_bytes": "\(quota)"])
            case let .dbBelowQuota(size, quota):
                events.logger.notice(
                    "\(me) db is back under \(Int(MetricsWatch.nearQuota * 100))% of its quota (\(StatusReport.bytes(size)) of \(StatusReport.bytes(quota)))"
                )
            }
        }
    }

    func report(_ action: Action, _ o: Observation, _ view: ClusterView) {
        let line = StatusLine.make(action: action, o, view, warning: metricsWatch.quotaWarning)
        setStatus(line)
        if let metrics {
            metrics.observe(o, now: ports.clock.wallNow())
            if let file = config.metrics?.textfile {
                if textfile?.path != file { textfile = MetricsTextfile(path: file) }
                textfile?.update(metrics.exposition()) { events.logger.warning("\($0)") }
            }
        }
        // A wait for a maintenance window is one event when it begins (its text counts down: not logged each tick).
        var windowWait: String? = nil
        if case let .wait(.maintenanceWindow(closed)) = action { windowWait = closed }
        if (windowWait != nil) != waitingForWindow, let r = o.rollout {
            waitingForWindow = windowWait != nil
            if let why = windowWait {
                events.emit(
                    .windowWait, .notice, "\(config.member.name) \(why)", rollout: r, reason: why,
                    fields: ["shepherd_next_window": "\(o.maintenance?.next.label ?? "?")"])
            }
            lastWait = windowWait ?? ""
        }
        if case let .wait(why) = action, why.description != lastWait, windowWait == nil {
            events.logger.info("\(config.member.name) waits: \(why)")
            lastWait = why.description
        }
    }

    func setStatus(_ line: String) {
        guard line != lastStatus else { return }
        lastStatus = line
        notifier.status(line)
    }

    public var statusLine: String { lastStatus }
}
