import Explained

/// The etcd layer's one error. Every failure of a call to etcd names the endpoint and the call (its `thing`), so an
/// operator reading a log line knows which member refused what; a refusal the operator can mend says how (`fix`).
public enum EtcdError: ExplainedError, Equatable {
    /// The connection could not be made or broke (refused, reset, TLS handshake failed).
    case unreachable(endpoint: String, call: String, detail: String)
    /// No answer before the call's deadline.
    case timeout(endpoint: String, call: String, seconds: Double)
    /// One of the plain HTTP endpoints (`/health`, `/version`, `/metrics`) answered with an HTTP error.
    case http(endpoint: String, call: String, status: Int, message: String)
    /// An API call ended with a gRPC status other than OK (etcd said no); `code` is the gRPC status code.
    case rpc(endpoint: String, call: String, code: Int, message: String)
    /// etcd answered but not what the API promises (an empty endpoint: text parsed before it was tied to one).
    case decoding(endpoint: String, call: String, detail: String)
    /// A snapshot stream whose sha256 trailer did not match its bytes, or that ended early.
    case snapshotIntegrity(endpoint: String, detail: String)
    /// Every endpoint of a cluster client failed; the last error of each is kept.
    case allEndpointsFailed(call: String, errors: [EtcdError])
    /// A CA, certificate or key file of the client's TLS settings that cannot be used.
    case tlsFile(path: String, detail: String)

    public var thing: String {
        switch self {
        case let .unreachable(e, c, _), let .timeout(e, c, _), let .http(e, c, _, _), let .rpc(e, c, _, _),
            let .decoding(e, c, _):
            return e.isEmpty ? c : "\(c) on \(e)"
        case let .snapshotIntegrity(e, _): return "snapshot from \(e)"
        case let .allEndpointsFailed(c, _): return c
        case let .tlsFile(path, _): return "TLS file \(path)"
        }
    }

    public var cause: String {
        switch self {
        case let .unreachable(_, _, d): return "unreachable (\(d))"
        case let .timeout(_, _, s): return "no answer within \(s) s"
        case let .http(_, _, s, m): return "HTTP \(s): \(m)"
        case let .rpc(_, _, code, m): return "gRPC code \(code): \(m)"
        case let .decoding(_, _, d): return "unexpected answer (\(d))"
        case let .snapshotIntegrity(_, d), let .tlsFile(_, d): return d
        case let .allEndpointsFailed(_, errs):
            // Each endpoint's thing and cause; the fix once, below.
            return "every endpoint failed: "
                + errs.map { Explanation.render(thing: $0.thing, cause: $0.cause, fix: "") }.joined(separator: "; ")
        }
    }

    /// Only where the operator can mend it: a failure to reach a member or a member's own trouble is retried by the
    /// daemon, and says nothing more.
    public var fix: String {
        switch self {
        case let .rpc(_, _, code, _) where code == 7 || code == 16:
            return "check cluster.auth (user and password file) or the role of the client certificate's CN"
        case .tlsFile: return "check the paths in cluster.tls, and their owner and mode"
        case let .allEndpointsFailed(_, errs):
            return Set(errs.map(\.fix)).count == 1 ? errs.first?.fix ?? "" : ""
        default: return ""
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
        case .decoding, .snapshotIntegrity, .allEndpointsFailed, .tlsFile: return false
        }
    }
}
