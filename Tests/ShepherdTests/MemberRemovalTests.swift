import EtcdClient
import Exec
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// The lock holder's member removed from the cluster while it verifies (an operator replacing a node), on a real
/// 4-member cluster (3.4.23 → 3.5.30). Before safety round two its daemon kept the lock for 2 minutes (the verify
/// timeout, a rollback that stopped and restarted the removed member, a second timeout) and then halted the rollout.
/// Now it lets the lock go at once, says why, never starts or stops that member again, and the three members left
/// finish the rollout.
@Suite(.serialized) struct MemberRemovalTests {
    @Test func theLockHoldersMemberRemovedLetsTheOthersGoOn() async throws {
        let faults = try TempDir("calls")  // no fault armed: the controller calls are logged
        defer { faults.remove() }
        try await LocalCluster.with(size: 4, version: Releases.old, label: "removal") { cluster in
            try await ShepherdFleet.with(cluster, settleSeconds: 15, faults: faults.path) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                _ = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                let client = cluster.clusterClient()
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: client)
                var holder: (name: MemberName, lease: String?)?
                let verifying = await eventually(timeout: .seconds(60)) {
                    holder = (try? await store.read())?.records.first { $0.value.phase == .verifying }.map {
                        ($0.key, $0.value.leaseID)
                    }
                    return holder != nil
                }
                try #require(verifying, "no member ever verified:\n\(fleet.logTails())")
                let name = holder!.name.rawValue, lease = try #require(holder!.lease)
                let id = try #require(try await client.memberList().first { $0.name == name }?.id)
                let etcdctl = try Repo.etcdBinary("etcdctl", Releases.current)
                let others = cluster.members.filter { $0.name != name }.map(\.clientURL).joined(separator: ",")
                // etcd refuses the removal ("unhealthy cluster") until the restarted member is active again: retried,
                // as an operator would.
                var removed: Command.Result?
                _ = await eventually(timeout: .seconds(8)) {
                    removed = try? await Command.run([
                        etcdctl, "--endpoints", others, "member", "remove", String(id, radix: 16),
                    ])
                    return removed?.succeeded == true
                }
                try #require(removed?.succeeded == true, "\(removed?.summary ?? "etcdctl did not run")")
                try #require(
                    try await store.read().records[MemberName(name)]?.phase == .verifying,
                    "\(name) was verified before its removal"
                )
                let at = Date().timeIntervalSince1970

                let released = await eventually(timeout: .seconds(30)) {
                    guard let snap = try? await store.read() else { return false }
                    return snap.records[MemberName(name)]?.phase.isDestructive == false
                        && !snap.lockKeys.contains { $0.hasSuffix("/" + lease) }
                }
                let seconds = Date().timeIntervalSince1970 - at
                print(
                    "lock holder \(name) removed while verifying: its record cleared and lock let go \(String(format: "%.1f", seconds)) s later"
                )
                #expect(released, "\(name)'s daemon kept its lock or record:\n\(fleet.log(name).suffix(3000))")
                #expect(fleet.log(name).contains("removed from the cluster"), "\(fleet.log(name).suffix(3000))")

                let end = try await RolloutEnd.wait(store, monitor: monitor)
                #expect(end.finished && end.state == .completed, "\(end.summary)\n\(fleet.logTails())")
                // The removed member was never started or stopped again.
                let calls = try String(contentsOfFile: faults.path + "/calls", encoding: .utf8).split(separator: "\n")
                    .filter {
                        $0.hasSuffix(" \(name)") && !$0.contains(" pid ")
                            && (Double($0.split(separator: " ")[0]) ?? 0) > at
                    }
                #expect(calls.isEmpty, "\(name) was touched after its removal: \(calls)")
                #expect(try await monitor.lostWrites() == [])
                for (i, m) in cluster.members.enumerated() where m.name != name {
                    #expect(try await cluster.endpoint(i).version().server == Releases.current)
                }
            }
        }
    }
}
