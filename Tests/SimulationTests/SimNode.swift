import EtcdClient
import Foundation
import Rollout

@testable import Shepherd

/// The node-side stand-ins of one daemon incarnation: its member's process (controller), binary link, journal,
/// staged binaries, snapshot, clock and request inbox. They hold no decision; they are as unkind as a real node.
enum SimNode {
    static func ports(fleet: Fleet, node: Int, incarnation: Int, lock: LeaseLock, client: SimClient) -> SupervisorPorts
    {
        let id = SimID(fleet: fleet, node: node, incarnation: incarnation)
        let clock = SimClock(fleet: fleet, node: node, incarnation: incarnation)
        return SupervisorPorts(
            cluster: SimObserver(client: client, clock: clock),
            store: RolloutStore(prefix: fleet.prefix, cluster: client), lock: lock,
            controller: SimController(id: id), link: SimLink(id: id), journal: SimJournal(id: id),
            maintenance: SimMaintenance(id: id, client: client, clock: clock), preflight: SimPreflight(id: id),
            clock: clock,
            requests: SimInbox(id: id))
    }
}

struct SimID: @unchecked Sendable {
    let fleet: Fleet
    let node: Int
    let incarnation: Int
    func enter(_ call: String, quorum: Bool = true, pause: Double? = nil) async throws -> Bool {
        try await fleet.enter(call, node: node, incarnation: incarnation, needsQuorum: quorum, pauseChance: pause)
    }
    func local(_ what: String) throws { guard fleet.alive(node, incarnation) else { throw SimError.crashed } }
}

/// Simulated time: the monotonic clock never jumps, the wall clock may; a sleep lets the rest of the fleet run.
struct SimClock: ShepherdClock, @unchecked Sendable {
    let fleet: Fleet
    let node: Int
    let incarnation: Int
    func now() -> Double { fleet.now }
    func wallNow() -> Double { fleet.wall }
    func sleep(seconds: Double) async throws { try await fleet.block(node, incarnation, seconds: seconds) }
}

/// The production observer, asking one member after another (every interleaving from the seed).
struct SimObserver: ClusterObserving {
    let client: SimClient
    let clock: SimClock
    func observe(metrics: ClusterObserver.MetricsScope) async throws -> ClusterView {
        try await ClusterObserver(cluster: client, metrics: metrics, clock: clock, parallel: false).observe()
    }
    func authFingerprint() async throws -> String { try await client.authFingerprint() }
    func answers(_ url: String) async -> Bool {
        (try? await client.health(of: url, timeout: .milliseconds(250)))?.healthy == true
    }
    func runningVersion(_ url: String) async -> EtcdVersion? {
        (try? await client.version(of: url, timeout: .seconds(2))).flatMap { EtcdVersion($0.server) }
    }
    func responds(_ url: String) async -> Bool {
        do {
            _ = try await client.health(of: url, timeout: .seconds(2))
            return true
        } catch SimError.refused {
            return false
        } catch {
            return true
        }
    }
}

/// The member's process as a controller sees it. Its answers may be unknown, wrong or late; its stops may take
/// their time (and land even if the daemon dies meanwhile) or fail; its starts may fail, or return before the process
/// dies.
struct SimController: MemberController {
    let id: SimID
    var f: Fleet { id.fleet }

    func stop(issued: @escaping @Sendable (String) -> Void) async throws {
        let i = id.node
        // The gates and the window are judged at the call (the shell checked its deadline just before); a freeze
        // right here (trail T1) is what gate 4 covers: nobody else stops while this record says stopping.
        if f.alive(id.node, id.incarnation), f.members[i].up { f.stopIssued(i, by: id.node) }
        _ = try await id.enter("stop member", quorum: false, pause: f.faults.pauseAtStop)
        if f.faultsActive, f.nodeRng.chance(f.faults.stopFails) {
            throw SimError.unavailable("stop member (the command failed)")
        }
        guard f.members[i].up else { return }
        // Drawn only where the profile has it: the other profiles' schedules stay as they were.
        if f.faults.stopIgnored > 0, f.faultsActive, f.nodeRng.chance(f.faults.stopIgnored) {
            f.log("FAULT \(f.members[i].name)'s stop returned and stopped nothing")
            return
        }
        f.nextTicket += 1
        let ticket = "sim:\(i):\(f.nextTicket)"
        let slow = f.faultsActive && f.nodeRng.chance(f.faults.slowStop)
        let takes = slow ? f.nodeRng.between(0.5, Double(f.timing.lockTTLSeconds) + 5) : f.nodeRng.between(0.02, 0.3)
        f.pendingStops[i] = (f.now + takes, ticket, id.incarnation)
        issued(ticket)
        // A daemon that dies here leaves its stop under way: it lands at its time all the same.
        if f.faultsActive, f.opsRng.chance(f.faults.crashAtStop) {
            f.log("FAULT \(f.members[i].name)'s daemon dies while its stop is under way")
            f.kill(f.daemons[i])
            throw SimError.crashed
        }
        while let p = f.pendingStops[i], p.ticket == ticket {
            try await f.block(id.node, id.incarnation, seconds: min(0.25, max(0.01, p.at - f.now)))
        }
        if f.faultsActive, f.rng.chance(f.faults.callAmbiguous) { throw SimError.ambiguous("stop member") }
    }

