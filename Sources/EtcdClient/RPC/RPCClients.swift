import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

/// One gRPC client per member for unary calls, kept between calls as the HTTP client's pool keeps its connections:
/// a tick's calls share one HTTP/2 connection per member instead of paying a connection (and a TLS handshake) each
/// (measured, 3 members idle: a tick's 6 calls took 12–15 ms on the wire with a connection each, against 7 ms
/// before them on the gateway's pooled connections).
///
/// A client is dropped — and the next call makes a fresh connection — after any failure that is not etcd's answer:
/// a broken or refused connection would otherwise sit in gRPC's reconnect backoff (1 s and growing) while the member
/// is back, and a member that is down must read as down now, not later. Streams (watch, snapshot, keepalive) never
/// use these clients: each has a connection of its own, closed with it. Closed all at once by `shutdown`, which the
/// cluster client uses before a member's stop (`EtcdCluster.closeConnections`): an idle HTTP/2 connection carries no
/// stream, so it holds up no SIGTERM, but nothing of ours stays open on a member being stopped.
final class RPCClients: Sendable {
    typealias Client = GRPCClient<HTTP2ClientTransport.Posix>
    private struct Entry: Sendable {
        let client: Client
        let running: Task<Void, Never>
        var calls = 0
    }
    private let entries = Mutex<[String: Entry]>([:])

    /// Calls per connection before it is replaced by a fresh one. etcd (grpc-go) resets the stream of a unary call
    /// whose answer overtook the request's end, and grpc-swift closes a connection that receives more than 200 resets
    /// in 10 s as an attack (measured: the 198th put of a loop failed, "stream unexpectedly closed"). Fewer calls than
    /// that per connection, whatever the rate, never trip it.
    static let callsPerConnection = 100

    /// The client for `url`, made with `connect` when there is none or the last one has made its share of calls (it
    /// is then closed once its calls in flight are done); `reused` says it was made for an earlier call.
    func client(
        for url: String, connect: () throws -> HTTP2ClientTransport.Posix
    ) throws -> (client: Client, reused: Bool) {
        let (client, retired, reused) = try entries.withLock { entries -> (Client, Client?, Bool) in
            if var entry = entries[url], entry.calls < Self.callsPerConnection {
                entry.calls += 1
                entries[url] = entry
                return (entry.client, nil, true)
            }
            let client = GRPCClient(transport: try connect())
            let running = Task<Void, Never> { _ = try? await client.runConnections() }
            let old = entries[url]?.client
            entries[url] = Entry(client: client, running: running, calls: 1)
            return (client, old, false)
        }
        retired?.beginGracefulShutdown()
        return (client, reused)
    }

    /// Closes `url`'s client if it is still `client` (a newer one, made meanwhile by another call, stays).
    func drop(_ url: String, ifStill client: Client) {
        let gone = entries.withLock { entries -> Entry? in
            guard let entry = entries[url], entry.client === client else { return nil }
            entries[url] = nil
            return entry
        }
        gone?.client.beginGracefulShutdown()
    }

    /// Closes `url`'s client, if any, and returns once its connection is gone (calls in flight finish first).
    func close(_ url: String) async {
        let gone = entries.withLock { entries in
            defer { entries[url] = nil }
            return entries[url]
        }
        gone?.client.beginGracefulShutdown()
        await gone?.running.value
    }

    /// Closes every client and returns once their connections are gone (calls in flight finish first).
    func shutdown() async {
        let all = entries.withLock { entries in
            defer { entries = [:] }
            return Array(entries.values)
        }
        for entry in all { entry.client.beginGracefulShutdown() }
        for entry in all { await entry.running.value }
    }
}
