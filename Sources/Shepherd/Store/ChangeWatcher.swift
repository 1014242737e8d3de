import EtcdClient
import Synchronization

/// Wakes the daemon's loop as soon as anything under the key prefix changes (a member record, the rollout, the
/// lock), so a daemon waiting for its turn reacts at once instead of at its next tick. An etcd watch over the
/// gateway, re-established (through any member) whenever it ends. Ticks still run without it: it only shortens waits.
public final class ChangeWatcher: Sendable {
    private let changed = Mutex(false)
    private let task = Mutex<Task<Void, Never>?>(nil)

    public init() {}

    public func start(cluster: EtcdCluster, prefix: String, avoiding local: String) {
        let t = Task { [self] in
            while !Task.isCancelled {
                do {
                    try await cluster.withFailover("watch \(prefix)", avoiding: [local]) { ep in
                        try await ep.watch(prefix: prefix + "/", timeout: .seconds(300)) { self.signal() }
                    }
                } catch {
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
        task.withLock { $0 = t }
    }

    public func stop() { task.withLock { $0?.cancel(); $0 = nil } }

    func signal() { changed.withLock { $0 = true } }

    /// Whether something changed since the last call.
    public func takeChange() -> Bool { changed.withLock { let c = $0; $0 = false; return c } }
}
