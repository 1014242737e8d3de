import EtcdClient
import Exec
import Foundation
import Rollout
import TestSupport
import Testing

@testable import Shepherd

/// Every blocking row of the flag table, proven against the real binaries: a member runs that way on 3.4.23, the
/// real 3.5.30 binary refuses the same configuration with the exit code the table records, and
/// `etcd-shepherd check 3.5.30` catches it. A clean configuration passes.
@Suite(.serialized) struct PreflightTests {
    enum Way: String, CaseIterable, Sendable {
        case loggerFlag, loggerEnv, loggerYAML, debugFlag, logPackageLevelsFlag, logOutputFlag
    }

    /// Lays out a 1-member 3.4.23 cluster configured `way`, starts it, hands it to `body`, always tears it down.
    func withMember(_ way: Way?, _ body: (LocalCluster, String) async throws -> Void) async throws {
        let c = try LocalCluster(size: 1, version: "3.4.23", label: "pf")
        do {
            let m = c.members[0]
            let flagsPath = m.dir + "/flags"
            var flags = try String(contentsOfFile: flagsPath, encoding: .utf8).split(separator: "\n").map(String.init)
            flags.removeAll { $0 == "--logger" || $0 == "zap" }
            switch way {
            case .loggerFlag?: flags += ["--logger", "capnslog"]
            case .loggerEnv?:
                try "ETCD_LOGGER=capnslog\n".write(toFile: m.dir + "/env", atomically: true, encoding: .utf8)
            case .loggerYAML?:
                var yaml = ""
                var i = 0
                while i + 1 < flags.count {
                    yaml += "\(flags[i].dropFirst(2)): \(flags[i + 1])\n"
                    i += 2
                }
                yaml += "logger: capnslog\n"
                try yaml.write(toFile: m.dir + "/etcd.yml", atomically: true, encoding: .utf8)
                flags = ["--config-file", m.dir + "/etcd.yml"]
            case .debugFlag?: flags += ["--debug"]
            case .logPackageLevelsFlag?: flags += ["--log-package-levels", "etcdserver=DEBUG"]
            case .logOutputFlag?: flags += ["--log-output", "stderr"]
            case nil: flags += ["--logger", "zap"]
            }
            try (flags.joined(separator: "\n") + "\n").write(toFile: flagsPath, atomically: true, encoding: .utf8)
            let config = m.dir + "/shepherd.json"
            try Self.config(c, start: [c.memberScript, "start", m.dir]).write(
                toFile: config, atomically: true, encoding: .utf8)
            try await c.startAll()  // 3.4.23 runs with it: healthy
            try await body(c, config)
            await c.tearDown()
        } catch {
            await c.tearDown()
            throw error
        }
    }

