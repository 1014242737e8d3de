import Foundation
import NIOCore
import Synchronization

/// etcd auth (RBAC): a user, the password that buys its token, and the token while it lasts.
///
/// The token is bought by the first call that needs one and shared by every endpoint: a simple token is replicated
/// through raft and a JWT is signed, so either is good on every member. It is bought again when a member says it is
/// not (a restarted member has forgotten every simple token; a simple token expires after `--auth-token-ttl` idle
/// seconds; a JWT after its `ttl`) or that its auth revision is old (users, roles or permissions changed since it was
/// bought — counted in `staleRevisionsSeen`, which a rollout that must not see such a change watches).
/// The password is never part of a description, a log line or an error.
public final class EtcdCredentials: Sendable, CustomStringConvertible {
    public let user: String
    private let password: String
    private let current = Mutex<String?>(nil)
    private let staleRevisions = Mutex(0)
    private let bought = Mutex(0)

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    public var description: String { "etcd user \(user)" }

    /// How many tokens were bought since this object was made (the first, then one per rejection).
    public var tokensBought: Int { bought.withLock { $0 } }

    /// How many answers said "revision of auth store is old" since this object was made.
    public var staleRevisionsSeen: Int { staleRevisions.withLock { $0 } }

    /// The current token, bought from `endpoint` when there is none.
    func token(transport: Transport, endpoint: String, prefix: String, timeout: Duration) async throws -> String {
        if let token = current.withLock({ $0 }) { return token }
        var body = JSONBody()
        body["name"] = user
        body["password"] = password
        let call = "authenticate as \(user)"
        let a = try await transport.sendOnce(
            endpoint: endpoint, path: prefix + "/auth/authenticate", call: call,
            method: .POST, body: body.data(), token: nil, timeout: timeout)
        guard a.status == 200 else {
            throw GatewayError.from(status: a.status, body: a.body, endpoint: endpoint, call: call)
        }
        struct Answer: Decodable { let token: String? }
        guard let token = (try? JSONDecoder().decode(Answer.self, from: a.body))?.token, !token.isEmpty else {
            throw EtcdError.decoding(
                endpoint: endpoint, call: call, detail: "no token in the answer (is auth enabled on this cluster?)")
        }
        current.withLock { $0 = token }
        bought.withLock { $0 += 1 }
        return token
    }

    /// Whether `answer` says the token it carried is no good; if so the token is dropped (the caller buys another
    /// and tries once more).
    func rejects(_ answer: Transport.Answer, token: String) -> Bool {
        answer.status != 200 && rejects(message: String(buffer: answer.body), token: token)
    }

    /// The same for an error's text (the gRPC snapshot's status message).
    func rejects(message text: String, token: String) -> Bool {
        let stale = text.contains("revision of auth store is old")
        guard stale || text.contains("invalid auth token") || text.contains("auth token is expired") else {
            return false
        }
        if stale { staleRevisions.withLock { $0 += 1 } }
        current.withLock { if $0 == token { $0 = nil } }
        return true
    }

    /// Whether a call to `path` carries a token: every v3 API call; not /health, /version, /metrics.
    static func needsToken(_ path: String) -> Bool { path.hasPrefix("/v3") }

    /// The API prefix of a path (`/v3` of `/v3/kv/range`), where `/auth/authenticate` lives.
    static func prefix(of path: String) -> String {
        let rest = path.dropFirst()
        return "/" + (rest.split(separator: "/", maxSplits: 1).first.map(String.init) ?? "v3")
    }
}
