import Exec
import Foundation
import Testing
import TestSupport

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
            _ = try? await Command.run(["umount", ro]); throw error
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
        #expect(r.stderr.contains("member.binaryLink's folder ") && r.stderr.contains("/ro is not writable (Read-only file system)") && r.stderr.contains("ReadWritePaths="),
                "\(r.stderr)")
    }

}
