import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf

extension EtcdEndpoint {
    /// Streams `Maintenance.Snapshot` (gRPC, on the client URL's port, as `etcdctl snapshot save` does) to `path` and
    /// verifies the sha256 trailer etcd appends after the db bytes.
    ///
    /// gRPC, not the JSON gateway: the gateway base64-encodes every 32 KiB chunk into a JSON line, and measured here
    /// even curl reads that stream at about half the speed of etcdctl. The deadline follows progress: the call fails
    /// when no message arrives for `idleTimeout` (before the first or between two), however long the whole stream
    /// takes — a multi-GB db is slow but moving, a hung member is not. `progress` is called with the bytes written so
    /// far after every message (the daemon feeds its watchdog from it). Memory stays bounded by a few messages
    /// whatever the db size. The data goes to a fresh file beside `path` (O_EXCL|O_NOFOLLOW, mode 0600), is fsynced
    /// and renamed onto `path`; nothing is left on failure.
    public func snapshot(
        to path: String, idleTimeout: Duration = .seconds(30),
        progress: (@Sendable (Int64) -> Void)? = nil
    ) async throws -> SnapshotInfo {
        let call = "snapshot"
        // No deadline on the call: the idle watch below is its deadline.
        return try await rpc(call, timeout: nil, stream: true) { [url] client, metadata, options in
            let file = try SnapshotFile(path: path, endpoint: url)
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await client.serverStreaming(
                            request: ClientRequest(message: Etcdserverpb_SnapshotRequest(), metadata: metadata),
                            descriptor: MethodDescriptor(
                                fullyQualifiedService: "etcdserverpb.Maintenance", method: "Snapshot"),
                            serializer: ProtobufSerializer<Etcdserverpb_SnapshotRequest>(),
                            deserializer: ProtobufDeserializer<Etcdserverpb_SnapshotResponse>(),
                            options: options
                        ) { response in
                            for try await message in response.messages {
                                try file.append(blob: message.blob)
                                progress?(file.written)
                            }
                        }
                    }
                    group.addTask {
                        while true {
                            try await Task.sleep(for: .milliseconds(250))
                            if ContinuousClock.now - file.lastProgress > idleTimeout {
                                throw EtcdError.timeout(
                                    endpoint: url, call: "\(call) (no data for \(idleTimeout.seconds) s)",
                                    seconds: idleTimeout.seconds)
                            }
                        }
                    }
                    // Whichever ends first: the stream (done or failed) or the idle watch (stalled).
                    defer { group.cancelAll() }
                    try await group.next()
                }
                return try file.finish()
            } catch {
                file.discard()
                throw error
            }
        }
    }
}
