import EtcdClient
import Foundation
import Rollout

/// The daemon's configuration file (JSON). Loading rejects unknown keys and bad values with a message naming the key;
/// config.example.json documents every key.
public struct Config: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var name: String
        public var clientURL: String
        public var dataDir: String
        /// The symlink the member's service executes; the daemon repoints it atomically.
        public var binaryLink: String
        /// Where each version's binary lives; `{version}` is replaced ("/opt/etcd/{version}/etcd").
        public var binaryPathTemplate: String
        public func binaryPath(_ v: EtcdVersion) -> String {
            binaryPathTemplate.replacingOccurrences(of: "{version}", with: v.description)
        }
    }

    public struct Cluster: Sendable, Equatable {
        public var endpoints: [String]
        public var keyPrefix: String
        public var tls: TLSOptions
        /// etcd auth: the user the daemon acts as, and the file holding its password. nil: auth is not enabled.
        public var auth: Auth?
        /// Allow rolling 1- and 2-member clusters, which lose quorum while a member is down.
        public var allowSmallCluster: Bool
    }

    public struct Auth: Sendable, Equatable {
        public var user: String
        public var passwordFile: String
    }

    public enum Controller: Sendable, Equatable {
        /// argv (no shell) to stop the member and wait for its process to exit, to start it, and optionally to ask
        /// whether it runs (exit 0 = running).
        case command(stop: [String], start: [String], status: [String]?)
        case systemd(unit: String)
    }

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

    public struct Metrics: Sendable, Equatable {
        public static let defaultListen = "127.0.0.1:9798"
        /// host:port of the `/metrics` listener; nil: no listener.
        public var listen: String?
        /// A node-exporter textfile-collector file, rewritten (atomically) every tick; nil: none.
        public var textfile: String?
    }

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let key: String
        public let problem: String
        public var description: String { "config: \(key): \(problem)" }
    }

    public static func load(path: String) throws -> Config {
        guard let data = FileManager.default.contents(atPath: path) else {
            let e = access(path, F_OK) != 0 ? errno : (access(path, R_OK) != 0 ? errno : EISDIR)
            switch e {
            case ENOENT:
                throw Invalid(
                    key: "(file)",
                    problem:
                        "\(path) does not exist (ENOENT): copy config.example.json there and edit it, or name another file with --config or ETCD_SHEPHERD_CONFIG"
                )
            case EACCES:
                throw Invalid(
                    key: "(file)",
                    problem:
                        "\(path) is not readable by uid \(geteuid()) (EACCES): run as root, or fix the file's owner and mode"
                )
            default: throw Invalid(key: "(file)", problem: "cannot read \(path): \(String(cString: strerror(e)))")
            }
        }
        var config = try parse(data)
        config.policy = try PolicyFiles.load(dir: config.policyDir)
        return config
    }

    public static func parse(_ data: Data) throws -> Config {
        let root: [String: JSONValue]
        if let dup = JSONDuplicateKeys.first(in: data) { throw Invalid(key: dup, problem: "appears twice; keep one") }
        do {
            guard let o = try JSONValue.object(from: data) else {
                throw Invalid(key: "(root)", problem: "must be a JSON object")
            }
            root = o
        } catch let e as Invalid { throw e } catch {
            throw Invalid(key: "(file)", problem: "not valid JSON: \(JSONProblem.describe(data))")
        }
        let r = Reader(root, path: "")
        // The package's config is a placeholder: a daemon that guessed this node's member would supervise the wrong
        // thing, so it refuses until someone has edited the file (and removed this key).
        if r.has("placeholder") {
            throw Invalid(
                key: "placeholder",
                problem: "this is the package's placeholder config: set member (name, clientURL, dataDir, binaryLink, "
                    + "binaryPathTemplate), cluster.endpoints and controller for this node, delete the \"placeholder\" line, "
                    + "then systemctl start etcd-shepherd")
        }
        try r.allow([
            "member", "cluster", "controller", "requestFile", "stateDir", "backupDir", "backupRetention", "metrics",
            "timing",
            "policyDir",
        ])

        let m = try r.object("member")
        try m.allow(["name", "clientURL", "dataDir", "binaryLink", "binaryPathTemplate"])
        let member = Member(
            name: try m.string("name"), clientURL: try m.url("clientURL"), dataDir: try m.absPath("dataDir"),
            binaryLink: try m.absPath("binaryLink"), binaryPathTemplate: try m.absPath("binaryPathTemplate"))
        // The name keys this member's record in etcd, where every daemon checks names (`Identifier`): one it would
        // refuse there must be refused here, or the daemon would block on its own record.
        if let why = Identifier.problem(member.name) {
            throw Invalid(
                key: "member.name",
                problem:
                    "'\(Identifier.shown(member.name))' \(why); etcd-shepherd needs letters, digits, '.', '_' and '-' (the member's etcd --name)"
            )
        }
        guard member.binaryPathTemplate.contains("{version}") else {
            throw Invalid(key: "member.binaryPathTemplate", problem: "must contain {version}")
        }

        let c = try r.object("cluster")
        try c.allow(["endpoints", "keyPrefix", "tls", "auth", "allowSmallCluster"])
        let endpoints = try c.stringArray("endpoints")
        guard !endpoints.isEmpty else { throw Invalid(key: "cluster.endpoints", problem: "needs at least one URL") }
        for (i, e) in endpoints.enumerated() where !Reader.isURL(e) {
            throw Invalid(key: "cluster.endpoints[\(i)]", problem: "'\(e)' is not an http(s) URL")
        }
        let prefix = try c.optionalString("keyPrefix") ?? "/etcd-shepherd"
        guard prefix.hasPrefix("/"), !prefix.hasSuffix("/") else {
            throw Invalid(key: "cluster.keyPrefix", problem: "must start with / and not end with /")
        }
        var tls = TLSOptions()
        if c.has("tls") {
            let t = try c.object("tls")
            try t.allow(["caFile", "certFile", "keyFile"])
            tls = TLSOptions(
                caFile: try t.optionalPath("caFile"), certFile: try t.optionalPath("certFile"),
                keyFile: try t.optionalPath("keyFile"))
            if (tls.certFile == nil) != (tls.keyFile == nil) {
                throw Invalid(key: "cluster.tls", problem: "certFile and keyFile go together")
            }
            // A TLS config is never skipped quietly: every URL the daemon dials speaks TLS.
            let dialled =
                endpoints.enumerated().map { ("cluster.endpoints[\($0.offset)]", $0.element) } + [
                    ("member.clientURL", member.clientURL)
                ]
            for (key, url) in dialled where !tls.isEmpty && url.lowercased().hasPrefix("http://") {
                throw Invalid(key: key, problem: "'\(url)' is plain http while cluster.tls is set: use https://")
            }
            // The client key is a credential: readable by its owner only.
            var st = stat()
            if let key = tls.keyFile, stat(key, &st) == 0, st.st_mode & 0o077 != 0 {
                throw Invalid(
                    key: "cluster.tls.keyFile",
                    problem:
                        "\(key) is readable by group or others (mode \(String(st.st_mode & 0o777, radix: 8))): chmod 600 \(key)"
                )
            }
        }
        var auth: Auth?
        if c.has("auth") {
            let a = try c.object("auth")
            try a.allow(["user", "passwordFile"])
            let user = try a.string("user")
            guard !user.isEmpty, user.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7f }) else {
                throw Invalid(
                    key: "cluster.auth.user", problem: "must be an etcd user name (no spaces or control characters)")
            }
            let file = try a.absPath("passwordFile")
            _ = try PasswordFile.read(file)  // refused now, with the fix, rather than at the first call
            auth = Auth(user: user, passwordFile: file)
        }
        let cluster = Cluster(
            endpoints: endpoints, keyPrefix: prefix, tls: tls, auth: auth,
            allowSmallCluster: try c.optionalBool("allowSmallCluster") ?? false)

        let k = try r.object("controller")
        let controller: Controller
        switch try k.string("kind") {
        case "command":
            try k.allow(["kind", "stop", "start", "status"])
            let stop = try k.stringArray("stop"), start = try k.stringArray("start")
            guard !stop.isEmpty else { throw Invalid(key: "controller.stop", problem: "needs a command (argv)") }
            guard !start.isEmpty else { throw Invalid(key: "controller.start", problem: "needs a command (argv)") }
            controller = .command(stop: stop, start: start, status: k.has("status") ? try k.stringArray("status") : nil)
        case "systemd":
            try k.allow(["kind", "unit"])
            let unit = try k.string("unit")
            guard unit.hasSuffix(".service") else {
                throw Invalid(key: "controller.unit", problem: "must name a .service unit")
            }
            controller = .systemd(unit: unit)
        case let other:
            throw Invalid(key: "controller.kind", problem: "'\(other)' is not one of command, systemd")
        }

        var timing = Timing()
        if r.has("timing") {
            let t = try r.object("timing")
            try t.allow([
                "tickSeconds", "lockTTLSeconds", "verifyTimeoutSeconds", "settleSeconds", "maxObservationAgeSeconds",
                "minLeaseRemainingSeconds", "raftSlack", "stopPendingSeconds", "startGraceSeconds", "crashGraceSeconds",
                "lockWaitSeconds",
            ])
            timing.tickSeconds = try t.number("tickSeconds", default: timing.tickSeconds, range: 0.05...60)
            timing.lockTTLSeconds = Int(
                try t.number("lockTTLSeconds", default: Double(timing.lockTTLSeconds), range: 5...600))
            timing.verifyTimeoutSeconds = try t.number(
                "verifyTimeoutSeconds", default: timing.verifyTimeoutSeconds, range: 1...3600)
            timing.settleSeconds = try t.number("settleSeconds", default: timing.settleSeconds, range: 0...600)
            timing.maxObservationAgeSeconds = try t.number(
                "maxObservationAgeSeconds", default: timing.maxObservationAgeSeconds, range: 0.5...10)
            timing.minLeaseRemainingSeconds = try t.number(
                "minLeaseRemainingSeconds",
                default: min(timing.minLeaseRemainingSeconds, Double(timing.lockTTLSeconds) / 2),
                range: 1...600)
            timing.raftSlack = UInt64(try t.number("raftSlack", default: Double(timing.raftSlack), range: 0...100_000))
            timing.stopPendingSeconds = try t.number(
                "stopPendingSeconds", default: timing.stopPendingSeconds, range: 1...3600)
            timing.startGraceSeconds = try t.number(
                "startGraceSeconds", default: timing.startGraceSeconds, range: 1...3600)
            timing.crashGraceSeconds = try t.number(
                "crashGraceSeconds", default: timing.crashGraceSeconds, range: 1...600)
            timing.lockWaitSeconds = try t.number("lockWaitSeconds", default: timing.lockWaitSeconds, range: 1...600)
            guard timing.minLeaseRemainingSeconds < Double(timing.lockTTLSeconds) else {
                throw Invalid(key: "timing.minLeaseRemainingSeconds", problem: "must be below lockTTLSeconds")
            }
            // The one deadline runs from the stop to verified: it must hold the settle period and a start.
            guard timing.settleSeconds < timing.verifyTimeoutSeconds else {
                throw Invalid(
                    key: "timing.settleSeconds",
                    problem: "\(timing.settleSeconds) s is not below verifyTimeoutSeconds "
                        + "(\(timing.verifyTimeoutSeconds) s), the deadline from the stop to verified that includes it: "
                        + "raise verifyTimeoutSeconds")
            }
        }

        return Config(
            member: member, cluster: cluster, controller: controller,
            requestFile: try r.optionalAbsPath("requestFile") ?? "/var/lib/etcd-shepherd/upgrade-request.json",
            stateDir: try r.optionalAbsPath("stateDir") ?? "/var/lib/etcd-shepherd",
            backupDir: try r.optionalAbsPath("backupDir") ?? "/var/lib/etcd-shepherd/backups",
            timing: timing, backupRetention: Int(try r.number("backupRetention", default: 3, range: 1...1000)),
            metrics: try metrics(r), policyDir: try r.optionalAbsPath("policyDir") ?? PolicyFiles.defaultDir)
    }

    /// `"metrics": null` turns them off; absent, the listener runs on 127.0.0.1:9798.
    static func metrics(_ r: Reader) throws -> Metrics? {
        guard r.has("metrics") else {
            return r.isNull("metrics") ? nil : Metrics(listen: Metrics.defaultListen, textfile: nil)
        }
        let m = try r.object("metrics")
        try m.allow(["listen", "textfile"])
        let listen = m.isNull("listen") ? nil : try m.optionalString("listen") ?? Metrics.defaultListen
        if let l = listen {
            guard let colon = l.lastIndex(of: ":"), let port = Int(l[l.index(after: colon)...]),
                (0...65535).contains(port),
                colon != l.startIndex
            else {
                throw Invalid(key: "metrics.listen", problem: "'\(l)' is not host:port (like 127.0.0.1:9798)")
            }
        }
        return Metrics(listen: listen, textfile: try m.optionalAbsPath("textfile"))
    }
}

