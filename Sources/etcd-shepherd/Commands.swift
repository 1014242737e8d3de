import ArgumentParser
import EtcdClient
import Foundation
import Logging
import Rollout
import ServiceLifecycle
import Shepherd

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the supervisor daemon for the local member.")
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
        let transport: Transport
        do { transport = try config.cluster.makeTransport() } catch { throw Failure(code: Exit.usage, message: "\(error)") }
        let cluster = EtcdCluster(urls: config.cluster.endpoints, transport: transport, timeout: .seconds(3))
        let supervisor = Supervisor.live(config: config, cluster: cluster, controller: controller, logger: logger)
        let watcher = ChangeWatcher()
        watcher.start(cluster: cluster, prefix: config.cluster.keyPrefix, avoiding: config.member.clientURL)
        let daemon = Daemon(supervisor: supervisor, configPath: options.config, logger: logger, watcher: watcher)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: daemon, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [.sigquit], logger: logger))
        logger.info("etcd-shepherd \(EtcdShepherd.version) supervising \(config.member.name) at \(config.member.clientURL)")
        do { try await group.run() } catch {
            logger.error("daemon stopped: \(error)")
        }
        watcher.stop()
        try? await transport.shutdown()
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every member, the cluster version and the rollout. Exit 0 all healthy, 1 otherwise, 2 usage/config, 3 unreachable.")
    @Option(help: "Comma-separated client URLs.") var endpoints: String?
    @Option(help: "CA file for TLS.") var cacert: String?
    @Option(help: "Client certificate.") var cert: String?
    @Option(help: "Client key.") var key: String?
    @Option(help: "The daemon's config file (instead of --endpoints).") var config: String?
    @Option(help: "Key prefix of the rollout records.") var keyPrefix = "/etcd-shepherd"
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        var urls: [String], tls = TLSOptions(caFile: cacert, certFile: cert, keyFile: key), prefix = keyPrefix
        var loaded: Config?
        if let config {
            let c = try ConfigOption.parse(["--config", config]).load()
            urls = c.cluster.endpoints; tls = c.cluster.tls; prefix = c.cluster.keyPrefix; loaded = c
        } else if let endpoints {
            urls = endpoints.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        } else {
            throw Failure(code: Exit.usage, message: "give --endpoints URL[,URL…] or --config FILE")
        }
        guard !urls.isEmpty else { throw Failure(code: Exit.usage, message: "--endpoints is empty") }
        if let bad = urls.first(where: { !Config.isEndpointURL($0) }) {
            throw Failure(code: Exit.usage, message: "--endpoints: '\(bad)' is not an http(s) URL (like http://127.0.0.1:2379)")
        }
        let report = try await withCluster(urls: urls, transport: { try loaded?.cluster.makeTransport() ?? Transport(tls: tls) }) {
            try await StatusReport.gather(cluster: $0, keyPrefix: prefix)
        }
        print(json ? report.json() : report.table())
        if !report.allHealthy { throw ExitCode(Exit.notHealthy) }
    }
}

struct VersionTarget: ParsableArguments {
    @Argument(help: "Target etcd version, e.g. 3.5.1.") var version: String
    @Option(help: "Path of the target binary (default: member.binaryPathTemplate).") var binary: String?
    @Option(help: "Expected sha256 of the target binary.") var sha256: String?
    @Flag(help: "Accept a known-bad target release.") var allowKnownBad = false
    @Flag(help: "Accept a step etcd does not support with auth enabled (3.4 ↔ 3.5); the daemons halt the rollout if users, roles or permissions change.")
    var allowAuthRisk = false

    func parsed() throws -> EtcdVersion {
        if let why = EtcdVersion.problemAsRequested(version) { throw Failure(code: Exit.invalidRequest, message: why) }
        return EtcdVersion(version)!
    }
}

struct Request: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write the upgrade request file the daemons act on (atomically, mode 0600).")
    @OptionGroup var target: VersionTarget
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        let version = try target.parsed()
        let req = UpgradeRequest(version: target.version, binary: target.binary, sha256: target.sha256?.lowercased(),
                                 allowKnownBad: target.allowKnownBad ? true : nil, allowAuthRisk: target.allowAuthRisk ? true : nil)
        do { _ = try UpgradeRequest.parse(JSONEncoder().encode(req)) } catch {
            throw Failure(code: Exit.invalidRequest, message: "\(error)")
        }
        // The daemon on this node would refuse a request whose binary is missing or wrong: say so now, write nothing.
        let binary = target.binary ?? config.member.binaryPath(version)
        if let f = await Preflight.binary(binary, version: version, sha256: target.sha256).first {
            throw Failure(code: Exit.invalidRequest, message: "\(f.what) — fix: \(f.fix); no request was written")
        }
        do { try req.write(to: config.requestFile) } catch { throw Failure(code: Exit.usage, message: "\(error)") }
        print("wrote \(config.requestFile): etcd \(target.version); the daemon on \(config.member.name) will validate it (see \(config.requestFile).status)")
    }
}

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show what a rollout would do now; changes nothing. Exit 0 would proceed, 1 blocked.")
    @OptionGroup var target: VersionTarget
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        let v = try target.parsed()
        let plan = try await withCluster(config: config) {
            try await Shepherd.Plan.make(config: config, cluster: $0, target: v, allowKnownBad: target.allowKnownBad, allowAuthRisk: target.allowAuthRisk,
                                         binary: target.binary, sha256: target.sha256)
        }
        print(plan.lines.joined(separator: "\n"))
        if plan.blocked { throw ExitCode(Exit.notHealthy) }
    }
}

