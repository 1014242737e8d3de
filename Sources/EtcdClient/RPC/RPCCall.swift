import GRPCCore
import GRPCNIOTransportHTTP2

extension EtcdEndpoint {
    /// One gRPC call to this member, on the client URL's port, as etcdctl makes it: its own HTTP/2 connection, closed
    /// when `body` returns (nothing of ours stays open inside the member after the call: a member's SIGTERM waits for
    /// open streams), the auth token as `token` metadata (a rejected token is dropped and the call made once more
    /// with a new one), `waitForReady` off (a member that is down is an answer now), and every failure as an
    /// `EtcdError` naming the endpoint.
    func rpc<R: Sendable>(
        _ call: String, timeout: Duration?,
        _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>, Metadata, CallOptions) async throws -> R
    ) async throws -> R {
        let target = try RPCTarget(url: url, call: call)
        let security = try target.security(transport.tls)
        var options = CallOptions.defaults
        options.waitForReady = false
        options.timeout = timeout
        for attempt in 1...2 {
            let token = try await transport.credentials?.token(
                transport: transport, endpoint: url, prefix: await apiPrefix(),
                timeout: defaultTimeout)
            var metadata = Metadata()
            if let token { metadata.addString(token, forKey: "token") }
            do {
                let connection = try HTTP2ClientTransport.Posix(target: target.resolvable, transportSecurity: security)
                return try await withGRPCClient(transport: connection) { client in
                    try await body(client, metadata, options)
                }
            } catch {
                if attempt == 1, let token, let failure = error as? RPCError,
                    transport.credentials?.rejects(message: failure.message, token: token) == true
                {
                    continue
                }
                throw RPCTarget.classify(error, endpoint: url, call: call)
            }
        }
        preconditionFailure("unreachable: the second attempt returns or throws")
    }
}
