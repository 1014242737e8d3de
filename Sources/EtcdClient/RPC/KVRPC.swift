import Foundation

/// `etcdserverpb.KV`: reads, writes and transactions.
extension EtcdEndpoint {
    static let kv = "etcdserverpb.KV"

    /// A linearizable read unless `serializable`. `prefix` reads every key starting with `key`.
    public func range(
        _ key: String, prefix: Bool = false, serializable: Bool = false, timeout: Duration? = nil
    ) async throws -> RangeResult {
        var request = Etcdserverpb_RangeRequest()
        request.key = Data(key.utf8)
        if prefix { request.rangeEnd = Data(Self.prefixEnd(Array(key.utf8))) }
        request.serializable = serializable
        let answer: Etcdserverpb_RangeResponse = try await unary(
            Self.kv, "Range", request, call: "range \(key)", timeout: timeout)
        return RangeResult(answer)
    }

    /// Returns the revision of the write.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8], lease: Int64 = 0, timeout: Duration? = nil) async throws -> Int64 {
        var request = Etcdserverpb_PutRequest()
        request.key = Data(key.utf8)
        request.value = Data(value)
        request.lease = lease
        let answer: Etcdserverpb_PutResponse = try await unary(
            Self.kv, "Put", request, call: "put \(key)", timeout: timeout)
        return answer.header.revision
    }

    /// Returns how many keys were deleted.
    @discardableResult
    public func delete(_ key: String, prefix: Bool = false, timeout: Duration? = nil) async throws -> Int64 {
        var request = Etcdserverpb_DeleteRangeRequest()
        request.key = Data(key.utf8)
        if prefix { request.rangeEnd = Data(Self.prefixEnd(Array(key.utf8))) }
        let answer: Etcdserverpb_DeleteRangeResponse = try await unary(
            Self.kv, "DeleteRange", request, call: "delete \(key)", timeout: timeout)
        return answer.deleted
    }

    public func txn(
        compare: [Compare], success: [TxnOp], failure: [TxnOp] = [], timeout: Duration? = nil
    ) async throws -> TxnResult {
        var request = Etcdserverpb_TxnRequest()
        request.compare = compare.map(\.message)
        request.success = success.map(\.message)
        request.failure = failure.map(\.message)
        let answer: Etcdserverpb_TxnResponse = try await unary(Self.kv, "Txn", request, call: "txn", timeout: timeout)
        return TxnResult(answer)
    }

    /// The range end that selects every key with this prefix: the prefix with its last byte incremented.
    static func prefixEnd(_ key: [UInt8]) -> [UInt8] {
        var end = key
        while let last = end.last {
            if last < 0xFF {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return [0]  // every key
    }
}
