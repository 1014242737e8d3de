/// A transaction: compares, then the success or failure operations.
public struct Compare: Sendable {
    public enum Target: Sendable { case createRevision(Int64), modRevision(Int64), version(Int64), value([UInt8]) }
    public enum Result: String, Sendable {
        case equal = "EQUAL", greater = "GREATER", less = "LESS", notEqual = "NOT_EQUAL"
    }
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

    var json: [String: Any] {
        var o: [String: Any] = ["key": key.base64, "result": result.rawValue]
        switch target {
        case let .createRevision(r):
            o["target"] = "CREATE"
            o["create_revision"] = String(r)
        case let .modRevision(r):
            o["target"] = "MOD"
            o["mod_revision"] = String(r)
        case let .version(v):
            o["target"] = "VERSION"
            o["version"] = String(v)
        case let .value(v):
            o["target"] = "VALUE"
            o["value"] = v.base64
        }
        return o
    }
}

public enum TxnOp: Sendable {
    case put(key: String, value: [UInt8], lease: Int64 = 0)
    case range(key: String)
    case delete(key: String)

    var json: [String: Any] {
        switch self {
        case let .put(k, v, lease):
            var p: [String: Any] = ["key": Array(k.utf8).base64, "value": v.base64]
            if lease != 0 { p["lease"] = String(lease) }
            return ["request_put": p]
        case let .range(k): return ["request_range": ["key": Array(k.utf8).base64]]
        case let .delete(k): return ["request_delete_range": ["key": Array(k.utf8).base64]]
        }
    }
}

public struct TxnResult: Decodable, Sendable {
    /// Left out of the JSON when false.
    public let succeeded: Bool
    public let header: ResponseHeader?
    /// The key-values of any range operations that ran, in order.
    public let ranges: [RangeResult]

    public init(succeeded: Bool, header: ResponseHeader?, ranges: [RangeResult] = []) {
        self.succeeded = succeeded
        self.header = header
        self.ranges = ranges
    }

    enum K: String, CodingKey { case succeeded, header, responses }
    struct Op: Decodable { let response_range: RangeResult? }
    public init(from d: Decoder) throws {
        let c = try d.container(keyedBy: K.self)
        succeeded = try c.flag(.succeeded)
        header = try c.decodeIfPresent(ResponseHeader.self, forKey: .header)
        ranges = (try c.decodeIfPresent([Op].self, forKey: .responses) ?? []).compactMap(\.response_range)
    }
}
