import Synchronization

/// A client over several members' endpoints. A call goes to the endpoint that answered last; on a connection error,
/// a timeout or a 5xx it fails over to the next one. Errors that would be the same everywhere (4xx) are thrown at once.
public final class EtcdCluster: Sendable {
    private let list: Mutex<[EtcdEndpoint]>
    private let preferred = Mutex(0)
    /// Members about to stop (`drain`): calls that may go to any member go to them only when no other answers.
    private let draining = Mutex<Set<String>>([])
    let transport: Transport
    /// Members whose calls go through a transport of their own (`isolate`), so that every connection to them can be
    /// closed at once (`closeConnections`); the shared pool cannot close one host's connections.
    private let own = Mutex<[String: Transport]>([:])
    /// Every member on a transport of its own, those adopted later too (`isolateEveryMember`).
    private let isolatesAll = Mutex(false)
    let timeout: Duration

    public init(urls: [String], transport: Transport, timeout: Duration = .seconds(5)) {
        precondition(!urls.isEmpty, "a cluster client needs at least one endpoint")
        self.transport = transport
        self.timeout = timeout
        list = Mutex(urls.map { EtcdEndpoint(url: $0, transport: transport, defaultTimeout: timeout) })
    }

    public var endpoints: [EtcdEndpoint] { list.withLock { $0 } }
    public var urls: [String] { endpoints.map(\.url) }

    /// Adds client URLs learned from the member list (kept in order, never removed: a member that is down now is
    /// still a way in later). A daemon configured with only its own member's URL reaches the others this way.
    /// Returns true when something was added.
    @discardableResult
    public func adopt(urls new: [String]) -> Bool {
        list.withLock { eps in
            let missing = new.filter { u in !u.isEmpty && !eps.contains { $0.url == u } }
            var seen = Set<String>()
            let isolating = isolatesAll.withLock { $0 }
            for u in missing where seen.insert(u).inserted {
                // Made only where none exists: an HTTP client dropped without its shutdown is a leak (and a crash in
                // a debug build).
                if isolating, own.withLock({ $0[u] }) == nil,
                    let fresh = try? Transport(tls: transport.tls, credentials: transport.credentials)
                {
                    own.withLock { $0[u] = fresh }
                }
                eps.append(
                    EtcdEndpoint(url: u, transport: transport(for: u), defaultTimeout: timeout))
            }
            return !missing.isEmpty
        }
    }

    /// Every member, listed now or adopted later, on a transport of its own, so that every connection of ours to
    /// any member can be closed at once (`closeConnections`) — a daemon closes them to a peer about to be stopped.
    public func isolateEveryMember() throws {
        isolatesAll.withLock { $0 = true }
        for url in urls where own.withLock({ $0[url] }) == nil { try replaceTransport(of: url) }
    }

    /// The endpoint for this URL, on the cluster's transport (for calls that must go to one member).
    public func endpoint(_ url: String) -> EtcdEndpoint {
        endpoints.first { $0.url == url }
            ?? EtcdEndpoint(url: url, transport: transport(for: url), defaultTimeout: timeout)
    }

    func transport(for url: String) -> Transport { own.withLock { $0[url] } ?? transport }

    /// From now on, calls to `url` go through a transport of their own (same TLS files and credentials).
    public func isolate(_ url: String) throws {
        try replaceTransport(of: url)
    }

    /// Closes every connection this client holds to `url` (isolated first): its transport is replaced by a new one,
    /// then shut down. A daemon does this right before it stops its own member: a pooled connection made for a
    /// request cancelled while it connected never carries a byte, and etcd 3.5's SIGTERM waits in its connection
    /// matcher (cmux) for the first bytes of every open connection — measured on 3.5.16: a member hung until it was
    /// killed at 20 s, `ss` showing one connection from its own daemon, established and never written.
    public func closeConnections(to url: String) async {
        // The shared transport's kept gRPC client for this member too (calls made before it was isolated).
        await transport.rpcClients.close(url)
        guard let old = try? replaceTransport(of: url) else { return }
        try? await old.shutdown()
    }

    /// The members about to be stopped, replacing the last set: calls that may go to any member go elsewhere first.
    /// A call served by a member during its stop keeps its connection busy, and etcd's SIGTERM waits for that.
    public func drain(_ urls: Set<String>) {
        draining.withLock { $0 = urls }
    }