/// A parsed JSON value that keeps booleans and numbers apart.
enum JSONValue: Decodable, Equatable {
    case object([String: JSONValue]), array([JSONValue]), string(String), number(Double), bool(Bool), null
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    /// The top-level object of a JSON document; nil when the document is valid JSON but not an object.
    static func object(from data: Data) throws -> [String: JSONValue]? {
        guard case let .object(o) = try JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
        return o
    }
}

extension Config {
    /// Whether `s` is an http(s) URL with a host, as every endpoint must be.
    public static func isEndpointURL(_ s: String) -> Bool { Reader.isURL(s) }
}

/// Reads one JSON object level, naming keys by their dotted path in every error.
struct Reader {
    let o: [String: JSONValue]
    let path: String
    init(_ o: [String: JSONValue], path: String) {
        self.o = o
        self.path = path
    }

    func key(_ k: String) -> String { path.isEmpty ? k : "\(path).\(k)" }
    func has(_ k: String) -> Bool { o[k] != nil && o[k] != .null }
    /// The key is present with the value null (an explicit "off").
    func isNull(_ k: String) -> Bool { o[k] == .null }

    func allow(_ keys: Set<String>) throws {
        for k in o.keys.sorted() where !keys.contains(k) {
            throw Config.Invalid(key: key(k), problem: "unknown key (known: \(keys.sorted().joined(separator: ", ")))")
        }
    }
    func object(_ k: String) throws -> Reader {
        guard let v = o[k] else { throw Config.Invalid(key: key(k), problem: "missing") }
        guard case let .object(d) = v else { throw Config.Invalid(key: key(k), problem: "must be an object") }
        return Reader(d, path: key(k))
    }
    func string(_ k: String) throws -> String {
        guard let v = o[k] else { throw Config.Invalid(key: key(k), problem: "missing") }
        guard case let .string(s) = v, !s.isEmpty else {
            throw Config.Invalid(key: key(k), problem: "must be a non-empty string")
        }
        return s
    }
    func optionalString(_ k: String) throws -> String? { has(k) ? try string(k) : nil }
    func absPath(_ k: String) throws -> String {
        let s = try string(k)
        guard s.hasPrefix("/") else { throw Config.Invalid(key: key(k), problem: "'\(s)' must be an absolute path") }
        return s
    }
    func optionalAbsPath(_ k: String) throws -> String? { has(k) ? try absPath(k) : nil }
    func optionalPath(_ k: String) throws -> String? { has(k) ? try absPath(k) : nil }
    func url(_ k: String) throws -> String {
        let s = try string(k)
        guard Reader.isURL(s) else { throw Config.Invalid(key: key(k), problem: "'\(s)' is not an http(s) URL") }
        return s
    }
    static func isURL(_ s: String) -> Bool {
        guard let u = URL(string: s), let scheme = u.scheme, ["http", "https"].contains(scheme), u.host != nil else {
            return false
        }
        return true
    }
    func stringArray(_ k: String) throws -> [String] {
        guard let v = o[k] else { throw Config.Invalid(key: key(k), problem: "missing") }
        guard case let .array(a) = v else { throw Config.Invalid(key: key(k), problem: "must be an array of strings") }
        return try a.map {
            guard case let .string(s) = $0 else {
                throw Config.Invalid(key: key(k), problem: "must be an array of strings")
            }
            return s
        }
    }
    func optionalBool(_ k: String) throws -> Bool? {
        guard has(k) else { return nil }
        guard case let .bool(b) = o[k]! else { throw Config.Invalid(key: key(k), problem: "must be true or false") }
        return b
    }
    func number(_ k: String, default d: Double, range: ClosedRange<Double>) throws -> Double {
        guard has(k) else { return d }
        guard case let .number(v) = o[k]! else { throw Config.Invalid(key: key(k), problem: "must be a number") }
        guard range.contains(v) else {
            throw Config.Invalid(key: key(k), problem: "\(v) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }
}

extension Config.Cluster {
    /// The credentials for `auth`, the password read from its file now (it may have been rotated since the load).
    public func credentials() throws -> EtcdCredentials? {
        guard let auth else { return nil }
        return EtcdCredentials(user: auth.user, password: try PasswordFile.read(auth.passwordFile))
    }

    /// The transport for this cluster: its TLS files and its credentials.
    public func makeTransport() throws -> Transport {
        try Transport(tls: tls, credentials: credentials())
    }
}
