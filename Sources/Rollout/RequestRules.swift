/// Whether a request for a rollout to `to` may be accepted now, and from which version (pure; the intake reads the
/// file and the cluster, then asks). Node-local checks (the binary, the flags) are the preflight's.
public enum RequestRules {
    public enum Verdict: Sendable, Equatable {
        case accept(from: EtcdVersion)
        case refuse(String)
    }

    public static func evaluate(
        to: EtcdVersion, allowKnownBad: Bool, rollout: RolloutRecord?, members: [MemberView],
        clusterVersion: String?, auth: VersionPolicy.Auth = .disabled, policy: VersionPolicy = .builtIn,
        allowSmallCluster: Bool = true
    ) -> Verdict {
        if let r = rollout, !r.state.isTerminal {
            return .refuse(
                "rollout \(r.id) (\(r.from) → \(r.to)) is \(r.state.rawValue); abort it first (etcd-shepherd abort)")
        }
        let voters = members.filter { !$0.isLearner }.count
        if voters < 3 && !allowSmallCluster { return .refuse(Gates.smallCluster(voters)) }
        let sick = members.filter { !$0.healthy }
        if !sick.isEmpty {
            return .refuse(
                "not every member is healthy: "
                    + sick.map { "\($0.name) (\($0.reachable ? "no leader" : "unreachable"))" }.joined(separator: ", "))
        }
        let running = RunningVersion.of(members)
        guard let from = running.version else { return .refuse(running.problem ?? "no single version") }
        if case let .refused(why) = policy.evaluate(
            from: from, to: to, clusterVersion: clusterVersion, allowKnownBad: allowKnownBad, auth: auth)
        {
            return .refuse(why)
        }
        return .accept(from: from)
    }
}
