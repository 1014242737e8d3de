import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import SwiftProtobuf

extension EtcdEndpoint {
    /// One gRPC call to this member, on the client URL's port, as etcdctl makes it: a unary call on the member's
    /// kept client (`RPCClients`), a `stream` on an HTTP/2 connection of its own, closed when `body` returns (nothing
    /// of ours stays open inside the member after a stream: a member's SIGTERM waits for open streams); the auth token
    /// as `token` metadata (a rejected token is dropped and the call made once more with a new one), `waitForReady`
    /// off (a member that is down is an answer now), and every failure as an `EtcdError` naming the endpoint.
    /// `authenticated` false sends no token (the call that buys one).
    func rpc<R: Sendable>(
        _ call: String, timeout: Duration?, authenticated: Bool = true, stream: Bool = false,
        _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>, Metadata, CallOptions) async throws -> R
    ) async throws -> R {
        var options = CallOptions.defaults
        options.waitForReady = false
        options.timeout = timeout
        let credentials = authenticated ? transport.credentials : nil
        for attempt in 1...2 {
            let token = try await credentials?.token(from: self, timeout: defaultTimeout)
            var metadata = Metadata()
            if let token { metadata.addString(token, forKey: "token") }
            // Only when a connection is made (a stream, or a member without a kept client): not on every call.
            let connect = { [url, tls = transport.tls] in
                let target = try RPCTarget(url: url, call: call)
                return try HTTP2ClientTransport.Posix(
                    target: target.resolvable, transportSecurity: try target.security(tls))
            }
            var kept: RPCClients.Client?
            do {
                if stream {
                    return try await withGRPCClient(transport: try connect()) { client in
                        try await body(client, metadata, options)
                    }
                }
                let client = try transport.rpcClients.client(for: url, connect: connect)
                kept = client
                return try await body(client, metadata, options)
            } catch {
                if let kept, !RPCTarget.isAnswer(error) { transport.rpcClients.drop(url, ifStill: kept) }
                if attempt == 1, let token, let failure = error as? RPCError,
                    credentials?.rejects(message: failure.message, token: token) == true
                {
                    continue
                }
                throw RPCTarget.classify(error, endpoint: url, call: call, timeout: timeout)
            }
        }
        preconditionFailure("unreachable: the second attempt returns or throws")
    }

    /// One unary call of etcd's API: `service` as etcd's protos name it (`etcdserverpb.KV`), `method` its RPC.
    func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ service: String, _ method: String, _ request: Request, call: String, timeout: Duration?,
        authenticated: Bool = true
    ) async throws -> Response {
        try await rpc(call, timeout: timeout ?? defaultTimeout, authenticated: authenticated) {
            client, metadata, options in
            try await client.unary(
                request: ClientRequest(message: request, metadata: metadata),
                descriptor: MethodDescriptor(fullyQualifiedService: service, method: method),
                serializer: ProtobufSerializer<Request>(), deserializer: ProtobufDeserializer<Response>(),
                options: options
            ) { try $0.message }
        }
    }
}
