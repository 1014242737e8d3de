import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The FleetLock protocol (Zincati's reboot coordination) for this node: `POST /v1/pre-reboot` and
/// `POST /v1/steady-state` with the header `fleet-lock-protocol: true` and the body
/// `{"client_params": {"id": "...", "group": "..."}}`. A valid call goes to the daemon loop (`FleetLockInbox`); a
/// bad one is answered here with an error status and `{"kind": ..., "value": ...}`, and nothing is held.
public final class FleetLockServer: Sendable {
    let channel: any Channel
    /// Bodies above this are refused (413) without being read further.
    static let maxBody = 16 * 1024

    public static func start(listen: String, group: String, inbox: FleetLockInbox) async throws -> FleetLockServer {
        FleetLockServer(
            channel: try await MetricsServer.bindHTTP(listen: listen, key: "fleetLock.listen") {
                Handler(group: group, inbox: inbox)
            })
    }

    init(channel: any Channel) { self.channel = channel }
    public var port: Int? { channel.localAddress?.port }
    public func stop() async { try? await channel.close() }

    /// What a request says, or the error it gets: the whole protocol check, without I/O.
    static func parse(
        method: HTTPMethod, uri: String, headers: HTTPHeaders, body: [UInt8], group: String
    )
        -> Result<FleetLockCall, FleetLockAnswer>
    {
        let path = uri.split(separator: "?").first.map(String.init) ?? uri
        guard
            let operation = ["/v1/pre-reboot": FleetLockCall.Operation.preReboot, "/v1/steady-state": .steadyState][
                path]
        else { return .failure(.bad(404, "not_found", "no such endpoint: POST /v1/pre-reboot or /v1/steady-state")) }
        guard method == .POST else {
            return .failure(.bad(405, "method_not_allowed", "\(method) \(path): FleetLock calls are POST"))
        }
        guard headers["fleet-lock-protocol"].first?.lowercased() == "true" else {
            return .failure(.bad(400, "missing_protocol_header", "the header 'fleet-lock-protocol: true' is required"))
        }
        guard body.count <= maxBody else {
            return .failure(.bad(413, "body_too_large", "the body is over \(maxBody) bytes"))
        }
        struct Body: Decodable {
            struct Params: Decodable {
                let id: String
                let group: String
            }
            let client_params: Params
        }
        guard let parsed = try? JSONDecoder().decode(Body.self, from: Data(body)) else {
            return .failure(
                .bad(400, "malformed_body", #"the body must be JSON {"client_params": {"id": "...", "group": "..."}}"#))
        }
        let p = parsed.client_params
        guard !p.id.isEmpty, p.id.count <= 256 else {
            return .failure(.bad(400, "malformed_body", "client_params.id must be 1 to 256 characters"))
        }
        guard p.group == group else {
            return .failure(
                .bad(
                    400, "unknown_group",
                    "group '\(p.group.prefix(64))' is not served here (this node's group: '\(group)')"))
        }
        return .success(FleetLockCall(operation: operation, clientID: p.id, group: p.group))
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let group: String
        let inbox: FleetLockInbox
        var head: HTTPRequestHead?
        var body: [UInt8] = []
        var tooLarge = false
        init(group: String, inbox: FleetLockInbox) {
            self.group = group
            self.inbox = inbox
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case let .head(h):
                head = h
                body = []
                tooLarge = false
            case var .body(buffer):
                // Past the limit nothing more is kept: the answer is 413 whatever follows.
                if body.count + buffer.readableBytes > FleetLockServer.maxBody {
                    tooLarge = true
                } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                    body += bytes
                }
            case .end:
                guard let head else { return }
                let parsed =
                    tooLarge
                    ? .failure(.bad(413, "body_too_large", "the body is over \(FleetLockServer.maxBody) bytes"))
                    : FleetLockServer.parse(
                        method: head.method, uri: head.uri, headers: head.headers, body: body, group: group)
                switch parsed {
                case let .failure(answer):
                    respond(context: context, version: head.version, answer)
                case let .success(call):
                    let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                    let inbox = self.inbox
                    Task {
                        let answer = await inbox.submit(call)
                        bound.eventLoop.execute {
                            let (handler, context) = bound.value
                            handler.respond(context: context, version: head.version, answer)
                        }
                    }
                }
            }
        }

        func respond(context: ChannelHandlerContext, version: HTTPVersion, _ answer: FleetLockAnswer) {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let text = String(decoding: (try? enc.encode(answer)) ?? Data(), as: UTF8.self) + "\n"
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: "\(text.utf8.count)")
            headers.add(name: "Connection", value: "close")
            let status = HTTPResponseStatus(statusCode: answer.status)
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))),
                promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
