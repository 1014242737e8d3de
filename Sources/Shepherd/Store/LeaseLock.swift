import EtcdClient
import Foundation
import Rollout

/// The cluster-wide upgrade lock: etcd's v3 lock service on a lease of our own. The lease is kept alive through the
/// other members' endpoints first (the local member may be down while we hold the lock), and the lock is released by
/// revoking the lease, which deletes the lock key. Time comes only from the clock port.
public actor LeaseLock: UpgradeLock {
    let cluster: any EtcdAPI
    let name: String
    let ttl: Int64
    /// The local member's URL: avoided for keepalives while the member is down.
    let localURL: String
    let clock: any ShepherdClock
    /// Whether `acquire` starts a background task that keeps the lease alive (production); the simulator calls
    /// `keepAliveOnce` itself, on its own schedule.
    let backgroundKeepalive: Bool
    /// Raised when a lock key changes (the daemon's watch): a daemon queued for the lock looks again at once when
    /// the key ahead of it goes, instead of at its next 100 ms poll. Nil: polls only.
    let changes: Wakeup?
    private(set) var hold: LockHold?
    private var keepalive: Task<Void, Never>?
    private var lost: String?
    /// The TTL etcd last answered and when (monotonic) that request was sent: the lease surely lasts until
    /// `sentAt + ttl`, however long the answer took to arrive.
    private var renewal: (sentAt: Double, ttl: Double)?

    public init(
        cluster: any EtcdAPI, name: String, ttlSeconds: Int, localURL: String, clock: any ShepherdClock,
        backgroundKeepalive: Bool = true, changes: Wakeup? = nil
    ) {
        self.cluster = cluster
        self.name = name
        self.ttl = Int64(ttlSeconds)
        self.localURL = localURL
        self.clock = clock
        self.backgroundKeepalive = backgroundKeepalive
        self.changes = changes
    }

    /// Seconds between keepalive rounds: four rounds per TTL.
    public var keepalivePeriod: Double { max(0.5, Double(ttl) / 4) }

    public func current() -> LockHold? {
        guard var h = hold else { return nil }
        if let r = renewal { h.leaseRemaining = r.ttl - (clock.now() - r.sentAt) }
        return h
    }
    /// Why the lock was lost, once (cleared by reading).
    public func takeLossReason() -> String? {
        defer { lost = nil }
        return lost
    }

    /// Tries to acquire the lock within `wait`; returns false (and leaves nothing behind) when another holder keeps it.
    ///
    /// etcd's lock recipe — our key `<name>/<lease hex>` on our lease joins the queue, the oldest key holds — made
    /// here with a txn and ranges, not through etcd's lock service: that service opens a lease keepalive stream of its
    /// own inside the member that served the call and never closes it, and that member's SIGTERM then waits for it
    /// (measured: 3.4.23 exits 3 s late; 3.5.16 hangs in `embed.(*Etcd).Close` until it is killed 20 s later — a
    /// goroutine dump showed the `LeaseKeepAlive` stream of its `grpcproxy` adapter).
    public func acquire(wait: Duration) async throws -> Bool {
        if hold != nil { return true }
        let sent = clock.now()
        let lease = try await cluster.leaseGrant(ttl: ttl, avoiding: [localURL])
        let key = name + "/" + lease.hex
        do {
            _ = try await cluster.txn(
                compare: [.absent(key)], success: [.put(key: key, value: [], lease: lease.id)], failure: [],
                avoiding: [localURL])
            let deadline = clock.now() + wait.seconds
            while true {
                let queue = try await cluster.range(name + "/", prefix: true, avoiding: [localURL]).kvs
                // A put that failed but landed is found here; one that did not land is not (nothing to wait for).
                guard let mine = queue.first(where: { $0.keyString == key }), mine.lease == lease.id else {
                    throw StoreError(thing: "lock key \(key)", cause: "missing after its write")
                }
                if queue.min(by: { $0.createRevision < $1.createRevision })?.keyString == key {
                    // The fence is the lock key's create_revision.
                    hold = LockHold(
                        key: key, revision: mine.createRevision, leaseID: lease.id, leaseRemaining: Double(lease.ttl),
                        heldSince: clock.now())
                    renewal = (sent, Double(lease.ttl))
                    if backgroundKeepalive { startKeepalive() }
                    return true
                }
                if clock.now() >= deadline {
                    try? await cluster.leaseRevoke(lease.id, avoiding: [localURL])
                    return false
                }
                if let changes {
                    _ = await changes.wait(upTo: .milliseconds(100))
                    try Task.checkCancellation()  // a cancelled wait returns at once: not a poll loop
                } else {
                    try await clock.sleep(seconds: 0.1)
                }
            }
        } catch {
            try? await cluster.leaseRevoke(lease.id, avoiding: [localURL])
            throw error
        }
    }

    /// Forgets the lock after a failed fence or an expired lease, and revokes the lease in case it still lives:
    /// nothing of ours may keep the lock once we stopped believing we hold it.
    public func markLost(_ why: String) async {
        keepalive?.cancel()
        keepalive = nil
        guard let h = hold else { return }
        lost = why
        hold = nil
        renewal = nil
        try? await cluster.leaseRevoke(h.leaseID, avoiding: [localURL])
    }

    /// Revokes the lease (deleting the lock key). The lock is considered released even if the revoke fails: the
    /// lease then expires within its TTL.
    public func release() async {
        keepalive?.cancel()
        keepalive = nil
        guard let h = hold else { return }
        hold = nil
        renewal = nil
        try? await cluster.leaseRevoke(h.leaseID, avoiding: [localURL])
    }

    /// One keepalive round through any member (the local one last). A round whose every endpoint failed changes
    /// nothing: `current()` counts the lease down from the last renewal that got through.
    public func keepAliveOnce() async {
        guard let id = hold?.leaseID else { return }
        let sent = clock.now()
        guard let l = try? await cluster.leaseKeepAlive(id, avoiding: [localURL]) else { return }
        guard hold?.leaseID == id else { return }
        if l.ttl <= 0 {
            keepalive?.cancel()
            keepalive = nil
            hold = nil
            renewal = nil
            lost = "lease \(Lease.hex(id)) expired"
        } else {
            renewal = (sent, Double(l.ttl))
        }
    }

    private func startKeepalive() {
        let period = keepalivePeriod
        keepalive = Task { [clock] in
            while !Task.isCancelled {
                try? await clock.sleep(seconds: period)
                if Task.isCancelled { return }
                await self.keepAliveOnce()
            }
        }
    }
}
