import Foundation
import Logging
import Rollout

@testable import Shepherd

/// The scheduler: one step moves the clock, lets the world change, runs the background keepalives of the live
/// daemons, and runs one tick of one ready daemon. A daemon inside a call that takes time (`block`) or frozen
/// (`enter`'s pauses) is not ready; the rest of the fleet runs meanwhile, nested in the same task.
extension Fleet {
    func step(except: Int? = nil) async {
        steps += 1
        now += rng.between(0.05, 0.5)
        environment()
        injectEnvironmentFault()
        touch()
        await keepalives()
        // The fleet runs nested in one task: a daemon whose wait is over resumes only once the calls above it on the
        // stack return. Starting no new tick meanwhile lets them unwind, so nobody waits past its time for long.
        guard !daemons.contains(where: { $0.supervisor != nil && ($0.resumesAt ?? .infinity) <= now }) else { return }
        let ready = daemons.filter { $0.supervisor != nil && !$0.paused && !$0.blocked && $0.node != except }
        guard !ready.isEmpty, let d = ready.randomElement(using: &rng), let sup = d.supervisor else { return }
        // The daemon loop answers its node's Zincati between ticks.
        if let z = zincati[d.node], z.at <= now {
            let incarnation = d.incarnation
            let answer = await sup.fleetLock(z.call)
            if alive(d.node, incarnation) { zincatiAnswered(d.node, z.call, answer) }
            touch()
            checkInvariants()
            return
        }
        let action = await sup.tick()
        if verbose { log("\(members[d.node].name): \(action)") }
        touch()
        checkInvariants()
    }

    /// The production lock's keepalive rounds, as its background task would run them: every daemon that lives and is
    /// not frozen (one blocked in a call keeps its keepalive going).
    func keepalives() async {
        for d in daemons where d.supervisor != nil && !d.paused && now >= d.nextKeepalive {
            guard let lock = d.lock else { continue }
            d.nextKeepalive = now + (await lock.keepalivePeriod)
            await lock.keepAliveOnce()
        }
    }

    /// Daemon `node` waits `seconds` inside a call (the world runs on). Throws if it died meanwhile.
    func block(_ node: Int, _ incarnation: Int, seconds: Double) async throws {
        let d = daemons[node]
        let was = (d.blocked, d.resumesAt)
        let end = now + seconds
        d.blocked = true
        d.resumesAt = end
        while now < end && alive(node, incarnation) { await step(except: node) }
        // A daemon killed meanwhile (and maybe restarted) is not this incarnation any more: its flags are its own.
        guard alive(node, incarnation) else { throw SimError.crashed }
        (d.blocked, d.resumesAt) = was
    }

    /// The fault point of every port call: a crashed incarnation does nothing; the seed may fail the call, crash the
    /// daemon or freeze it (others run meanwhile). Returns true when the call must throw after applying its effect.
    func enter(
        _ call: String, node: Int, incarnation: Int, needsQuorum: Bool = true, pauseChance: Double? = nil,
        shortForced: Bool = false, background: Bool = false
    ) async throws -> Bool {
        guard alive(node, incarnation) else { throw SimError.crashed }
        if faultsActive {
            if !background, rng.chance(faults.crashAtCall) {
                log("FAULT crash of \(members[node].name) at \(call)")
                kill(daemons[node])
                throw SimError.crashed
            }
            let forced = !background && (pauseChance.map { opsRng.chance($0) } ?? false)
            if !background, !daemons[node].paused, rng.chance(faults.pauseAtCall) || forced {
                let d = daemons[node]
                var length = Double(timing.lockTTLSeconds) + rng.between(1, 10)
                if faults.shortPauses, forced ? shortForced : opsRng.chance(0.5) {
                    length = opsRng.between(1, Double(timing.lockTTLSeconds) - 6)
                }
                log("FAULT \(members[node].name) frozen at \(call) for \(Int(length)) s")
                let was = d.resumesAt
                d.paused = true
                let end = now + length
                d.resumesAt = end
                while now < end && alive(node, incarnation) { await step(except: node) }
                guard alive(node, incarnation) else { throw SimError.crashed }
                d.paused = false
                d.resumesAt = was
            }
            if rng.chance(faults.callFails) { throw SimError.unavailable(call) }
        }
        if needsQuorum && !quorum { throw SimError.unavailable(call + " (no quorum)") }
        return faultsActive && rng.chance(faults.callAmbiguous)
    }

    func diskFull() -> Bool { faultsActive && rng.chance(faults.diskFull) }

    func alive(_ node: Int, _ incarnation: Int) -> Bool {
        daemons[node].incarnation == incarnation && daemons[node].supervisor != nil
    }

    // MARK: daemons

    func restart(_ d: SimDaemon) {
        d.incarnation += 1
        d.restartAt = nil
        d.paused = false
        d.blocked = false
        d.resumesAt = nil
        let m = members[d.node]
        let client = SimClient(fleet: self, node: d.node, incarnation: d.incarnation)
        var keepaliveClient = client
        keepaliveClient.background = true
        let lock = LeaseLock(
            cluster: keepaliveClient, name: prefix + "/lock", ttlSeconds: timing.lockTTLSeconds, localURL: m.url,
            clock: SimClock(fleet: self, node: d.node, incarnation: d.incarnation), backgroundKeepalive: false)
        d.lock = lock
        d.nextKeepalive = now
        var config = Config(
            member: .init(
                name: MemberName(m.name), clientURL: m.url, dataDir: "/var/lib/etcd", binaryLink: "/usr/bin/etcd",
                binaryPathTemplate: "/opt/etcd/{version}/etcd"),
            cluster: .init(
                endpoints: [m.url], keyPrefix: prefix, tls: .init(),
                auth: faults.authWatch ? .init(user: "shepherd", passwordFile: "/nonexistent") : nil,
                allowSmallCluster: allowSmallCluster),
            controller: .command(stop: ["stop"], start: ["start"], status: nil),
            requestFile: "/nonexistent", stateDir: "/state", backupDir: "/backups", timing: timing)
        config.metrics = nil
        config.maintenance = maintenance
        let ports = SimNode.ports(fleet: self, node: d.node, incarnation: d.incarnation, lock: lock, client: client)
        let events = Events(
            logger: Logger(label: "sim", factory: { _ in SwiftLogNoOpLogHandler() }), member: MemberName(m.name))
        let seed = self.seed
        let intake = RequestIntake(
            store: RolloutStore(prefix: prefix, cluster: client), events: events,
            makeID: { RolloutID("r\(Int($0) % 100_000)-\(seed % 997)") })
        d.supervisor = Supervisor(config: config, ports: ports, logger: events.logger, intake: intake)
        log("daemon \(m.name) #\(d.incarnation) starts")
    }

    func kill(_ d: SimDaemon) {
        guard d.supervisor != nil else { return }
        d.supervisor = nil
        d.lock = nil
        d.paused = false
        d.blocked = false
        d.resumesAt = nil
        d.restartAt = d.lost ? nil : now + rng.between(0.5, 5)
        log("daemon \(members[d.node].name) #\(d.incarnation) crashed")
    }
}
