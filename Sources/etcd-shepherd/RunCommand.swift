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
        // Every member on a transport of its own: every connection to our own is closed right before we stop it, and
        // to a peer when its record says it is about to be stopped (see `Supervisor.releasePeersAboutToStop`).
        do {
            try cluster.isolate(config.member.clientURL)
            try cluster.isolateEveryMember()
        } catch {
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
        let notifications = config.notify.map {
            NotificationSender($0, logger: logger) { metrics?.notificationFailed($0) }
        }
        let supervisor = Supervisor.live(
            config: config, cluster: cluster, controller: controller, logger: logger, metrics: metrics,
            streams: watcher, notifications: notifications)
        // FleetLock: a listener that cannot start leaves Zincati without an answer, so it does not reboot (safe).
        let inbox = FleetLockInbox()
        var fleetLock: FleetLockServer?
        if let f = config.fleetLock {
            do { fleetLock = try await FleetLockServer.start(listen: f.listen, group: f.group, inbox: inbox) } catch {
                logger.error(
                    "FleetLock listener on \(f.listen) not started: \(error); no reboot is granted on this node until it is (set fleetLock.listen to a free address)"
                )
            }
        }
        let daemon = Daemon(
            supervisor: supervisor, configPath: options.path, logger: logger, watcher: watcher,
            fleetLock: fleetLock == nil ? nil : inbox)
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
        await fleetLock?.stop()
        // What is queued goes out (a few seconds at most: a receiver that hangs does not hold up the stop).
        await notifications?.finish(within: 5)
        await cluster.shutdownIsolated()
        try? await transport.shutdown()
    }
}
