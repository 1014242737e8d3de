/// Whether a request for a rollout to `to` may be accepted now, and from which version (pure; the intake reads the
/// file and the cluster, then asks). Node-local checks (the binary, the flags) are the preflight's.
public enum RequestRules {
    public enum Verdict: Sendable, Equatable {
        case accept(from: EtcdVersion)
        case refuse(Refusal)
    }

    public static func evaluate(
        to: EtcdVersion, allowKnownBad: Bool, rollout: RolloutRecord?, members: [MemberView],
        clusterVersion: String?, auth: VersionPolicy.Auth = .disabled, policy: VersionPolicy = .builtIn,
        allowSmallCluster: Bool = true
    ) -> Verdict {
        if let r = rollout, !r.state.isTerminal {
            return .refuse(.rolloutInProgress(id: r.id, from: r.from, to: r.to, state: r.state))
        }
        let voters = members.filter { !$0.isLearner }.count
        if voters < 3 && !allowSmallCluster { return .refuse(.smallCluster(voters: voters)) }
        let sick = members.filter { !$0.healthy }
        if !sick.isEmpty {
            return .refuse(.unhealthy(sick.map { Refusal.Sick(name: $0.name, reachable: $0.reachable) }))
        }
        let running = RunningVersion.of(members)
        guard let from = running.version else {
            return .refuse(.noSingleVersion(running.problem ?? "no single version"))
        }
        if case let .refused(why) = policy.evaluate(
            from: from, to: to, clusterVersion: clusterVersion, allowKnownBad: allowKnownBad, auth: auth)
        {
            return .refuse(.versionPolicy(why))
        }
        return .accept(from: from)
    }
}
