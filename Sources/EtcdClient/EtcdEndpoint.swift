import Foundation
import NIOCore
import NIOFoundationCompat

/// One etcd member's client URL. Every call has a deadline and throws `EtcdError` naming this endpoint.
public struct EtcdEndpoint: Sendable {
    public let url: String
    /// `/v3` for 3.4+ (the default), `/v3beta` for 3.3.
    /// A fixed gateway prefix, or nil: learned from the member's `/version` (`/v3beta` on 3.3, `/v3` after).
    let fixedPrefix: String?
    let transport: Transport
    public var defaultTimeout: Duration

    public init(url: String, transport: Transport, apiPrefix: String? = nil, defaultTimeout: Duration = .seconds(5)) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.transport = transport
        self.fixedPrefix = apiPrefix
        self.defaultTimeout = defaultTimeout
    }

    // MARK: plain HTTP endpoints

    /// `/health`. A 503 body is decoded (healthy false, with 3.5's reason), not thrown away.
    public func health(timeout: Duration = .seconds(2)) async throws -> HealthReport {
        let a = try await transport.send(
            endpoint: url, path: "/health", call: "health", method: .GET, body: nil, timeout: timeout)
        if a.status == 200 || a.status == 503, let r = try? JSONDecoder().decode(HealthReport.self, from: a.body) {
            return r
        }
        throw GatewayError.from(status: a.status, body: a.body, endpoint: url, call: "health")
    }

    public func version(timeout: Duration? = nil) async throws -> VersionInfo {
        let v: VersionInfo = try await getJSON("/version", call: "version", timeout: timeout)
        // A member restarted on another version may serve another gateway prefix: every answer updates it.
        transport.prefixes.learn(url: url, serverVersion: v.server)
        return v
    }

    /// `/metrics`, parsed; `only` limits it to the series of those names.
    public func metrics(only names: Set<String>? = nil, timeout: Duration? = nil) async throws -> PrometheusText {
        let a = try await transport.send(
            endpoint: url, path: "/metrics", call: "metrics", method: .GET, body: nil,
            timeout: timeout ?? defaultTimeout)
        guard a.status == 200 else {
            throw GatewayError.from(status: a.status, body: a.body, endpoint: url, call: "metrics")
        }
        do { return try PrometheusText(parsing: String(buffer: a.body), only: names) } catch {
            throw EtcdError.decoding(endpoint: url, call: "metrics", detail: "\(error)")
        }
    }

    // MARK: kv

    /// A linearizable read unless `serializable`. `prefix` reads every key starting with `key`.
    public func range(
        _ key: String, prefix: Bool = false, serializable: Bool = false, timeout: Duration? = nil
    ) async throws -> RangeResult {
        var b = JSONBody()
        b["key"] = Array(key.utf8).base64
        if prefix { b["range_end"] = Self.prefixEnd(Array(key.utf8)).base64 }
        if serializable { b["serializable"] = true }
        return try await post("/kv/range", b, call: "range \(key)", timeout: timeout)
    }

    @discardableResult
    public func put(_ key: String, _ value: [UInt8], lease: Int64 = 0, timeout: Duration? = nil) async throws -> Int64 {
        var b = JSONBody()
        b["key"] = Array(key.utf8).base64
        b["value"] = value.base64
        if lease != 0 { b["lease"] = String(lease) }
        let a: PutAnswer = try await post("/kv/put", b, call: "put \(key)", timeout: timeout)
        return a.header?.revision ?? 0
    }

    @discardableResult
    public func delete(_ key: String, prefix: Bool = false, timeout: Duration? = nil) async throws -> Int64 {
        var b = JSONBody()
        b["key"] = Array(key.utf8).base64
        if prefix { b["range_end"] = Self.prefixEnd(Array(key.utf8)).base64 }
        let a: DeleteAnswer = try await post("/kv/deleterange", b, call: "delete \(key)", timeout: timeout)
        return a.deleted
    }

    public func txn(
        compare: [Compare], success: [TxnOp], failure: [TxnOp] = [], timeout: Duration? = nil
    ) async throws -> TxnResult {
        var b = JSONBody()
        b["compare"] = compare.map(\.json)
        b["success"] = success.map(\.json)
        b["failure"] = failure.map(\.json)
        return try await post("/kv/txn", b, call: "txn", timeout: timeout)
    }

    // MARK: lease

    /// Grants a lease; `id` 0 lets etcd choose.
    public func leaseGrant(ttl: Int64, id: Int64 = 0, timeout: Duration? = nil) async throws -> Lease {
        var b = JSONBody()
        b["TTL"] = String(ttl)
        if id != 0 { b["ID"] = String(id) }
        let a: LeaseAnswer = try await post("/lease/grant", b, call: "lease grant", timeout: timeout)
        return Lease(id: a.id, ttl: a.ttl)
    }

    public func leaseRevoke(_ id: Int64, timeout: Duration? = nil) async throws {
        var b = JSONBody()
        b["ID"] = String(id)
        let _: Empty = try await post("/lease/revoke", b, call: "lease revoke", timeout: timeout)
    }

    /// Seconds left (≤ 0 when gone) and the granted TTL.
    public func leaseTimeToLive(_ id: Int64, timeout: Duration? = nil) async throws -> (ttl: Int64, granted: Int64) {
        var b = JSONBody()
        b["ID"] = String(id)
        let a: LeaseAnswer = try await post("/lease/timetolive", b, call: "lease timetolive", timeout: timeout)
        return (a.ttl, a.grantedTTL)
    }

    // MARK: lock

    /// Blocks until the lock `name` is held by `lease`; returns the lock key (`name/<lease hex>`) and the revision
    /// at which it was acquired. Re-entrant per lease: each contender needs its own lease.
    public func lock(_ name: String, lease: Int64, timeout: Duration) async throws -> (key: String, revision: Int64) {
        var b = JSONBody()
        b["name"] = Array(name.utf8).base64
        b["lease"] = String(lease)
        let a: LockAnswer = try await post("/lock/lock", b, call: "lock \(name)", timeout: timeout)
        return (String(decoding: a.key, as: UTF8.self), a.header?.revision ?? 0)
    }

    public func unlock(_ key: String, timeout: Duration? = nil) async throws {
        var b = JSONBody()
        b["key"] = Array(key.utf8).base64
        let _: Empty = try await post("/lock/unlock", b, call: "unlock \(key)", timeout: timeout)
    }

    // MARK: cluster and maintenance

    public func memberList(timeout: Duration? = nil) async throws -> [Member] {
        let a: MemberListAnswer = try await post(
            "/cluster/member/list", JSONBody(), call: "member list", timeout: timeout)
        return a.members ?? []
    }

    public func status(timeout: Duration? = nil) async throws -> MemberStatus {
        try await post("/maintenance/status", JSONBody(), call: "status", timeout: timeout)
    }

    /// Moves leadership to `target`. Must be sent to the current leader (a follower answers "not leader").
    public func moveLeader(to target: UInt64, timeout: Duration? = nil) async throws {
        var b = JSONBody()
        b["targetID"] = String(target)
        let _: Empty = try await post("/maintenance/transfer-leadership", b, call: "move leader", timeout: timeout)
    }

    // MARK: plumbing

    /// The gateway prefix this member serves.
    public func apiPrefix() async -> String {
        if let fixedPrefix { return fixedPrefix }
        return await transport.prefixes.prefix(for: url, transport: transport)
    }

    struct Empty: Decodable {}

    func post<T: Decodable>(_ path: String, _ body: JSONBody, call: String, timeout: Duration?) async throws -> T {
        let a = try await transport.send(
            endpoint: url, path: await apiPrefix() + path, call: call, method: .POST,
            body: body.data(), timeout: timeout ?? defaultTimeout)
        return try decode(a, call: call)
    }

    func getJSON<T: Decodable>(_ path: String, call: String, timeout: Duration?) async throws -> T {
        let a = try await transport.send(
            endpoint: url, path: path, call: call, method: .GET, body: nil,
            timeout: timeout ?? defaultTimeout)
        return try decode(a, call: call)
    }

    private func decode<T: Decodable>(_ a: Transport.Answer, call: String) throws -> T {
        guard (200..<300).contains(a.status) else {
            throw GatewayError.from(status: a.status, body: a.body, endpoint: url, call: call)
        }
        do { return try JSONDecoder().decode(T.self, from: a.body) } catch {
            throw EtcdError.decoding(endpoint: url, call: call, detail: Self.describe(decoding: error, body: a.body))
        }
    }

    /// One readable line for a body that is not the JSON etcd promises: what was wrong and the start of the body with
    /// anything unprintable escaped (never raw bytes on an operator's terminal, never a decoder's internals).
    static func describe(decoding error: Error, body: ByteBuffer) -> String {
        let what: String
        switch error as? DecodingError {
        case let .keyNotFound(key, _)?: what = "field \(key.stringValue) missing"
        case let .typeMismatch(_, ctx)?:
            what = "field \(ctx.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type"
        case let .valueNotFound(_, ctx)?:
            what = "field \(ctx.codingPath.map(\.stringValue).joined(separator: ".")) is null"
        default: what = "not JSON"
        }
        return "\(what); \(body.readableBytes) bytes starting \(printable(body, limit: 60))"
    }

    static func printable(_ body: ByteBuffer, limit: Int) -> String {
        let bytes = body.getBytes(at: body.readerIndex, length: min(limit, body.readableBytes)) ?? []
        return "\""
            + bytes.map { b -> String in
                (0x20..<0x7f).contains(b) && b != UInt8(ascii: "\"")
                    ? String(UnicodeScalar(b)) : "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
            }.joined() + (body.readableBytes > limit ? "…" : "") + "\""
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

extension EtcdEndpoint {
    /// Watches every key under `prefix` and calls `onMessage` for each message of the stream (the first one confirms
    /// the watch; each later one carries events). Returns when the stream ends or the deadline passes.
    /// `onMessage` gets the keys each message's events name (none for the watch's first message), or nil for a
    /// message that could not be read as one (a chunk cut mid-message): then any key may have changed.
    public func watch(prefix: String, timeout: Duration, onMessage: @Sendable ([String]?) -> Void) async throws {
        var b = JSONBody()
        b["create_request"] = [
            "key": Array(prefix.utf8).base64, "range_end": Self.prefixEnd(Array(prefix.utf8)).base64,
        ]
        _ = try await transport.stream(
            endpoint: url, path: await apiPrefix() + "/watch", call: "watch \(prefix)", body: b.data(),
            timeout: timeout
        ) { chunk in
            if chunk.readableBytes > 0 { onMessage(Self.watchedKeys(Array(chunk.readableBytesView))) }
        }
    }

    /// The keys of a gateway watch chunk's events: one JSON message per line, `result.events[].kv.key` in base64.
    static func watchedKeys(_ chunk: [UInt8]) -> [String]? {
        var keys: [String] = []
        for line in chunk.split(separator: UInt8(ascii: "\n")) {
            guard let message = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                return nil
            }
            let events = (message["result"] as? [String: Any])?["events"] as? [[String: Any]] ?? []
            for e in events {
                guard let k = (e["kv"] as? [String: Any])?["key"] as? String, let raw = Data(base64Encoded: k) else {
                    return nil
                }
                keys.append(String(decoding: raw, as: UTF8.self))
            }
        }
        return keys
    }
}
