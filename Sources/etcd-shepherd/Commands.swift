import ArgumentParser
import EtcdClient
import Foundation
import Logging
import Rollout
import ServiceLifecycle
import Shepherd

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the supervisor daemon for the local member.",
        discussion: ExitHelp.text([
            (0, "stopped cleanly (SIGTERM/SIGINT)"),
            (2, "configuration error: the unit does not restart (RestartPreventExitStatus=2)"),
        ]))
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        let logger = makeLogger("etcd-shepherd")
        let controller: any MemberController
        do { controller = try MemberControllers.make(config.controller) } catch {
            throw Failure(code: Exit.usage, message: "\(error)")
        }
        let unwritable = WritablePaths.problems(config)
        guard unwritable.isEmpty else { throw Failure(code: Exit.usage, message: unwritable.joined(separator: "; ")) }
        // One daemon per member: held until the process exits.
        let instance: InstanceLock
        do { instance = try InstanceLock(stateDir: config.stateDir) } catch {
            throw Failure(code: Exit.usage, message: "\(error)")
        }
        defer { withExtendedLifetime(instance) {} }
        let transport: Transport
        do { transport = try config.cluster.makeTransport() } catch {
            throw Failure(code: Exit.usage, message: "\(error)")
        }
        let cluster = EtcdCluster(urls: config.cluster.endpoints, transport: transport, timeout: .seconds(3))
        // Our own member on a transport of its own: every connection to it is closed right before we stop it.
        do { try cluster.isolate(config.member.clientURL) } catch {
            throw Failure(code: Exit.usage, message: "\(error)")
        }
        let metrics = config.metrics == nil ? nil : DaemonMetrics(version: EtcdShepherd.version)
        var server: MetricsServer?
        if let metrics, let listen = config.metrics?.listen {
            // Metrics are for watching: a taken port is reported, and supervision goes on without the listener.
            do { server = try await MetricsServer.start(listen: listen, metrics: metrics) } catch {
                logger.error(
                    "metrics listener on \(listen) not started: \(error); the daemon runs on without it (set metrics.listen to a free address, or null)"
                )
            }
        }
        let watcher = ChangeWatcher(
            cluster: cluster, prefix: config.cluster.keyPrefix, localURL: config.member.clientURL)
        let supervisor = Supervisor.live(
            config: config, cluster: cluster, controller: controller, logger: logger, metrics: metrics,
            streams: watcher)
        let daemon = Daemon(supervisor: supervisor, configPath: options.path, logger: logger, watcher: watcher)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: daemon, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [.sigquit], logger: logger))
        logger.info(
            "etcd-shepherd \(EtcdShepherd.version) supervising \(config.member.name) at \(config.member.clientURL)")
        do { try await group.run() } catch {
            logger.error("daemon stopped: \(error)")
        }
        await watcher.close()
        await server?.stop()
        await cluster.shutdownIsolated()
        try? await transport.shutdown()
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every member, the cluster version and the rollout.",
        discussion: "Flags given (--endpoints, --cacert/--cert/--key, --key-prefix) override the config's values.\n\n"
            + ExitHelp.text([
                (0, "every member healthy"), (1, "a member is not healthy"), (2, "usage or config"),
                (3, "no member answered"),
            ]))
    @Option(help: "Comma-separated client URLs (overrides the config's).") var endpoints: String?
    @Option(help: "CA file for TLS (overrides the config's TLS files).") var cacert: String?
    @Option(help: "Client certificate.") var cert: String?
    @Option(help: "Client key.") var key: String?
    @Option(help: "Key prefix of the rollout records (default: the config's, else /etcd-shepherd).") var keyPrefix:
        String?
    @Flag(help: "Show the status again every 2 s until interrupted.") var watch = false
    @OptionGroup var options: ConfigOption
    @OptionGroup var output: OutputOption

    func run() async throws {
        // The config is read when named, or when no --endpoints says where to go; flags override what it says.
        let loaded: Config? = options.isExplicit || endpoints == nil ? try options.load() : nil
        let urls =
            endpoints.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
            ?? loaded?.cluster.endpoints ?? []
        let tlsFlags = TLSOptions(caFile: cacert, certFile: cert, keyFile: key)
        let prefix = keyPrefix ?? loaded?.cluster.keyPrefix ?? "/etcd-shepherd"
        guard !urls.isEmpty else { throw Failure(code: Exit.usage, message: "--endpoints is empty") }
        if let bad = urls.first(where: { !Config.isEndpointURL($0) }) {
            throw Failure(
                code: Exit.usage, message: "--endpoints: '\(bad)' is not an http(s) URL (like http://127.0.0.1:2379)")
        }
        let makeTransport: () throws -> Transport = {
            guard let loaded else { return try Transport(tls: tlsFlags) }
            return try Transport(
                tls: tlsFlags.isEmpty ? loaded.cluster.tls : tlsFlags, credentials: loaded.cluster.credentials())
        }
        while true {
            let report = try await withCluster(urls: urls, transport: makeTransport) {
                try await StatusReport.gather(cluster: $0, keyPrefix: prefix, policy: loaded?.policy ?? .builtIn)
            }
            if watch && isatty(STDOUT_FILENO) == 1 && !output.isJSON { print("\u{1b}[H\u{1b}[2J", terminator: "") }
            print(output.isJSON ? report.json() : report.table())
            guard watch else {
                if !report.allHealthy { throw ExitCode(Exit.notHealthy) }
                return
            }
            fflush(nil)
            try await Task.sleep(for: .seconds(2))
        }
    }
}

