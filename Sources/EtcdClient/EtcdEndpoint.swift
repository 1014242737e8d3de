import Foundation
import NIOCore
import NIOFoundationCompat

/// One etcd member's client URL. Every call has a deadline and throws `EtcdError` naming this endpoint.
///
/// etcd's API is spoken over gRPC, as etcdctl and every etcd client speak it (`RPC/`: one file per service); the
/// three plain HTTP endpoints the daemon watches — `/health`, `/version`, `/metrics` — are here.
public struct EtcdEndpoint: Sendable {
    public let url: String
    let transport: Transport
    public var defaultTimeout: Duration

    public init(url: String, transport: Transport, defaultTimeout: Duration = .seconds(5)) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.transport = transport
        self.defaultTimeout = defaultTimeout
    }

    /// `/health`. A 503 body is decoded (healthy false, with 3.5's reason), not thrown away.
    public func health(timeout: Duration = .seconds(2)) async throws -> HealthReport {
        let a = try await transport.get(endpoint: url, path: "/health", call: "health", timeout: timeout)
        if a.status == 200 || a.status == 503, let r = try? JSONDecoder().decode(HealthReport.self, from: a.body) {
            return r
        }
        throw httpError(a, call: "health")
    }

    public func version(timeout: Duration? = nil) async throws -> VersionInfo {
        let a = try await transport.get(
            endpoint: url, path: "/version", call: "version", timeout: timeout ?? defaultTimeout)
        guard a.status == 200 else { throw httpError(a, call: "version") }
        do { return try JSONDecoder().decode(VersionInfo.self, from: a.body) } catch {
            throw EtcdError.decoding(
                endpoint: url, call: "version", detail: Self.describe(decoding: error, body: a.body))
        }
    }

    /// `/metrics`, parsed; `only` limits it to the series of those names.
    public func metrics(only names: Set<String>? = nil, timeout: Duration? = nil) async throws -> PrometheusText {
        let a = try await transport.get(
            endpoint: url, path: "/metrics", call: "metrics", timeout: timeout ?? defaultTimeout)
        guard a.status == 200 else {
            throw httpError(a, call: "metrics")
        }
        do { return try PrometheusText(parsing: String(buffer: a.body), only: names) } catch let e as EtcdError {
            // The parser knows the line, not the member: named here.
            guard case let .decoding(_, call, detail) = e else { throw e }
            throw EtcdError.decoding(endpoint: url, call: call, detail: detail)
        }
    }

    /// An answer other than the one the endpoint promises: its status and the start of its body.
    private func httpError(_ a: Transport.Answer, call: String) -> EtcdError {
        .http(endpoint: url, call: call, status: a.status, message: Self.printable(a.body, limit: 120))
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
}
