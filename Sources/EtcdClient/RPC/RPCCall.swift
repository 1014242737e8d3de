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
    /// `authenticated` false sends no token (the call that buys one). A call that failed on a kept client before any
    /// of it was sent is made once more on a fresh connection: the client was made for an earlier call, its
    /// connection went away while the member restarted, and gRPC fails calls at once with its last reconnect's
    /// refusal while it backs off, or with no connection ready — though the member is back. Nothing was sent, so
    /// the call is made once, whatever it is. A `readOnly` call is made once more after any connection failure on a
    /// kept client (a stale connection's "stream unexpectedly closed" too), as etcd's own client retries its reads:
    /// asking again changes nothing.
    func rpc<R: Sendable>(
        _ call: String, timeout: Duration?, authenticated: Bool = true, stream: Bool = false, readOnly: Bool = false,
        _ body: @escaping @Sendable (GRPCClient<HTTP2ClientTransport.Posix>, Metadata, CallOptions) async throws -> R
    ) async throws -> R {
        var options = CallOptions.defaults
        options.waitForReady = false
        options.timeout = timeout
        let credentials = authenticated ? transport.credentials : nil
        var sentAgain = false
        var tokenRejected = false
        while true {
            let token = try await credentials?.token(from: self, timeout: defaultTimeout)
            var metadata = Metadata()
            if let token { metadata.addString(token, forKey: "token") }
            // Only when a connection is made (a stream, or a member without a kept client): not on every call.
            let connect = { [url, tls = transport.tls] in
                let target = try RPCTarget(url: url, call: call)
                return try HTTP2ClientTransport.Posix(
                    target: target.resolvable, transportSecurity: try target.security(tls))
            }
            var kept: (client: RPCClients.Client, reused: Bool)?
            do {
                if stream {
                    return try await RPCStream.run(transport: try connect()) { [metadata, options] client in
                        try await body(client, metadata, options)
                    }
                }
                let client = try transport.rpcClients.client(for: url, connect: connect)
                kept = client
                return try await body(client.client, metadata, options)
            } catch {
                if let kept, !RPCTarget.isAnswer(error) { transport.rpcClients.drop(url, ifStill: kept.client) }
                if kept?.reused == true, !sentAgain,
                    RPCTarget.sentNothing(error) || (readOnly && RPCTarget.isConnectionFailure(error))
                {
                    sentAgain = true
                    continue
                }
                if !tokenRejected, let token, let failure = error as? RPCError,
                    credentials?.rejects(message: failure.message, token: token) == true
                {
                    tokenRejected = true
                    continue
                }
                throw RPCTarget.classify(error, endpoint: url, call: call, timeout: timeout)
            }
        }
    }

    /// The methods that change nothing in etcd (clientv3's retry interceptor retries the same ones on any
    /// connection failure).
    static let readOnlyMethods: Set<String> = [
        "Range", "MemberList", "Status", "LeaseTimeToLive", "Authenticate", "UserList", "UserGet", "RoleList",
        "RoleGet",
    ]

    /// One unary call of etcd's API: `service` as etcd's protos name it (`etcdserverpb.KV`), `method` its RPC.
    func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ service: String, _ method: String, _ request: Request, call: String, timeout: Duration?,
        authenticated: Bool = true
    ) async throws -> Response {
        try await rpc(
            call, timeout: timeout ?? defaultTimeout, authenticated: authenticated,
            readOnly: Self.readOnlyMethods.contains(method)
        ) {
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