    func start() async throws {
        if f.faultsActive, f.alive(id.node, id.incarnation), f.opsRng.chance(f.faults.crashAtStart) {
            f.log("FAULT \(f.members[id.node].name)'s daemon crashed at the start call")
            f.kill(f.daemons[id.node])
            throw SimError.crashed
        }
        let ambiguous = try await id.enter("start member", quorum: false)
        let i = id.node
        if f.faultsActive, f.nodeRng.chance(f.faults.startFails) {
            throw SimError.unavailable("start member (the command failed)")
        }
        if !f.members[i].up, let why = f.bootMember(i, by: "daemon") { throw SimError.startFailed(why) }
        if f.faultsActive, f.nodeRng.chance(f.faults.startThenDie), f.members[i].up, f.members[i].dieAt == nil {
            f.members[i].dieAt = f.now + f.nodeRng.between(0.2, 2)
        }
        if ambiguous { throw SimError.ambiguous("start member") }
    }

    func process() async -> ProcessState {
        let i = id.node
        guard f.alive(id.node, id.incarnation) else { return .unknown }
        var up = f.members[i].up
        if f.faultsActive {
            if f.nodeRng.chance(f.faults.processUnknown) { return .unknown }
            if f.nodeRng.chance(f.faults.processLate),
                let past = f.processHistory[i]?.last(where: { $0.0 <= f.now - 2 })
            {
                up = past.1
            }
            if f.nodeRng.chance(f.faults.processWrong) { up.toggle() }
        }
        return up ? .running : .stopped
    }

    func stopPending(ticket: String?) async -> Bool? {
        guard let ticket else { return nil }
        if f.faultsActive, f.nodeRng.chance(f.faults.processUnknown) { return nil }
        return f.pendingStops[id.node]?.ticket == ticket
    }
}

struct SimLink: BinaryLinking {
    let id: SimID
    func target() -> String? { id.fleet.members[id.node].link }
    func point(to binary: String) throws {
        try id.local("link")
        if id.fleet.diskFull() { throw SimError.diskFull("/usr/bin/etcd") }
        // Invariant: the link never names another binary than the one a running member runs (a switch under a
        // running process: its next restart, by anyone, runs an unverified release).
        let m = id.fleet.members[id.node]
        if m.up, binary != id.fleet.binary(m.version) {
            id.fleet.violate("\(m.name)'s binary link switched to \(binary) while it runs \(m.version)")
        }
        id.fleet.members[id.node].link = binary
    }
}

struct SimJournal: JournalStoring {
    let id: SimID
    var d: SimDaemon { id.fleet.daemons[id.node] }
    func read() throws -> JournalEntry? {
        try id.local("journal")
        return d.journal
    }
    func write(_ entry: JournalEntry) throws {
        try id.local("journal")
        if id.fleet.diskFull() { throw SimError.diskFull("/state/journal.json") }
        d.journal = entry
    }
    func clear() throws {
        try id.local("journal")
        d.journal = nil
    }
}

/// The node's staged binaries (what the production preflight finds on disk); no decision.
struct SimPreflight: Preflighting {
    let id: SimID
    func check(_ config: Config, rollout: RolloutRecord) async -> [Finding] {
        guard !id.fleet.staged[id.node], [rollout.to] + (rollout.then ?? []) != [id.fleet.from] else { return [] }
        return [
            Finding(
                severity: .blocking, what: "target binary \(id.fleet.binary(rollout.to)) is missing", fix: "stage it")
        ]
    }
    func checkRequest(_ config: Config, request: UpgradeRequest, from: EtcdVersion) async -> [Finding] {
        id.fleet.staged[id.node]
            ? [] : [Finding(severity: .blocking, what: "target binary is missing", fix: "stage it")]
    }
}

/// The snapshot (a file on the node) is simulated; the leadership transfer is the production one, over the client.
struct SimMaintenance: Maintenance {
    let id: SimID
    let client: SimClient
    let clock: SimClock
    func takeBackup(
        leaderURL: String, leaderID: String, backupKey: String, node: MemberName,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws -> BackupRecord {
        _ = try await id.enter("snapshot")
        if id.fleet.diskFull() { throw SimError.diskFull("/backups") }
        return BackupRecord(
            leaderID: leaderID, revision: id.fleet.revision, size: 1 << 20, sha256: "00", node: node,
            path: "/backups/\(backupKey).db")
    }
    func transferLeadership(leaderURL: String, to target: MemberID) async throws {
        try await Leadership.transfer(client, leaderURL: leaderURL, to: target, clock: clock)
    }
}

/// The operator's request dropped on this node (read by the production intake; refused ones are dropped again by
/// the operator, as a person would retry).
struct SimInbox: RequestInbox {
    let id: SimID
    func pending() throws -> UpgradeRequest? {
        try id.local("request")
        return id.fleet.daemons[id.node].request
    }
    func settle(_ outcome: RequestOutcome) {
        let accepted = outcome.state == .accepted, reason = outcome.reason
        let d = id.fleet.daemons[id.node]
        d.request = nil
        d.settled = (accepted, reason)
        id.fleet.log("request on \(id.fleet.members[id.node].name) \(accepted ? "accepted" : "refused"): \(reason)")
    }
}
