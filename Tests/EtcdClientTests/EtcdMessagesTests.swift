import Foundation
import SwiftProtobuf
import Testing

@testable import EtcdClient

/// etcd's answers as the daemon reads them: from the bytes a member sends (protobuf, as etcd encodes them: zero
/// values are not on the wire), and `/health` bodies.
@Suite struct EtcdMessagesTests {
    /// A status with no leader (the field absent) and an alarm, as bytes: leader 0, not the leader, the errors kept.
    @Test func statusWithoutALeader() throws {
        var m = Etcdserverpb_StatusResponse()
        m.header.memberID = 6_090_535_317_558_273_548
        m.header.raftTerm = 2
        m.version = "3.5.1"
        m.dbSize = 458_752
        m.raftIndex = 1809
        m.errors = ["etcdserver: no leader"]
        let status = MemberStatus(try Etcdserverpb_StatusResponse(serializedBytes: try m.serializedBytes() as [UInt8]))
        #expect(status.header?.memberID == 6_090_535_317_558_273_548)
        #expect(status.header?.revision == 0)
        #expect(status.leader == 0 && !status.isLeader)
        #expect(status.errors == ["etcdserver: no leader"])
        #expect(status.raftIndex == 1809 && status.raftAppliedIndex == 0)
    }

    /// A failed compare: succeeded is false (not on the wire), the failure branch's range is handed back.
    @Test func failedTxnHandsBackItsRanges() throws {
        var kv = Etcdserverpb_KeyValue()
        kv.key = Data("foo".utf8)
        kv.value = Data("bar".utf8)
        kv.createRevision = 2
        kv.modRevision = 3
        var range = Etcdserverpb_RangeResponse()
        range.kvs = [kv]
        range.count = 1
        var op = Etcdserverpb_ResponseOp()
        op.responseRange = range
        var put = Etcdserverpb_ResponseOp()
        put.responsePut = Etcdserverpb_PutResponse()
        var m = Etcdserverpb_TxnResponse()
        m.header.revision = 18
        m.responses = [put, op]
        let t = TxnResult(try Etcdserverpb_TxnResponse(serializedBytes: try m.serializedBytes() as [UInt8]))
        #expect(!t.succeeded && t.header?.revision == 18)
        #expect(t.ranges.count == 1 && t.ranges.first?.kvs.first?.valueString == "bar")
        #expect(t.ranges.first?.kvs.first?.createRevision == 2)
    }

    /// A compare and an op go out with etcd's enum values and the target's field set (a compare on create
    /// revision 0 is put-if-absent: the value 0 must still select the create target).
    @Test func comparesAndOpsAsEtcdReadsThem() throws {
        let absent = Compare.absent("/k").message
        #expect(absent.target == .create && absent.result == .equal && absent.createRevision == 0)
        #expect(absent.targetUnion == .createRevision(0))
        let mod = Compare(key: "/k", .notEqual, .modRevision(7)).message
        #expect(mod.target == .mod && mod.result == .notEqual && mod.modRevision == 7)
        let put = TxnOp.put(key: "/k", value: Array("v".utf8), lease: 9).message
        #expect(put.requestPut.key == Data("/k".utf8) && put.requestPut.lease == 9)
        #expect(TxnOp.delete(key: "/k").message.requestDeleteRange.key == Data("/k".utf8))
    }

    /// The keys a watch message's events name; the watch's first message names none.
    @Test func watchMessagesNameTheirKeys() {
        var created = Etcdserverpb_WatchResponse()
        created.created = true
        #expect(EtcdEndpoint.watchedKeys(created) == [])
        var events = Etcdserverpb_WatchResponse()
        var put = Etcdserverpb_Event()
        put.kv.key = Data("/w/lock/1".utf8)
        var delete = Etcdserverpb_Event()
        delete.type = .delete
        delete.kv.key = Data("/w/members/s1".utf8)
        events.events = [put, delete]
        #expect(EtcdEndpoint.watchedKeys(events) == ["/w/lock/1", "/w/members/s1"])
    }

    /// A permission reads as the JSON gateway's answer did (type name, keys in base64), so an auth fingerprint
    /// recorded by an earlier release of the daemon compares equal.
    @Test func permissionsDigestAsTheGatewayShowedThem() {
        var p = Etcdserverpb_Permission()
        p.permType = .readwrite
        p.key = Data("/etcd-shepherd/".utf8)
        p.rangeEnd = Data("/etcd-shepherd0".utf8)
        #expect(EtcdEndpoint.text(p) == "READWRITE L2V0Y2Qtc2hlcGhlcmQv L2V0Y2Qtc2hlcGhlcmQw")
        #expect(EtcdEndpoint.text(Etcdserverpb_Permission()) == "READ  ")
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
