import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

/// One HTTP client (and its connection pool) shared by every endpoint of a cluster. It must be shut down.
public final class Transport: Sendable {
    let http: HTTPClient
    /// The TLS files, for the gRPC snapshot client (which makes its own connection).
    public let tls: TLSOptions
    /// etcd auth, when the cluster has it enabled: every v3 call carries the user's token.
    public let credentials: EtcdCredentials?
    /// Each endpoint's gateway prefix (`/v3`, or `/v3beta` on 3.3).
    let prefixes = GatewayPrefixes()

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

    public func shutdown() async throws { try await http.shutdown() }

    struct Answer {
        let status: Int
        let body: ByteBuffer
    }

    /// Sends one request and collects the whole body. Maps every failure to an `EtcdError` naming `endpoint` and
    /// `call`.
    /// With credentials, a v3 call carries the token, and a rejected token is bought again once.
    func send(
        endpoint: String, path: String, call: String, method: HTTPMethod, body: Data?, timeout: Duration,
        limit: Int = 16 << 20
    ) async throws -> Answer {
        guard let credentials, EtcdCredentials.needsToken(path) else {
            return try await sendOnce(
                endpoint: endpoint, path: path, call: call, method: method, body: body, token: nil,
                timeout: timeout, limit: limit)
        }
        let prefix = EtcdCredentials.prefix(of: path)
        let token = try await credentials.token(transport: self, endpoint: endpoint, prefix: prefix, timeout: timeout)
        let first = try await sendOnce(
            endpoint: endpoint, path: path, call: call, method: method, body: body, token: token,
            timeout: timeout, limit: limit)
        guard credentials.rejects(first, token: token) else { return first }
        let again = try await credentials.token(transport: self, endpoint: endpoint, prefix: prefix, timeout: timeout)
        return try await sendOnce(
            endpoint: endpoint, path: path, call: call, method: method, body: body, token: again,
            timeout: timeout, limit: limit)
    }

    func sendOnce(
        endpoint: String, path: String, call: String, method: HTTPMethod, body: Data?, token: String?,
        timeout: Duration, limit: Int = 16 << 20
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: token) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        do {
            let response = try await http.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            let bytes = try await response.body.collect(upTo: limit)
            return Answer(status: Int(response.status.code), body: bytes)
        } catch {
            throw Self.classify(error, endpoint: endpoint, call: call, timeout: timeout)
        }
    }

    /// Sends one request and hands the body to `consume` chunk by chunk (snapshot streams).
    func stream(
        endpoint: String, path: String, call: String, body: Data, timeout: Duration,
        consume: (ByteBuffer) async throws -> Void
    ) async throws -> Int {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: body))
        do {
            if let credentials {
                let token = try await credentials.token(
                    transport: self, endpoint: endpoint,
                    prefix: EtcdCredentials.prefix(of: path), timeout: .seconds(5))
                request.headers.add(name: "Authorization", value: token)
            }
            let response = try await http.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            let status = Int(response.status.code)
            if status != 200 {
                let bytes = try await response.body.collect(upTo: 1 << 20)
                throw GatewayError.from(status: status, body: bytes, endpoint: endpoint, call: call)
            }
            for try await chunk in response.body { try await consume(chunk) }
            return status
        } catch let e as EtcdError {
            throw e
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

/// The gateway's error body: `{"error":"...","message":"...","code":N}`.
enum GatewayError {
    struct Body: Decodable {
        let error: String?
        let message: String?
        let code: Int?
    }

    static func from(status: Int, body: ByteBuffer, endpoint: String, call: String) -> EtcdError {
        let decoded = try? JSONDecoder().decode(Body.self, from: body)
        let text = decoded?.message ?? decoded?.error ?? EtcdEndpoint.printable(body, limit: 120)
        return .http(endpoint: endpoint, call: call, status: status, code: decoded?.code, message: text + hint(text))
    }

    /// What to do about the auth answers an operator meets first.
    static func hint(_ text: String) -> String {
        if text.contains("user name is empty") {
            return " (etcd has auth enabled: set cluster.auth, a user and its passwordFile)"
        }
        if text.contains("authentication is not enabled") { return " (etcd has auth disabled: remove cluster.auth)" }
        if text.contains("invalid user ID or password") {
            return " (check cluster.auth.user and the password in its passwordFile)"
        }
        if text.contains("CommonName of client") {
            return
                " (with auth enabled etcd's JSON gateway refuses client certificates that carry a CommonName: use one without a CN, and cluster.auth)"
        }
        return ""
    }
}
