import EtcdClient
import Foundation
import Rollout

/// `etcd-shepherd forget MEMBER`: clears the destructive record of a member whose daemon is gone for good, by CAS,
/// once `ForgetRule` allows it (the member is healthy again or removed from the cluster, and no lock is held under
/// the record's lease). A readable record is rewritten to `interrupted` with who forgot it; an unreadable value is
/// deleted. A node's FleetLock reboot hold is released the same way (first, when there is one).
public enum Forget {
    public enum Outcome: Sendable, Equatable {
        case forgotten(String)
        case refused(String)
    }

    public static func run(
        name: MemberName, cluster: EtcdCluster, keyPrefix: String, by operatorName: String
    ) async throws -> Outcome {
        let store = RolloutStore(prefix: keyPrefix, cluster: cluster)
        let view = try await ClusterObserver(cluster: cluster).observe()
        let snap = try await store.read()
        // A reboot hold (FleetLock) of a node that never came back: released whatever the member's health — gates 2
        // and 3 still see a member that is down, so nothing else stops while it is. (A record, if any, next time.)
        if let rev = snap.rebootModRevisions[name] {
            guard try await store.deleteRebootCAS(name, modRevision: rev) else {
                return .refused("\(name)'s reboot lock changed while it was being forgotten: run status and try again")
            }
            let hold = snap.reboots[name]
            let member = view.members.first { $0.name == name }
            let state =
                member == nil
                ? "\(name) is not in the member list"
                : member!.healthy
                    ? "\(name) is healthy"
                    : "\(name) is still not healthy: no member is stopped or rebooted while it is (gates 2 and 3)"
            return .forgotten(
                "\(name)'s reboot lock\(hold.map { " (FleetLock client '\($0.clientID)')" } ?? " (unreadable)") was released; \(state)"
            )
        }
        let stored: ForgetRule.Stored =
            snap.records[name].map { .record($0) }
            ?? (snap.undecodableRecords.contains(name.rawValue) ? .unreadable : .none)
        var leaseAlive = false
        if case let .record(r) = stored, let lease = r.leaseID {
            leaseAlive = snap.lockKeys.contains { $0.hasSuffix("/" + lease) }
        }
        let member = view.members.first { $0.name == name }?.view
        if let why = ForgetRule.refusal(name: name, stored: stored, member: member, leaseAlive: leaseAlive) {
            return .refused(why)
        }

        var replacement: MemberRecord?
        if case let .record(r) = stored {
            var cleared = r
            cleared.phase = .interrupted
            cleared.error = "forgotten by \(operatorName) (was \(r.phase.rawValue)\(r.error.map { ": \($0)" } ?? ""))"
            cleared.updatedAt = Date().timeIntervalSince1970
            replacement = cleared
        }
        guard try await store.forgetCAS(name, modRevision: snap.recordModRevisions[name] ?? 0, replacement: replacement)
        else {
            return .refused(
                "\(name)'s record changed while it was being forgotten (its daemon may be back): run status and try again"
            )
        }
        let what: String
        switch stored {
        case let .record(r): what = "\(name)'s record (\(r.phase.rawValue), rollout \(r.rolloutID)) is now interrupted"
        default: what = "\(name)'s unreadable record was deleted"
        }
        return .forgotten(what + (member == nil ? "; \(name) is not in the member list" : "; \(name) is healthy"))
    }
}
