import Foundation
import Testing

@testable import EtcdClient

@Suite struct GatewayJSONTests {
    @Test func uint64AsStringsAndOmittedZeroFields() throws {
        let status = try JSONDecoder().decode(
            MemberStatus.self,
            from: Data(
                """
                {"header":{"cluster_id":"11652804786072892431","member_id":"6090535317558273548","raft_term":"2"},
                 "version":"3.5.1","dbSize":"458752","raftIndex":"1809","errors":["etcdserver: no leader"]}
                """.utf8))
        #expect(status.header?.memberID == 6_090_535_317_558_273_548)
        #expect(status.header?.revision == 0)  // omitted
        #expect(status.leader == 0)  // omitted when there is no leader
        #expect(!status.isLeader)
        #expect(status.errors == ["etcdserver: no leader"])
    }

    /// The keys a watch message names, as the gateway streams them (one JSON message per line); a message cut in
    /// two is not guessed at (nil: any key may have changed).
    @Test func watchMessagesNameTheirKeys() {
        func keys(_ text: String) -> [String]? { EtcdEndpoint.watchedKeys(Array(text.utf8)) }
        #expect(keys(#"{"result":{"header":{"revision":"5"},"created":true}}"#) == [])
        let put =
            #"{"result":{"header":{"revision":"6"},"events":[{"kv":{"key":"L3cvbG9jay8x","value":""}},"#
            + #"{"type":"DELETE","kv":{"key":"L3cvbWVtYmVycy9zMQ=="}}]}}"#
        #expect(keys(put) == ["/w/lock/1", "/w/members/s1"])
        #expect(keys(put + "\n" + put) == ["/w/lock/1", "/w/members/s1", "/w/lock/1", "/w/members/s1"])
        #expect(keys(String(put.prefix(40))) == nil)
    }

    @Test func failedTxnHasNoSucceededKey() throws {
        let t = try JSONDecoder().decode(
            TxnResult.self,
            from: Data(
                """
                {"header":{"revision":"18"},"responses":[{"response_range":{"header":{"revision":"18"},
                  "kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmFy"}],"count":"1"}}]}
                """.utf8))
        #expect(!t.succeeded)
        #expect(t.ranges.first?.kvs.first?.valueString == "bar")
        #expect(t.ranges.first?.kvs.first?.createRevision == 2)
    }

    @Test func healthBodiesOf34And35() throws {
        let h34 = try JSONDecoder().decode(HealthReport.self, from: Data(#"{"health":"false"}"#.utf8))
        #expect(!h34.healthy && h34.reason == "")
        let h35 = try JSONDecoder().decode(
            HealthReport.self, from: Data(#"{"health":"false","reason":"RAFT NO LEADER"}"#.utf8))
        #expect(!h35.healthy && h35.reason == "RAFT NO LEADER")
    }

    @Test func prefixEnd() {
        #expect(EtcdEndpoint.prefixEnd(Array("/a/".utf8)) == Array("/a0".utf8))
        #expect(EtcdEndpoint.prefixEnd([0x61, 0xFF]) == [0x62])
    }
}
