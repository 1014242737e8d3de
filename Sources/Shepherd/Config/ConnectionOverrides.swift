import EtcdClient
import Foundation

/// Where etcd is and who to be, said the way etcdctl takes it: a flag (`--endpoints`, `--cacert`, `--cert`, `--key`,
/// `--user`, `--password-file`) wins over its environment variable (`ETCDCTL_ENDPOINTS`, `ETCDCTL_CACERT`,
/// `ETCDCTL_CERT`, `ETCDCTL_KEY`, `ETCDCTL_USER`, `ETCDCTL_PASSWORD`), which wins over the config file. Every
/// subcommand that talks to etcd applies them to the config's `cluster` section.
public struct ConnectionOverrides: Sendable, Equatable {
    public var endpoints: String?
    public var cacert: String?
    public var cert: String?
    public var key: String?
    /// `name` or `name:password`, as etcdctl's `--user`.
    public var user: String?
    public var passwordFile: String?

    public init(
        endpoints: String? = nil, cacert: String? = nil, cert: String? = nil, key: String? = nil,
        user: String? = nil, passwordFile: String? = nil
    ) {
        self.endpoints = endpoints
        self.cacert = cacert
        self.cert = cert
        self.key = key
        self.user = user
        self.passwordFile = passwordFile
    }

    /// A flag or variable that is wrong is a `Config.Invalid` named as the operator typed it (`--endpoints`,
    /// `ETCDCTL_USER`): the config as this command sees it is the file with these put over it.
    typealias Invalid = Config.Invalid

    /// `base` (the config's section; nil without a config) with the flags and the environment put over it. Throws
    /// `Invalid` naming the flag or variable that is wrong, and when nothing says where etcd is.
    public func apply(
        to base: Config.Cluster?, environment env: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Config.Cluster {
        func pick(_ flag: String?, _ variable: String) -> (value: String, origin: String)? {
            if let flag, !flag.isEmpty { return (flag, "--" + Self.flagName[variable]!) }
            if let value = env[variable], !value.isEmpty { return (value, variable) }
            return nil
        }
        var cluster = base ?? Config.Cluster(endpoints: [])
        if let (list, origin) = pick(endpoints, "ETCDCTL_ENDPOINTS") {
            let urls = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !urls.isEmpty else { throw Invalid(key: origin, problem: "names no endpoint") }
            if let bad = urls.first(where: { !Config.isEndpointURL($0) }) {
                throw Invalid(key: origin, problem: "'\(bad)' is not an http(s) URL (like http://127.0.0.1:2379)")
            }
            cluster.endpoints = urls
        }
        guard !cluster.endpoints.isEmpty else {
            throw Invalid(
                key: "--endpoints", problem: "no endpoints",
                fix: "give --endpoints, ETCDCTL_ENDPOINTS or a config (--config)")
        }
        if let (file, _) = pick(cacert, "ETCDCTL_CACERT") { cluster.tls.caFile = file }
        if let (file, _) = pick(cert, "ETCDCTL_CERT") { cluster.tls.certFile = file }
        if let (file, _) = pick(key, "ETCDCTL_KEY") { cluster.tls.keyFile = file }
        if (cluster.tls.certFile == nil) != (cluster.tls.keyFile == nil) {
            throw Invalid(key: "--cert/--key", problem: "a client certificate and its key go together")
        }
        if let (who, origin) = pick(user, "ETCDCTL_USER") {
            // etcdctl's `name:password`; otherwise the password from --password-file or ETCDCTL_PASSWORD — not the
            // config's, which belongs to the config's user.
            let parts = who.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard !parts[0].isEmpty else { throw Invalid(key: origin, problem: "names no user") }
            var auth = Config.Auth(user: parts[0], password: parts.count == 2 ? parts[1] : nil)
            if auth.password == nil {
                if let file = passwordFile, !file.isEmpty {
                    auth.passwordFile = file
                } else if let password = env["ETCDCTL_PASSWORD"], !password.isEmpty {
                    auth.password = password
                } else if cluster.auth?.user == auth.user {
                    auth = cluster.auth!
                } else {
                    throw Invalid(
                        key: origin,
                        problem: "no password for etcd user \(auth.user)",
                        fix: "give --password-file, ETCDCTL_PASSWORD or "
                            + "\(origin == "ETCDCTL_USER" ? "ETCDCTL_USER=" : "--user ")\(auth.user):<password>")
                }
            }
            cluster.auth = auth
        } else if let file = passwordFile, !file.isEmpty {
            guard var auth = cluster.auth else {
                throw Invalid(key: "--password-file", problem: "names no user's password", fix: "give --user too")
            }
            auth.passwordFile = file
            auth.password = nil
            cluster.auth = auth
        } else if let password = env["ETCDCTL_PASSWORD"], !password.isEmpty, var auth = cluster.auth {
            auth.password = password
            cluster.auth = auth
        }
        return cluster
    }

    static let flagName = [
        "ETCDCTL_ENDPOINTS": "endpoints", "ETCDCTL_CACERT": "cacert", "ETCDCTL_CERT": "cert", "ETCDCTL_KEY": "key",
        "ETCDCTL_USER": "user",
    ]
}
