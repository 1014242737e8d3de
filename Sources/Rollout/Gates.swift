/// The safety gates of DESIGN.md, evaluated on one observation. Each result says whether it passes and why not.
public struct GateResult: Sendable, Equatable {
    public let number: Int
    public let name: String
    public let passed: Bool
    public let detail: String
}

public enum Gates {
    /// Quorum of a cluster of `n` voting members.
    public static func quorum(_ n: Int) -> Int { n / 2 + 1 }

    /// Gates 1–6 for stopping the local member now (gate 7, leader last, is decided separately because it has an
    /// action of its own: the leadership transfer).
    public static func evaluate(_ o: Observation) -> [GateResult] {
        var out: [GateResult] = []
        func gate(_ n: Int, _ name: String, _ failure: String?) {
            out.append(GateResult(number: n, name: name, passed: failure == nil, detail: failure ?? "ok"))
        }
        let r = o.rollout
        gate(1, "rollout active", r == nil ? "no rollout" : (r!.state == .active ? nil : "rollout is \(r!.state.rawValue)"))

        let sick = o.members.filter { !$0.reachable || !$0.healthy || !$0.hasLeader }
        gate(2, "all members healthy", sick.isEmpty ? nil
             : "not healthy: " + sick.map { "\($0.name)\($0.reachable ? "" : " (unreachable)")" }.joined(separator: ", "))

        let n = o.members.count, healthy = n - sick.count
        let marginFailure: String?
        if n < 3 && !o.allowSmallCluster {
            marginFailure = "a \(n)-member cluster loses quorum while one member is down (allowSmallCluster to accept)"
        } else if healthy - 1 < quorum(n) && !(n < 3 && o.allowSmallCluster) {
            marginFailure = "stopping one of \(healthy) healthy members leaves \(healthy - 1) < quorum \(quorum(n))"
        } else { marginFailure = nil }
        gate(3, "quorum margin", marginFailure)

        let busy = o.members.compactMap { m -> String? in
            guard m.name != o.localName, let rec = o.records[m.name], rec.phase.isDestructive else { return nil }
            return "\(m.name) is \(rec.phase.rawValue)"
        }
        gate(4, "no other member mid-upgrade", busy.isEmpty ? nil : busy.joined(separator: ", ") + " (until its daemon rewrites it)")

        var versionFailure: String? = nil
        if let r {
            let odd = o.members.filter { $0.version != r.from && $0.version != r.to }
            if !odd.isEmpty {
                versionFailure = "members on neither \(r.from) nor \(r.to): "
                    + odd.map { "\($0.name)=\($0.version.map(\.description) ?? "?")" }.joined(separator: ", ")
            } else if case let .refused(why) = VersionPolicy.evaluate(from: r.from, to: r.to, clusterVersion: o.clusterVersion,
                                                                       allowKnownBad: r.allowKnownBad) {
                versionFailure = why
            }
        } else { versionFailure = "no rollout" }
        gate(5, "versions allowed", versionFailure)

        gate(6, "local preflight", o.preflightBlocking.isEmpty ? nil : o.preflightBlocking.joined(separator: "; "))
        return out
    }

    /// Whether `member` passes verification on `target`: reachable, healthy, reports the target, keeps its member
    /// ID (`expectedID`), and its raft index is within `slack` of the leader's.
    public static func verification(_ o: Observation, target: EtcdVersion) -> String? {
        guard let m = o.local else { return "\(o.localName) is not in the member list" }
        if !m.reachable { return "\(m.name) not answering" }
        if !m.healthy || !m.hasLeader { return "\(m.name) not healthy yet" }
        if m.version != target { return "\(m.name) reports \(m.version.map(\.description) ?? "?"), expected \(target)" }
        if let rec = o.localRecord, rec.memberID != String(m.id, radix: 16) {
            return "\(m.name) came back with member ID \(String(m.id, radix: 16)), expected \(rec.memberID)"
        }
        guard let leader = o.leader else { return "no leader" }
        if m.raftIndex + o.timing.raftSlack < leader.raftIndex {
            return "raft \(m.raftIndex)/\(leader.raftIndex)"
        }
        return nil
    }
}
