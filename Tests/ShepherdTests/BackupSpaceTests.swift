import Exec
import Foundation
import Shepherd
import TestSupport
import Testing

/// A snapshot that would starve its filesystem is not taken, and without it no member is stopped; once there is room
/// the rollout goes on. Each member's backup dir is a real tmpfs of 1 MiB (less than a db plus one WAL segment).
@Suite(.serialized) struct BackupSpaceTests {
    @Test func noRoomForTheSnapshotMeansNoMemberIsStoppedUntilThereIs() async throws {
        try await LocalCluster.with(size: 3, version: "3.4.23", label: "space") { cluster in
            let dirs = cluster.members.map { $0.dir + "/backups" }
            var mounted: [String] = []
            do {
                for d in dirs {
                    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
                    let r = try await Command.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", d])
                    guard r.succeeded else {
                        throw ClusterError(
                            detail:
                                "mount -t tmpfs on \(d) failed (the tests run as root, like `make test`): \(r.summary)")
                    }
                    mounted.append(d)
                }
                let pids = cluster.members.indices.map { cluster.pid($0) }
                try await ShepherdFleet.with(cluster) { fleet in
                    let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                    let req = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                    #expect(req.succeeded, "\(req.summary)")
                    let refused = await eventually(timeout: .seconds(30)) {
                        cluster.members.contains {
                            fleet.log($0.name).contains("plus 64.0 MiB headroom (one etcd WAL segment)")
                        }
                    }
                    #expect(refused, "no daemon refused the snapshot for lack of room")
                    let snap = try await store.read()
                    #expect(snap.rollout?.state == .active && snap.backups.isEmpty)
                    #expect(snap.records.values.allSatisfy { !$0.phase.isDestructive })
                    #expect(
                        cluster.members.indices.map { cluster.pid($0) } == pids,
                        "a member was restarted without a snapshot")
                    // `check` says the same, as a warning (the snapshot may be taken on another node).
                    let check = try await fleet.cli(["check", Releases.current, "--config", fleet.configPath("s2")])
                    #expect(
                        check.exitCode == 0 && check.stdout.contains("warning: backupDir \(dirs[1]) has")
                            && check.stdout.contains("no member is stopped until the snapshot is taken"),
                        "\(check.stdout)")

                    // Room appears: the same daemons take the snapshot and finish the rollout.
                    for d in dirs { _ = try await Command.run(["mount", "-o", "remount,size=256m", d]) }
                    let done = await eventually(timeout: .seconds(120)) {
                        (try? await store.read())?.rollout?.state == .completed
                    }
                    #expect(done, "the rollout did not go on once there was room")
                    let backup = try #require(try await store.read().backups.values.first)
                    #expect(FileManager.default.fileExists(atPath: backup.path) && backup.size > 0)
                }
            } catch {
                for d in mounted { _ = try? await Command.run(["umount", d]) }
                throw error
            }
            for d in mounted { _ = try await Command.run(["umount", d]) }
        }
    }
}
