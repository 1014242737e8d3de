/// Types of the v3 gateway (JSON over HTTP). Integers come as strings and zero values are omitted: every decoder
/// here goes through the `KeyedDecodingContainer` helpers in GatewayJSON.swift.

public struct ResponseHeader: Decodable, Sendable, Equatable {
    public let clusterID: UInt64
    public let memberID: UInt64
    public let revision: Int64
    public let raftTerm: UInt64
    enum K: String, CodingKey { case cluster_id, member_id, revision, raft_term }
    public init(clusterID: UInt64 = 0, memberID: UInt64 = 0, revision: Int64, raftTerm: UInt64 = 0) {
        self.clusterID = clusterID
        self.memberID = memberID
        self.revision = revision
        self.raftTerm = raftTerm
    }
    public init(from d: Decoder) throws {
        let c = try d.container(keyedBy: K.self)
        clusterID = try c.uint64(.cluster_id)
        memberID = try c.uint64(.member_id)
        revision = try c.int64(.revision)
        raftTerm = try c.uint64(.raft_term)
    }
}

public struct KeyValue: Decodable, Sendable, Equatable {
    public let key: [UInt8]
    public let value: [UInt8]
    public let createRevision: Int64
    public let modRevision: Int64
    public let version: Int64
    public let lease: Int64
    public var keyString: String { String(decoding: key, as: UTF8.self) }
    public var valueString: String { String(decoding: value, as: UTF8.self) }
    enum K: String, CodingKey { case key, value, create_revision, mod_revision, version, lease }
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
    public init(from d: Decoder) throws {
        let c = try d.container(keyedBy: K.self)
        key = try c.bytes(.key)
        value = try c.bytes(.value)
        createRevision = try c.int64(.create_revision)
        modRevision = try c.int64(.mod_revision)
        version = try c.int64(.version)
        lease = try c.int64(.lease)
    }
}

public struct RangeResult: Decodable, Sendable, Equatable {
    public let header: ResponseHeader?
    public let kvs: [KeyValue]
    public let count: Int64
    enum K: String, CodingKey { case header, kvs, count }
    public init(header: ResponseHeader?, kvs: [KeyValue]) {
        self.header = header
        self.kvs = kvs
        count = Int64(kvs.count)
    }
    public init(from d: Decoder) throws {
        let c = try d.container(keyedBy: K.self)
        header = try c.decodeIfPresent(ResponseHeader.self, forKey: .header)
        kvs = try c.decodeIfPresent([KeyValue].self, forKey: .kvs) ?? []
        count = try c.int64(.count)
    }
}

public struct Member: Decodable, Sendable, Equatable {
    public let id: UInt64
    public let name: String
    public let peerURLs: [String]
    public let clientURLs: [String]
    public let isLearner: Bool
    enum K: String, CodingKey { case ID, name, peerURLs, clientURLs, isLearner }
    public init(id: UInt64, name: String, peerURLs: [String], clientURLs: [String], isLearner: Bool = false) {
        self.id = id
        self.name = name
        self.peerURLs = peerURLs
        self.clientURLs = clientURLs
        self.isLearner = isLearner
    }
    public init(from d: Decoder) throws {
        let c = try d.container(keyedBy: K.self)
        id = try c.uint64(.ID)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        peerURLs = try c.decodeIfPresent([String].self, forKey: .peerURLs) ?? []
        clientURLs = try c.decodeIfPresent([String].self, forKey: .clientURLs) ?? []
        isLearner = try c.flag(.isLearner)
    }
}

public struct MemberStatus: Decodable, Sendable, Equatable {
    public let header: ResponseHeader?
    public let version: String
    public let dbSize: Int64
    public let dbSizeInUse: Int64
    /// 0 when the member knows no leader (the field is left out).
    public let leader: UInt64
    public let raftIndex: UInt64
    public let raftTerm: UInt64
    public let raftAppliedIndex: UInt64
    public let errors: [String]
    public var isLeader: Bool { leader != 0 && leader == header?.memberID }
    enum K: String, CodingKey {
        case header, version, dbSize, dbSizeInUse, leader, raftIndex, raftTerm, raftAppliedIndex, errors
    }
    public init(
        header: ResponseHeader?, version: String, dbSize: Int64, leader: UInt64, raftIndex: UInt64,
        raftTerm: UInt64 = 0,
        errors: [String] = []
    ) {
        self.header = header
        self.version = version
        self.dbSize = dbSize
        dbSizeInUse = dbSize
        self.leader = leader
        self.raftIndex = raftIndex
        self.raftTerm = raftTerm
        raftAppliedIndex = raftIndex
        self.errors = errors
    }
    public init(from d: Decoder) throws {
        let c = try d.container(keyedBy: K.self)
        header = try c.decodeIfPresent(ResponseHeader.self, forKey: .header)
        version = try c.decodeIfPresent(String.self, forKey: .version) ?? ""
        dbSize = try c.int64(.dbSize)
        dbSizeInUse = try c.int64(.dbSizeInUse)
        leader = try c.uint64(.leader)
        raftIndex = try c.uint64(.raftIndex)
        raftTerm = try c.uint64(.raftTerm)
        raftAppliedIndex = try c.uint64(.raftAppliedIndex)
        errors = try c.decodeIfPresent([String].self, forKey: .errors) ?? []
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
    public var hex: String { String(UInt64(bitPattern: id), radix: 16) }
}

struct LeaseAnswer: Decodable {
    let id: Int64, ttl: Int64, grantedTTL: Int64
    enum K: String, CodingKey { case ID, TTL, grantedTTL }
    init(from d: Decoder) throws {
        let c = try d.container(keyedBy: K.self)
        id = try c.int64(.ID)
        ttl = try c.int64(.TTL)
        grantedTTL = try c.int64(.grantedTTL)
    }
}

struct PutAnswer: Decodable { let header: ResponseHeader? }

struct DeleteAnswer: Decodable {
    let deleted: Int64
    enum K: String, CodingKey { case deleted }
    init(from d: Decoder) throws { deleted = try d.container(keyedBy: K.self).int64(.deleted) }
}

struct LockAnswer: Decodable {
    let header: ResponseHeader?
    let key: [UInt8]
    enum K: String, CodingKey { case header, key }
    init(from d: Decoder) throws {
        let c = try d.container(keyedBy: K.self)
        header = try c.decodeIfPresent(ResponseHeader.self, forKey: .header)
        key = try c.bytes(.key)
    }
}

struct MemberListAnswer: Decodable {
    let header: ResponseHeader?
    let members: [Member]?
}

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
