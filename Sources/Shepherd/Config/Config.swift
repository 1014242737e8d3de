import EtcdClient
import Explained
import Foundation
import Rollout

/// The daemon's configuration file (JSON). Loading rejects unknown keys and bad values with a message naming the key;
/// config.example.json documents every key.
public struct Config: Sendable, Equatable {
    public var member: Member
    public var cluster: Cluster
    public var controller: Controller
    public var requestFile: String
    public var stateDir: String
    public var backupDir: String
    public var timing: Timing
    /// Snapshots kept in backupDir (the newest; older ones are removed after each new backup).
    public var backupRetention: Int = 3
    /// The daemon's own metrics; nil: none.
    public var metrics: Metrics? = Metrics(listen: Metrics.defaultListen, textfile: nil)
    /// The operator's policy files (`*.json`), each making the built-in version policy stricter.
    public var policyDir: String = PolicyFiles.defaultDir
    /// The effective version policy: built in, with `policyDir`'s files applied (`load` reads them).
    public var policy: VersionPolicy = .builtIn
    /// `maintenance.windows`: no member is stopped outside them (gate 8); nil: none configured, any time will do.
    public var maintenance: MaintenanceSchedule? = nil
    /// `fleetLock`: serve FleetLock for this node (reboots through the same lock and gates); nil: off.
    public var fleetLock: FleetLock? = nil
    /// `notify`: a command and/or a webhook told of each rollout event; nil: none.
    public var notify: Notify? = nil

    /// The config layer's one error: what is wrong with the configuration, by the key that says it — a config key
    /// (`timing.tickSeconds`, `(file)`) or a flag or variable put over the file (`--endpoints`, `ETCDCTL_USER`), named
    /// as the operator typed it.
    public struct Invalid: ExplainedError {
        public let key: String
        public let problem: String
        public let fix: String

        public init(key: String, problem: String, fix: String = "") {
            self.key = key
            self.problem = problem
            self.fix = fix
        }

        public var thing: String { key.hasPrefix("-") || key.hasPrefix("ETCDCTL_") ? key : "config: \(key)" }
        public var cause: String { problem }
    }

    /// The config file at `path` with its drop-ins (`ConfigSources`), validated; then the policy files it names.
    public static func load(path: String) throws -> Config {
        var config = try parse(sources: sources(path: path))
        config.policy = try PolicyFiles.load(dir: config.policyDir)
        return config
    }

    /// The config file at `path` with its drop-ins, as read and merged, not yet validated (`config show`).
    public static func sources(path: String) throws -> ConfigSources {
        guard let data = FileManager.default.contents(atPath: path) else {
            let e = access(path, F_OK) != 0 ? errno : (access(path, R_OK) != 0 ? errno : EISDIR)
            switch e {
            case ENOENT:
                throw Invalid(
                    key: "(file)",
                    problem: "\(path) does not exist (ENOENT)",
                    fix: "copy config.example.json there and edit it, or name another file with --config or "
                        + "ETCD_SHEPHERD_CONFIG")
            case EACCES:
                throw Invalid(
                    key: "(file)",
                    problem: "\(path) is not readable by uid \(geteuid()) (EACCES)",
                    fix: "run as root, or fix the file's owner and mode")
            default: throw Invalid(key: "(file)", problem: "cannot read \(path): \(String(cString: strerror(e)))")
            }
        }
        return try ConfigSources.read(path: path, main: data)
    }

    public static func parse(_ data: Data) throws -> Config {
        try parse(root: ConfigSources.object(data, file: nil))
    }

    static func parse(sources: ConfigSources) throws -> Config { try parse(root: sources.merged) }

    static func parse(root: [String: JSONValue]) throws -> Config {
        let r = Reader(root, path: "")
        // The package's config is a placeholder: a daemon that guessed this node's member would supervise the wrong
        // thing, so it refuses until someone has edited the file (and removed this key).
        if r.has("placeholder") {
            throw Invalid(
                key: "placeholder",
                problem: "this is the package's placeholder config",
                fix: "set member (name, clientURL, dataDir, binaryLink, binaryPathTemplate), cluster.endpoints and "
                    + "controller for this node, delete the \"placeholder\" line, then systemctl start etcd-shepherd")
        }
        try r.allow([
            "member", "cluster", "controller", "requestFile", "stateDir", "backupDir", "backupRetention", "metrics",
            "timing", "policyDir", "maintenance", "fleetLock", "notify",
        ])
        let member = try Self.member(try r.object("member"))
        let cluster = try Self.cluster(try r.object("cluster"), member: member)
        let controller = try Self.controller(try r.object("controller"))
        let timing = r.has("timing") ? try Self.timing(try r.object("timing")) : Timing()

        return Config(
            member: member, cluster: cluster, controller: controller,
            requestFile: try r.optionalAbsPath("requestFile") ?? "/var/lib/etcd-shepherd/upgrade-request.json",
            stateDir: try r.optionalAbsPath("stateDir") ?? "/var/lib/etcd-shepherd",
            backupDir: try r.optionalAbsPath("backupDir") ?? "/var/lib/etcd-shepherd/backups",
            timing: timing, backupRetention: Int(try r.number("backupRetention", default: 3, range: 1...1000)),
            metrics: try metrics(r), policyDir: try r.optionalAbsPath("policyDir") ?? PolicyFiles.defaultDir,
            maintenance: try maintenance(r, timing: timing, now: Date().timeIntervalSince1970),
            fleetLock: try fleetLock(r), notify: try notify(r))
    }
}
