import Testing

@testable import EtcdClient

/// Which answers are worth another member. A member whose etcd is shutting down answers HTTP 408 with gRPC CANCELLED
/// ("grpc: the client connection is closing", measured on 3.4.23 during a stop): the call never reached its server,
/// so it goes to another member instead of failing the caller (a range in RolloutRecordEditTests failed on it).
@Suite struct EtcdErrorTests {
    @Test func aClosingMemberIsRetriedElsewhere() {
        let closing = EtcdError.http(
            endpoint: "http://a:2379", call: "range", status: 408, code: 1,
            message: "grpc: the client connection is closing")
        #expect(closing.isRetryableElsewhere && !closing.isRefusal)
        let denied = EtcdError.http(
            endpoint: "http://a:2379", call: "range", status: 403, code: 7, message: "permission denied")
        #expect(!denied.isRetryableElsewhere && denied.isRefusal)
        let unavailable = EtcdError.http(
            endpoint: "http://a:2379", call: "range", status: 503, code: 14, message: "etcdserver: no leader")
        #expect(unavailable.isRetryableElsewhere && !unavailable.isRefusal)
    }
}
