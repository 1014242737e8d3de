/// Every failure of a call to etcd names the endpoint and the call, so an operator reading a log line knows
/// which member refused what.
public enum EtcdError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The connection could not be made or broke (refused, reset, TLS handshake failed).
    case unreachable(endpoint: String, call: String, detail: String)
    /// No answer before the call's deadline.
    case timeout(endpoint: String, call: String, seconds: Double)
    /// One of the plain HTTP endpoints (`/health`, `/version`, `/metrics`) answered with an HTTP error.
    case http(endpoint: String, call: String, status: Int, message: String)
    /// An API call ended with a gRPC status other than OK (etcd said no); `code` is the gRPC status code.
    case rpc(endpoint: String, call: String, code: Int, message: String)
    /// etcd answered but not what the API promises.
    case decoding(endpoint: String, call: String, detail: String)
    /// A snapshot stream whose sha256 trailer did not match its bytes, or that ended early.
    case snapshotIntegrity(endpoint: String, detail: String)
    /// Every endpoint of a cluster client failed; the last error of each is kept.
    case allEndpointsFailed(call: String, errors: [EtcdError])

    public var description: String {
        switch self {
        case let .unreachable(e, c, d): return "\(c) on \(e): unreachable (\(d))"
        case let .timeout(e, c, s): return "\(c) on \(e): no answer within \(s) s"
        case let .http(e, c, s, m): return "\(c) on \(e): HTTP \(s): \(m)"
        case let .rpc(e, c, code, m): return "\(c) on \(e): gRPC code \(code): \(m)"
        case let .decoding(e, c, d): return "\(c) on \(e): unexpected answer (\(d))"
        case let .snapshotIntegrity(e, d): return "snapshot from \(e): \(d)"
        case let .allEndpointsFailed(c, errs):
            return "\(c): every endpoint failed: " + errs.map(\.description).joined(separator: "; ")
        }
    }

    /// etcd answered and said no (e.g. permission denied, a bad request, a failed precondition): the same on every
    /// member and on every retry. A 4xx from an HTTP endpoint likewise.
    public var isRefusal: Bool {
        switch self {
        case let .http(_, _, status, _): return (400..<500).contains(status)
        case let .rpc(_, _, code, _): return Self.refusalCodes.contains(code)
        case let .allEndpointsFailed(_, errors): return !errors.isEmpty && errors.allSatisfy(\.isRefusal)
        default: return false
        }
    }

    /// gRPC codes that are etcd's answer rather than a failure to get one: INVALID_ARGUMENT (3), NOT_FOUND (5),
    /// ALREADY_EXISTS (6), PERMISSION_DENIED (7), FAILED_PRECONDITION (9, e.g. "not leader"), OUT_OF_RANGE (11),
    /// UNIMPLEMENTED (12), UNAUTHENTICATED (16).
    static let refusalCodes: Set<Int> = [3, 5, 6, 7, 9, 11, 12, 16]

    /// Connection errors, timeouts and a member's own trouble (a 5xx; gRPC CANCELLED, UNKNOWN, RESOURCE_EXHAUSTED,
    /// ABORTED, INTERNAL — a member shutting down or overloaded) are worth trying on another member; a refusal is the
    /// same everywhere (except "not leader", which the caller handles by finding the leader). UNAVAILABLE (14) —
    /// etcd's "no leader", "leader changed", "request timed out" and every connection failure — is `.unreachable`.
    public var isRetryableElsewhere: Bool {
        switch self {
        case .unreachable, .timeout: return true
        case let .http(_, _, status, _): return status >= 500
        case let .rpc(_, _, code, _): return [1, 2, 8, 10, 13].contains(code)
        case .decoding, .snapshotIntegrity, .allEndpointsFailed: return false
        }
    }
}