struct VersionTarget: ParsableArguments {
    @Argument(help: "Target etcd version, e.g. 3.5.1.") var version: String
    @Option(help: "Path of the target binary (default: member.binaryPathTemplate).") var binary: String?
    @Option(help: "Expected sha256 of the target binary.") var sha256: String?
    @Option(help: "Roll to this version first, then to VERSION, as one rollout in two hops (e.g. 3.6.4 --via 3.5.26).")
    var via: String?
    @Flag(help: "Accept a known-bad target release.") var allowKnownBad = false
    @Flag(
        help:
            "Accept a step etcd does not support with auth enabled (3.4 ↔ 3.5); the daemons halt the rollout if users, roles or permissions change."
    )
    var allowAuthRisk = false

    func parsed() throws -> EtcdVersion {
        if let why = EtcdVersion.problemAsRequested(version) { throw Failure(code: Exit.invalidRequest, message: why) }
        return EtcdVersion(version)!
    }

    /// The intermediate hop, when --via is given.
    func parsedVia() throws -> EtcdVersion? {
        guard let via else { return nil }
        if let why = EtcdVersion.problemAsRequested(via) {
            throw Failure(code: Exit.invalidRequest, message: "--via: " + why)
        }
        return EtcdVersion(via)!
    }
}

struct Request: AsyncParsableCommand {
    @Flag(help: "Follow the rollout until it ends: exit 0 completed, 1 halted or aborted, 2 refused.") var wait = false
    static let configuration = CommandConfiguration(
        abstract: "Write the upgrade request file the daemons act on (atomically, mode 0600).",
        discussion: "With --wait, follows the rollout until it ends (one line per member and phase).\n\n"
            + "The daemon renames the file <file>.accepted or <file>.rejected and writes the outcome beside it: "
            + "<file>.status, one line for people (\"accepted at <time>: rollout <id> <from> → <to>\"), and "
            + "<file>.status.json for scripts: {\"state\": \"accepted\"|\"rejected\", \"at\": ISO 8601, \"reason\", "
            + "\"rolloutID\" and \"follow\" (the command that follows the rollout; accepted only), \"message\" (the "
            + "line)}.\n\n"
            + ExitHelp.text([
                (0, "written (with --wait: the rollout completed)"),
                (1, "with --wait: the rollout halted or was aborted"),
                (2, "usage or config; with --wait: the daemon refused the request"),
                (3, "with --wait: the cluster could not be reached"),
                (4, "invalid version or target binary: nothing written"),
            ]))
    @OptionGroup var target: VersionTarget
    @OptionGroup var options: ConfigOption
    @OptionGroup var output: OutputOption

