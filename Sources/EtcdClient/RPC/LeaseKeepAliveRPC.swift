import GRPCCore
import GRPCProtobuf

extension EtcdEndpoint {
    /// One keepalive round trip over `Lease.LeaseKeepAlive`: a stream of its own that sends one request, reads one
    /// answer and closes. The TTL is 0 when the lease is unknown or expired.
    ///
    /// gRPC, not the JSON gateway: the gateway's `/v3/lease/keepalive` opens the stream inside the member and never
    /// closes it, and 3.5.16's SIGTERM then hangs in `embed.(*Etcd).Close` until the member is killed (measured: 22 s,
    /// a goroutine dump showed the `LeaseKeepAlive` stream of its `grpcproxy` adapter). A stream closed by its client
    /// ends the server's handler at once (etcd returns on the request stream's EOF).
    public func leaseKeepAlive(_ id: Int64, timeout: Duration? = nil) async throws -> Lease {
        let call = "lease keepalive"
        var request = Etcdserverpb_LeaseKeepAliveRequest()
        request.id = id
        let answer = try await rpc(call, timeout: timeout ?? defaultTimeout, stream: true) {
            [request] client, metadata, options in
            try await client.bidirectionalStreaming(
                request: StreamingClientRequest(metadata: metadata) { writer in try await writer.write(request) },
                descriptor: MethodDescriptor(fullyQualifiedService: "etcdserverpb.Lease", method: "LeaseKeepAlive"),
                serializer: ProtobufSerializer<Etcdserverpb_LeaseKeepAliveRequest>(),
                deserializer: ProtobufDeserializer<Etcdserverpb_LeaseKeepAliveResponse>(),
                options: options
            ) { response in
                var first: Etcdserverpb_LeaseKeepAliveResponse?
                for try await message in response.messages where first == nil { first = message }
                return first
            }
        }
        guard let answer else {
            throw EtcdError.decoding(endpoint: url, call: call, detail: "the stream closed without an answer")
        }
        return Lease(id: id, ttl: answer.ttl)
    }
}
