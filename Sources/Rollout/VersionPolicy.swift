/// Which version moves are allowed, as data (after etcd-manager's `etcdversions`): each rule says what kind of step
/// it is and whether it is allowed, and known-bad releases are a table of their own.
public struct VersionPolicy: Sendable {
    public enum Step: String, Sendable, Equatable {
        case same, patchUp, patchDown, minorUp, minorDown, skipMinorUp, skipMinorDown, majorChange
    }

    public struct Rule: Sendable {
        public let step: Step
        public let allowed: Bool
        /// Allowed only while the cluster version is still the lower (target) minor: the cluster never moved up, so
        /// the older binary can still join (etcd refuses a server older than the cluster version).
        public let onlyBeforeClusterVersionMoves: Bool
        public let why: String
    }

    public struct KnownBad: Sendable {
        public let range: ClosedRange<EtcdVersion>
        public let reference: String
        public let why: String
    }

    public static let rules: [Rule] = [
        Rule(step: .same, allowed: false, onlyBeforeClusterVersionMoves: false, why: "the cluster already runs this version"),
        Rule(step: .patchUp, allowed: true, onlyBeforeClusterVersionMoves: false, why: "patch upgrades are always allowed"),
        Rule(step: .patchDown, allowed: true, onlyBeforeClusterVersionMoves: false, why: "patch downgrades keep the data format"),
        Rule(step: .minorUp, allowed: true, onlyBeforeClusterVersionMoves: false, why: "one minor up is etcd's documented upgrade"),
        Rule(step: .minorDown, allowed: true, onlyBeforeClusterVersionMoves: true,
             why: "a minor downgrade by binary swap works only while the cluster version has not moved"),
        Rule(step: .skipMinorUp, allowed: false, onlyBeforeClusterVersionMoves: false,
             why: "etcd upgrades one minor at a time; upgrade to the next minor first"),
        Rule(step: .skipMinorDown, allowed: false, onlyBeforeClusterVersionMoves: false, why: "downgrades skip no minor"),
        Rule(step: .majorChange, allowed: false, onlyBeforeClusterVersionMoves: false, why: "a major version change is not a rolling upgrade"),
    ]

    /// Releases with a known data-safety bug.
    public static let knownBad: [KnownBad] = [
        KnownBad(range: EtcdVersion(3, 5, 0)...EtcdVersion(3, 5, 2), reference: "etcd-io/etcd#13766",
                 why: "data inconsistency on crash during apply; use 3.5.3 or later"),
    ]

    /// A minor step etcd's guide allows only from a recent enough patch of the older minor: every member must run at
    /// least `minimum` first. One row per step, with the guide and its reason; raise a floor here, in one place.
    public struct Prerequisite: Sendable {
        public let from: String
        public let to: String
        public let minimum: EtcdVersion
        public let source: String
        public let why: String
    }

    public static let prerequisites: [Prerequisite] = [
        Prerequisite(from: "3.5", to: "3.6", minimum: EtcdVersion(3, 5, 26), source: "https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/",
                     why: "3.5.24 through 3.5.26 fix several potential upgrade blockers (the guide's floor was 3.5.20 for the "
                        + "\"too many learner member\" error; a later revision names 3.5.32, see k3s-io/k3s#14908)"),
        Prerequisite(from: "3.6", to: "3.7", minimum: EtcdVersion(3, 6, 11), source: "https://etcd.io/docs/v3.7/upgrades/upgrade_3_7/",
                     why: "earlier 3.6 patch releases may not be compatible with a rolling upgrade to 3.7"),
    ]

    /// One hop of a rollout, judged on its own: the second hop of `--via` starts from a cluster all on `via`, whose
    /// cluster version moved with it.
    public struct Hop: Sendable, Equatable {
        public let from: EtcdVersion
        public let to: EtcdVersion
        public let clusterVersion: String?
    }

    /// The hops of a rollout from `from` to `to`, through `via` when given.
    public static func hops(from: EtcdVersion, to: EtcdVersion, via: EtcdVersion?, clusterVersion: String?) -> [Hop] {
        guard let via else { return [Hop(from: from, to: to, clusterVersion: clusterVersion)] }
        return [Hop(from: from, to: via, clusterVersion: clusterVersion), Hop(from: via, to: to, clusterVersion: via.minorVersion)]
    }

