import Crypto
import Foundation

/// `etcdserverpb.Auth`: the token a user buys, and the reads behind the auth fingerprint.
extension EtcdEndpoint {
    static let auth = "etcdserverpb.Auth"

    /// A token for `user` (sent without one).
    func authenticate(user: String, password: String, timeout: Duration?) async throws -> String {
        var request = Etcdserverpb_AuthenticateRequest()
        request.name = user
        request.password = password
        let call = "authenticate as \(user)"
        let answer: Etcdserverpb_AuthenticateResponse = try await unary(
            Self.auth, "Authenticate", request, call: call, timeout: timeout, authenticated: false)
        guard !answer.token.isEmpty else {
            throw EtcdError.decoding(
                endpoint: url, call: call, detail: "no token in the answer (is auth enabled on this cluster?)")
        }
        return answer.token
    }

    /// sha256 (hex) of every user with its roles and every role with its permissions, in a canonical order: equal
    /// exactly when users, roles and permissions are. Read with the user/role list and get calls, which need the root
    /// role — as the snapshot does — and which 3.4 and 3.5 both serve (3.5's `AuthStatus` revision would do with one
    /// call, but 3.4 has no such call). The text digested is the one the JSON gateway's answers gave (keys in base64,
    /// zero values left out), so a fingerprint recorded by an earlier release of the daemon still compares equal.
    public func authFingerprint(timeout: Duration? = nil) async throws -> String {
        var lines: [String] = []
        let users: Etcdserverpb_AuthUserListResponse = try await unary(
            Self.auth, "UserList", Etcdserverpb_AuthUserListRequest(), call: "auth user list", timeout: timeout)
        for name in users.users.sorted() {
            var request = Etcdserverpb_AuthUserGetRequest()
            request.name = name
            let user: Etcdserverpb_AuthUserGetResponse = try await unary(
                Self.auth, "UserGet", request, call: "auth user get \(name)", timeout: timeout)
            lines.append("user \(name): " + user.roles.sorted().joined(separator: ","))
        }
        let roles: Etcdserverpb_AuthRoleListResponse = try await unary(
            Self.auth, "RoleList", Etcdserverpb_AuthRoleListRequest(), call: "auth role list", timeout: timeout)
        for name in roles.roles.sorted() {
            var request = Etcdserverpb_AuthRoleGetRequest()
            request.role = name
            let role: Etcdserverpb_AuthRoleGetResponse = try await unary(
                Self.auth, "RoleGet", request, call: "auth role get \(name)", timeout: timeout)
            lines.append("role \(name): " + role.perm.map(Self.text).sorted().joined(separator: ";"))
        }
        let digest = SHA256.hash(data: Data(lines.joined(separator: "\n").utf8))
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// One permission as the fingerprint digests it: `READWRITE <key base64> <range end base64>`.
    static func text(_ p: Etcdserverpb_Permission) -> String {
        let type: String
        switch p.permType {
        case .read: type = "READ"
        case .write: type = "WRITE"
        case .readwrite: type = "READWRITE"
        case let .UNRECOGNIZED(n): type = String(n)
        }
        return "\(type) \(p.key.base64EncodedString()) \(p.rangeEnd.base64EncodedString())"
    }
}

extension EtcdCluster {
    public func authFingerprint(avoiding: Set<String> = []) async throws -> String {
        try await withFailover("auth fingerprint", avoiding: avoiding) { try await $0.authFingerprint() }
    }
}
