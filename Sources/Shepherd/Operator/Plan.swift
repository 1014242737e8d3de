import EtcdClient
import Foundation
import Rollout

/// `etcd-shepherd plan`: what a rollout to `target` would do now — the order, each gate passing or failing and why,
/// whether rollback stays possible. Reads only.
public struct Plan: Sendable, Codable {
    public var lines: [String]
    public var blocked: Bool

    public static func make(config: Config, cluster: EtcdCluster, target: EtcdVersion, allowKnownBad: Bool,
                            allowAuthRisk: Bool = false, binary: String?, sha256: String?) async throws -> Plan {
        let auth = VersionPolicy.Auth(enabled: config.cluster.auth != nil, riskAccepted: allowAuthRisk)
        let view = try await ClusterObserver(cluster: cluster).observe()
        let snap = try await RolloutStore(prefix: config.cluster.keyPrefix, cluster: cluster).read()
        var lines: [String] = []
        var blocked = false
        let versions = Set(view.members.map { $0.serverVersion ?? "?" })
        lines.append("cluster: \(view.members.count) members, versions \(versions.sorted().joined(separator: ", ")), cluster version \(view.clusterVersion ?? "?")")
        let running = RunningVersion.of(view.members.map(\.view))
        guard let from = running.version else {
            return Plan(lines: lines + ["BLOCKED: \(running.problem ?? "no single version")"], blocked: true)
        }
        lines.append("rollout: \(from) → \(target)")
        switch VersionPolicy.evaluate(from: from, to: target, clusterVersion: view.clusterVersion, allowKnownBad: allowKnownBad, auth: auth) {
        case let .allowed(warnings):
            lines.append("  version policy: ok (\(VersionPolicy.step(from: from, to: target).rawValue))")
            for w in warnings { lines.append("  warning: \(w)") }
        case let .refused(why):
            lines.append("  version policy: REFUSED: \(why)"); blocked = true
        }
        if let r = snap.rollout, !r.state.isTerminal {
            lines.append("  existing rollout \(r.id) (\(r.from) → \(r.to)) is \(r.state.rawValue): a new request would be refused")
            blocked = true
        }

        let order = view.members.filter { !$0.isLeader }.map(\.name).sorted() + view.members.filter(\.isLeader).map(\.name)
        lines.append("order (followers first, leader last after a leadership transfer): \(order.joined(separator: " → "))")

        // An accepted auth risk: the record would carry the users/roles digest, and the daemons would read the same one.
        let authRisk = auth.enabled && auth.riskAccepted && VersionPolicy.authNote(from: from, to: target) != nil
        let hypothetical = RolloutRecord(id: "plan", from: from, to: target, requestedBy: config.member.name, requestedAt: 0,
                                         allowKnownBad: allowKnownBad, authFingerprint: authRisk ? "plan" : nil)
        let local = await Preflight.all(config, from: from, to: target, binary: binary ?? config.member.binaryPath(target), sha256: sha256)
        for f in local { lines.append("  preflight on \(config.member.name): \(f.line)") }
        if local.contains(where: { $0.severity == .blocking }) { blocked = true }
        let first = order.first ?? config.member.name
        var obs = Observation(localName: first, members: view.members.map(\.view), clusterVersion: view.clusterVersion,
                              rollout: hypothetical, records: snap.records, backup: nil,
                              lock: LockHold(key: "plan", revision: 0, leaseID: 0, leaseRemaining: Double(config.timing.lockTTLSeconds)),
                              journal: nil, preflightBlocking: [], localProcessUp: true, observationAge: 0, verifiedFor: 0,
                              allowSmallCluster: config.cluster.allowSmallCluster, undecodableRecords: snap.undecodableRecords,
                              now: 0, timing: config.timing)
        obs.auth = auth.enabled ? AuthView(fingerprint: authRisk ? "plan" : nil) : nil
        lines.append("gates for the first stop (\(first)), checked now:")
        for g in Gates.evaluate(obs) where g.number != 6 {
            lines.append("  \(g.passed ? "pass" : "FAIL") \(g.number) \(g.name)\(g.passed ? "" : ": \(g.detail)")")
            if !g.passed { blocked = true }
        }
        lines.append("  gate 6 (local preflight) runs on every node for its own member; shown above for \(config.member.name)")
        lines.append("backup: a snapshot from the leader into \(config.backupDir) before the first stop")
        if from.minorVersion == target.minorVersion {
            lines.append("rollback: a patch step, binary rollback stays possible throughout")
        } else {
            lines.append("rollback: by binary swap while the cluster version stays \(from.minorVersion); once the last member runs \(target) it moves to \(target.minorVersion) (~4 s) and only a snapshot restore goes back")
        }
        lines.append(blocked ? "result: BLOCKED" : "result: would proceed")
        return Plan(lines: lines, blocked: blocked)
    }
}