    /// The floor a minor step needs, when `from` is below it.
    public static func unmetPrerequisite(from: EtcdVersion, to: EtcdVersion) -> Prerequisite? {
        prerequisites.first { $0.from == from.minorVersion && $0.to == to.minorVersion && from < $0.minimum }
    }

    /// Steps etcd does not support while auth is enabled, by (from minor, to minor).
    public struct AuthNote: Sendable {
        public let from: String
        public let to: String
        public let reference: String
        public let why: String
    }

    public static let authNotes: [AuthNote] = [
        AuthNote(from: "3.4", to: "3.5", reference: "etcd-io/etcd#11943 (upgrade_3_5 guide)",
                 why: "3.5 changes the WAL format of auth entries, so a rolling upgrade with auth enabled is unsupported; "
                    + "operators report it works when no user, role or permission changes while the cluster is mixed"),
        AuthNote(from: "3.5", to: "3.4", reference: "etcd-io/etcd#11943 (upgrade_3_5 guide)",
                 why: "the rolling downgrade 3.5 → 3.4 with auth enabled is unsupported for the same reason"),
    ]

    /// Auth as a request sees it: whether the cluster has it enabled, and whether the request accepted the risk of a
    /// step in `authNotes` (the daemons then halt if users, roles or permissions change).
    public struct Auth: Sendable, Equatable {
        public var enabled: Bool
        public var riskAccepted: Bool
        public init(enabled: Bool, riskAccepted: Bool) { self.enabled = enabled; self.riskAccepted = riskAccepted }
        public static let disabled = Auth(enabled: false, riskAccepted: false)
    }

    /// The note for a step, when auth makes it unsupported.
    public static func authNote(from: EtcdVersion, to: EtcdVersion) -> AuthNote? {
        authNotes.first { $0.from == from.minorVersion && $0.to == to.minorVersion }
    }

    public static func step(from: EtcdVersion, to: EtcdVersion) -> Step {
        if from.major != to.major { return .majorChange }
        switch to.minor - from.minor {
        case 0: return to.patch == from.patch ? .same : (to.patch > from.patch ? .patchUp : .patchDown)
        case 1: return .minorUp
        case -1: return .minorDown
        case let d where d > 1: return .skipMinorUp
        default: return .skipMinorDown
        }
    }

    public enum Verdict: Sendable, Equatable {
        case allowed(warnings: [String])
        case refused(String)
        public var isAllowed: Bool { if case .allowed = self { return true } else { return false } }
    }

    /// `clusterVersion` is the cluster's "major.minor" when known.
    public static func evaluate(from: EtcdVersion, to: EtcdVersion, clusterVersion: String?, allowKnownBad: Bool,
                                auth: Auth = .disabled) -> Verdict {
        let s = step(from: from, to: to)
        let rule = rules.first { $0.step == s }!
        guard rule.allowed else { return .refused("\(from) → \(to): \(rule.why)") }
        if let p = unmetPrerequisite(from: from, to: to) {
            return .refused("\(from) → \(to): every \(p.from) member must run \(p.minimum) or later first — \(p.why) (\(p.source)); "
                            + "both hops as one rollout: etcd-shepherd request \(to) --via \(p.minimum) (or a newer \(p.from) patch)")
        }
        if rule.onlyBeforeClusterVersionMoves, let cv = clusterVersion, cv != to.minorVersion {
            return .refused("\(from) → \(to): \(rule.why) (the cluster version is already \(cv))")
        }
        var warnings: [String] = []
        if let bad = knownBad.first(where: { $0.range.contains(to) }) {
            let text = "\(to) is a known-bad release (\(bad.reference): \(bad.why))"
            guard allowKnownBad else { return .refused(text + "; pass allowKnownBad to accept the risk") }
            warnings.append(text + "; allowed by the request")
        }
        if auth.enabled, let note = authNote(from: from, to: to) {
            let text = "\(from) → \(to) with auth enabled: \(note.why) (\(note.reference))"
            guard auth.riskAccepted else {
                return .refused(text + "; pass allowAuthRisk to accept it: the daemons then halt the rollout if users, roles or permissions change")
            }
            warnings.append(text + "; allowed by the request, halting if users, roles or permissions change")
        }
        return .allowed(warnings: warnings)
    }
}
