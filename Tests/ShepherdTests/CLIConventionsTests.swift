import Exec
import Foundation
import TestSupport
import Testing

/// The CLI's conventions, against a real member: the config found by default, flags over the config, `-w json`
/// everywhere, exit codes in every --help, one-line errors that name the thing, the cause and the fix.
@Suite(.serialized) struct CLIConventionsTests {
    @Test func configDefaultsFlagsOverrideJSONAndExitCodes() async throws {
        let bin = try Repo.shepherdBinary()
        try await LocalCluster.with(size: 1, version: "3.4.23", label: "cli") { cluster in
            let fleet = try ShepherdFleet(cluster: cluster)  // writes the member's config; no daemon is started
            let cfg = fleet.configPath("s1")
            // $ETCD_SHEPHERD_CONFIG instead of --config.
            let env = try await Command.run([bin, "status"], environment: ["ETCD_SHEPHERD_CONFIG": cfg])
            #expect(env.exitCode == 0 && env.stdout.contains("healthy: 1/1"), "\(env.summary)")
            // --endpoints over the config's: a dead URL given on the command line is the one dialled.
            let dead = "http://127.0.0.1:\(FreePort.next())"
            let over = try await Command.run([bin, "status", "--config", cfg, "--endpoints", dead])
            #expect(over.exitCode == 3 && over.stderr.contains(dead), "\(over.summary)")
            // -w json / --json on status, plan, check; a format that is not one of them is a usage error.
            for args in [
                ["status", "-w", "json"], ["plan", Releases.current, "--write-out", "json"],
                ["check", Releases.current, "--json"],
            ] {
                let r = try await Command.run([bin] + args + ["--config", cfg])
                #expect([0, 1].contains(r.exitCode), "\(args): \(r.summary)")
                let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
                #expect(obj != nil, "\(args) printed no JSON object: \(r.stdout)")
                if args[0] == "check" { #expect(obj?["reachable"] as? Bool == true && obj?["findings"] is [Any]) }
                if args[0] == "plan" { #expect(obj?["lines"] is [String] && obj?["blocked"] is Bool) }
            }
            let yaml = try await Command.run([bin, "status", "-w", "yaml", "--config", cfg])
            #expect(yaml.exitCode == 2 && yaml.stderr.contains("yaml"), "\(yaml.summary)")
            // The help (and the shell completions) list the formats.
            let help = try await Command.run([bin, "status", "--help"])
            #expect(help.stdout.contains("values: table, json"), "\(help.stdout)")

            // check on a node whose cluster does not answer: not a pass (exit 3), the local findings still shown.
            let text = try String(contentsOfFile: cfg, encoding: .utf8).replacingOccurrences(
                of: cluster.members[0].clientURL, with: dead)
            let deadCfg = cluster.temp.path + "/dead.json"
            try text.write(toFile: deadCfg, atomically: true, encoding: .utf8)
            let unreachable = try await Command.run([bin, "check", Releases.current, "--config", deadCfg])
            #expect(
                unreachable.exitCode == 3 && unreachable.stdout.contains("cluster unreachable"),
                "\(unreachable.summary)")
        }
        // No --config, no $ETCD_SHEPHERD_CONFIG: the installed path, and what to do when it is missing.
        let missing = try await Command.run([bin, "status"], environment: ["ETCD_SHEPHERD_CONFIG": ""])
        #expect(
            missing.exitCode == 2 && missing.stderr.contains("/etc/etcd-shepherd/config.json does not exist")
                && missing.stderr.contains("ETCD_SHEPHERD_CONFIG"), "\(missing.summary)")
        // A config that is not JSON: the line and column.
        let dir = try TempDir("cli-bad")
        defer { dir.remove() }
        try "{\n  \"member\": {\n    \"name\": \"s1\",,\n  }\n}\n".write(
            toFile: dir.path + "/c.json", atomically: true, encoding: .utf8)
        let broken = try await Command.run([bin, "status", "--config", dir.path + "/c.json"])
        #expect(broken.exitCode == 2 && broken.stderr.contains("line 3, column"), "\(broken.summary)")
        #expect(!broken.stderr.contains("DecodingError"), "library internals in: \(broken.stderr)")
        // Every subcommand's --help lists its exit codes.
        for sub in ["run", "status", "request", "plan", "check", "pause", "resume", "abort", "forget", "snapshot"] {
            let help = try await Command.run([bin, sub, "--help"])
            #expect(
                help.stdout.contains("EXIT CODES") && help.stdout.contains("  0  "), "\(sub) --help: \(help.summary)")
            // -w json on every subcommand but the daemon; etcdctl's connection flags on every one that talks to etcd.
            #expect(help.stdout.contains("--write-out") == (sub != "run"), "\(sub) --help: -w")
            #expect(
                ["--endpoints", "--cacert", "--user", "--password-file"].allSatisfy(help.stdout.contains)
                    == (sub != "run"),
                "\(sub) --help: etcdctl's flags")
        }
    }
}
