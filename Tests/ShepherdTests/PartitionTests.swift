import EtcdClient
import Exec
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// A partition, for real: each member and its daemon in a network namespace of its own on a private bridge
/// (scripts/netns.sh). One node's link is taken down mid-rollout: its member keeps running but reaches no one, so
/// no daemon may stop anything until it is back; then the rollout completes.
@Suite(.serialized) struct PartitionTests {
    @Test func aNodeCutOffStopsNothingAndTheRolloutCompletesAfterItIsBack() async throws {
        let tag = "p" + String(UInt16.random(in: 0x100...0xfff), radix: 16)
        let net = "10.77.\(Int.random(in: 10...250))"
        let script = Repo.scripts + "/netns.sh"
        let up = try await Command.run([script, "up", tag, "3", net])
        guard up.succeeded else {
            _ = try? await Command.run([script, "down", tag, "3"])
            throw ClusterError(
                detail: "network namespaces (root and iproute2 needed: apt-get install iproute2): \(up.summary)")
        }
        var cluster: LocalCluster?
        var cut: Int?
        do {
            let c = try LocalCluster(
                size: 3, version: "3.4.23", label: "partition", hosts: (1...3).map { "\(net).\($0)" },
                netns: (1...3).map { "\(tag)-s\($0)" })
            cluster = c
            try await c.startAll()
            try await ShepherdFleet.with(c) { fleet in
                let monitor = SafetyMonitor(cluster: c)
                monitor.start()
                let req = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                #expect(req.succeeded, "\(req.summary)")
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: c.clusterClient())

                // Once one member is done, cut off one that has not started (its daemon neither holds nor wants a
                // stop).
                let first = await eventually(timeout: .seconds(60)) {
                    (try? await store.read())?.records.values.contains { $0.phase == .done } == true
                }
                try #require(first, "no member finished before the cut")
                let records = try await store.read().records
                let k = try #require(
                    c.members.indices.first {
                        records[MemberName(c.members[$0].name)]?.phase.isDestructive != true
                            && records[MemberName(c.members[$0].name)]?.phase != .done
                    })
                let name = c.members[k].name
                // Every stop a daemon issues is journaled as "stopping NAME for VERSION". A stop whose gates were
                // checked just before the cut may still land in its first seconds (the window bound, 3 s here: the
                // residual risk no protocol removes); after that, none may come while the node is cut off.
                func stopsIssued() -> Int {
                    c.members.map { fleet.log($0.name).components(separatedBy: "stopping \($0.name) for").count - 1 }
                        .reduce(0, +)
                }
                #expect(try await Command.run([script, "cut", tag, "\(k + 1)"]).succeeded)
                cut = k
                try await Task.sleep(for: .seconds(4))  // the window bound (maxObservationAgeSeconds 3) and a margin
                let stopsBefore = stopsIssued()
                try await Task.sleep(for: .seconds(10))  // the rest of the partition
                let stopsDuring = stopsIssued() - stopsBefore
                #expect(try await Command.run([script, "heal", tag, "\(k + 1)"]).succeeded)
                cut = nil

                let end = try await RolloutEnd.wait(store, monitor: monitor)
                let logs = fleet.logTails()
                #expect(end.finished && end.state == .completed, "\(end.summary)\n\(logs)")
                #expect(monitor.maxDown <= 1, "two members stopped at once: \(monitor.overlaps.prefix(5))\n\(logs)")
                #expect(try await monitor.lostWrites() == [])
                #expect(stopsDuring == 0, "\(stopsDuring) stop(s) issued while \(name) was cut off:\n\(logs)")
                for i in c.members.indices { #expect(try await c.endpoint(i).version().server == Releases.current) }
            }
        } catch {
            if let k = cut { _ = try? await Command.run([script, "heal", tag, "\(k + 1)"]) }
            await cluster?.tearDown()
            _ = try? await Command.run([script, "down", tag, "3"])
            throw error
        }
        await cluster?.tearDown()
        _ = try? await Command.run([script, "down", tag, "3"])
    }
}
