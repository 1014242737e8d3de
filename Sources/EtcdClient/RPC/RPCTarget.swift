import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import NIOPosix

/// Where a gRPC call goes, from an endpoint's client URL (`http://host:port` or `https://host:port`).
struct RPCTarget {
    let resolvable: any ResolvableTarget
    let tls: Bool
    let host: String

    init(url: String, call: String) throws {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, scheme == "http" || scheme == "https",
            let host = parts.host, !host.isEmpty
        else {
            throw EtcdError.unreachable(endpoint: url, call: call, detail: "not an http(s)://host:port URL")
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
        return .tls(
            .init(
                certificateChain: options.certFile.map { [.file(path: $0, format: .pem)] } ?? [],
                privateKey: options.keyFile.map { .file(path: $0, format: .pem) },
                serverCertificateVerification: .fullVerification,
                trustRoots: options.caFile.map { .certificates([.file(path: $0, format: .pem)]) } ?? .systemDefault))
    }

    /// Every failure as an `EtcdError` naming the endpoint: UNAVAILABLE (no connection, or etcd's "no leader") as
    /// `.unreachable` with the cause an operator can act on, a deadline as `.timeout`, any other status as etcd's
    /// answer (`.rpc`) with what to do about the ones an operator meets first.
    static func classify(_ error: Error, endpoint: String, call: String, timeout: Duration?) -> Error {
        guard let rpc = error as? RPCError else { return error }
        switch rpc.code {
        case .unavailable:
            return EtcdError.unreachable(endpoint: endpoint, call: call, detail: readable(rpc))
        case .deadlineExceeded:
            return EtcdError.timeout(endpoint: endpoint, call: call, seconds: timeout?.seconds ?? 0)
        default:
            return EtcdError.rpc(
                endpoint: endpoint, call: call, code: rpc.code.rawValue, message: rpc.message + hint(rpc.message, call))
        }
    }

    /// Whether a failure is etcd's answer (a status it chose: permission denied, not leader…) rather than a
    /// connection's trouble or a deadline.
    static func isAnswer(_ error: Error) -> Bool {
        guard let rpc = error as? RPCError else { return false }
        return EtcdError.refusalCodes.contains(rpc.code.rawValue)
    }

    /// Whether a failure is the connection's (UNAVAILABLE): not etcd's answer, not a deadline.
    static func isConnectionFailure(_ error: Error) -> Bool {
        (error as? RPCError)?.code == .unavailable
    }

    /// Whether a call failed before any of it was sent: its connection was refused (nothing listened), or gRPC had
    /// no connection ready to carry it ("subchannel isn't ready": grpc-swift-nio-transport's words, thrown before a
    /// stream is made; `KeptConnectionTests` meets both).
    static func sentNothing(_ error: Error) -> Bool {
        guard let rpc = error as? RPCError, rpc.code == .unavailable else { return false }
        let chain = causes(rpc)
        if chain.contains(where: { ($0 as? RPCError)?.message == "subchannel isn't ready" }) { return true }
        switch chain.first(where: { !($0 is RPCError) }) {
        case let c as NIOConnectionError:
            return (c.connectionErrors.first?.error as? IOError)?.errnoCode == ECONNREFUSED
        case let io as IOError: return io.errnoCode == ECONNREFUSED
        default: return false
        }
    }

    /// `rpc` and the errors it was caused by, outermost first (gRPC wraps a connection's failure in its own errors).
    static func causes(_ rpc: RPCError) -> [any Error] {
        var chain: [any Error] = [rpc]
        var cause = rpc.cause
        while let next = cause, chain.count < 9 {
            chain.append(next)
            cause = (next as? RPCError)?.cause
        }
        return chain
    }

    /// The innermost cause of a failed connection in words (`Transport.readable`: "connection refused: nothing
    /// listens there…"), or etcd's own message when etcd answered.
    static func readable(_ rpc: RPCError) -> String {
        guard let cause = causes(rpc).first(where: { !($0 is RPCError) }) else { return rpc.message }
        // A cause the transport has no words for is a library's internals: gRPC's own sentence says enough.
        let text = Transport.readable(cause)
        return text == String(describing: cause) ? rpc.message : text
    }

    /// What to do about etcd's auth answers.
    static func hint(_ text: String, _ call: String) -> String {
        // etcd allows snapshots to the root role only (measured on 3.4.23 and 3.5.1).
        if call == "snapshot" && text.contains("permission denied") {
            return " (etcd allows snapshots to users with the root role only)"
        }
        if text.contains("user name is empty") {
            return " (etcd has auth enabled: set cluster.auth, a user and its passwordFile)"
        }
        if text.contains("authentication is not enabled") { return " (etcd has auth disabled: remove cluster.auth)" }
        if text.contains("invalid user ID or password") {
            return " (check cluster.auth.user and the password in its passwordFile)"
        }
        return ""
    }
}
