import ArgumentParser
import EtcdClient
import Foundation
import Logging
import Rollout
import ServiceLifecycle
import Shepherd

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Preflight this node for a target version: version policy, binary, data dir, the member's flags.",
        discussion: ExitHelp.text([
            (0, "nothing blocks"), (1, "something blocks"), (2, "usage or config"),
            (3, "the cluster could not be reached (the version policy was not checked) and nothing local blocks"),
            (4, "invalid version"),
        ]))
    @OptionGroup var target: VersionTarget
    @OptionGroup var options: ConfigOption
    @OptionGroup var etcdctl: EtcdctlOptions
    @OptionGroup var output: OutputOption

    func run() async throws {
        let config = try options.load(etcdctl)
        let to = try target.parsed()
        // The version policy needs the cluster; the local checks do not.
        let seen = try? await withCluster(config: config) {
            NodeCheck.Seen(try await ClusterObserver(cluster: $0).observe())
        }
        let check = await NodeCheck.make(
            config: config, seen: seen, to: to, via: try target.parsedVia(), binary: target.binary,
            sha256: target.sha256, allowKnownBad: target.allowKnownBad, allowAuthRisk: target.allowAuthRisk)
        if output.isJSON { try output.print(check) } else { print(check.lines.joined(separator: "\n")) }
        if check.blocking > 0 { throw ExitCode(Exit.notHealthy) }
        // Nothing local blocks, but the cluster's half (the version policy) was not checked: not a pass.
        if !check.reachable { throw ExitCode(Exit.unreachable) }
    }
}
