/// etcd's client API as the daemon uses it: the port behind which a real cluster (`EtcdCluster`) or the fleet
/// simulator's etcd answers. The daemon's store, lock, observer and request intake speak only this, so the simulator
/// runs them as they run in production.
///
/// Contract: calls without a member URL go to any member, failing over as `EtcdCluster.withFailover` does (the
/// members in `avoiding` last); every call has a deadline and throws `EtcdError`; a call that fails may still have
/// been applied (a write is read back before it is relied on); reads are linearizable.
public protocol EtcdAPI: Sendable {
    func range(_ key: String, prefix: Bool, avoiding: Set<String>) async throws -> RangeResult
    func txn(compare: [Compare], success: [TxnOp], failure: [TxnOp], avoiding: Set<String>) async throws -> TxnResult
    func memberList(avoiding: Set<String>) async throws -> [Member]
    func leaseGrant(ttl: Int64, avoiding: Set<String>) async throws -> Lease
    /// One keepalive round trip; the answered TTL is 0 when the lease is unknown or expired.
    func leaseKeepAlive(_ id: Int64, avoiding: Set<String>) async throws -> Lease
    func leaseRevoke(_ id: Int64, avoiding: Set<String>) async throws
    /// The digest of etcd's users, roles and permissions (`AuthFingerprint`).
    func authFingerprint() async throws -> String

    // One member, by client URL.
    func health(of url: String, timeout: Duration) async throws -> HealthReport
    func status(of url: String, timeout: Duration) async throws -> MemberStatus
    func version(of url: String, timeout: Duration) async throws -> VersionInfo
    func metrics(of url: String, only: Set<String>?, timeout: Duration) async throws -> PrometheusText
    /// Sent to the leader at `url`: hand leadership to `target`.
    func moveLeader(at url: String, to target: UInt64, timeout: Duration) async throws
}

extension EtcdAPI {
    public func range(_ key: String, prefix: Bool = false) async throws -> RangeResult {
        try await range(key, prefix: prefix, avoiding: [])
    }
    public func txn(compare: [Compare], success: [TxnOp], avoiding: Set<String> = []) async throws -> TxnResult {
        try await txn(compare: compare, success: success, failure: [], avoiding: avoiding)
    }
    public func memberList() async throws -> [Member] { try await memberList(avoiding: []) }
}

extension EtcdCluster: EtcdAPI {
    public func authFingerprint() async throws -> String { try await authFingerprint(avoiding: []) }

    public func health(of url: String, timeout: Duration) async throws -> HealthReport {
        try await endpoint(url).health(timeout: timeout)
    }
    public func status(of url: String, timeout: Duration) async throws -> MemberStatus {
        try await endpoint(url).status(timeout: timeout)
    }
    public func version(of url: String, timeout: Duration) async throws -> VersionInfo {
        try await endpoint(url).version(timeout: timeout)
    }
    public func metrics(of url: String, only: Set<String>?, timeout: Duration) async throws -> PrometheusText {
        try await endpoint(url).metrics(only: only, timeout: timeout)
    }
    public func moveLeader(at url: String, to target: UInt64, timeout: Duration) async throws {
        try await endpoint(url).moveLeader(to: target, timeout: timeout)
    }
}
