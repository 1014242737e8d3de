/// `etcdserverpb.Lease`: grant, revoke, time to live (the keepalive stream is `LeaseKeepAliveRPC.swift`).
extension EtcdEndpoint {
    static let lease = "etcdserverpb.Lease"

    /// Grants a lease; `id` 0 lets etcd choose.
    public func leaseGrant(ttl: Int64, id: Int64 = 0, timeout: Duration? = nil) async throws -> Lease {
        var request = Etcdserverpb_LeaseGrantRequest()
        request.ttl = ttl
        request.id = id
        let answer: Etcdserverpb_LeaseGrantResponse = try await unary(
            Self.lease, "LeaseGrant", request, call: "lease grant", timeout: timeout)
        return Lease(id: answer.id, ttl: answer.ttl)
    }

    public func leaseRevoke(_ id: Int64, timeout: Duration? = nil) async throws {
        var request = Etcdserverpb_LeaseRevokeRequest()
        request.id = id
        let _: Etcdserverpb_LeaseRevokeResponse = try await unary(
            Self.lease, "LeaseRevoke", request, call: "lease revoke", timeout: timeout)
    }

    /// Seconds left (≤ 0 when gone) and the granted TTL.
    public func leaseTimeToLive(_ id: Int64, timeout: Duration? = nil) async throws -> (ttl: Int64, granted: Int64) {
        var request = Etcdserverpb_LeaseTimeToLiveRequest()
        request.id = id
        let answer: Etcdserverpb_LeaseTimeToLiveResponse = try await unary(
            Self.lease, "LeaseTimeToLive", request, call: "lease timetolive", timeout: timeout)
        return (answer.ttl, answer.grantedTtl)
    }
}