    static func config(_ c: LocalCluster, start: [String]) -> String {
        let m = c.members[0]
        let argv = start.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            {"member": {"name": "s1", "clientURL": "\(m.clientURL)", "dataDir": "\(m.dataDir)", "binaryLink": "\(m.binaryLink)",
                        "binaryPathTemplate": "\(Repo.etcdBinDir)/etcd-{version}"},
             "cluster": {"endpoints": ["\(m.clientURL)"]},
             "controller": {"kind": "command", "stop": ["\(c.memberScript)", "stop", "\(m.dir)"], "start": [\(argv)]},
             "requestFile": "\(m.dir)/req.json", "stateDir": "\(m.dir)/state", "backupDir": "\(m.dir)/backups"}
            """
    }

    func check(_ config: String, _ version: String = Releases.current) async throws -> Command.Result {
        try await Command.run([try Repo.shepherdBinary(), "check", version, "--config", config])
    }

    /// Runs the member's exact configuration (flags, env) with another binary; returns its exit code (nil: still
    /// running after 8 s).
    func runWith(_ c: LocalCluster, binary: String) async throws -> Int32? {
        let m = c.members[0]
        let script =
            "set -a; [ -f '\(m.dir)/env' ] && . '\(m.dir)/env'; set +a; mapfile -t F < '\(m.dir)/flags'; exec timeout 8 '\(binary)' \"${F[@]}\""
        let r = try await Command.run(["bash", "-c", script], timeout: .seconds(20))
        return r.exitCode == 124 ? nil : r.exitCode
    }

    @Test(arguments: Way.allCases)
    func blockingRuleIsTrueAndCaught(way: Way) async throws {
        let ruleName =
            way == .debugFlag
            ? "debug"
            : way == .logPackageLevelsFlag
                ? "log-package-levels"
                : way == .logOutputFlag ? "log-output" : "logger"
        let rule = try #require(FlagRules.table.first { $0.name == ruleName })
        try await withMember(way) { c, config in
            let r = try await check(config)
            #expect(r.exitCode == 1, "\(r.stdout)")
            #expect(r.stdout.contains("BLOCKING") && r.stdout.contains(rule.fix), "\(r.stdout)")
            try await c.stop(0)
            let code = try await runWith(c, binary: try Repo.etcdBinary("etcd", Releases.current))
            #expect(
                code == rule.exitCode,
                "etcd \(Releases.current) with \(way) exited \(code.map(String.init) ?? "(still running)")")
        }
    }

    @Test func cleanConfigurationPasses() async throws {
        try await withMember(nil) { _, config in
            let r = try await check(config)
            #expect(r.exitCode == 0, "\(r.stdout)")
            #expect(r.stdout.contains("nothing blocks"))
            #expect(r.stdout.contains("etcd_mvcc_db_total_size_in_bytes"))  // the renamed-metric warning for 3.4 → 3.5
        }
    }

    /// --ca-file / --peer-ca-file: already refused by 3.4.23, so no member can run with them; the check catches
    /// them where they are configured (here the controller's start command).
    @Test(arguments: ["ca-file", "peer-ca-file"])
    func removedTLSFlagsInTheStartCommand(flag: String) async throws {
        try await withMember(nil) { c, _ in
            let m = c.members[0]
            let config = m.dir + "/shepherd-bad.json"
            try Self.config(
                c,
                start: [try Repo.etcdBinary("etcd", "3.4.23"), "--\(flag)", "/etc/ssl/ca.pem", "--data-dir", m.dataDir]
            )
            .write(toFile: config, atomically: true, encoding: .utf8)
            let r = try await check(config)
            #expect(r.exitCode == 1 && r.stdout.contains("--\(flag)"), "\(r.stdout)")
            try await c.stop(0)
            for v in [Releases.old, Releases.current] {
                let bin = try Repo.etcdBinary("etcd", v)
                let out = try await Command.run(
                    [bin, "--\(flag)", "/etc/ssl/ca.pem", "--data-dir", m.dataDir], timeout: .seconds(10))
                #expect(out.exitCode == 2, "\(v) with --\(flag): \(out.summary)")
            }
        }
    }

    /// member/snap/db missing while raft .snap files exist: both versions exit 2; the check says so first.
    @Test func missingBackendWithSnapFiles() async throws {
        let c = try LocalCluster(size: 1, version: "3.4.23", label: "pfdb", extraFlags: ["--snapshot-count", "10"])
        do {
            try await c.startAll()
            let m = c.members[0]
            for i in 0..<40 { try await c.endpoint(0).put("/k\(i)", Array("v".utf8)) }
            let snaps = await eventually(timeout: .seconds(10)) {
                ((try? FileManager.default.contentsOfDirectory(atPath: m.dataDir + "/member/snap")) ?? []).contains {
                    $0.hasSuffix(".snap")
                }
            }
            #expect(snaps)
            try await c.stop(0)
            try FileManager.default.removeItem(atPath: m.dataDir + "/member/snap/db")
            let config = m.dir + "/shepherd.json"
            try Self.config(c, start: [c.memberScript, "start", m.dir]).write(
                toFile: config, atomically: true, encoding: .utf8)
            let r = try await check(config)
            #expect(r.exitCode == 1 && r.stdout.contains("member/snap/db is missing"), "\(r.stdout)")
            #expect(try await runWith(c, binary: try Repo.etcdBinary("etcd", Releases.current)) == 2)
            #expect(try await runWith(c, binary: try Repo.etcdBinary("etcd", "3.4.23")) == 2)
            await c.tearDown()
        } catch {
            await c.tearDown()
            throw error
        }
    }

    @Test func flagRulesTable() {
        let s = MemberSettings(
            MemberSettings.flags(
                ["--debug", "--logger=capnslog", "--log-outputs", "stderr", "--enable-v2"], origin: "t")
                + MemberSettings.environment(["ETCD_LOG_OUTPUT": "stderr", "ETCDCTL_API": "3"], origin: "env"))
        let f = FlagRules.evaluate(s, from: EtcdVersion(3, 4, 23), to: EtcdVersion(3, 5, 1))
        #expect(f.filter { $0.severity == .blocking }.count == 2)  // --debug, --logger=capnslog
        // ignored, not fatal
        #expect(f.contains { $0.severity == .warning && $0.what.hasPrefix("ETCD_LOG_OUTPUT=stderr") })
        #expect(f.contains { $0.what.contains("--enable-v2") })
        // Patch step inside 3.4: nothing of 3.5's applies.
        #expect(FlagRules.evaluate(s, from: EtcdVersion(3, 4, 22), to: EtcdVersion(3, 4, 23)).isEmpty)
    }
}
