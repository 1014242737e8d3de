import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves `GET /metrics` (the Prometheus text format) on the configured address; anything else is 404. Plain HTTP on
/// loopback by default: the numbers are not secret, but nothing here needs to be reachable from elsewhere.
public final class MetricsServer: Sendable {
    let channel: any Channel

    /// Binds `host:port` (port 0 picks one); throws when the address is taken or invalid.
    public static func start(listen: String, metrics: DaemonMetrics) async throws -> MetricsServer {
        MetricsServer(channel: try await bindHTTP(listen: listen, key: "metrics.listen") { Handler(metrics: metrics) })
    }

    /// An HTTP/1 listener on `host:port` (`[::1]:port` too), one `handler()` per connection: the metrics and the
    /// FleetLock servers both.
    static func bindHTTP(
        listen: String, key: String, handler: @escaping @Sendable () -> any ChannelHandler & Sendable
    ) async throws -> any Channel {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw Config.Invalid(key: key, problem: "'\(listen)' is not host:port")
        }
        let host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap { channel.pipeline.addHandler(handler()) }
            }
            .bind(host: host, port: port).get()
    }

    init(channel: any Channel) { self.channel = channel }

    /// The bound port (useful with port 0).
    public var port: Int? { channel.localAddress?.port }

    public func stop() async { try? await channel.close() }

    final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let metrics: DaemonMetrics
        init(metrics: DaemonMetrics) { self.metrics = metrics }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case let .head(request) = unwrapInboundIn(data) else { return }
            let found = request.method == .GET && (request.uri == "/metrics" || request.uri.hasPrefix("/metrics?"))
            let body = found ? metrics.exposition() : "not found: GET /metrics\n"
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
            headers.add(name: "Content-Length", value: "\(body.utf8.count)")
            headers.add(name: "Connection", value: "close")
            let head = HTTPResponseHead(version: request.version, status: found ? .ok : .notFound, headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
