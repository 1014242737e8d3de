import EtcdClient
import Foundation
import Rollout

extension Config {
    /// `cluster`: the endpoints every daemon talks to, the key prefix of the records, TLS and etcd auth.
    public struct Cluster: Sendable, Equatable {
        public var endpoints: [String]
        public var keyPrefix: String
        public var tls: TLSOptions
        /// etcd auth: the user the daemon acts as, and the file holding its password. nil: auth is not enabled.
        public var auth: Auth?
        /// Allow rolling 1- and 2-member clusters, which lose quorum while a member is down.
        public var allowSmallCluster: Bool

        public init(
            endpoints: [String], keyPrefix: String = "/etcd-shepherd", tls: TLSOptions = TLSOptions(),
            auth: Auth? = nil, allowSmallCluster: Bool = false
        ) {
            self.endpoints = endpoints
            self.keyPrefix = keyPrefix
            self.tls = tls
            self.auth = auth
            self.allowSmallCluster = allowSmallCluster
        }
    }

    public struct Auth: Sendable, Equatable {
        public var user: String
        /// Where the password is read from (the config's `passwordFile`, or `--password-file`)…
        public var passwordFile: String?
        /// …or the password itself, as etcdctl takes it from `ETCDCTL_PASSWORD` or `--user name:password` (never
        /// from the config file).
        public var password: String?

        public init(user: String, passwordFile: String? = nil, password: String? = nil) {
            self.user = user
            self.passwordFile = passwordFile
            self.password = password
        }
    }

    /// `member` for the TLS check: every URL the daemon dials must speak TLS when cluster.tls is set.
    static func cluster(_ c: Reader, member: Member) throws -> Cluster {
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
                throw Invalid(key: key, problem: "'\(url)' is plain http while cluster.tls is set", fix: "use https://")
            }
            // The client key is a credential: readable by its owner only.
            var st = stat()
            if let key = tls.keyFile, stat(key, &st) == 0, st.st_mode & 0o077 != 0 {
                throw Invalid(
                    key: "cluster.tls.keyFile",
                    problem: "\(key) is readable by group or others (mode \(String(st.st_mode & 0o777, radix: 8)))",
                    fix: "chmod 600 \(key)")
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
        return Cluster(
            endpoints: endpoints, keyPrefix: prefix, tls: tls, auth: auth,
            allowSmallCluster: try c.optionalBool("allowSmallCluster") ?? false)

    }
}

extension Config.Cluster {
    /// The credentials for `auth`, the password read from its file now (it may have been rotated since the load).
    public func credentials() throws -> EtcdCredentials? {
        guard let auth else { return nil }
        if let password = auth.password { return EtcdCredentials(user: auth.user, password: password) }
        guard let file = auth.passwordFile else {
            throw Config.Invalid(
                key: "cluster.auth",
                problem: "no password for etcd user \(auth.user)", fix: "give a password file or ETCDCTL_PASSWORD")
        }
        return EtcdCredentials(user: auth.user, password: try PasswordFile.read(file))
    }

    /// The transport for this cluster: its TLS files and its credentials.
    public func makeTransport() throws -> Transport {
        try Transport(tls: tls, credentials: credentials())
    }
}
