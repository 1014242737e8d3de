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
    public func snapshot(to path: String, idleTimeout: Duration = .seconds(30),
                         progress: (@Sendable (Int64) -> Void)? = nil) async throws -> SnapshotInfo {
        let call = "snapshot"
        let target = try RPCTarget(url: url)
        let rpc = try HTTP2ClientTransport.Posix(target: target.resolvable, transportSecurity: try target.security(transport.tls))
        let token = try await transport.credentials?.token(transport: transport, endpoint: url, prefix: await apiPrefix(),
                                                            timeout: defaultTimeout)
        let file = try SnapshotFile(path: path, endpoint: url)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await withGRPCClient(transport: rpc) { client in
                        var options = CallOptions.defaults
                        // A member that is down is an answer now, not something to wait for.
                        options.waitForReady = false
                        var metadata = Metadata()
                        if let token { metadata.addString(token, forKey: "token") }
                        try await client.serverStreaming(
                            request: ClientRequest(message: Etcdserverpb_SnapshotRequest(), metadata: metadata),
                            descriptor: MethodDescriptor(fullyQualifiedService: "etcdserverpb.Maintenance", method: "Snapshot"),
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
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: .milliseconds(250))
                        if ContinuousClock.now - file.lastProgress > idleTimeout {
                            throw EtcdError.timeout(endpoint: url, call: "\(call) (no data for \(idleTimeout.seconds) s)", seconds: idleTimeout.seconds)
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
            // A token the member no longer knows is dropped here; the caller's next attempt buys a new one.
            if let token, let rpc = error as? RPCError { _ = transport.credentials?.rejects(message: rpc.message, token: token) }
            throw RPCTarget.classify(error, endpoint: url, call: call)
        }
    }
}

/// Where a gRPC call goes, from an endpoint's client URL (`http://host:port` or `https://host:port`).
struct RPCTarget {
    let resolvable: any ResolvableTarget
    let tls: Bool
    let host: String

    init(url: String) throws {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, scheme == "http" || scheme == "https",
              let host = parts.host, !host.isEmpty else {
            throw EtcdError.unreachable(endpoint: url, call: "snapshot", detail: "not an http(s)://host:port URL")
        }
        let port = parts.port ?? 2379
        tls = scheme == "https"
        self.host = host
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        if bare.contains(":") {
            resolvable = .ipv6(address: bare, port: port)
        } else if bare.split(separator: ".").count == 4, bare.allSatisfy({ $0.isNumber || $0 == "." }) {
            resolvable = .ipv4(address: bare, port: port)
        } else {
            resolvable = .dns(host: bare, port: port)
        }
    }

    /// The same files and rules as the gateway client: the CA from the config (or the system's), the client
    /// certificate when given, full verification of the server's name or IP address.
    func security(_ options: TLSOptions) throws -> HTTP2ClientTransport.Posix.TransportSecurity {
        guard tls else { return .plaintext }
        return .tls(.init(
            certificateChain: options.certFile.map { [.file(path: $0, format: .pem)] } ?? [],
            privateKey: options.keyFile.map { .file(path: $0, format: .pem) },
            serverCertificateVerification: .fullVerification,
            trustRoots: options.caFile.map { .certificates([.file(path: $0, format: .pem)]) } ?? .systemDefault))
    }

    /// Every failure as an `EtcdError` naming the endpoint, like the gateway calls.
    static func classify(_ error: Error, endpoint: String, call: String) -> Error {
        guard let rpc = error as? RPCError else { return error }
        switch rpc.code {
        case .unavailable: return EtcdError.unreachable(endpoint: endpoint, call: call, detail: rpc.message)
        case .deadlineExceeded: return EtcdError.timeout(endpoint: endpoint, call: call, seconds: 0)
        default:
            // etcd allows snapshots to the root role only (measured on 3.4.23 and 3.5.1).
            let hint = rpc.message.contains("permission denied") ? " (etcd allows snapshots to users with the root role only)" : ""
            return EtcdError.rpc(endpoint: endpoint, call: call, code: rpc.code.rawValue, message: rpc.message + hint)
        }
    }
}
