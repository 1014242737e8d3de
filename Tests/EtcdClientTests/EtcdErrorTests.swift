import Testing

@testable import EtcdClient

/// Which answers are worth another member: a member shutting down or overloaded is; etcd's "no" is the same
/// everywhere.
@Suite struct EtcdErrorTests {
    @Test func aClosingMemberIsRetriedElsewhereARefusalIsNot() {
        func rpc(_ code: Int, _ message: String) -> EtcdError {
            .rpc(endpoint: "http://a:2379", call: "range", code: code, message: message)
        }
        let closing = rpc(1, "grpc: the client connection is closing")
        #expect(closing.isRetryableElsewhere && !closing.isRefusal)
        let denied = rpc(7, "etcdserver: permission denied")
        #expect(!denied.isRetryableElsewhere && denied.isRefusal)
        let notLeader = rpc(9, "etcdserver: not leader")
        #expect(!notLeader.isRetryableElsewhere && notLeader.isRefusal)
        let tooMany = rpc(8, "etcdserver: too many requests")
        #expect(tooMany.isRetryableElsewhere && !tooMany.isRefusal)
        let noLeader = EtcdError.unreachable(endpoint: "http://a:2379", call: "range", detail: "etcdserver: no leader")
        #expect(noLeader.isRetryableElsewhere && !noLeader.isRefusal)
        let all = EtcdError.allEndpointsFailed(
            call: "range", errors: [denied, rpc(7, "etcdserver: permission denied")])
        #expect(all.isRefusal)
        let metrics = EtcdError.http(endpoint: "http://a:2379", call: "metrics", status: 503, message: "")
        #expect(metrics.isRetryableElsewhere && !metrics.isRefusal)
    }
}
