import Crypto
import Foundation

extension EtcdEndpoint {
    /// sha256 (hex) of every user with its roles and every role with its permissions, in a canonical order: equal
    /// exactly when users, roles and permissions are. Read with the gateway's auth calls (user/role list and get),
    /// which need the root role — as the snapshot does — and which 3.4 and 3.5 both serve (3.5's `auth/status`
    /// revision would do with one call, but 3.4 has no such call).
    public func authFingerprint(timeout: Duration? = nil) async throws -> String {
        struct Users: Decodable { let users: [String]? }
        struct User: Decodable { let roles: [String]? }
        struct Roles: Decodable { let roles: [String]? }
        struct Perm: Decodable {
            let permType: String?, key: String?, range_end: String?
            var text: String { "\(permType ?? "READ") \(key ?? "") \(range_end ?? "")" }
        }
        struct Role: Decodable { let perm: [Perm]? }
        var lines: [String] = []
        let users: Users = try await post("/auth/user/list", JSONBody(), call: "auth user list", timeout: timeout)
        for name in (users.users ?? []).sorted() {
            var b = JSONBody()
            b["name"] = name
            let u: User = try await post("/auth/user/get", b, call: "auth user get \(name)", timeout: timeout)
            lines.append("user \(name): " + (u.roles ?? []).sorted().joined(separator: ","))
        }
        let roles: Roles = try await post("/auth/role/list", JSONBody(), call: "auth role list", timeout: timeout)
        for name in (roles.roles ?? []).sorted() {
            var b = JSONBody()
            b["role"] = name
            let r: Role = try await post("/auth/role/get", b, call: "auth role get \(name)", timeout: timeout)
            lines.append("role \(name): " + (r.perm ?? []).map(\.text).sorted().joined(separator: ";"))
        }
        let digest = SHA256.hash(data: Data(lines.joined(separator: "\n").utf8))
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}

extension EtcdCluster {
    public func authFingerprint(avoiding: Set<String> = []) async throws -> String {
        try await withFailover("auth fingerprint", avoiding: avoiding) { try await $0.authFingerprint() }
    }
}
