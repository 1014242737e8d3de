import ArgumentParser
import EtcdClient
import Foundation
import Logging
import Rollout
import ServiceLifecycle
import Shepherd

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every member, the cluster version and the rollout.",
        discussion: "etcdctl's flags (--endpoints, --cacert/--cert/--key, --user, --password-file) win over their "
            + "ETCDCTL_* variables, which win over the config; with endpoints given, no config is needed.\n\n"
            + ExitHelp.text([
                (0, "every member healthy"), (1, "a member is not healthy"), (2, "usage or config"),
                (3, "no member answered"),
            ]))
    @OptionGroup var etcdctl: EtcdctlOptions
    @Option(help: "Key prefix of the rollout records (default: the config's, else /etcd-shepherd).") var keyPrefix:
        String?
    @Flag(help: "Show the status again every 2 s until interrupted.") var watch = false
    @OptionGroup var options: ConfigOption
    @OptionGroup var output: OutputOption

    func run() async throws {
        // The config is read when named, or when nothing else says where etcd is; flags and ETCDCTL_* win over it.
        let loaded: Config? = options.isExplicit || !etcdctl.namesEndpoints ? try options.load() : nil
        let cluster = try etcdctl.apply(to: loaded?.cluster)
        let prefix = keyPrefix ?? loaded?.cluster.keyPrefix ?? "/etcd-shepherd"
        while true {
            let report = try await withCluster(urls: cluster.endpoints, transport: { try cluster.makeTransport() }) {
                try await StatusReport.gather(
                    cluster: $0, keyPrefix: prefix, policy: loaded?.policy ?? .builtIn,
                    maintenance: loaded?.maintenance, timing: loaded?.timing ?? Timing())
            }
            if watch && isatty(STDOUT_FILENO) == 1 && !output.isJSON { print("\u{1b}[H\u{1b}[2J", terminator: "") }
            print(output.isJSON ? report.json() : report.table())
            guard watch else {
                if !report.allHealthy { throw ExitCode(Exit.notHealthy) }
                return
            }
            fflush(nil)
            try await Task.sleep(for: .seconds(2))
        }
    }
}
