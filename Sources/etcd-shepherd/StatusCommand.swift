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
        discussion: "Flags given (--endpoints, --cacert/--cert/--key, --key-prefix) override the config's values.\n\n"
            + ExitHelp.text([
                (0, "every member healthy"), (1, "a member is not healthy"), (2, "usage or config"),
                (3, "no member answered"),
            ]))
    @Option(help: "Comma-separated client URLs (overrides the config's).") var endpoints: String?
    @Option(help: "CA file for TLS (overrides the config's TLS files).") var cacert: String?
    @Option(help: "Client certificate.") var cert: String?
    @Option(help: "Client key.") var key: String?
    @Option(help: "Key prefix of the rollout records (default: the config's, else /etcd-shepherd).") var keyPrefix:
        String?
    @Flag(help: "Show the status again every 2 s until interrupted.") var watch = false
    @OptionGroup var options: ConfigOption
    @OptionGroup var output: OutputOption

    func run() async throws {
        // The config is read when named, or when no --endpoints says where to go; flags override what it says.
        let loaded: Config? = options.isExplicit || endpoints == nil ? try options.load() : nil
        let urls =
            endpoints.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
            ?? loaded?.cluster.endpoints ?? []
        let tlsFlags = TLSOptions(caFile: cacert, certFile: cert, keyFile: key)
        let prefix = keyPrefix ?? loaded?.cluster.keyPrefix ?? "/etcd-shepherd"
        guard !urls.isEmpty else { throw Failure(code: Exit.usage, message: "--endpoints is empty") }
        if let bad = urls.first(where: { !Config.isEndpointURL($0) }) {
            throw Failure(
                code: Exit.usage, message: "--endpoints: '\(bad)' is not an http(s) URL (like http://127.0.0.1:2379)")
        }
        let makeTransport: () throws -> Transport = {
            guard let loaded else { return try Transport(tls: tlsFlags) }
            return try Transport(
                tls: tlsFlags.isEmpty ? loaded.cluster.tls : tlsFlags, credentials: loaded.cluster.credentials())
        }
        while true {
            let report = try await withCluster(urls: urls, transport: makeTransport) {
                try await StatusReport.gather(cluster: $0, keyPrefix: prefix, policy: loaded?.policy ?? .builtIn)
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