    func run() async throws {
        let config = try options.load()
        let version = try target.parsed()
        let via = try target.parsedVia()
        let req = UpgradeRequest(
            version: target.version, binary: target.binary, sha256: target.sha256?.lowercased(),
            allowKnownBad: target.allowKnownBad ? true : nil, allowAuthRisk: target.allowAuthRisk ? true : nil,
            via: target.via)
        do { _ = try UpgradeRequest.parse(JSONEncoder().encode(req)) } catch {
            throw Failure(code: Exit.invalidRequest, message: "\(error)")
        }
        // The daemon on this node would refuse a request whose binary is missing or wrong: say so now, write nothing.
        let binary = target.binary ?? config.member.binaryPath(version)
        if let f = await Preflight.binary(binary, version: version, sha256: target.sha256).first {
            throw Failure(code: Exit.invalidRequest, message: "\(f.what) — fix: \(f.fix); no request was written")
        }
        if let via, let f = await Preflight.binary(config.member.binaryPath(via), version: via, sha256: nil).first {
            throw Failure(
                code: Exit.invalidRequest, message: "first hop: \(f.what) — fix: \(f.fix); no request was written")
        }
        for f in config.policy.advisoryFindings(running: [], target: version) {
            FileHandle.standardError.write(Data("etcd-shepherd: \(f.line)\n".utf8))
        }
        // A status file left by an earlier request must not be read as this one's answer.
        unlink(config.requestFile + ".status")
        unlink(config.requestFile + ".status.json")
        do { try req.write(to: config.requestFile) } catch { throw Failure(code: Exit.usage, message: "\(error)") }
        if output.isJSON && !wait {
            struct Written: Encodable { let requestFile: String, version: String, member: String }
            try output.print(
                Written(requestFile: config.requestFile, version: target.version, member: config.member.name))
        } else if !output.isJSON {
            print(
                "wrote \(config.requestFile): etcd \(target.version); the daemon on \(config.member.name) will validate it (see \(config.requestFile).status)"
            )
        }
        guard wait else { return }
        try await RolloutFollower(config: config, json: output.isJSON).follow()
    }
}

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a rollout would do now; changes nothing.",
        discussion: ExitHelp.text([
            (0, "a rollout would proceed"), (1, "something blocks it"), (2, "usage or config"), (3, "unreachable"),
            (4, "invalid version"),
        ]))
    @OptionGroup var target: VersionTarget
    @OptionGroup var options: ConfigOption
    @OptionGroup var output: OutputOption

    func run() async throws {
        let config = try options.load()
        let v = try target.parsed()
        let plan = try await withCluster(config: config) {
            try await Shepherd.Plan.make(
                config: config, cluster: $0, target: v, via: try target.parsedVia(),
                allowKnownBad: target.allowKnownBad, allowAuthRisk: target.allowAuthRisk,
                binary: target.binary, sha256: target.sha256)
        }
        if output.isJSON { try output.print(plan) } else { print(plan.lines.joined(separator: "\n")) }
        if plan.blocked { throw ExitCode(Exit.notHealthy) }
    }
}

let stateChangeExits: [(Int32, String)] = [
    (0, "done"), (1, "not allowed in the rollout's state"), (2, "usage or config"), (3, "unreachable"),
]

