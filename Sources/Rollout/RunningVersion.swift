/// The one answer to "what version does the cluster run", used by the request intake, `plan` and `check` alike: the
/// version every member of the member list reports, or why there is none.
public enum RunningVersion: Sendable, Equatable {
    /// Every member reports this version.
    case uniform(EtcdVersion)
    /// Members report different versions (a rollout in progress or left half-way).
    case mixed([EtcdVersion])
    /// These members reported no version (down, unreachable): the answer is not known.
    case unknown([MemberName])

    public static func of(_ members: [MemberView]) -> RunningVersion {
        let silent = members.filter { $0.version == nil }.map(\.name)
        if !silent.isEmpty || members.isEmpty { return .unknown(silent) }
        let versions = Set(members.compactMap(\.version)).sorted()
        return versions.count == 1 ? .uniform(versions[0]) : .mixed(versions)
    }

    public var version: EtcdVersion? { if case let .uniform(v) = self { return v } else { return nil } }

    /// Why there is no single version, for a refusal or a finding; nil when there is one.
    public var problem: String? {
        switch self {
        case .uniform: return nil
        case let .mixed(vs):
            return
                "the cluster runs mixed versions (\(vs.map(\.description).joined(separator: ", "))); finish or roll back the rollout first"
        case let .unknown(names) where names.isEmpty: return "the member list is empty"
        case let .unknown(names):
            return "no version from \(names.joined(separator: ", ")) (down or unreachable); every member must answer"
        }
    }
}
