import EtcdClient
import Foundation
import Rollout

/// The cluster-wide upgrade lock: etcd's v3 lock service on a lease of our own. The lease is kept alive through the
/// other members' endpoints first (the local member may be down while we hold the lock), and the lock is released by
/// revoking the lease, which deletes the lock key.
public actor LeaseLock: UpgradeLock {
    let cluster: EtcdCluster
    let name: String
    let ttl: Int64
    /// The local member's URL: avoided for keepalives while the member is down.
    let localURL: String
    private(set) var hold: LockHold?
    private var keepalive: Task<Void, Never>?
    private var lost: String?
    /// The TTL etcd last answered and when (monotonic) that request was sent: the lease surely lasts until
    /// `sentAt + ttl`, however long the answer took to arrive.
    private var renewal: (sentAt: Double, ttl: Double)?

    public init(cluster: EtcdCluster, name: String, ttlSeconds: Int, localURL: String) {
        self.cluster = cluster; self.name = name; self.ttl = Int64(ttlSeconds); self.localURL = localURL
    }

    public func current() -> LockHold? {
        guard var h = hold else { return nil }
        if let r = renewal { h.leaseRemaining = r.ttl - (SystemClock.boottime() - r.sentAt) }
        return h
    }
    /// Why the lock was lost, once (cleared by reading).
    public func takeLossReason() -> String? { defer { lost = nil }; return lost }

    /// Tries to acquire the lock within `wait`; returns false (and leaves nothing behind) when another holder keeps it.
    public func acquire(wait: Duration) async throws -> Bool {
        if hold != nil { return true }
        let sent = SystemClock.boottime()
        let lease = try await cluster.leaseGrant(ttl: ttl, avoiding: [localURL])
        do {
            // A timeout means "someone else holds it": not a reason to queue again on another member.
            let name = self.name
            let got: String? = try await cluster.withFailover("lock \(name)", avoiding: [localURL]) { ep in
                do { return try await ep.lock(name, lease: lease.id, timeout: wait).key } catch let e as EtcdError {
                    if case .timeout = e { return nil }
                    throw e
                }
            }
            guard let key = got else {
                try? await cluster.leaseRevoke(lease.id, avoiding: [localURL])
                return false
            }
            // The fence is the lock key's create_revision (the lock answer's header revision is later for a waiter).
            let kv = try await cluster.range(key, avoiding: [localURL]).kvs.first
            guard let kv, kv.lease == lease.id else { throw StoreError(detail: "lock key \(key) vanished right after the lock call") }
            hold = LockHold(key: key, revision: kv.createRevision, leaseID: lease.id, leaseRemaining: Double(lease.ttl))
            renewal = (sent, Double(lease.ttl))
            startKeepalive(lease.id)
            return true
        } catch {
            try? await cluster.leaseRevoke(lease.id, avoiding: [localURL])
            throw error
        }
    }

    /// The lock key's create revision must equal the lock call's revision: the fence of every record write.
    /// Forgets the lock after a failed fence or an expired lease, and revokes the lease in case it still lives:
    /// nothing of ours may keep the lock once we stopped believing we hold it.
    public func markLost(_ why: String) async {
        keepalive?.cancel(); keepalive = nil
        guard let h = hold else { return }
        lost = why
        hold = nil; renewal = nil
        try? await cluster.leaseRevoke(h.leaseID, avoiding: [localURL])
    }

    /// Revokes the lease (deleting the lock key). The lock is considered released even if the revoke fails: the
    /// lease then expires within its TTL.
    public func release() async {
        keepalive?.cancel(); keepalive = nil
        guard let h = hold else { return }
        hold = nil; renewal = nil
        try? await cluster.leaseRevoke(h.leaseID, avoiding: [localURL])
    }

    private func startKeepalive(_ id: Int64) {
        let period = max(0.5, Double(ttl) / 4)
        keepalive = Task { [cluster, localURL] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(period))
                if Task.isCancelled { return }
                do {
                    let sent = SystemClock.boottime()
                    let l = try await cluster.leaseKeepAlive(id, avoiding: [localURL])
                    self.keepaliveAnswered(id, ttl: l.ttl, sentAt: sent)
                } catch {
                    // Every endpoint failed this round: `current()` counts the lease down from the last renewal that
                    // got through. The next round may get through.
                }
            }
        }
    }

    private func keepaliveAnswered(_ id: Int64, ttl: Int64, sentAt: Double) {
        guard hold?.leaseID == id else { return }
        if ttl <= 0 {
            keepalive?.cancel(); keepalive = nil; hold = nil; renewal = nil
            lost = "lease \(String(UInt64(bitPattern: id), radix: 16)) expired"
        } else { renewal = (sentAt, Double(ttl)) }
    }

}