/// pause / resume / abort: a CAS on the rollout record's state.
func changeState(_ options: ConfigOption, to state: RolloutState, from: Set<RolloutState>, reason: String) async throws
{
    let config = try options.load()
    let (r, busy) = try await withCluster(config: config) { cluster -> (RolloutRecord, [String]) in
        let store = RolloutStore(prefix: config.cluster.keyPrefix, cluster: cluster)
        do {
            let r = try await store.setRolloutState(state, reason: reason, allowedFrom: from)
            let snap = try await store.read()
            let busy =
                snap.records.filter { $0.value.phase.isDestructive }.map { "\($0.key) is \($0.value.phase.rawValue)" }
                + snap.undecodableRecords.map { "\($0) is unreadable" }
            return (r, busy.sorted())
        } catch let e as StoreError { throw Failure(code: Exit.notHealthy, message: e.detail) }
    }
    print("rollout \(r.id) (\(r.from) → \(r.to)) is now \(r.state.rawValue)")
    // A sequence in flight is finished by its daemon (member up, record cleared); one whose daemon is gone is not.
    for b in busy {
        print(
            "  \(b): its daemon brings the member back and clears the record; if that daemon is gone for good: etcd-shepherd forget \(b.split(separator: " ")[0]) --yes"
        )
    }
}

struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pause the rollout: no member is stopped until resume (one in flight finishes).",
        discussion: ExitHelp.text(stateChangeExits))
    @OptionGroup var options: ConfigOption
    func run() async throws {
        try await changeState(options, to: .paused, from: [.active], reason: "paused by operator")
    }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resume a paused rollout.", discussion: ExitHelp.text(stateChangeExits))
    @OptionGroup var options: ConfigOption
    func run() async throws {
        try await changeState(options, to: .active, from: [.paused], reason: "resumed by operator")
    }
}

struct Abort: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Abort the rollout; members already upgraded stay upgraded.",
        discussion: ExitHelp.text(stateChangeExits))
    @OptionGroup var options: ConfigOption
    func run() async throws {
        try await changeState(options, to: .aborted, from: [.active, .paused, .halted], reason: "aborted by operator")
    }
}

struct ForgetMember: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Break-glass: clear the destructive record of a member whose daemon is gone for good.",
        discussion: """
            A record in a destructive phase blocks every other member's stop (gate 4) until its own daemon rewrites it. \
            When that daemon is gone for good (the node is lost, its daemon removed), forget rewrites the record to \
            'interrupted' by compare-and-swap. Refused while the member is in the member list and not healthy, or while \
            a lock is held under the record's lease. Only use it once that node's daemon is stopped: a daemon that comes \
            back paused mid-stop could still stop its member.

            """
                + ExitHelp.text([
                    (0, "forgotten"), (1, "refused"), (2, "usage (no --yes) or config"), (3, "unreachable"),
                ]))
    @Argument(help: "The member name whose record to forget.") var member: String
    @Flag(help: "Confirm: this node's daemon is gone and will not come back mid-sequence.") var yes = false
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        guard yes else {
            throw Failure(
                code: Exit.usage,
                message:
                    "forget \(member) needs --yes: confirm that \(member)'s daemon is stopped for good (see --help)")
        }
        let by =
            ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"]
            ?? "operator"
        let outcome = try await withCluster(config: config) {
            try await Forget.run(
                name: member, cluster: $0, keyPrefix: config.cluster.keyPrefix, by: "\(by) on \(config.member.name)")
        }
        switch outcome {
        case let .forgotten(what):
            Events(logger: makeLogger("etcd-shepherd"), member: member)
                .emit(.recordForgotten, .warning, "forgot \(member)'s record: \(what)", reason: "forgotten by \(by)")
            print("forgot \(member): \(what)")
        case let .refused(why):
            throw Failure(code: Exit.notHealthy, message: "not forgetting \(member): \(why)")
        }
    }
}

