import Foundation

/// A transaction: compares, then the success or failure operations.
public struct Compare: Sendable {
    public enum Target: Sendable { case createRevision(Int64), modRevision(Int64), version(Int64), value([UInt8]) }
    public enum Result: Sendable { case equal, greater, less, notEqual }
    public let key: [UInt8]
    public let result: Result
    public let target: Target

    public init(key: String, _ result: Result, _ target: Target) {
        self.key = Array(key.utf8)
        self.result = result
        self.target = target
    }
    public init(keyBytes: [UInt8], _ result: Result, _ target: Target) {
        self.key = keyBytes
        self.result = result
        self.target = target
    }

    /// The key does not exist (put-if-absent).
    public static func absent(_ key: String) -> Compare { Compare(key: key, .equal, .createRevision(0)) }

    var message: Etcdserverpb_Compare {
        var m = Etcdserverpb_Compare()
        m.key = Data(key)
        switch result {
        case .equal: m.result = .equal
        case .greater: m.result = .greater
        case .less: m.result = .less
        case .notEqual: m.result = .notEqual
        }
        switch target {
        case let .createRevision(r):
            m.target = .create
            m.createRevision = r
        case let .modRevision(r):
            m.target = .mod
            m.modRevision = r
        case let .version(v):
            m.target = .version
            m.version = v
        case let .value(v):
            m.target = .value
            m.value = Data(v)
        }
        return m
    }
}

public enum TxnOp: Sendable {
    case put(key: String, value: [UInt8], lease: Int64 = 0)
    case range(key: String)
    case delete(key: String)

    var message: Etcdserverpb_RequestOp {
        var op = Etcdserverpb_RequestOp()
        switch self {
        case let .put(k, v, lease):
            var p = Etcdserverpb_PutRequest()
            p.key = Data(k.utf8)
            p.value = Data(v)
            p.lease = lease
            op.requestPut = p
        case let .range(k):
            var r = Etcdserverpb_RangeRequest()
            r.key = Data(k.utf8)
            op.requestRange = r
        case let .delete(k):
            var d = Etcdserverpb_DeleteRangeRequest()
            d.key = Data(k.utf8)
            op.requestDeleteRange = d
        }
        return op
    }
}

public struct TxnResult: Sendable {
    public let succeeded: Bool
    public let header: ResponseHeader?
    /// The key-values of any range operations that ran, in order.
    public let ranges: [RangeResult]

    public init(succeeded: Bool, header: ResponseHeader?, ranges: [RangeResult] = []) {
        self.succeeded = succeeded
        self.header = header
        self.ranges = ranges
    }
}
