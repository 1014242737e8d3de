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
    func token(from endpoint: EtcdEndpoint, timeout: Duration) async throws -> String {
        if let token = current.withLock({ $0 }) { return token }
        let token = try await endpoint.authenticate(user: user, password: password, timeout: timeout)
        current.withLock { $0 = token }
        bought.withLock { $0 += 1 }
        return token
    }

    /// Whether an error's text says the token it carried is no good; if so the token is dropped (the caller buys
    /// another and tries once more).
    func rejects(message text: String, token: String) -> Bool {
        let stale = text.contains("revision of auth store is old")
        guard stale || text.contains("invalid auth token") || text.contains("auth token is expired") else {
            return false
        }
        if stale { staleRevisions.withLock { $0 += 1 } }
        current.withLock { if $0 == token { $0 = nil } }
        return true
    }
}
