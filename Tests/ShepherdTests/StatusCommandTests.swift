import EtcdClient
import Exec
import Foundation
import Rollout
import TestSupport
import Testing

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
                #expect(
                    row.contains(String(m.id, radix: 16)) && row.contains(m.clientURLs[0]) && row.contains("3.4.23")
                        && row.contains("healthy"))
                #expect(row.contains(" * ") == (m.id == leader), "leader marker on \(m.name)")
            }
            #expect(table.stdout.contains("cluster version: 3.4   healthy: 3/3"))

            let json = try await Command.run([bin, "status", "--endpoints", eps, "--json"])
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(obj["clusterVersion"] as? String == "3.4")
            let jm = try #require(obj["members"] as? [[String: Any]])
            #expect(Set(jm.compactMap { $0["id"] as? String }) == Set(members.map { String($0.id, radix: 16) }))
            #expect(jm.filter { $0["leader"] as? Bool == true }.count == 1)
            #expect(jm.allSatisfy { ($0["raftIndex"] as? Int ?? 0) > 0 && ($0["dbSizeBytes"] as? Int ?? 0) > 0 })

            // The lock: the oldest key holds it, named by the member record written under its lease; a waiter queues.
            let ep = cluster.endpoint(0)
            let a = try await ep.leaseGrant(ttl: 30), b = try await ep.leaseGrant(ttl: 30)
            _ = try await ep.lock("/etcd-shepherd/lock", lease: a.id, timeout: .seconds(5))
            let record = MemberRecord(
                rolloutID: "r1", memberID: 1, phase: .verifying, from: EtcdVersion(3, 4, 23),
                to: EtcdVersion(3, 5, 1), leaseID: String(UInt64(bitPattern: a.id), radix: 16), updatedAt: 0)
            _ = try await ep.put("/etcd-shepherd/members/s2", Array(try JSONEncoder().encode(record)))
            let waiter = Task {
                try? await cluster.endpoint(1).lock("/etcd-shepherd/lock", lease: b.id, timeout: .seconds(20))
            }
            let hexA = String(UInt64(bitPattern: a.id), radix: 16), hexB = String(UInt64(bitPattern: b.id), radix: 16)
            let expected = "lock: held by s2 (lease \(hexA)); waiting: lease \(hexB)"
            let queued = await eventually(timeout: .seconds(10)) {
                (try? await Command.run([bin, "status", "--endpoints", eps]))?.stdout.contains(expected) == true
            }
            let shown = try await Command.run([bin, "status", "--endpoints", eps]).stdout
            #expect(queued, "expected '\(expected)' in:\n\(shown)")
            try await ep.leaseRevoke(a.id)
            try await ep.leaseRevoke(b.id)
            _ = await waiter.value
            _ = try await ep.delete("/etcd-shepherd/", prefix: true)

            // One member down: still listed (from the member list), shown unreachable, exit 1.
            try await cluster.stop(2)
            let down = try await Command.run([bin, "status", "--endpoints", eps])
            #expect(down.exitCode == 1)
            #expect(
                down.stdout.split(separator: "\n").contains { $0.hasPrefix("s3 ") && $0.contains("unreachable") },
                "\(down.stdout)")
        }
        // Nothing answers: exit 3, naming the endpoint; usage and config errors: exit 2.
        let port = FreePort.next()
        let none = try await Command.run([bin, "status", "--endpoints", "http://127.0.0.1:\(port)"])
        #expect(none.exitCode == 3 && none.stderr.contains("127.0.0.1:\(port)"), "\(none.summary)")
        // The cause and what to check, not NIO's "connection reset (error set) … (errno: 111)".
        #expect(
            none.stderr.contains("connection refused: nothing listens there") && !none.stderr.contains("errno"),
            "\(none.stderr)")
        #expect(try await Command.run([bin, "status"]).exitCode == 2)
        #expect(try await Command.run([bin, "status", "--bogus"]).exitCode == 2)
        let notURL = try await Command.run([bin, "status", "--endpoints", "127.0.0.1:2379"])
        #expect(
            notURL.exitCode == 2 && notURL.stderr.contains("'127.0.0.1:2379' is not an http(s) URL"),
            "\(notURL.summary)")
        let bad = try await Command.run([bin, "status", "--config", "/nonexistent/config.json"])
        #expect(bad.exitCode == 2 && bad.stderr.contains("/nonexistent/config.json"))
    }

    /// etcdctl's habits on a real cluster: ETCDCTL_ENDPOINTS is enough (no config), a flag wins over it, and it wins
    /// over the config's endpoints — for status and for a command that needs the config (pause).
    @Test func etcdctlFlagsThenVariablesThenTheConfig() async throws {
        let bin = try Repo.shepherdBinary()
        let dir = try TempDir("etcdctl-env")
        defer { dir.remove() }
        let dead = "http://127.0.0.1:\(FreePort.next())"
        try """
        {"member": {"name": "s1", "clientURL": "http://127.0.0.1:2379", "dataDir": "/d", "binaryLink": "/l", "binaryPathTemplate": "/b/etcd-{version}"},
         "cluster": {"endpoints": ["\(dead)"]}, "controller": {"kind": "command", "stop": ["true"], "start": ["true"]},
         "stateDir": "\(dir.path)/state", "policyDir": "\(dir.path)/policy"}
        """.write(toFile: dir.path + "/c.json", atomically: true, encoding: .utf8)
        try await LocalCluster.with(version: "3.4.23", label: "etcdctl-env") { cluster in
            let eps = cluster.clientURLs.joined(separator: ",")
            let fromEnv = try await Command.run([bin, "status"], environment: ["ETCDCTL_ENDPOINTS": eps])
            #expect(fromEnv.exitCode == 0 && fromEnv.stdout.contains("healthy: 3/3"), "\(fromEnv.summary)")
            let flagWins = try await Command.run(
                [bin, "status", "--endpoints", eps], environment: ["ETCDCTL_ENDPOINTS": dead])
            #expect(flagWins.exitCode == 0, "\(flagWins.summary)")
            let envUsed = try await Command.run([bin, "status"], environment: ["ETCDCTL_ENDPOINTS": dead])
            #expect(envUsed.exitCode == 3 && envUsed.stderr.contains(dead), "\(envUsed.summary)")
            // The config names a dead endpoint; the variable wins over it.
            let config = ["--config", dir.path + "/c.json"]
            let overConfig = try await Command.run([bin, "status"] + config, environment: ["ETCDCTL_ENDPOINTS": eps])
            #expect(overConfig.exitCode == 0, "\(overConfig.summary)")
            let configOnly = try await Command.run([bin, "pause"] + config)
            #expect(configOnly.exitCode == 3, "\(configOnly.summary)")
            // Reached: there is no rollout to pause (exit 1), not an unreachable cluster (3).
            let paused = try await Command.run([bin, "pause"] + config, environment: ["ETCDCTL_ENDPOINTS": eps])
            #expect(paused.exitCode == 1 && paused.stderr.contains("no rollout"), "\(paused.summary)")
            let noPassword = try await Command.run(
                [bin, "status", "--endpoints", eps], environment: ["ETCDCTL_USER": "root"])
            #expect(
                noPassword.exitCode == 2 && noPassword.stderr.contains("ETCDCTL_USER: no password for etcd user root"),
                "\(noPassword.summary)")
        }
    }
}