struct SaveSnapshot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract:
            "Save a verified snapshot from the cluster's leader to PATH, as the daemon does before the first stop.",
        discussion: ExitHelp.text([
            (0, "saved"), (2, "usage, config, or PATH exists"), (3, "unreachable, or the snapshot failed"),
        ]))
    @Argument(help: "Where to write the snapshot (a new file; mode 0600).") var path: String
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        guard !FileManager.default.fileExists(atPath: path) else {
            throw Failure(code: Exit.usage, message: "\(path) exists; give a new path")
        }
        let started = ContinuousClock.now
        let (info, leader) = try await withCluster(config: config) { cluster in
            let view = try await ClusterObserver(cluster: cluster).observe()
            guard let leader = view.members.first(where: \.isLeader) else {
                throw EtcdError.unreachable(
                    endpoint: config.cluster.endpoints.joined(separator: ","), call: "snapshot", detail: "no leader")
            }
            return (
                try await cluster.endpoint(leader.clientURL).snapshot(to: path, idleTimeout: .seconds(10)), leader.name
            )
        }
        let seconds = (ContinuousClock.now - started).seconds
        print(
            String(
                format: "saved %@ from %@: %lld bytes in %.2f s (%.1f MiB/s), sha256 %@", path, leader, info.size,
                seconds,
                Double(info.size) / 1_048_576 / max(seconds, 0.001), info.sha256))
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Preflight this node for a target version: version policy, binary, data dir, the member's flags.",
        discussion: ExitHelp.text([
            (0, "nothing blocks"), (1, "something blocks"), (2, "usage or config"),
            (3, "the cluster could not be reached (the version policy was not checked) and nothing local blocks"),
            (4, "invalid version"),
        ]))
    @OptionGroup var target: VersionTarget
    @OptionGroup var options: ConfigOption
    @OptionGroup var output: OutputOption

    func run() async throws {
        let config = try options.load()
        let to = try target.parsed()
        let via = try target.parsedVia()
        var findings: [Finding] = []
        // The version policy needs the cluster; the local checks do not.
        let view: (running: RunningVersion, cluster: String?, db: Int64)? = try? await withCluster(config: config) {
            let v = try await ClusterObserver(cluster: $0).observe()
            return (RunningVersion.of(v.members.map(\.view)), v.clusterVersion, v.members.map(\.dbSizeBytes).max() ?? 0)
        }
        var from: EtcdVersion? = nil
        if let view {
            from = view.running.version
            if let problem = view.running.problem {
                findings.append(
                    Finding(
                        severity: .blocking, what: problem, fix: "run check once every member answers on one version"))
            }
            if let from {
                // Each hop on its own (with --via, the second from a cluster all on the first hop's version).
                for hop in VersionPolicy.hops(from: from, to: to, via: via, clusterVersion: view.cluster) {
                    switch config.policy.evaluate(
                        from: hop.from, to: hop.to, clusterVersion: hop.clusterVersion,
                        allowKnownBad: target.allowKnownBad,
                        auth: .init(enabled: config.cluster.auth != nil, riskAccepted: target.allowAuthRisk))
                    {
                    case let .allowed(warnings):
                        findings += warnings.map {
                            Finding(
                                severity: .warning, what: $0, fix: "prefer a release without known data-safety bugs")
                        }
                    case let .refused(why):
                        findings.append(
                            Finding(
                                severity: .blocking, what: why,
                                fix: "pick an allowed target (see the version policy in the README)"))
                    }
                }
            }
        } else {
            findings.append(
                Finding(
                    severity: .warning,
                    what:
                        "cluster unreachable at \(config.cluster.endpoints.joined(separator: ", ")): version policy not checked",
                    fix: "run check where the cluster answers"))
        }
        findings += config.policy.advisoryFindings(running: from.map { [$0] } ?? [], target: to)
        findings += await Preflight.forRequest(
            config, from: from, via: via, to: to, binary: target.binary, sha256: target.sha256)
        // Whichever daemon goes first takes the snapshot into its own backupDir: a warning here, a wait there.
        if let db = view?.db, let short = BackupSpace.shortfall(dir: config.backupDir, dbSize: db) {
            findings.append(short)
        }
        let blocking = findings.filter { $0.severity == .blocking }.count
        if output.isJSON {
            struct Report: Encodable {
                let member: String, target: String, from: String?, reachable: Bool, blocking: Int, findings: [Finding]
            }
            try output.print(
                Report(
                    member: config.member.name, target: to.description, from: from?.description, reachable: view != nil,
                    blocking: blocking, findings: findings))
        } else {
            print("check \(config.member.name) for etcd \(to)\(from.map { " (cluster runs \($0))" } ?? ""):")
            for f in findings { print("  " + f.line) }
            print(blocking == 0 ? "nothing blocks (\(findings.count) warning(s))" : "\(blocking) blocking finding(s)")
        }
        if blocking > 0 { throw ExitCode(Exit.notHealthy) }
        // Nothing local blocks, but the cluster's half (the version policy) was not checked: not a pass.
        if view == nil { throw ExitCode(Exit.unreachable) }
    }
}

