import Rollout
import Shepherd
import TestSupport
import Testing

/// The end of a rollout as the end-to-end tests see it: waits until the rollout record is completed or halted (or
/// `timeout` passes), stops the monitor that ran beside it, and reads the records once more.
struct RolloutEnd {
    let finished: Bool
    let snap: RolloutStore.Snapshot
    /// The store it was read from (for reads after the end).
    let store: RolloutStore
    var state: RolloutState? { snap.rollout?.state }
    var summary: String { "\(state?.rawValue ?? "no rollout")\(snap.rollout?.reason.map { ": \($0)" } ?? "")" }

    static func wait(
        _ store: RolloutStore, monitor: SafetyMonitor, timeout: Duration = .seconds(150)
    ) async throws -> RolloutEnd {
        let finished = await eventually(timeout: timeout) {
            let s = (try? await store.read())?.rollout?.state
            return s == .completed || s == .halted
        }
        await monitor.stop()
        return RolloutEnd(finished: finished, snap: try await store.read(), store: store)
    }

    /// A request for `to` made with `node`'s CLI, the safety monitor running beside the rollout from before it, waited
    /// on to its end.
    static func afterRequest(
        _ to: String, on node: String = "s1", in fleet: ShepherdFleet, monitor: SafetyMonitor
    ) async throws -> RolloutEnd {
        monitor.start()
        let req = try await fleet.cli(["request", to, "--config", fleet.configPath(node)])
        #expect(req.succeeded, "\(req.summary)")
        return try await wait(
            RolloutStore(prefix: fleet.keyPrefix, cluster: fleet.cluster.clusterClient()), monitor: monitor)
    }
}

extension ShepherdFleet {
    /// The last lines of every daemon's log, for a failure message.
    func logTails(_ lines: Int = 25) -> String {
        cluster.members.map {
            "--- \($0.name)\n" + log($0.name).split(separator: "\n").suffix(lines).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
