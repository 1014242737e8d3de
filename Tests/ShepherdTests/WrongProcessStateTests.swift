import EtcdClient
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// A stop path retried while the process state is wrong and a peer is down, on a real cluster (3.4.23 → 3.5.30).
/// The first stop kills a peer's etcd and the stopping daemon (scripts/faulty-member.sh), and from then on the status
/// command says that member is not running while it runs. The restarted daemon finds its journal at `.stopping`:
/// before safety round two a "not running" member skipped every gate and was stopped at once — two members down,
/// quorum lost. Now a process state never skips a gate: it waits for the peer, then goes on.
@Suite(.serialized) struct WrongProcessStateTests {
    @Test func aRetriedStopWithAWrongProcessStateWaitsForTheDownPeer() async throws {
        let faults = try TempDir("faults")
        defer { faults.remove() }
        for f in ["kill-peer-and-daemon", "status-lies"] {
            try #require(FileManager.default.createFile(atPath: faults.path + "/" + f, contents: nil))
        }
        try await LocalCluster.with(size: 3, version: Releases.old, label: "wrongstate") { cluster in
            try await ShepherdFleet.with(cluster, faults: faults.path) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                let req = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                #expect(req.succeeded, "\(req.summary)")
                let fired = await firedNames(marker: faults.path + "/fired/names")
                let (victim, peer) = try #require(fired, "no daemon ever stopped its member")
                let v = try #require(cluster.members.firstIndex { $0.name == victim })
                let p = try #require(cluster.members.firstIndex { $0.name == peer })

                // Its daemon comes back while the peer is still down and its status command lies. It must end up
                // waiting (on gate 2, or as the new leader for the others) with its member running — and never
                // stop it again while the peer is down, whatever the status command says.
                let stopsBefore = try Self.stops(of: victim, faults.path)
                try await fleet.start(victim)
                let waited = await eventually(timeout: .seconds(30)) {
                    fleet.log(victim).components(separatedBy: "supervising").last?.contains(" waits: ") == true
                }
                #expect(waited, "\(victim)'s restarted daemon never settled into a wait:\n\(fleet.logTails(30))")
                #expect(
                    try Self.stops(of: victim, faults.path) == stopsBefore,
                    "\(victim) was stopped again while \(peer) is down")
                #expect(
                    (try? await cluster.endpoint(v).health())?.healthy == true,
                    "\(victim) is not up while \(peer) is down")
                #expect(monitor.maxDown <= 1, "two members down: \(monitor.overlaps.prefix(5))")

                try await Self.completesOncePeerIsBack(p, cluster, fleet, monitor)
            }
        }
    }

    /// The same retried stop without a daemon restart: the stop command fails (exit 1, nothing stopped) while a peer's
    /// etcd is killed, and the status command then says the member is not running while it runs. The daemon keeps
    /// its lock and its journal at `.stopping` with the stop issued. A stop issued again must pass the gate like the
    /// first (mutation `regate-retried-stop`: a member "not running" stopped again at once, two members down).
    @Test func aFailedStopRetriedWithAWrongProcessStateWaitsForTheDownPeer() async throws {
        let faults = try TempDir("faults")
        defer { faults.remove() }
        for f in ["kill-peer", "status-lies"] {
            try #require(FileManager.default.createFile(atPath: faults.path + "/" + f, contents: nil))
        }
        try await LocalCluster.with(size: 3, version: Releases.old, label: "failedstop") { cluster in
            try await ShepherdFleet.with(cluster, faults: faults.path) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                let req = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                #expect(req.succeeded, "\(req.summary)")
                let fired = await firedNames(marker: faults.path + "/fired/names")
                let (victim, peer) = try #require(fired, "no daemon ever stopped its member")
                let v = try #require(cluster.members.firstIndex { $0.name == victim })
                let p = try #require(cluster.members.firstIndex { $0.name == peer })

                // After its failed stop the daemon must settle into a wait for the peer, its member running, and
                // issue no stop while the peer is down, whatever the status command says.
                let waited = await eventually(timeout: .seconds(30)) {
                    fleet.log(victim).components(separatedBy: "stopping \(victim) for").last?.contains(
                        "\(victim) waits: ") == true
                }
                #expect(waited, "\(victim)'s daemon never settled into a wait:\n\(fleet.logTails(30))")
                #expect(
                    try Self.stops(of: victim, faults.path) == 1, "\(victim) was stopped again while \(peer) is down")
                #expect(
                    (try? await cluster.endpoint(v).health())?.healthy == true,
                    "\(victim) is not up while \(peer) is down")
                #expect(monitor.maxDown <= 1, "two members down: \(monitor.overlaps.prefix(5))")

                try await Self.completesOncePeerIsBack(p, cluster, fleet, monitor)
            }
        }
    }

    /// A stop command that returns success and stops nothing: the member still answers, so its binary is not switched
    /// under the running process (which then kept running the old release, verified as the new one never could be,
    /// and the rollout halted at the verify timeout). The stop is issued again, through the gate, and the rollout
    /// completes.
    @Test func aStopThatStopsNothingIsIssuedAgainNotBuiltOn() async throws {
        let faults = try TempDir("faults")
        defer { faults.remove() }
        try #require(FileManager.default.createFile(atPath: faults.path + "/stop-does-nothing", contents: nil))
        try await LocalCluster.with(size: 3, version: Releases.old, label: "stopnoop") { cluster in
            try await ShepherdFleet.with(cluster, faults: faults.path) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                let req = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                #expect(req.succeeded, "\(req.summary)")
                let end = try await RolloutEnd.wait(
                    RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient()), monitor: monitor)
                #expect(end.finished && end.state == .completed, "\(end.summary)\n\(fleet.logTails(30))")
                let name = try String(contentsOfFile: faults.path + "/fired/names", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(
                    try Self.stops(of: name, faults.path) == 2, "\(name): the stop that did nothing, then one that did")
                #expect(fleet.log(name).contains("still answers /health: it was not stopped"), "\(fleet.log(name))")
                #expect(monitor.maxDown <= 1, "two members down: \(monitor.overlaps.prefix(5))")
                #expect(try await monitor.lostWrites() == [])
                for i in cluster.members.indices {
                    #expect(try await cluster.endpoint(i).version().server == Releases.current)
                }
            }
        }
    }

    /// The down peer started again: the rollout completes, never two members down, no write lost, every member on the
    /// target.
    static func completesOncePeerIsBack(
        _ p: Int, _ cluster: LocalCluster, _ fleet: ShepherdFleet, _ monitor: SafetyMonitor
    ) async throws {
        try await cluster.start(p)
        let end = try await RolloutEnd.wait(
            RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient()), monitor: monitor)
        #expect(end.finished && end.state == .completed, "\(end.summary)\n\(fleet.logTails(30))")
        #expect(monitor.maxDown <= 1, "two members down: \(monitor.overlaps.prefix(5))")
        #expect(try await monitor.lostWrites() == [])
        for i in cluster.members.indices {
            #expect(try await cluster.endpoint(i).version().server == Releases.current)
        }
    }

    /// The stop calls the member's controller received so far (scripts/faulty-member.sh logs every call).
    static func stops(of name: String, _ faults: String) throws -> Int {
        try String(contentsOfFile: faults + "/calls", encoding: .utf8).split(separator: "\n").filter {
            $0.hasSuffix(" stop \(name)")
        }.count
    }
}
