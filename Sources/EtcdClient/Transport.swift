import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

/// What every endpoint of a cluster shares: the TLS files and credentials of its gRPC calls (each makes its own
/// connection), and one HTTP client with its connection pool for `/health`, `/version` and `/metrics`. It must be
/// shut down.
public final class Transport: Sendable {
    let http: HTTPClient
    /// The TLS files, for the HTTP client and every gRPC connection.
    public let tls: TLSOptions
    /// etcd auth, when the cluster has it enabled: every API call carries the user's token.
    public let credentials: EtcdCredentials?
    /// The kept gRPC client of each member, for unary calls.
    let rpcClients = RPCClients()

    public init(tls: TLSOptions = TLSOptions(), credentials: EtcdCredentials? = nil) throws {
        self.tls = tls
        self.credentials = credentials
        var config = HTTPClient.Configuration()
        config.timeout = .init(connect: .seconds(2))
        if !tls.isEmpty { config.tlsConfiguration = try tls.makeConfiguration() }
        // Small pool: a daemon talks to a handful of members. Idle connections go after 2 s (a tick reuses them):
        // one made for a request cancelled while it connected never carries a byte, and etcd 3.5's SIGTERM waits in
        // its connection matcher (cmux) for the first bytes of every open connection — measured on 3.5.16, a member
        // hung until killed at 20 s with one such connection from a daemon open on it.
        config.connectionPool = .init(idleTimeout: .seconds(2))
        // A refused connection must fail at once: a stopped member is an observation, and the cluster client fails
        // over to the next endpoint itself (AHC would otherwise retry until the connect timeout).
        config.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
    }

    public func shutdown() async throws {
        await rpcClients.shutdown()
        try await http.shutdown()
    }

    struct Answer {
        let status: Int
        let body: ByteBuffer
    }

    /// GETs `path` and collects the whole body. Maps every failure to an `EtcdError` naming `endpoint` and `call`.
    /// No token: the HTTP endpoints need none.
    func get(
        endpoint: String, path: String, call: String, timeout: Duration, limit: Int = 16 << 20
    ) async throws
        -> Answer
    {
        let request = HTTPClientRequest(url: endpoint + path)
        do {
            let response = try await http.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            let bytes = try await response.body.collect(upTo: limit)
            return Answer(status: Int(response.status.code), body: bytes)
        } catch {
            throw Self.classify(error, endpoint: endpoint, call: call, timeout: timeout)
        }
    }

    static func classify(_ error: Error, endpoint: String, call: String, timeout: Duration) -> EtcdError {
        if let e = error as? EtcdError { return e }
        if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout {
            return .timeout(endpoint: endpoint, call: call, seconds: timeout.seconds)
        }
        if error is NIOTooManyBytesError {
            return .decoding(
                endpoint: endpoint, call: call,
                detail: "the answer is larger than any etcd answer to this call; not read further")
        }
        return .unreachable(endpoint: endpoint, call: call, detail: readable(error))
    }

    /// A connection failure as an operator reads it: the cause and what to check, not the library's type names.
    /// TLS errors keep their own text (it names the certificate problem).
    static func readable(_ error: Error) -> String {
        if let io = error as? IOError { return errnoText(io.errnoCode) }
        if let c = error as? NIOConnectionError {
            if let first = c.connectionErrors.first { return readable(first.error) }
            if c.dnsAError != nil || c.dnsAAAAError != nil { return "the host name does not resolve: check the URL" }
        }
        if let h = error as? HTTPClientError, h == .remoteConnectionClosed {
            return "the member closed the connection before answering"
        }
        return String(describing: error)
    }

    static func errnoText(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED:
            return "connection refused: nothing listens there (is etcd running? is the URL's port its client port?)"
        case ETIMEDOUT: return "connection timed out: the host does not answer (a firewall, or the wrong address?)"
        case EHOSTUNREACH, ENETUNREACH: return "no route to the host (network down, or the wrong address?)"
        case ECONNRESET: return "the member reset the connection"
        default: return String(cString: strerror(code))
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
    public var seconds: Double { Double(nanoseconds) / 1e9 }
}