struct Backups: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the snapshots in backupDir, or print the commands that restore one as a new cluster.",
        discussion:
            "The daemon keeps the newest backupRetention snapshots (default 3). --restore takes a file name or a "
            + "rollout id and prints one etcdutl (3.5+) or etcdctl (3.4) command per member, from the member list saved "
            + "with the snapshot: it works when the cluster is gone.\n\n"
            + ExitHelp.text([
                (0, "listed / printed"), (1, "no such snapshot, or it has no saved member list"),
                (2, "usage or config"),
            ]))
    @Option(help: "A snapshot (file name, path, or rollout id) to print the restore commands for.") var restore: String?
    @OptionGroup var options: ConfigOption
    @OptionGroup var output: OutputOption

    func run() async throws {
        let config = try options.load()
        let entries = BackupCatalog.list(dir: config.backupDir)
        guard let wanted = restore else {
            if output.isJSON {
                try output.print(entries)
                return
            }
            guard !entries.isEmpty else {
                print("no snapshots in \(config.backupDir)")
                return
            }
            let now = Date().timeIntervalSince1970
            print("ROLLOUT               FROM (leader)        REVISION      SIZE        SHA256            AGE   FILE")
            for e in entries {
                let age = Int(now - e.takenAt)
                let ageText =
                    age >= 86_400
                    ? "\(age / 86_400)d" : age >= 3600 ? "\(age / 3600)h" : age >= 60 ? "\(age / 60)m" : "\(age)s"
                print(
                    [
                        pad(e.rolloutID ?? "-", 21), pad(e.leaderID ?? "-", 20),
                        pad(e.revision.map(String.init) ?? "-", 13),
                        pad(String(format: "%.1f MiB", Double(e.size) / 1_048_576), 11),
                        pad(String((e.sha256 ?? "-").prefix(16)), 17),
                        pad(ageText, 5), e.file,
                    ].joined(separator: " "))
            }
            return
        }
        guard
            let e = entries.first(where: {
                $0.file == wanted || ($0.file as NSString).lastPathComponent == wanted || $0.rolloutID == wanted
            })
        else {
            throw Failure(
                code: Exit.notHealthy,
                message: "no snapshot '\(wanted)' in \(config.backupDir) (etcd-shepherd backups lists them)")
        }
        guard !e.members.isEmpty else {
            throw Failure(
                code: Exit.notHealthy,
                message:
                    "\(e.file) has no saved member list (taken by hand or by an older daemon): restore it with etcdutl snapshot restore, one member at a time, as etcd's recovery guide says"
            )
        }
        let commands = BackupCatalog.restoreCommands(e, dataDir: config.member.dataDir)
        if output.isJSON {
            try output.print(["snapshot": [e.file], "commands": commands])
            return
        }
        print(
            "# restore \(e.file) (rollout \(e.rolloutID ?? "?"), revision \(e.revision.map(String.init) ?? "?"), sha256 \(e.sha256 ?? "?"))"
        )
        print(
            "# on each member, with etcd stopped; then start every member with its restored data dir and the same token"
        )
        for c in commands { print(c) }
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
}
