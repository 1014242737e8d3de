import Foundation

/// `v3lockpb.Lock`, etcd's lock service (what `etcdctl lock` uses).
extension EtcdEndpoint {
    /// Blocks until the lock `name` is held by `lease`; returns the lock key (`name/<lease hex>`) and the revision
    /// at which it was acquired. Re-entrant per lease: each contender needs its own lease.
    public func lock(_ name: String, lease: Int64, timeout: Duration) async throws -> (key: String, revision: Int64) {
        var request = Etcdserverpb_LockRequest()
        request.name = Data(name.utf8)
        request.lease = lease
        let answer: Etcdserverpb_LockResponse = try await unary(
            "v3lockpb.Lock", "Lock", request, call: "lock \(name)", timeout: timeout)
        return (String(decoding: answer.key, as: UTF8.self), answer.header.revision)
    }

    public func unlock(_ key: String, timeout: Duration? = nil) async throws {
        var request = Etcdserverpb_UnlockRequest()
        request.key = Data(key.utf8)
        let _: Etcdserverpb_UnlockResponse = try await unary(
            "v3lockpb.Lock", "Unlock", request, call: "unlock \(key)", timeout: timeout)
    }
}
