import EtcdClient
import Exec
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// What the daemon makes of its member's `/metrics`: the pure watch, then real daemons beside a real cluster.
@Suite(.serialized) struct MetricsWatchTests {
    func metrics(leaderChanges: Int, db: Int, quota: Int) throws -> MetricsSample {
        MetricsSample(
            MemberMetrics(
                try PrometheusText(
                    parsing: """
                        etcd_server_leader_changes_seen_total \(leaderChanges)
                        etcd_mvcc_db_total_size_in_bytes \(db)
                        etcd_server_quota_backend_bytes \(quota)
                        """)))
    }

    @Test func leaderChangesAreCountedAndARestartIsANewBaseline() throws {
        var w = MetricsWatch()
        // the first scrape is the baseline
        #expect(try w.update(metrics(leaderChanges: 1, db: 100, quota: 1000)) == [])
        #expect(try w.update(metrics(leaderChanges: 1, db: 100, quota: 1000)) == [])
        #expect(try w.update(metrics(leaderChanges: 3, db: 100, quota: 1000)) == [.leaderChanged(total: 3, by: 2)])
        // The member restarted: its counter starts over, which is not a leader change.
        #expect(try w.update(metrics(leaderChanges: 1, db: 100, quota: 1000)) == [])
        #expect(try w.update(metrics(leaderChanges: 2, db: 100, quota: 1000)) == [.leaderChanged(total: 2, by: 1)])
    }

    @Test func dbNearQuotaIsReportedOnceEachWay() throws {
        var w = MetricsWatch()
        #expect(try w.update(metrics(leaderChanges: 1, db: 790, quota: 1000)) == [])
        #expect(w.quotaWarning == nil)
        #expect(try w.update(metrics(leaderChanges: 1, db: 850, quota: 1000)) == [.dbNearQuota(size: 850, quota: 1000)])
        #expect(try w.update(metrics(leaderChanges: 1, db: 900, quota: 1000)) == [])
        #expect(w.quotaWarning == "db 90% of quota")
        #expect(
            try w.update(metrics(leaderChanges: 1, db: 500, quota: 1000)) == [.dbBelowQuota(size: 500, quota: 1000)])
        #expect(w.quotaWarning == nil)
    }

    /// Members whose backend quota (25 KiB) their fresh 20–24 KiB db is already close to: every daemon warns, and every
    /// daemon reports the leader change a leadership transfer causes; `status` shows both.
    @Test func daemonsReportLeaderChangesAndTheQuotaFromRealMetrics() async throws {
        try await LocalCluster.with(
            size: 3, version: Releases.current, label: "metrics", extraFlags: ["--quota-backend-bytes", "25600"]
        ) { cluster in
            try await ShepherdFleet.with(cluster) { fleet in
                let names = cluster.members.map(\.name)
                let warned = await eventually(timeout: .seconds(20)) {
                    names.allSatisfy { fleet.log($0).contains("of its 25 KiB quota: defragment or compact") }
                }
                #expect(warned, "not every daemon warned about the quota")

                let leader = try #require(
                    try await (0..<3).asyncFirst { try await cluster.endpoint($0).status().isLeader })
                let target = try await cluster.endpoint((leader + 1) % 3).status().header?.memberID ?? 0
                try await cluster.endpoint(leader).moveLeader(to: target)
                let newLeader = cluster.members[(leader + 1) % 3].name
                let seen = await eventually(timeout: .seconds(20)) {
                    names.allSatisfy {
                        fleet.log($0).contains("saw a leader change")
                            && fleet.log($0).contains("leader now \(newLeader)")
                    }
                }
                let logs = names.map { fleet.log($0) }.joined(separator: "\n")
                #expect(seen, "not every daemon reported the leader change:\n\(logs)")

                let table = try await fleet.cli(["status", "--config", fleet.configPath("s1")])
                #expect(
                    table.stdout.split(separator: "\n").filter { $0.contains("% of quota)") }.count == 3,
                    "\(table.stdout)")
                let json = try await fleet.cli(["status", "--json", "--config", fleet.configPath("s1")])
                let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
                let rows = try #require(obj["members"] as? [[String: Any]])
                #expect(rows.count == 3 && rows.allSatisfy { $0["quotaBackendBytes"] as? Int == 25600 })
                #expect(rows.allSatisfy { ($0["leaderChangesSeen"] as? Int ?? 0) >= 2 }, "\(json.stdout)")
            }
        }
    }
}
