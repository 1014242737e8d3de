import ArgumentParser
import EtcdClient
import Foundation
import Logging
import Rollout
import ServiceLifecycle
import Shepherd

struct SaveSnapshot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract:
            "Save a verified snapshot from the cluster's leader to PATH, as the daemon does before the first stop.",
        discussion: ExitHelp.text([
            (0, "saved"), (2, "usage, config, or PATH exists"), (3, "unreachable, or the snapshot failed"),
        ]))
    @Argument(help: "Where to write the snapshot (a new file; mode 0600).") var path: String
    @OptionGroup var options: ConfigOption
    @OptionGroup var etcdctl: EtcdctlOptions
    @OptionGroup var output: OutputOption

    func run() async throws {
        let config = try options.load(etcdctl)
        guard !FileManager.default.fileExists(atPath: path) else {
            throw Failure(code: Exit.usage, message: "\(path) exists; give a new path")
        }
        let started = ContinuousClock.now
        let (info, leader) = try await withCluster(config: config) { cluster in
            let view = try await ClusterObserver(cluster: cluster).observe()
            guard let leader = view.members.first(where: \.isLeader) else {
                throw EtcdError.unreachable(
                    endpoint: config.cluster.endpoints.joined(separator: ","), call: "snapshot", detail: "no leader")
            }
            return (
                try await cluster.endpoint(leader.clientURL).snapshot(to: path, idleTimeout: .seconds(10)),
                leader.name.rawValue
            )
        }
        let seconds = (ContinuousClock.now - started).seconds
        if output.isJSON {
            struct Saved: Encodable {
                let path: String, leader: String, size: Int64, seconds: Double, sha256: String
            }
            try output.print(Saved(path: path, leader: leader, size: info.size, seconds: seconds, sha256: info.sha256))
            return
        }
        print(
            String(
                format: "saved %@ from %@: %lld bytes in %.2f s (%.1f MiB/s), sha256 %@", path, leader, info.size,
                seconds,
                Double(info.size) / 1_048_576 / max(seconds, 0.001), info.sha256))
    }
}
