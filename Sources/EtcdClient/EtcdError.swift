/// Every failure of a call to etcd names the endpoint and the call, so an operator reading a log line knows
/// which member refused what.
public enum EtcdError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The connection could not be made or broke (refused, reset, TLS handshake failed).
    case unreachable(endpoint: String, call: String, detail: String)
    /// No answer before the call's deadline.
    case timeout(endpoint: String, call: String, seconds: Double)
    /// etcd answered with an HTTP error; `code` is the gRPC code from the error body when there is one.
    case http(endpoint: String, call: String, status: Int, code: Int?, message: String)
    /// A gRPC call (the snapshot stream) ended with a status other than OK; `code` is the gRPC status code.
    case rpc(endpoint: String, call: String, code: Int, message: String)
    /// etcd answered 2xx but the body is not what the API promises.
    case decoding(endpoint: String, call: String, detail: String)
    /// A snapshot stream whose sha256 trailer did not match its bytes, or that ended early.
    case snapshotIntegrity(endpoint: String, detail: String)
    /// Every endpoint of a cluster client failed; the last error of each is kept.
    case allEndpointsFailed(call: String, errors: [EtcdError])

    public var description: String {
        switch self {
        case let .unreachable(e, c, d): return "\(c) on \(e): unreachable (\(d))"
        case let .timeout(e, c, s): return "\(c) on \(e): no answer within \(s) s"
        case let .http(e, c, s, code, m):
            return "\(c) on \(e): HTTP \(s)\(code.map { " (gRPC code \($0))" } ?? ""): \(m)"
        case let .rpc(e, c, code, m): return "\(c) on \(e): gRPC code \(code): \(m)"
        case let .decoding(e, c, d): return "\(c) on \(e): unexpected answer (\(d))"
        case let .snapshotIntegrity(e, d): return "snapshot from \(e): \(d)"
        case let .allEndpointsFailed(c, errs):
            return "\(c): every endpoint failed: " + errs.map(\.description).joined(separator: "; ")
        }
    }

    /// etcd answered and said no (a 4xx, e.g. permission denied): the same on every member and on every retry.
    public var isRefusal: Bool {
        switch self {
        case .http where memberClosing: return false
        case let .http(_, _, status, _, _): return (400..<500).contains(status)
        case let .allEndpointsFailed(_, errors): return !errors.isEmpty && errors.allSatisfy(\.isRefusal)
        default: return false
        }
    }

    /// A member's gateway answering while its etcd shuts down (SIGTERM mid-call): HTTP 408, gRPC CANCELLED, "the
    /// client connection is closing" (measured on 3.4.23) — the call never reached the server; another member will
    /// answer.
    var memberClosing: Bool {
        guard case let .http(_, _, status, code, message) = self else { return false }
        return (status == 408 || code == 1)
            && (message.contains("client connection is closing") || message.contains("transport is closing"))
    }

    /// Connection errors, timeouts and 5xx answers are worth trying on another member; a 4xx is the same everywhere
    /// (except "not leader", which the caller handles by finding the leader).
    public var isRetryableElsewhere: Bool {
        switch self {
        case .unreachable, .timeout: return true
        case .http where memberClosing: return true
        case let .http(_, _, status, _, _): return status >= 500
        // UNAVAILABLE (14) is mapped to .unreachable; INTERNAL (13) and UNKNOWN (2) are worth another member.
        case let .rpc(_, _, code, _): return code == 13 || code == 2
        case .decoding, .snapshotIntegrity, .allEndpointsFailed: return false
        }
    }
}
