import Foundation

/// What etcd's API answers, as the daemon uses it: built from the gRPC messages (`RPC/`), or by the simulator's etcd.

public struct ResponseHeader: Sendable, Equatable {
    public let clusterID: UInt64
    public let memberID: UInt64
    public let revision: Int64
    public let raftTerm: UInt64
    public init(clusterID: UInt64 = 0, memberID: UInt64 = 0, revision: Int64, raftTerm: UInt64 = 0) {
        self.clusterID = clusterID
        self.memberID = memberID
        self.revision = revision
        self.raftTerm = raftTerm
    }
}

public struct KeyValue: Sendable, Equatable {
    public let key: [UInt8]
    public let value: [UInt8]
    public let createRevision: Int64
    public let modRevision: Int64
    public let version: Int64
    public let lease: Int64
    public var keyString: String { String(decoding: key, as: UTF8.self) }
    public var valueString: String { String(decoding: value, as: UTF8.self) }
    public init(
        key: [UInt8], value: [UInt8], createRevision: Int64, modRevision: Int64, version: Int64 = 1, lease: Int64 = 0
    ) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.lease = lease
    }
}

public struct RangeResult: Sendable, Equatable {
    public let header: ResponseHeader?
    public let kvs: [KeyValue]
    public let count: Int64
    public init(header: ResponseHeader?, kvs: [KeyValue], count: Int64? = nil) {
        self.header = header
        self.kvs = kvs
        self.count = count ?? Int64(kvs.count)
    }
}

public struct Member: Sendable, Equatable {
    public let id: UInt64
    public let name: String
    public let peerURLs: [String]
    public let clientURLs: [String]
    public let isLearner: Bool
    public init(id: UInt64, name: String, peerURLs: [String], clientURLs: [String], isLearner: Bool = false) {
        self.id = id
        self.name = name
        self.peerURLs = peerURLs
        self.clientURLs = clientURLs
        self.isLearner = isLearner
    }
}

public struct MemberStatus: Sendable, Equatable {
    public let header: ResponseHeader?
    public let version: String
    public let dbSize: Int64
    public let dbSizeInUse: Int64
    /// 0 when the member knows no leader.
    public let leader: UInt64
    public let raftIndex: UInt64
    public let raftTerm: UInt64
    public let raftAppliedIndex: UInt64
    public let errors: [String]
    public var isLeader: Bool { leader != 0 && leader == header?.memberID }
    public init(
        header: ResponseHeader?, version: String, dbSize: Int64, leader: UInt64, raftIndex: UInt64,
        raftTerm: UInt64 = 0, errors: [String] = [], dbSizeInUse: Int64? = nil, raftAppliedIndex: UInt64? = nil
    ) {
        self.header = header
        self.version = version
        self.dbSize = dbSize
        self.dbSizeInUse = dbSizeInUse ?? dbSize
        self.leader = leader
        self.raftIndex = raftIndex
        self.raftTerm = raftTerm
        self.raftAppliedIndex = raftAppliedIndex ?? raftIndex
        self.errors = errors
    }
}

public struct Lease: Sendable, Equatable {
    public let id: Int64
    /// Seconds left; 0 (or less) when the lease is unknown or expired.
    public let ttl: Int64
    public init(id: Int64, ttl: Int64) {
        self.id = id
        self.ttl = ttl
    }
    public var hex: String { Self.hex(id) }
    /// A lease ID as etcdctl prints it and lock keys and records carry it: unsigned hex. Formatted here only.
    public static func hex(_ id: Int64) -> String { String(UInt64(bitPattern: id), radix: 16) }
}

/// `/health` (plain HTTP, not the API).
public struct HealthReport: Decodable, Sendable, Equatable {
    public let healthy: Bool
    /// 3.5 explains an unhealthy answer ("RAFT NO LEADER"); 3.4 never does.
    public let reason: String
    enum K: String, CodingKey { case health, reason }
    public init(healthy: Bool, reason: String) {
        self.healthy = healthy
        self.reason = reason
    }
    public init(from d: Decoder) throws {
        let c = try d.container(keyedBy: K.self)
        // "true"/"false" as a string on every version seen; accept a bool too.
        if let s = try? c.decode(String.self, forKey: .health) {
            healthy = s == "true"
        } else {
            healthy = try c.decodeIfPresent(Bool.self, forKey: .health) ?? false
        }
        reason = try c.decodeIfPresent(String.self, forKey: .reason) ?? ""
    }
}

/// `/version` (plain HTTP, not the API).
public struct VersionInfo: Decodable, Sendable, Equatable {
    public let server: String
    /// "3.4.0" style; "not_decided" early in a new cluster's life.
    public let cluster: String
    enum CodingKeys: String, CodingKey { case server = "etcdserver", cluster = "etcdcluster" }
    public init(server: String, cluster: String) {
        self.server = server
        self.cluster = cluster
    }
}
