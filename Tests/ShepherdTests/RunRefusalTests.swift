import Exec
import Foundation
import TestSupport
import Testing

/// `run` refuses to start where it could not finish a rollout: a folder it must write is read-only (as under
/// `ProtectSystem=strict` without the folder in `ReadWritePaths=`). Exit 2 — the unit's RestartPreventExitStatus.
@Suite(.serialized) struct RunRefusalTests {
    @Test func aReadOnlyBinaryLinkFolderIsRefusedAtStart() async throws {
        let dir = try TempDir("run-ro")
        defer { dir.remove() }
        let ro = dir.path + "/ro"
        try FileManager.default.createDirectory(atPath: ro, withIntermediateDirectories: true)
        let mount = try await Command.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro])
        try #require(mount.succeeded, "mount a read-only tmpfs (the tests run as root): \(mount.summary)")
        do { try await refusal(dir: dir.path, ro: ro) } catch {
            _ = try? await Command.run(["umount", ro])
            throw error
        }
        _ = try? await Command.run(["umount", ro])
    }

    func refusal(dir: String, ro: String) async throws {
        let config = dir + "/c.json"
        try """
        {"member": {"name": "s1", "clientURL": "http://127.0.0.1:1", "dataDir": "/d", "binaryLink": "\(ro)/etcd", "binaryPathTemplate": "/o/{version}/etcd"},
         "cluster": {"endpoints": ["http://127.0.0.1:1"]}, "controller": {"kind": "command", "stop": ["true"], "start": ["true"]},
         "requestFile": "\(dir)/req.json", "stateDir": "\(dir)/state", "backupDir": "\(dir)/b"}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try await Command.run([try Repo.shepherdBinary(), "run", "--config", config], timeout: .seconds(20))
        #expect(r.exitCode == 2, "\(r.summary)")
        #expect(
            r.stderr.contains("member.binaryLink's folder ")
                && r.stderr.contains("/ro is not writable (Read-only file system)")
                && r.stderr.contains("ReadWritePaths="),
            "\(r.stderr)")
    }

    /// A second `etcd-shepherd run` with the same config (a debug run beside the unit) is refused while the first
    /// runs — exit 2, naming the process that holds `<stateDir>/daemon.lock` — and touches nothing. Before safety
    /// round two both ran, acting on one journal and one member.
    @Test func aSecondDaemonOnTheSameStateDirIsRefused() async throws {
        try await LocalCluster.with(size: 1, version: Releases.current, label: "twice") { cluster in
            try await ShepherdFleet.with(cluster) { fleet in
                let ready = await eventually(timeout: .seconds(20)) { fleet.log("s1").contains("supervising s1") }
                #expect(ready, "\(fleet.log("s1"))")
                let first = try String(contentsOfFile: cluster.members[0].dir + "/daemon.pid", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                let journalBefore = FileManager.default.fileExists(
                    atPath: cluster.members[0].dir + "/state/journal.json")
                let second = try await fleet.cli(["run", "--config", fleet.configPath("s1")])
                #expect(second.exitCode == 2, "\(second.summary)")
                #expect(
                    second.stderr.contains("another etcd-shepherd (pid \(first)")
                        && second.stderr.contains("daemon.lock"), "\(second.stderr)")
                #expect(
                    FileManager.default.fileExists(atPath: cluster.members[0].dir + "/state/journal.json")
                        == journalBefore)
                // The first one still runs, its member untouched.
                #expect(SafetyMonitor.alive(Int32(first)!), "the first daemon is gone")
                #expect(try await cluster.endpoint(0).health().healthy)
            }
        }
    }
}
