import Testing

@testable import EtcdClient

/// 3.3 serves the same gRPC API at the same paths as 3.4 and later (the JSON gateway's prefix differed, `/v3beta`; the
/// daemon no longer uses the gateway): a 3.3-shaped member is spoken to like any other.
@Suite struct Etcd33Tests {
    @Test func a33MemberAnswersTheCallsADaemonMakes() async throws {
        try await Etcd33Double.with { url in
            let transport = try Transport()
            do {
                let cluster = EtcdCluster(urls: [url], transport: transport)
                let members = try await cluster.memberList()
                #expect(members.map(\.name) == ["old33"] && members.first?.id == Etcd33Double.memberID)
                #expect(try await cluster.range("/k").kvs.first?.valueString == "v33")
                let status = try await cluster.endpoint(url).status()
                #expect(status.version == "3.3.27" && status.isLeader && status.raftIndex == 9)
                #expect(status.errors.isEmpty && status.raftAppliedIndex == 0)
                // A call 3.3 does not serve is etcd's "no" (UNIMPLEMENTED), not a member to fail over from.
                let error = await #expect(throws: EtcdError.self) { try await cluster.endpoint(url).leaseGrant(ttl: 5) }
                #expect(
                    error?.isRefusal == true && error?.isRetryableElsewhere == false, "\(String(describing: error))")
            } catch {
                try await transport.shutdown()
                throw error
            }
            try await transport.shutdown()
        }
    }
}
