import EtcdClient
import Exec
import Foundation
import Testing
import TestSupport

/// `etcd-shepherd status` against a real 3-member cluster: every member of the member list, correctly.
@Suite(.serialized) struct StatusCommandTests {
    @Test func tableJSONAndExitCodes() async throws {
        let bin = try Repo.shepherdBinary()
        try await LocalCluster.with(version: "3.4.23", label: "status") { cluster in
            let eps = cluster.clientURLs.joined(separator: ",")
            let members = try await cluster.endpoint(0).memberList()
            let leader = try await cluster.endpoint(0).status().leader

            let table = try await Command.run([bin, "status", "--endpoints", eps])
            #expect(table.exitCode == 0, "\(table.summary)")
            let rows = table.stdout.split(separator: "\n").filter { $0.hasPrefix("s") }
            #expect(rows.count == 3)
            for m in members {
                let row = try #require(rows.first { $0.hasPrefix(m.name + " ") }, "no row for \(m.name)")
                #expect(row.contains(m.idHex) && row.contains(m.clientURLs[0]) && row.contains("3.4.23") && row.contains("healthy"))
                #expect(row.contains(" * ") == (m.id == leader), "leader marker on \(m.name)")
            }
            #expect(table.stdout.contains("cluster version: 3.4   healthy: 3/3"))

            let json = try await Command.run([bin, "status", "--endpoints", eps, "--json"])
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(obj["clusterVersion"] as? String == "3.4")
            let jm = try #require(obj["members"] as? [[String: Any]])
            #expect(Set(jm.compactMap { $0["id"] as? String }) == Set(members.map(\.idHex)))
            #expect(jm.filter { $0["leader"] as? Bool == true }.count == 1)
            #expect(jm.allSatisfy { ($0["raftIndex"] as? Int ?? 0) > 0 && ($0["dbSizeBytes"] as? Int ?? 0) > 0 })

            // One member down: still listed (from the member list), shown unreachable, exit 1.
            try await cluster.stop(2)
            let down = try await Command.run([bin, "status", "--endpoints", eps])
            #expect(down.exitCode == 1)
            #expect(down.stdout.split(separator: "\n").contains { $0.hasPrefix("s3 ") && $0.contains("unreachable") }, "\(down.stdout)")
        }
        // Nothing answers: exit 3, naming the endpoint; usage and config errors: exit 2.
        let port = FreePort.next()
        let none = try await Command.run([bin, "status", "--endpoints", "http://127.0.0.1:\(port)"])
        #expect(none.exitCode == 3 && none.stderr.contains("127.0.0.1:\(port)"), "\(none.summary)")
        #expect(try await Command.run([bin, "status"]).exitCode == 2)
        #expect(try await Command.run([bin, "status", "--bogus"]).exitCode == 2)
        let bad = try await Command.run([bin, "status", "--config", "/nonexistent/config.json"])
        #expect(bad.exitCode == 2 && bad.stderr.contains("/nonexistent/config.json"))
    }
}