    /// The same for a peer, without waiting for the shutdown: the caller's tick must not hang on a connection stuck
    /// connecting to a member that is going down (the old transport's calls end within their own timeouts).
    public func releaseConnections(to url: String) {
        let shared = transport
        Task { await shared.rpcClients.close(url) }
        guard let old = try? replaceTransport(of: url) else { return }
        Task { try? await old.shutdown() }
    }

    /// Shuts down the isolated members' transports (the shared one belongs to the caller); their calls go through
    /// the shared one after this.
    public func shutdownIsolated() async {
        let isolated = own.withLock { own in
            defer { own = [:] }
            return own
        }
        for url in isolated.keys { repoint(url, to: transport) }
        for t in isolated.values { try? await t.shutdown() }
    }

    @discardableResult
    private func replaceTransport(of url: String) throws -> Transport? {
        let fresh = try Transport(tls: transport.tls, credentials: transport.credentials)
        let old = own.withLock { own in
            defer { own[url] = fresh }
            return own[url]
        }
        repoint(url, to: fresh)
        return old
    }

    /// The listed endpoint for `url`, from now on on `transport`.
    private func repoint(_ url: String, to transport: Transport) {
        list.withLock { eps in
            for i in eps.indices where eps[i].url == url {
                eps[i] = EtcdEndpoint(url: url, transport: transport, defaultTimeout: timeout)
            }
        }
    }

    /// Runs `body` on one endpoint after another until one succeeds, starting with the last one that worked and
    /// skipping `avoiding` (e.g. the local member while it is down) unless nothing else is left.
    public func withFailover<T: Sendable>(
        _ call: String, avoiding: Set<String> = [],
        _ body: @Sendable (EtcdEndpoint) async throws -> T
    ) async throws -> T {
        let endpoints = self.endpoints
        let start = preferred.withLock { $0 } % endpoints.count
        let order = (0..<endpoints.count).map { (start + $0) % endpoints.count }
        let avoiding = avoiding.union(draining.withLock { $0 })
        let ranked =
            order.filter { !avoiding.contains(endpoints[$0].url) }
            + order.filter { avoiding.contains(endpoints[$0].url) }
        var errors: [EtcdError] = []
        for i in ranked {
            do {
                let r = try await body(endpoints[i])
                preferred.withLock { $0 = i }
                return r
            } catch let e as EtcdError where e.isRetryableElsewhere {
                errors.append(e)
            }
        }
        throw EtcdError.allEndpointsFailed(call: call, errors: errors)
    }

    // Conveniences for the calls that may go to any member.
    public func range(_ key: String, prefix: Bool = false, avoiding: Set<String> = []) async throws -> RangeResult {
        try await withFailover("range \(key)", avoiding: avoiding) { try await $0.range(key, prefix: prefix) }
    }

    public func put(_ key: String, _ value: [UInt8], lease: Int64 = 0, avoiding: Set<String> = []) async throws -> Int64
    {
        try await withFailover("put \(key)", avoiding: avoiding) { try await $0.put(key, value, lease: lease) }
    }

    public func txn(
        compare: [Compare], success: [TxnOp], failure: [TxnOp] = [], avoiding: Set<String> = []
    ) async throws -> TxnResult {
        try await withFailover("txn", avoiding: avoiding) {
            try await $0.txn(compare: compare, success: success, failure: failure)
        }
    }

    public func memberList(avoiding: Set<String> = []) async throws -> [Member] {
        try await withFailover("member list", avoiding: avoiding) { try await $0.memberList() }
    }

    public func leaseGrant(ttl: Int64, avoiding: Set<String> = []) async throws -> Lease {
        try await withFailover("lease grant", avoiding: avoiding) { try await $0.leaseGrant(ttl: ttl) }
    }

    public func leaseRevoke(_ id: Int64, avoiding: Set<String> = []) async throws {
        try await withFailover("lease revoke", avoiding: avoiding) { try await $0.leaseRevoke(id) }
    }

    public func leaseKeepAlive(_ id: Int64, avoiding: Set<String> = []) async throws -> Lease {
        try await withFailover("lease keepalive", avoiding: avoiding) { try await $0.leaseKeepAlive(id) }
    }
}
