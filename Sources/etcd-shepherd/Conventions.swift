import ArgumentParser
import Foundation
import Rollout
import Shepherd

/// Where every subcommand finds the daemon's config: `--config`, else `$ETCD_SHEPHERD_CONFIG`, else the file the
/// package installs.
struct ConfigOption: ParsableArguments {
    static let installed = "/etc/etcd-shepherd/config.json"

    @Option(
        name: .long,
        help: "The daemon's JSON config file (default: $ETCD_SHEPHERD_CONFIG, else \(ConfigOption.installed)).")
    var config: String?

    /// The path in use, and whether someone named it (flag or environment) rather than the default.
    var path: String { config ?? Self.fromEnvironment ?? Self.installed }
    var isExplicit: Bool { config != nil || Self.fromEnvironment != nil }
    static var fromEnvironment: String? {
        ProcessInfo.processInfo.environment["ETCD_SHEPHERD_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func load() throws -> Config {
        do { return try Config.load(path: path) } catch let e as PolicyOverlay.Problem {
            throw Failure(code: Exit.badPolicy, message: "\(e)")
        } catch { throw Failure(code: Exit.usage, message: "\(error)") }
    }

    /// The config with etcdctl's flags and `ETCDCTL_*` variables put over its `cluster` section.
    func load(_ etcdctl: EtcdctlOptions) throws -> Config {
        var config = try load()
        config.cluster = try etcdctl.apply(to: config.cluster)
        return config
    }
}

/// etcdctl's connection flags, on every subcommand that talks to etcd; each falls back to its `ETCDCTL_*` variable,
/// then to the config (`ConnectionOverrides`).
struct EtcdctlOptions: ParsableArguments {
    @Option(help: "Comma-separated client URLs (else $ETCDCTL_ENDPOINTS, else the config's).") var endpoints: String?
    @Option(help: "CA file for TLS (else $ETCDCTL_CACERT, else the config's).") var cacert: String?
    @Option(help: "Client certificate (else $ETCDCTL_CERT, else the config's).") var cert: String?
    @Option(help: "Client key (else $ETCDCTL_KEY, else the config's).") var key: String?
    @Option(help: "etcd user, or user:password (else $ETCDCTL_USER, else the config's cluster.auth.user).")
    var user: String?
    @Option(help: "File holding the etcd user's password (else $ETCDCTL_PASSWORD, else the config's).")
    var passwordFile: String?

    var overrides: ConnectionOverrides {
        ConnectionOverrides(
            endpoints: endpoints, cacert: cacert, cert: cert, key: key, user: user, passwordFile: passwordFile)
    }

    /// Whether anything here or in the environment says where etcd is (then no config is needed to reach it).
    var namesEndpoints: Bool {
        endpoints?.isEmpty == false || ProcessInfo.processInfo.environment["ETCDCTL_ENDPOINTS"]?.isEmpty == false
    }

    func apply(to cluster: Config.Cluster?) throws -> Config.Cluster {
        do { return try overrides.apply(to: cluster) } catch { throw Failure(code: Exit.usage, message: "\(error)") }
    }
}

/// `--json`, or `-w json` / `--write-out json` as etcdctl users type it.
/// `-w` / `--write-out`, as etcdctl spells it; help and shell completions list the values.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

struct OutputOption: ParsableArguments {
    @Flag(help: "Print JSON (the same as -w json).") var json = false
    @Option(name: [.customShort("w"), .customLong("write-out")], help: "Output format.") var writeOut: OutputFormat?

    var isJSON: Bool { json || writeOut == .json }

    /// Prints `value` as pretty, key-sorted JSON.
    func print<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// The exit codes, the same meaning in every command; each command's --help lists the ones it uses.
enum ExitHelp {
    static func text(_ lines: [(Int32, String)]) -> String {
        "EXIT CODES\n" + lines.map { "  \($0.0)  \($0.1)" }.joined(separator: "\n")
            + "\n(2 is always a usage or configuration error; 3 always means the cluster could not be reached; 5 always means a "
            + "policy file in the config's policyDir is invalid.)"
    }
}
