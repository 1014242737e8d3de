import Foundation

// The domain types from etcd's gRPC answers: one place that reads each message.

extension ResponseHeader {
    init?(_ m: Etcdserverpb_ResponseHeader, present: Bool) {
        guard present else { return nil }
        self.init(clusterID: m.clusterID, memberID: m.memberID, revision: m.revision, raftTerm: m.raftTerm)
    }
}

extension KeyValue {
    init(_ m: Etcdserverpb_KeyValue) {
        self.init(
            key: [UInt8](m.key), value: [UInt8](m.value), createRevision: m.createRevision,
            modRevision: m.modRevision, version: m.version, lease: m.lease)
    }
}

extension RangeResult {
    init(_ m: Etcdserverpb_RangeResponse) {
        self.init(header: ResponseHeader(m.header, present: m.hasHeader), kvs: m.kvs.map(KeyValue.init), count: m.count)
    }
}

extension TxnResult {
    init(_ m: Etcdserverpb_TxnResponse) {
        self.init(
            succeeded: m.succeeded, header: ResponseHeader(m.header, present: m.hasHeader),
            ranges: m.responses.compactMap { op in
                if case let .responseRange(r)? = op.response { return RangeResult(r) }
                return nil
            })
    }
}

extension Member {
    init(_ m: Etcdserverpb_Member) {
        self.init(id: m.id, name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner)
    }
}

extension MemberStatus {
    init(_ m: Etcdserverpb_StatusResponse) {
        self.init(
            header: ResponseHeader(m.header, present: m.hasHeader), version: m.version, dbSize: m.dbSize,
            leader: m.leader, raftIndex: m.raftIndex, raftTerm: m.raftTerm, errors: m.errors,
            dbSizeInUse: m.dbSizeInUse, raftAppliedIndex: m.raftAppliedIndex)
    }
}
