import EtcdClient
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// The rollout record deleted or rewritten by hand (or by a script) while a member is being stopped, on a real
/// cluster (3.4.23 → 3.5.30). Before safety round two the lock stayed held and nothing settled for the 120 s
/// observed. Now the member's own sequence ends safely — its member running, its record cleared, the lock released,
/// the reason logged — and no other member is stopped for a rollout that no longer says so.
@Suite(.serialized) struct RolloutRecordEditTests {
    enum Edit: String, CaseIterable, Sendable { case deleted, retargeted }

    @Test(arguments: Edit.allCases)
    func aRolloutRecordEditedMidSequenceEndsItSafely(edit: Edit) async throws {
        let faults = try TempDir("calls")  // no fault armed: the controller calls are logged
        defer { faults.remove() }
        try await LocalCluster.with(size: 3, version: Releases.old, label: "edit-\(edit.rawValue)") { cluster in
            try await ShepherdFleet.with(cluster, faults: faults.path) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                _ = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                let stopping = await eventually(timeout: .seconds(60)) {
                    ((try? String(contentsOfFile: faults.path + "/calls", encoding: .utf8)) ?? "").contains(" stop ")
                }
                try #require(stopping, "no member was ever stopped:\n\(fleet.logTails())")
                let client = cluster.clusterClient()
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: client)
                switch edit {
                case .deleted:
                    _ = try await client.txn(compare: [], success: [.delete(key: store.rolloutKey)])
                case .retargeted:
                    // The same rollout, now naming another target: the sequence under way is no longer what it says.
                    var r = try #require(try await store.read().rollout)
                    r.to = EtcdVersion(Releases.trixie)!
                    _ = try await client.txn(
                        compare: [], success: [.put(key: store.rolloutKey, value: Array(try JSONEncoder().encode(r)))])
                }
                let edited = Date().timeIntervalSince1970
                let victim = try String(contentsOfFile: faults.path + "/calls", encoding: .utf8).split(separator: "\n")
                    .first { $0.contains(" stop ") }!.split(separator: " ").last.map(String.init)!

                // The lock is let go and every member answers.
                let released = await eventually(timeout: .seconds(45)) {
                    (try? await store.read())?.lockKeys.isEmpty == true
                }
                let seconds = Date().timeIntervalSince1970 - edited
                print(
                    "rollout record \(edit.rawValue) while \(victim) was stopped: lock released \(String(format: "%.1f", seconds)) s later"
                )
                #expect(released, "the lock is still held:\n\(fleet.logTails())")
                for i in cluster.members.indices {
                    let up = await eventually(timeout: .seconds(30)) {
                        (try? await cluster.endpoint(i).health())?.healthy == true
                    }
                    #expect(up, "\(cluster.members[i].name) left down:\n\(fleet.logTails())")
                }
                #expect(
                    fleet.log(victim).contains(edit == .deleted ? "is missing" : "this sequence was for"),
                    "\(fleet.log(victim).suffix(3000))")
                if edit == .deleted {
                    // Nothing says to go on: no member is stopped after the edit.
                    try await Task.sleep(for: .seconds(5))
                    let later = try String(contentsOfFile: faults.path + "/calls", encoding: .utf8).split(
                        separator: "\n"
                    ).filter {
                        $0.contains(" stop ") && (Double($0.split(separator: " ")[0]) ?? 0) > edited + 1
                    }
                    #expect(later.isEmpty, "stopped after the record was deleted: \(later)")
                } else {
                    // What the record now says goes on, or halts with a reason: the sequence under way ended safely.
                    let end = try await RolloutEnd.wait(store, monitor: monitor)
                    #expect(end.finished, "\(end.summary)\n\(fleet.logTails())")
                }
                await monitor.stop()
                #expect(monitor.maxDown <= 1, "\(monitor.overlaps.prefix(5))")
                #expect(try await monitor.lostWrites() == [])
            }
        }
    }
}