/// pause / resume / abort: a CAS on the rollout record's state.
func changeState(_ options: ConfigOption, to state: RolloutState, from: Set<RolloutState>, reason: String) async throws {
    let config = try options.load()
    let (r, busy) = try await withCluster(config: config) { cluster -> (RolloutRecord, [String]) in
        let store = RolloutStore(prefix: config.cluster.keyPrefix, cluster: cluster)
        do {
            let r = try await store.setRolloutState(state, reason: reason, allowedFrom: from)
            let snap = try await store.read()
            let busy = snap.records.filter { $0.value.phase.isDestructive }.map { "\($0.key) is \($0.value.phase.rawValue)" }
                + snap.undecodableRecords.map { "\($0) is unreadable" }
            return (r, busy.sorted())
        } catch let e as StoreError { throw Failure(code: Exit.notHealthy, message: e.detail) }
    }
    print("rollout \(r.id) (\(r.from) → \(r.to)) is now \(r.state.rawValue)")
    // A sequence in flight is finished by its daemon (member up, record cleared); one whose daemon is gone is not.
    for b in busy {
        print("  \(b): its daemon brings the member back and clears the record; if that daemon is gone for good: etcd-shepherd forget \(b.split(separator: " ")[0]) --yes")
    }
}

struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Pause the rollout: no member is stopped until resume (one in flight finishes).")
    @OptionGroup var options: ConfigOption
    func run() async throws { try await changeState(options, to: .paused, from: [.active], reason: "paused by operator") }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Resume a paused rollout.")
    @OptionGroup var options: ConfigOption
    func run() async throws { try await changeState(options, to: .active, from: [.paused], reason: "resumed by operator") }
}

struct Abort: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Abort the rollout; members already upgraded stay upgraded.")
    @OptionGroup var options: ConfigOption
    func run() async throws { try await changeState(options, to: .aborted, from: [.active, .paused, .halted], reason: "aborted by operator") }
}

struct ForgetMember: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Break-glass: clear the destructive record of a member whose daemon is gone for good. Exit 0 forgotten, 1 refused, 2 usage, 3 unreachable.",
        discussion: """
        A record in a destructive phase blocks every other member's stop (gate 4) until its own daemon rewrites it. \
        When that daemon is gone for good (the node is lost, its daemon removed), forget rewrites the record to \
        'interrupted' by compare-and-swap. Refused while the member is in the member list and not healthy, or while \
        a lock is held under the record's lease. Only use it once that node's daemon is stopped: a daemon that comes \
        back paused mid-stop could still stop its member.
        """)
    @Argument(help: "The member name whose record to forget.") var member: String
    @Flag(help: "Confirm: this node's daemon is gone and will not come back mid-sequence.") var yes = false
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        guard yes else {
            throw Failure(code: Exit.usage, message: "forget \(member) needs --yes: confirm that \(member)'s daemon is stopped for good (see --help)")
        }
        let by = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "operator"
        let outcome = try await withCluster(config: config) {
            try await Forget.run(name: member, cluster: $0, keyPrefix: config.cluster.keyPrefix, by: "\(by) on \(config.member.name)")
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
        abstract: "Save a verified snapshot from the cluster's leader to PATH, as the daemon does before the first stop. Exit 0 saved, 2 usage, 3 unreachable or failed.")
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
                throw EtcdError.unreachable(endpoint: config.cluster.endpoints.joined(separator: ","), call: "snapshot", detail: "no leader")
            }
            return (try await cluster.endpoint(leader.clientURL).snapshot(to: path, idleTimeout: .seconds(10)), leader.name)
        }
        let seconds = (ContinuousClock.now - started).seconds
        print(String(format: "saved %@ from %@: %lld bytes in %.2f s (%.1f MiB/s), sha256 %@", path, leader, info.size, seconds,
                     Double(info.size) / 1_048_576 / max(seconds, 0.001), info.sha256))
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Preflight this node for a target version: version policy, binary, data dir, the member's flags. Exit 0 nothing blocks, 1 something does.")
    @OptionGroup var target: VersionTarget
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        let to = try target.parsed()
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
                findings.append(Finding(severity: .blocking, what: problem, fix: "run check once every member answers on one version"))
            }
            if let from {
                switch VersionPolicy.evaluate(from: from, to: to, clusterVersion: view.cluster, allowKnownBad: target.allowKnownBad,
                                              auth: .init(enabled: config.cluster.auth != nil, riskAccepted: target.allowAuthRisk)) {
                case let .allowed(warnings):
                    findings += warnings.map { Finding(severity: .warning, what: $0, fix: "prefer a release without known data-safety bugs") }
                case let .refused(why):
                    findings.append(Finding(severity: .blocking, what: why, fix: "pick an allowed target (see the version policy in the README)"))
                }
            }
        } else {
            findings.append(Finding(severity: .warning, what: "cluster unreachable at \(config.cluster.endpoints.joined(separator: ", ")): version policy not checked",
                                    fix: "run check where the cluster answers"))
        }
        findings += await Preflight.all(config, from: from, to: to, binary: target.binary ?? config.member.binaryPath(to), sha256: target.sha256)
        // Whichever daemon goes first takes the snapshot into its own backupDir: a warning here, a wait there.
        if let db = view?.db, let short = BackupSpace.shortfall(dir: config.backupDir, dbSize: db) { findings.append(short) }
        print("check \(config.member.name) for etcd \(to)\(from.map { " (cluster runs \($0))" } ?? ""):")
        for f in findings { print("  " + f.line) }
        let blocking = findings.filter { $0.severity == .blocking }.count
        print(blocking == 0 ? "nothing blocks (\(findings.count) warning(s))" : "\(blocking) blocking finding(s)")
        if blocking > 0 { throw ExitCode(Exit.notHealthy) }
    }
}
