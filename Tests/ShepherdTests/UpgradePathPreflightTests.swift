import EtcdClient
import Exec
import Foundation
import Rollout
import TestSupport
import Testing

@testable import Shepherd

/// What no real binary here can show: a 3.6 target's v2store check (fake etcdutl scripts standing in for 3.6's,
/// which prints "No custom content found in v2store" or fails naming the custom keys).
@Suite(.serialized) struct UpgradePathPreflightTests {
    static func fakeEtcdutl(in dir: String, exit code: Int, says: String) throws -> String {
        let bin = dir + "/3.6.4"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try "#!/bin/sh\n[ \"$1 $2\" = \"check v2store\" ] || exit 9\necho '\(says)' >&2\nexit \(code)\n"
            .write(toFile: bin + "/etcdutl", atomically: true, encoding: .utf8)
        chmod(bin + "/etcdutl", 0o755)
        return bin + "/etcd"
    }

    @Test func v2storeIsCheckedWhenEnableV2IsSet() async throws {
        let dir = try TempDir("v2store")
        defer { dir.remove() }
        let withV2 = MemberSettings([
            .init(name: "enable-v2", value: "true", source: .environment, origin: "ETCD_ENABLE_V2")
        ])
        // No etcdutl beside the target: cannot be checked, so the member is not stopped.
        let missing = await Preflight.v2store(
            withV2, binary: dir.path + "/none/etcd", template: dir.path + "/none/etcd-{version}", dataDir: "/d",
            to: EtcdVersion(3, 6, 4))
        #expect(
            missing.first?.severity == .blocking
                && missing.first?.what.contains("no etcdutl with `check v2store` is staged") == true, "\(missing)")
        // Custom v2 data: blocking, with the guide's steps.
        let custom = try Self.fakeEtcdutl(
            in: dir.path + "/a", exit: 1, says: "detected custom content in v2store: /foo")
        let found = await Preflight.v2store(
            withV2, binary: custom, template: "/x/{version}/etcd", dataDir: "/d", to: EtcdVersion(3, 6, 4))
        #expect(
            found.first?.severity == .blocking && found.first?.what.contains("/foo") == true
                && found.first?.fix.contains("--snapshot-count=1") == true, "\(found)")
        // Clean: nothing from this check (the flag itself is still a finding of the flag rules).
        let clean = try Self.fakeEtcdutl(in: dir.path + "/b", exit: 0, says: "No custom content found in v2store")
        #expect(
            await Preflight.v2store(
                withV2, binary: clean, template: "/x/{version}/etcd", dataDir: "/d", to: EtcdVersion(3, 6, 4)
            ).isEmpty)
        // Not set, or a 3.5 target: not run at all.
        #expect(
            await Preflight.v2store(
                MemberSettings(), binary: custom, template: "/x/{version}/etcd", dataDir: "/d", to: EtcdVersion(3, 6, 4)
            ).isEmpty)
        #expect(
            await Preflight.v2store(
                withV2, binary: custom, template: "/x/{version}/etcd", dataDir: "/d", to: EtcdVersion(3, 5, 26)
            ).isEmpty)
    }

    /// v2store for real: a real 3.5.30 member started with `--enable-v2`. With custom data written through the v2 API,
    /// the 3.6 preflight — run with 3.5.30's etcdutl, the newest staged that has `check v2store` (no 3.6 etcdutl
    /// reaches
    /// these machines), and saying so — blocks with the guide's steps; without v2 data the same check passes (a
    /// warning that names the etcdutl it used). 3.5.30's check reads the v2 snapshot only, hence --snapshot-count 10.
    @Test(arguments: [true, false])
    func v2storeOnARealMember(withV2Data: Bool) async throws {
        try await LocalCluster.with(
            size: 1, version: Releases.current, label: "v2store", extraFlags: ["--enable-v2", "--snapshot-count", "10"]
        ) { c in
            let fleet = try ShepherdFleet(cluster: c)  // the config only; no daemon
            let url = c.members[0].clientURL
            for i in 0..<25 {
                if withV2Data {
                    let put = try await Command.run([
                        "curl", "-sf", "-X", "PUT", "\(url)/v2/keys/custom/k\(i)", "-d", "value=v\(i)",
                    ])
                    #expect(put.succeeded && put.stdout.contains("\"action\":\"set\""), "v2 put: \(put.summary)")
                } else {
                    try await c.endpoint(0).put("/v3/k\(i)", Array("v\(i)".utf8))
                }
            }
            let snaps = try FileManager.default.contentsOfDirectory(atPath: c.members[0].dataDir + "/member/snap")
                .filter { $0.hasSuffix(".snap") }
            try #require(!snaps.isEmpty, "no raft snapshot was written")
            let r = try await Command.run([
                try Repo.shepherdBinary(), "check", "3.6.4", "-w", "json", "--config", fleet.configPath("s1"),
            ])
            let doc = try #require(
                try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.summary)")
            let findings = (doc["findings"] as? [[String: String]]) ?? []
            let v2 = findings.filter { ($0["what"] ?? "").contains("v2 data in") }
            let utl = try Repo.etcdBinary("etcdutl", Releases.current)
            #expect(v2.count == 1, "\(findings)")
            let f = try #require(v2.first)
            #expect(
                f["what"]?.contains("\(utl) check v2store") == true
                    && f["what"]?.contains("etcdutl 3.5.30, the newest staged that has the check") == true
                    && f["what"]?.contains("no etcdutl 3.6.4 is staged") == true, "\(f)")
            if withV2Data {
                #expect(
                    f["severity"] == "blocking" && f["what"]?.contains("found custom v2 data") == true
                        && f["fix"]?.contains("--snapshot-count=1") == true
                        && f["fix"]?.contains("remove --enable-v2") == true
                        && f["fix"]?.contains("https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/") == true, "\(f)")
            } else {
                #expect(
                    f["severity"] == "warning" && f["what"]?.contains("found no custom v2 data") == true
                        && f["fix"]?.contains("stage etcdutl 3.6.4") == true, "\(f)")
            }
            // The flag itself blocks a 3.6 target either way (3.6 removes the v2 store).
            #expect(
                findings.contains { $0["severity"] == "blocking" && ($0["what"] ?? "").hasPrefix("--enable-v2") },
                "\(findings)")
            #expect(r.exitCode == 1)
        }
    }

    /// `plan 3.6.4` on a real 3.5.30 cluster: below the current guide's 3.5.32 floor, so it is refused with the floor,
    /// the
    /// reason, the source and the command to get there; both hops are planned (3.5.30 → 3.5.32 → 3.6.4), each judged,
    /// the missing binaries of both blocking.
    @Test func planBelowTheFloorShowsBothHops() async throws {
        try await LocalCluster.with(size: 3, version: Releases.current, label: "plan-hops") { cluster in
            let fleet = try ShepherdFleet(cluster: cluster)  // the config only; no daemon
            let r = try await Command.run([
                try Repo.shepherdBinary(), "plan", "3.6.4", "--config", fleet.configPath("s1"),
            ])
            #expect(r.exitCode == 1, "\(r.summary)")
            for text in [
                "needs every member on 3.5.32+ first — 3.5.24 through 3.5.32 fix several potential upgrade blockers",
                "(https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/)", "etcd-shepherd request 3.6.4 --via 3.5.32",
                "rollout: 3.5.30 → 3.5.32 → 3.6.4", "hop 1 3.5.30 → 3.5.32: version policy: ok (patchUp)",
                "hop 2 3.5.32 → 3.6.4: version policy: ok (minorUp)", "etcd-3.5.32", "etcd-3.6.4", "gates for hop 2",
                "GHSA-3wh4-j44w-pg92", "roll to 3.5.32 or later",
            ] {
                #expect(r.stdout.contains(text), "plan lacks '\(text)':\n\(r.stdout)")
            }
            // check without --via: the floor as a blocking finding, with the reason, the source and the command.
            let direct = try await Command.run([
                try Repo.shepherdBinary(), "check", "3.6.4", "--config", fleet.configPath("s1"),
            ])
            #expect(
                direct.exitCode == 1
                    && direct.stdout.contains("3.5.30 → 3.6.4: every 3.5 member must run 3.5.32 or later first")
                    && direct.stdout.contains("https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/")
                    && direct.stdout.contains("etcd-shepherd request 3.6.4 --via 3.5.32"), "\(direct.summary)")
            // check --via judges both hops and both binaries too (the flag is never silently ignored).
            let c = try await Command.run([
                try Repo.shepherdBinary(), "check", "3.6.4", "--via", "3.5.32", "-w", "json", "--config",
                fleet.configPath("s1"),
            ])
            #expect(
                c.exitCode == 1 && c.stdout.contains("etcd-3.5.32") && c.stdout.contains("etcd-3.6.4")
                    && !c.stdout.contains("must run 3.5.32"),
                "\(c.summary)")
        }
    }
}
