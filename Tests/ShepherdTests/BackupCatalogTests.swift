import Foundation
import TestSupport
import Testing

@testable import Shepherd

@Suite struct BackupCatalogTests {
    static func fill(_ dir: String, count: Int) throws -> [String] {
        try (1...count).map { i in
            let file = "\(dir)/r\(i)-1.db"
            try #require(
                FileManager.default.createFile(atPath: file, contents: Data(repeating: UInt8(i), count: 100 * i)))
            try BackupCatalog.record(
                .init(
                    file: file, rolloutID: "r\(i)", leaderID: "1", leaderURL: "http://a:2379", revision: Int64(i),
                    size: Int64(100 * i), sha256: String(repeating: "a", count: 64), takenAt: Double(1000 + i),
                    etcdVersion: "3.4.23",
                    members: [.init(name: "s1", peerURL: "http://a:2380"), .init(name: "s2", peerURL: "http://b:2380")])
            )
            return file
        }
    }

    @Test func keepsTheNewestAndNeverTheProtectedOne() throws {
        let dir = try TempDir("backups")
        defer { dir.remove() }
        let files = try Self.fill(dir.path, count: 5)
        try #require(FileManager.default.createFile(atPath: dir.path + "/notes.txt", contents: Data("keep me".utf8)))
        #expect(BackupCatalog.list(dir: dir.path).map(\.rolloutID) == ["r5", "r4", "r3", "r2", "r1"])
        let removed = BackupCatalog.prune(dir: dir.path, keep: 3, protecting: files[4])
        #expect(Set(removed) == [files[0], files[1]])
        #expect(!FileManager.default.fileExists(atPath: files[0] + ".json"), "the sidecar goes with its snapshot")
        // The snapshot the rollout relies on stays even when it is not among the newest.
        #expect(BackupCatalog.prune(dir: dir.path, keep: 1, protecting: files[2]) == [files[3]])
        #expect(BackupCatalog.list(dir: dir.path).map(\.rolloutID) == ["r5", "r3"])
        #expect(FileManager.default.fileExists(atPath: dir.path + "/notes.txt"), "only snapshots are pruned")
    }

    @Test func restoreCommandsPerMemberWithTheToolOfTheVersion() throws {
        var e = BackupCatalog.Entry(
            file: "/b/r1-1.db", rolloutID: "r1", leaderID: "1", leaderURL: nil, revision: 9, size: 1, sha256: nil,
            takenAt: 0, etcdVersion: "3.4.23",
            members: [.init(name: "s1", peerURL: "http://a:2380"), .init(name: "s2", peerURL: "http://b:2380")])
        let old = BackupCatalog.restoreCommands(e, dataDir: "/var/lib/etcd")
        #expect(
            old == [
                "ETCDCTL_API=3 etcdctl snapshot restore /b/r1-1.db --name s1 --initial-cluster s1=http://a:2380,s2=http://b:2380 --initial-cluster-token etcd-restored-r1 --initial-advertise-peer-urls http://a:2380 --data-dir /var/lib/etcd.restored",
                "ETCDCTL_API=3 etcdctl snapshot restore /b/r1-1.db --name s2 --initial-cluster s1=http://a:2380,s2=http://b:2380 --initial-cluster-token etcd-restored-r1 --initial-advertise-peer-urls http://b:2380 --data-dir /var/lib/etcd.restored",
            ])
        e.etcdVersion = "3.5.1"
        #expect(BackupCatalog.restoreCommands(e, dataDir: "/d").allSatisfy { $0.hasPrefix("etcdutl snapshot restore") })
    }
}
