import Foundation
import GRPCCore
import GRPCProtobuf

/// `etcdserverpb.Watch`.
extension EtcdEndpoint {
    /// Watches every key under `prefix` and calls `onMessage` with the keys each message's events name (none for the
    /// watch's first message, which confirms it). Returns when the stream ends; throws at the deadline. The stream is
    /// closed when this returns or its task is cancelled: no watch of ours outlives its caller inside the member.
    public func watch(prefix: String, timeout: Duration, onMessage: @escaping @Sendable ([String]) -> Void) async throws
    {
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = Data(prefix.utf8)
        create.rangeEnd = Data(Self.prefixEnd(Array(prefix.utf8)))
        var request = Etcdserverpb_WatchRequest()
        request.createRequest = create
        try await rpc("watch \(prefix)", timeout: timeout, stream: true) { [request] client, metadata, options in
            try await client.bidirectionalStreaming(
                request: StreamingClientRequest(metadata: metadata) { writer in
                    try await writer.write(request)
                    // The request side stays open while the watch runs: the stream ends when this call returns, is
                    // cancelled or reaches its deadline — never by a half-close whose handling is etcd's choice.
                    try await Task.sleep(for: timeout)
                },
                descriptor: MethodDescriptor(fullyQualifiedService: "etcdserverpb.Watch", method: "Watch"),
                serializer: ProtobufSerializer<Etcdserverpb_WatchRequest>(),
                deserializer: ProtobufDeserializer<Etcdserverpb_WatchResponse>(),
                options: options
            ) { response in
                for try await message in response.messages {
                    onMessage(Self.watchedKeys(message))
                    if message.canceled { return }
                }
            }
        }
    }

    /// The keys a watch message's events name.
    static func watchedKeys(_ message: Etcdserverpb_WatchResponse) -> [String] {
        message.events.map { String(decoding: $0.kv.key, as: UTF8.self) }
    }
}
