import TestSupport
import Testing

/// The monitor the end-to-end suites rely on must be able to fail: two members stopped at once are seen, and so
/// are acknowledged writes that disappear.
@Suite(.serialized) struct SafetyMonitorTests {
    @Test func seesTwoMembersDownAndLostWrites() async throws {
        try await LocalCluster.with(version: "3.4.23", label: "mon") { cluster in
            let monitor = SafetyMonitor(cluster: cluster)
            monitor.start()
            #expect(await eventually(timeout: .seconds(10)) { monitor.acknowledged > 20 })
            try await cluster.stop(1)
            try await cluster.stop(2)
            let seen = await eventually(timeout: .seconds(10)) { monitor.maxDown == 2 }
            await monitor.stop()
            #expect(seen, "two stopped members were not seen down together")
            try await cluster.start(1)
            try await cluster.start(2)
            #expect(try await monitor.lostWrites() == [])
            // Delete acknowledged keys behind the monitor's back: it must report them.
            try await cluster.endpoint(0).delete("/load/1", prefix: true)
            #expect(try await monitor.lostWrites().contains(1))
        }
    }
}
