import ArgumentParser
import EtcdClient
import Foundation
import Logging
import Rollout
import ServiceLifecycle
import Shepherd

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a rollout would do now; changes nothing.",
        discussion: ExitHelp.text([
            (0, "a rollout would proceed"), (1, "something blocks it"), (2, "usage or config"), (3, "unreachable"),
            (4, "invalid version"),
        ]))
    @OptionGroup var target: VersionTarget
    @OptionGroup var options: ConfigOption
    @OptionGroup var etcdctl: EtcdctlOptions
    @OptionGroup var output: OutputOption

    func run() async throws {
        let config = try options.load(etcdctl)
        let v = try target.parsed()
        let plan = try await withCluster(config: config) {
            try await Shepherd.Plan.make(
                config: config, cluster: $0, target: v, via: try target.parsedVia(),
                allowKnownBad: target.allowKnownBad, allowAuthRisk: target.allowAuthRisk,
                binary: target.binary, sha256: target.sha256)
        }
        if output.isJSON { try output.print(plan) } else { print(plan.lines.joined(separator: "\n")) }
        if plan.blocked { throw ExitCode(Exit.notHealthy) }
    }
}
