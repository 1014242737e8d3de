import Exec
import Foundation
import TestSupport
import Testing

/// Policy files (issue 17): an operator's `policy.d/*.json` makes the built-in policy stricter, never looser. A bad
/// file is refused like bad config — one line naming the file, the row and the fix, exit 5 — and touches nothing.
@Suite(.serialized) struct PolicyFilesTests {
    static let raise =
        #"{"floors": [{"from": "3.5", "to": "3.6", "minimum": "3.5.34", "why": "our own soak found a blocker", "source": "https://wiki.example.org/etcd-3.6"}]}"#
    static let badRelease =
        #"{"knownBad": [{"from": "3.5.30", "to": "3.5.30", "reference": "INC-4711", "why": "corrupted our staging cluster", "source": "https://wiki.example.org/inc-4711"}]}"#

    func write(_ text: String, _ path: String, mode: mode_t = 0o644) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, mode)
    }

    func policy(_ dir: String, json: Bool = false) async throws -> Command.Result {
        try await Command.run(
            [try Repo.shepherdBinary(), "policy", "--policy-dir", dir] + (json ? ["-w", "json"] : []))
    }

    @Test func stricterRowsApplyAndSayWhereTheyCameFrom() async throws {
        let dir = try TempDir("policy-ok")
        defer { dir.remove() }
        try write(Self.raise, dir.path + "/10-floor.json")
        try write(Self.badRelease, dir.path + "/20-bad.json")
        try write("not json and not read", dir.path + "/README")  // only *.json files are policy files
        let r = try await policy(dir.path)
        #expect(r.exitCode == 0, "\(r.summary)")
        #expect(
            r.stdout.contains(
                "3.5 → 3.6: 3.5.34 or later — our own soak found a blocker (https://wiki.example.org/etcd-3.6) [\(dir.path)/10-floor.json]"
            ),
            "\(r.stdout)")
        #expect(
            r.stdout.contains("3.5.32 (built-in):"),
            "the raised floor keeps the one it replaced in its history:\n\(r.stdout)")
        #expect(
            r.stdout.contains(
                "3.5.30: INC-4711: corrupted our staging cluster (https://wiki.example.org/inc-4711) [\(dir.path)/20-bad.json]"
            ))
        let j = try await policy(dir.path, json: true)
        let doc = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
        let floors = doc?["floors"] as? [[String: Any]] ?? []
        #expect(
            floors.contains {
                $0["minimum"] as? String == "3.5.34" && $0["origin"] as? String == dir.path + "/10-floor.json"
            }, "\(j.stdout)")
    }

    @Test(
        arguments: [
            (
                "lower",
                #"{"floors": [{"from": "3.5", "to": "3.6", "minimum": "3.5.20", "why": "we are in a hurry", "source": "https://example.org"}]}"#,
                0o644,
                "floors[0] (3.5 → 3.6): minimum 3.5.20 is below the floor in force, 3.5.32 (built-in); a policy file can only make the policy stricter"
            ),
            (
                "remove", #"{"remove": [{"knownBad": "3.5.1"}]}"#, 0o644,
                "remove: unknown key (known: advisories, floors, knownBad): a policy file can only add"
            ),
            (
                "narrow",
                #"{"advisories": [{"id": "CVE-2026-44283", "fixedIn": ["3.5.20"], "summary": "s", "source": "https://example.org"}]}"#,
                0o644, "fixedIn would stop covering 3.5 releases below 3.5.30"
            ),
            (
                "nosource",
                #"{"knownBad": [{"from": "3.5.30", "to": "3.5.30", "reference": "x", "why": "y", "source": "our wiki"}]}"#,
                0o644, "knownBad[0].source: 'our wiki' is not a URL"
            ),
            ("badjson", "{\n  \"floors\": [,]\n}", 0o644, "not valid JSON"),
            (
                "badversion",
                #"{"floors": [{"from": "3.5", "to": "3.6", "minimum": "v3.5.40", "why": "y", "source": "https://example.org"}]}"#,
                0o644, "floors[0].minimum: 'v3.5.40' starts with 'v'"
            ),
            ("writable", PolicyFilesTests.raise, 0o666, "is group- or world-writable (mode 666) — fix: chmod go-w"),
        ] as [(String, String, mode_t, String)])
    func aFileThatWouldLoosenOrIsBrokenIsRefused(
        name: String, text: String, mode: mode_t, expected: String
    ) async throws {
        let dir = try TempDir("policy-\(name)")
        defer { dir.remove() }
        try write(text, dir.path + "/50-\(name).json", mode: mode)
        let r = try await policy(dir.path)
        #expect(r.exitCode == 5, "\(name): \(r.summary)")
        #expect(
            r.stderr.contains("policy file \(dir.path)/50-\(name).json") && r.stderr.contains(expected),
            "\(name): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
    }

    /// A bad policy file stops every command that loads the config, exit 5, before anything is written or started.
    @Test func aBadFileTouchesNothing() async throws {
        let dir = try TempDir("policy-cfg")
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path + "/policy.d", withIntermediateDirectories: true)
        try write(
            #"{"floors": [{"from": "3.5", "to": "3.6", "minimum": "3.5.1", "why": "y", "source": "https://example.org"}]}"#,
            dir.path + "/policy.d/lower.json")
        let config = dir.path + "/c.json"
        try """
        {"member": {"name": "s1", "clientURL": "http://127.0.0.1:1", "dataDir": "/d", "binaryLink": "\(dir.path)/etcd", "binaryPathTemplate": "\(Repo.etcdBinDir)/etcd-{version}"},
         "cluster": {"endpoints": ["http://127.0.0.1:1"]}, "controller": {"kind": "command", "stop": ["true"], "start": ["true"]},
         "requestFile": "\(dir.path)/req.json", "stateDir": "\(dir.path)/state", "backupDir": "\(dir.path)/b", "policyDir": "\(dir.path)/policy.d"}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        for args in [
            ["request", Releases.current], ["run"], ["check", Releases.current], ["plan", Releases.current], ["status"],
        ] {
            let r = try await Command.run(
                [try Repo.shepherdBinary()] + args + ["--config", config], timeout: .seconds(30))
            #expect(
                r.exitCode == 5 && r.stderr.contains("lower.json") && r.stderr.contains("below the floor in force"),
                "\(args): \(r.summary)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/req.json"), "no request was written")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/state"), "the daemon did not start")
    }
}
