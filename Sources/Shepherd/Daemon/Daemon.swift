import Foundation
import Logging
import Rollout
import ServiceLifecycle
import Synchronization
import Systemd
import UnixSignals

/// The long-running service: ticks the supervisor, reloads the config on SIGHUP, pings the watchdog while the loop
/// makes progress, and on SIGTERM/SIGINT stops only between sequences (a stop→start in flight is finished first).
public struct Daemon: Service {
    let supervisor: Supervisor
    let configPath: String
    let logger: Logger
    let notifier = Notifier()

    let watcher: ChangeWatcher?
    /// FleetLock calls waiting for the loop (nil: no FleetLock listener).
    let fleetLock: FleetLockInbox?

    public init(
        supervisor: Supervisor, configPath: String, logger: Logger, watcher: ChangeWatcher? = nil,
        fleetLock: FleetLockInbox? = nil
    ) {
        self.supervisor = supervisor
        self.configPath = configPath
        self.logger = logger
        self.watcher = watcher
        self.fleetLock = fleetLock
    }

    public func run() async throws {
        let hups = await UnixSignalsSequence(trapping: .sighup)
        let progress = supervisor.heartbeat
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                for await _ in hups.cancelOnGracefulShutdown() { await reload() }
            }
            if let interval = notifier.watchdogInterval() {
                group.addTask { await watchdog(interval: interval, progress: progress) }
            }
            try await loop(progress: progress)
            // The loop ended (graceful shutdown, nothing in flight): stop the helpers too.
            group.cancelAll()
        }
    }

    func loop(progress: Heartbeat) async throws {
        var first = true
        while true {
            let shutting = Task.isShuttingDownGracefully
            let started = ContinuousClock.now
            // FleetLock calls between ticks, never inside one (a reboot's lock and writes are a step of their own).
            if let fleetLock, !shutting { await fleetLock.drain { await supervisor.fleetLock($0) } }
            let action = await supervisor.tick(shuttingDown: shutting)
            progress.beat()
            if first {
                notifier.ready(status: await supervisor.statusLine)
                first = false
            }
            if shutting, !(await supervisor.sequenceInProgress()) {
                notifier.stopping()
                logger.info("stopping: no sequence in progress")
                return
            }
            let tick = await supervisor.config.timing.tickSeconds
            let closeness = await supervisor.pollCloseness
            if closeness == .startPending {
                // Our member was just started: the next tick as soon as it answers.
                await cancelWhenGracefulShutdown { await supervisor.waitForLocalAnswer(upTo: min(tick, 0.5)) }
                continue
            }
            let idleTick = await supervisor.config.timing.idleTickSeconds
            let pause = Self.pause(after: action, tick: tick, idleTick: idleTick, closeness: closeness)
            let until = started + .milliseconds(Int64(pause * 1000))
            // A graceful shutdown, a change under the key prefix or a new request file cuts the rest short.
            let requestFile = await supervisor.config.requestFile
            var requestPresent = FileManager.default.fileExists(atPath: requestFile)
            while ContinuousClock.now < until, !Task.isShuttingDownGracefully {
                // Only a request file that appears wakes the loop (one that could not be moved aside must not spin it).
                let present = FileManager.default.fileExists(atPath: requestFile)
                if (present && !requestPresent) || fleetLock?.hasPending == true { break }
                requestPresent = present
                // A change under the key prefix ends the pause at once; the request file and FleetLock are polled
                // (every 100 ms, every 500 ms with nothing to act on: each poll wakes the process).
                let slice = min(.milliseconds(closeness == .resting ? 500 : 100), until - .now)
                if let watcher {
                    let changed = await cancelWhenGracefulShutdown { await watcher.changes.wait(upTo: slice) }
                    if changed { break }
                } else {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: slice) }
                }
            }
        }
    }

    /// How long to rest after an action: none after a step that changed something (the next step is usually ready),
    /// a short poll while something of ours is about to change (a member of ours mid-sequence or about to answer, the
    /// rollout about to complete), the idle tick with nothing to act on, the tick otherwise.
    static func pause(
        after action: Action, tick: Double, idleTick: Double, closeness: Supervisor.PollCloseness
    ) -> Double {
        switch action {
        case .idle, .wait:
            switch closeness {
            case .startPending: return min(tick, 0.05)
            case .inSequence: return min(tick, 0.2)
            case .idle: return tick
            case .resting: return max(tick, idleTick)
            }
        case .waitForClusterVersion: return min(tick, 0.25)
        // The lock taken: the next step is ready. Not taken: the acquire already waited its turn (a queue polled
        // every 100 ms for `3 × tick`), and a failing one comes back as a wait.
        default: return 0
        }
    }

    func reload() async {
        notifier.reloading()
        do {
            let new = try Config.load(path: configPath)
            let ignored = await supervisor.reload(new)
            logger.notice(
                "configuration reloaded from \(configPath)\(ignored.isEmpty ? "" : "; changes to \(ignored.joined(separator: ", ")) need a restart")"
            )
        } catch {
            logger.error("reload failed, keeping the running configuration: \(error)")
        }
        notifier.ready(status: await supervisor.statusLine)
    }

    /// Pings at half the interval, but only while the loop has beaten since the last ping: a stuck loop gets the
    /// daemon restarted by systemd.
    func watchdog(interval: Duration, progress: Heartbeat) async {
        let half = interval / 2
        // Runs until the loop itself has ended, so a sequence finished during shutdown is still watched.
        while !Task.isCancelled {
            if progress.takeBeat() { notifier.watchdog() }
            try? await Task.sleep(for: half)
        }
    }
}

/// A heartbeat to the watchdog pinger: from the loop after every tick, and from a long effect while it makes progress.
public final class Heartbeat: Sendable {
    private let beats = Mutex(0)
    public init() {}
    public func beat() { beats.withLock { $0 += 1 } }
    func takeBeat() -> Bool {
        beats.withLock {
            let b = $0 > 0
            $0 = 0
            return b
        }
    }
}
