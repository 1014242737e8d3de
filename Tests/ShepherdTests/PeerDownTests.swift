import EtcdClient
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// Gate 2 on a real 5-member cluster (3.4.23 → 3.5.30): one member is down when the daemons find an active rollout.
/// Gate 3 would let a stop through (4 healthy of 5, quorum 3); gate 2 holds every stop, and says why, until the member
/// is back (gate 5 holds too, as the down member's version cannot be read: with gate 2 disabled nothing is stopped
/// either, but no daemon names the down member — the test fails on that); then the rollout completes with never two
/// members down.
@Suite(.serialized) struct PeerDownTests {
    @Test func aMemberDownHoldsEveryStopUntilItIsBack() async throws {
        let faults = try TempDir("faults")  // no fault armed: the controller's calls are logged
        defer { faults.remove() }
        try await LocalCluster.with(size: 5, version: Releases.old, label: "peerdown") { cluster in
            try await ShepherdFleet.with(cluster, faults: faults.path) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                // The rollout is written while every daemon is stopped and a member is down (a request would be
                // refused now: the intake wants every member healthy).
                #expect(await fleet.stopAll() == [], "a daemon ignored SIGTERM")
                let down = cluster.members[4].name
                try await cluster.stop(4)
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                let rollout = RolloutRecord(
                    id: "r-peerdown", from: try #require(EtcdVersion(Releases.old)),
                    to: try #require(EtcdVersion(Releases.current)), requestedBy: "PeerDownTests",
                    requestedAt: Date().timeIntervalSince1970)
                try #require(try await store.createRollout(rollout, replacing: nil))
                try await fleet.startAll()

                let held = await eventually(timeout: .seconds(60)) {
                    cluster.members.contains {
                        fleet.log($0.name).contains("gate 2 (all members healthy): not healthy: \(down)")
                    }
                }
                #expect(held, "no daemon waited on gate 2 for \(down):\n\(fleet.logTails(20))")
                #expect(try Self.stops(faults.path) == 0, "a member was stopped while \(down) was down")
                #expect(monitor.maxDown <= 1, "two members down: \(monitor.overlaps.prefix(5))")

                try await cluster.start(4)
                let end = try await RolloutEnd.wait(store, monitor: monitor)
                #expect(end.finished && end.state == .completed, "\(end.summary)\n\(fleet.logTails(30))")
                #expect(monitor.maxDown <= 1, "two members down: \(monitor.overlaps.prefix(5))")
                #expect(try await monitor.lostWrites() == [])
                for i in cluster.members.indices {
                    #expect(try await cluster.endpoint(i).version().server == Releases.current)
                }
            }
        }
    }

    /// The stop calls the controllers received (scripts/faulty-member.sh logs every call).
    static func stops(_ faults: String) throws -> Int {
        let calls = (try? String(contentsOfFile: faults + "/calls", encoding: .utf8)) ?? ""
        return calls.split(separator: "\n").filter { $0.contains(" stop ") }.count
    }
}
