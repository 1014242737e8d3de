import EtcdClient
import Foundation
import Rollout

/// `etcd-shepherd plan`: what a rollout to `target` would do now — the order, each gate passing or failing and why,
/// whether rollback stays possible. Reads only.
public struct Plan: Sendable, Codable {
    public var lines: [String]
    public var blocked: Bool

    public static func make(
        config: Config, cluster: EtcdCluster, target: EtcdVersion, via: EtcdVersion? = nil, allowKnownBad: Bool,
        allowAuthRisk: Bool = false, binary: String?, sha256: String?
    ) async throws -> Plan {
        let auth = VersionPolicy.Auth(enabled: config.cluster.auth != nil, riskAccepted: allowAuthRisk)
        let view = try await ClusterObserver(cluster: cluster).observe()
        let snap = try await RolloutStore(prefix: config.cluster.keyPrefix, cluster: cluster).read()
        var lines: [String] = []
        var blocked = false
        let versions = Set(view.members.map { $0.serverVersion ?? "?" })
        lines.append(
            "cluster: \(view.members.count) members, versions \(versions.sorted().joined(separator: ", ")), cluster version \(view.clusterVersion ?? "?")"
        )
        let running = RunningVersion.of(view.members.map(\.view))
        guard let from = running.version else {
            return Plan(lines: lines + ["BLOCKED: \(running.problem ?? "no single version")"], blocked: true)
        }
        // One hop, or two with --via: each judged on its own (the second from a cluster all on `via`).
        // Below a floor and no --via: plan the two hops the request would need (the newest staged patch above the
        // floor, else the floor), and say the request must name it.
        var via = via
        if via == nil, let p = config.policy.unmetPrerequisite(from: from, to: target) {
            let stop =
                StagedVersions.newest(config.member.binaryPathTemplate, minor: p.from, atLeast: p.minimum) ?? p.minimum
            lines.append(
                "\(from) → \(target) needs every member on \(p.minimum)+ first — \(p.why) (\(p.source)): planned in two hops; "
                    + "the request must say so: etcd-shepherd request \(target) --via \(stop)")
            blocked = true
            via = stop
        }
        let hops = VersionPolicy.hops(from: from, to: target, via: via, clusterVersion: view.clusterVersion)
        lines.append(
            "rollout: " + ([from] + hops.map(\.to)).map(\.description).joined(separator: " → ")
                + (hops.count > 1
                    ? " (\(hops.count) hops, one rollout; each hop backs up, rolls and verifies on its own)" : ""))
        for (i, hop) in hops.enumerated() {
            let tag = hops.count > 1 ? "  hop \(i + 1) \(hop.from) → \(hop.to): " : "  "
            switch config.policy.evaluate(
                from: hop.from, to: hop.to, clusterVersion: hop.clusterVersion, allowKnownBad: allowKnownBad, auth: auth
            ) {
            case let .allowed(warnings):
                lines.append(tag + "version policy: ok (\(VersionPolicy.step(from: hop.from, to: hop.to).rawValue))")
                for w in warnings { lines.append("  warning: \(w)") }
            case let .refused(why):
                lines.append(tag + "version policy: REFUSED: \(why)")
                blocked = true
            }
        }
        for f in config.policy.advisoryFindings(running: [from], target: target) { lines.append("  " + f.line) }
        if let r = snap.rollout, !r.state.isTerminal {
            lines.append(
                "  existing rollout \(r.id) (\(r.from) → \(r.to)) is \(r.state.rawValue): a new request would be refused"
            )
            blocked = true
        }

        let order =
            view.members.filter { !$0.isLeader }.map(\.name).sorted() + view.members.filter(\.isLeader).map(\.name)
        lines.append(
            "order (followers first, leader last after a leadership transfer): \(order.joined(separator: " → "))")

        // An accepted auth risk: the record would carry the users/roles digest, and the daemons would read the same
        // one.
        let firstHop = via ?? target
        let authRisk =
            auth.enabled && auth.riskAccepted
            && hops.contains { VersionPolicy.authNote(from: $0.from, to: $0.to) != nil }
        let hypothetical = RolloutRecord(
            id: "plan", from: from, to: firstHop, requestedBy: config.member.name, requestedAt: 0,
            allowKnownBad: allowKnownBad, authFingerprint: authRisk ? "plan" : nil,
            then: via == nil ? nil : [target], stage: via == nil ? nil : 0)
        let local = await Preflight.forRequest(config, from: from, via: via, to: target, binary: binary, sha256: sha256)
        for f in local { lines.append("  preflight on \(config.member.name): \(f.line)") }
        if local.contains(where: { $0.severity == .blocking }) { blocked = true }
        let first = order.first ?? config.member.name
        var obs = Observation(
            localName: first, members: view.members.map(\.view), clusterVersion: view.clusterVersion,
            rollout: hypothetical, records: snap.records, backup: nil,
            lock: LockHold(key: "plan", revision: 0, leaseID: 0, leaseRemaining: Double(config.timing.lockTTLSeconds)),
            journal: nil, preflightBlocking: [], localProcess: .running, observedAt: 0, verifiedFor: 0,
            allowSmallCluster: config.cluster.allowSmallCluster, undecodableRecords: snap.undecodableRecords,
            now: 0, timing: config.timing)
        obs.policy = config.policy
        obs.auth = auth.enabled ? AuthView(fingerprint: authRisk ? "plan" : nil) : nil
        let wall = Date().timeIntervalSince1970
        obs.maintenance = config.maintenance?.view(at: wall)
        lines.append("gates for the first stop (\(first)\(via == nil ? "" : ", hop 1")), checked now:")
        for g in Gates.evaluate(obs) where g.number != 6 {
            // A closed maintenance window delays the rollout; it does not refuse it.
            let verdict = g.passed ? "pass" : g.number == 8 ? "wait" : "FAIL"
            lines.append("  \(verdict) \(g.number) \(g.name)\(g.passed ? "" : ": \(g.detail)")")
            if !g.passed && g.number != 8 { blocked = true }
        }
        lines.append(
            "  gate 6 (local preflight) runs on every node for its own member; shown above for \(config.member.name)")
        if let via {
            // The second hop's gates are the same checks, made again when the first hop ends: only gate 5 (its
            // version step) can be judged now, and it was, above.
            lines.append(
                "gates for hop 2 (\(via) → \(target)): checked again on every stop once hop 1 has ended; gate 5 as shown above, "
                    + "gate 6 needs \(target) staged on every node before hop 1 starts")
        }
        if let schedule = config.maintenance {
            lines += Self.windows(schedule, order: order, now: wall, timing: config.timing)
        }
        lines.append("backup: a snapshot from the leader into \(config.backupDir) before the first stop")
        for hop in hops {
            let prefix = hops.count > 1 ? "rollback (\(hop.from) → \(hop.to)): " : "rollback: "
            if hop.from.minorVersion == hop.to.minorVersion {
                lines.append(prefix + "a patch step, binary rollback stays possible throughout")
            } else {
                lines.append(
                    prefix
                        + "by binary swap while the cluster version stays \(hop.from.minorVersion); once the last member runs \(hop.to) it moves to \(hop.to.minorVersion) (~4 s) and only a snapshot restore goes back"
                )
            }
        }
        lines.append(blocked ? "result: BLOCKED" : "result: would proceed")
        return Plan(lines: lines, blocked: blocked)
    }

    /// The window each member would be stopped in, were the rollout requested now (an estimate: a member is taken
    /// to need the settle period and 10 s more).
    static func windows(_ schedule: MaintenanceSchedule, order: [MemberName], now: Double, timing: Timing) -> [String] {
        let per = timing.settleSeconds + 10
        let placed = schedule.placement(
            members: order, now: now, need: MaintenanceView.needed(timing), perMember: per)
        let utc = DateFormatter()
        utc.locale = Locale(identifier: "en_US_POSIX")
        utc.timeZone = TimeZone(identifier: "UTC")
        utc.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        var lines = [
            "maintenance windows (no stop outside them): "
                + schedule.windows.map(\.summary).joined(separator: "; ")
        ]
        for (member, window) in placed {
            let when = window.start <= now ? "open now" : utc.string(from: Date(timeIntervalSince1970: window.start))
            lines.append("  \(member): in the window \(window.label) (\(when))")
        }
        lines.append(
            "  (each member needs verifyTimeoutSeconds + settleSeconds = \(Int(MaintenanceView.needed(timing))) s left in "
                + "its window at its stop; estimated at \(Int(per)) s a member)")
        return lines
    }
}
