import EtcdClient
import Exec
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// Bad requests against a real cluster and a real daemon: each is refused with its reason, and nothing is touched
/// (no rollout record, every member still on its version, every binary link unchanged).
@Suite(.serialized) struct RequestRefusalTests {
    enum Bad: String, CaseIterable, Sendable {
        case skipMinor, missingBinary, otherVersion, wrongSha, malformedJSON, groupWritable, unknownKey
    }

    @Test func badRequestsAreRefusedAndTouchNothing() async throws {
        try await LocalCluster.with(size: 3, version: "3.4.23", label: "refuse") { cluster in
            try await ShepherdFleet.with(cluster) { fleet in
                let path = fleet.requestPath("s1")
                let links = cluster.members.map {
                    try? FileManager.default.destinationOfSymbolicLink(atPath: $0.binaryLink)
                }
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                for bad in Bad.allCases {
                    let expected: String
                    switch bad {
                    case .skipMinor:
                        try write(#"{"version":"3.6.0"}"#, path)
                        expected = "one minor at a time"
                    case .missingBinary:
                        try write(#"{"version":"3.5.30","binary":"/nonexistent/etcd"}"#, path)
                        expected = "does not exist"
                    case .otherVersion:
                        try write(
                            #"{"version":"3.5.30","binary":"\#(try Repo.etcdBinary("etcd", Releases.trixie))"}"#, path)
                        expected = "reports version 3.5.16"
                    case .wrongSha:
                        try write(#"{"version":"3.5.30","sha256":"\#(String(repeating: "0", count: 64))"}"#, path)
                        expected = "sha256"
                    case .malformedJSON:
                        try write(#"{"version": "3.5.30""#, path)
                        expected = "not valid JSON"
                    case .groupWritable:
                        try write(#"{"version":"3.5.30"}"#, path, mode: 0o664)
                        expected = "group- or world-writable"
                    case .unknownKey:
                        try write(#"{"version":"3.5.30","force":true}"#, path)
                        expected = "unknown key"
                    }
                    let handled = await eventually(timeout: .seconds(15)) {
                        FileManager.default.fileExists(atPath: path + ".rejected")
                    }
                    #expect(handled, "\(bad): not handled")
                    let status = (try? String(contentsOfFile: path + ".status", encoding: .utf8)) ?? ""
                    #expect(status.hasPrefix("rejected") && status.contains(expected), "\(bad): \(status)")
                    let outcome = RequestOutcome.read(requestFile: path)
                    #expect(outcome?.state == .rejected && outcome?.reason.contains(expected) == true, "\(bad)")
                    #expect(!FileManager.default.fileExists(atPath: path))
                    try? FileManager.default.removeItem(atPath: path + ".rejected")
                    #expect(try await store.read().rollout == nil, "\(bad) created a rollout")
                }
                for (i, m) in cluster.members.enumerated() {
                    #expect(try await cluster.endpoint(i).version().server == "3.4.23")
                    #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: m.binaryLink)) == links[i])
                }
                #expect(fleet.log("s1").contains("request refused"))
            }
        }
    }

    @Test func requestCommandRefusesAnImpossibleVersionAndWritesSafely() async throws {
        let dir = try TempDir("reqcli")
        defer { dir.remove() }
        let config = dir.path + "/c.json"
        try """
        {"member": {"name": "s1", "clientURL": "http://127.0.0.1:1", "dataDir": "/d", "binaryLink": "/l", "binaryPathTemplate": "\(Repo.etcdBinDir)/etcd-{version}"},
         "cluster": {"endpoints": ["http://127.0.0.1:1"]}, "controller": {"kind": "command", "stop": ["true"], "start": ["true"]},
         "requestFile": "\(dir.path)/req/upgrade-request.json", "stateDir": "\(dir.path)", "backupDir": "\(dir.path)/b"}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let bin = try Repo.shepherdBinary()
        let bad = try await Command.run([bin, "request", "3.x", "--config", config])
        #expect(bad.exitCode == 4 && bad.stderr.contains("not an etcd version"))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/req/upgrade-request.json"))
        // A binary that this node's daemon would refuse is refused here, before anything is written.
        let refusals: [([String], String)] = [
            (["--binary", "/nonexistent/etcd"], "/nonexistent/etcd does not exist"),
            (["--binary", try Repo.etcdBinary("etcd", Releases.trixie)], "reports version 3.5.16, expected 3.5.30"),
            (["--sha256", String(repeating: "0", count: 64)], "the request says 0000"),
        ]
        for (args, why) in refusals {
            let r = try await Command.run([bin, "request", Releases.current] + args + ["--config", config])
            #expect(
                r.exitCode == 4 && r.stderr.contains(why) && r.stderr.contains("no request was written"),
                "\(args): \(r.summary)")
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/req/upgrade-request.json"))
        }
        let good = try await Command.run([bin, "request", Releases.current, "--config", config])
        #expect(good.succeeded, "\(good.summary)")
        var st = stat()
        #expect(stat(dir.path + "/req/upgrade-request.json", &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        let req = try UpgradeRequest.read(path: dir.path + "/req/upgrade-request.json")
        #expect(req.version == Releases.current && req.allowKnownBad == nil)
    }

    /// Anyone who can write etcd can write a rollout record. One whose id would become a path (the backup file is
    /// named after it) is set aside: no lock, no backup, no stop; `status` and the journal say why; a real request
    /// replaces it.
    @Test func aRolloutRecordWithAnUnsafeIdRunsNothingUntilARequestReplacesIt() async throws {
        try await LocalCluster.with(size: 3, version: "3.4.23", label: "unsafe-id") { cluster in
            try await ShepherdFleet.with(cluster) { fleet in
                let bogus = RolloutRecord(
                    id: "../../../../tmp/pwned", from: EtcdVersion(3, 4, 23), to: EtcdVersion(3, 5, 1),
                    requestedBy: "someone", requestedAt: 0, allowKnownBad: true)
                _ = try await cluster.endpoint(0).put(
                    fleet.keyPrefix + "/rollout", Array(try JSONEncoder().encode(bogus)))
                let reported = await eventually(timeout: .seconds(15)) {
                    cluster.members.allSatisfy { fleet.log($0.name).contains("is set aside: rollout id") }
                }
                #expect(reported, "\(fleet.logTails(10))")
                let status = try await fleet.cli(["status", "--config", fleet.configPath("s1")])
                #expect(
                    status.stdout.contains("rollout: set aside, nothing runs: rollout id '..%2F..%2F"),
                    "\(status.stdout)")
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                let snap = try await store.read()
                #expect(snap.lockKeys.isEmpty && snap.records.isEmpty && snap.backups.isEmpty)
                #expect(!FileManager.default.fileExists(atPath: "/tmp/pwned-leader.db"))
                for m in cluster.members {
                    #expect((try? FileManager.default.contentsOfDirectory(atPath: m.dir + "/backups")) ?? [] == [])
                }
                // A real request replaces it (and is aborted at once: this test is about the record, not the rollout).
                try write(#"{"version":"3.5.30"}"#, fleet.requestPath("s2"))
                let replaced = await eventually(timeout: .seconds(15)) {
                    (try? await store.read())?.rollout?.requestedBy == "s2"
                }
                #expect(replaced, "\(fleet.logTails(10))")
                #expect(try await fleet.cli(["pause", "--config", fleet.configPath("s1")]).succeeded)
            }
        }
    }

    func write(_ text: String, _ path: String, mode: mode_t = 0o600) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, mode)
    }
}
