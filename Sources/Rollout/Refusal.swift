/// Why a rollout request is refused now (`RequestRules`): each case carries what its sentence needs, worded in one
/// place (`description`: the request file's `.status`, the CLI's error). `RefusalTests` holds one of each.
public enum Refusal: Sendable, Equatable, CustomStringConvertible {
    /// A member that is not healthy: unreachable, or without a leader.
    public struct Sick: Sendable, Equatable {
        public var name: MemberName
        public var reachable: Bool
        public init(name: MemberName, reachable: Bool) {
            self.name = name
            self.reachable = reachable
        }
    }

    case rolloutInProgress(id: RolloutID, from: EtcdVersion, to: EtcdVersion, state: RolloutState)
    case smallCluster(voters: Int)
    case unhealthy([Sick])
    /// The members do not run one version (`RunningVersion.problem` says how).
    case noSingleVersion(String)
    /// The version policy refuses the step (its rule's reason, with the issue behind it).
    case versionPolicy(String)

    public var description: String {
        switch self {
        case let .rolloutInProgress(id, from, to, state):
            return "rollout \(id) (\(from) → \(to)) is \(state.rawValue); abort it first (etcd-shepherd abort)"
        case let .smallCluster(voters): return Gates.smallCluster(voters)
        case let .unhealthy(sick):
            return "not every member is healthy: "
                + sick.map { "\($0.name) (\($0.reachable ? "no leader" : "unreachable"))" }.joined(separator: ", ")
        case let .noSingleVersion(problem): return problem
        case let .versionPolicy(why): return why
        }
    }
}
