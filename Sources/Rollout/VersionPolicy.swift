/// Which version moves are allowed, as data (after etcd-manager's `etcdversions`): each step rule says what kind of
/// step it is and whether it is allowed; known-bad releases, the guides' floors and security advisories are tables of
/// their own (PolicyTables.swift), each row with its source. The tables are a value: the built-in one, made stricter
/// by an operator's policy files (`PolicyOverlay`), never looser.
public struct VersionPolicy: Sendable, Equatable {
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

    /// Where a row of the effective policy comes from: "built-in", or the policy file that added or raised it.
    public typealias Origin = String
    public static let builtInOrigin: Origin = "built-in"

    public var knownBad: [KnownBad]
    public var prerequisites: [Prerequisite]
    public var advisories: [Advisory]

    public init(knownBad: [KnownBad], prerequisites: [Prerequisite], advisories: [Advisory]) {
        self.knownBad = knownBad
        self.prerequisites = prerequisites
        self.advisories = advisories
    }

    public static let rules: [Rule] = [
        Rule(
            step: .same, allowed: false, onlyBeforeClusterVersionMoves: false,
            why: "the cluster already runs this version"),
        Rule(
            step: .patchUp, allowed: true, onlyBeforeClusterVersionMoves: false,
            why: "patch upgrades are always allowed"),
        Rule(
            step: .patchDown, allowed: true, onlyBeforeClusterVersionMoves: false,
            why: "patch downgrades keep the data format"),
        Rule(
            step: .minorUp, allowed: true, onlyBeforeClusterVersionMoves: false,
            why: "one minor up is etcd's documented upgrade"),
        Rule(
            step: .minorDown, allowed: true, onlyBeforeClusterVersionMoves: true,
            why: "a minor downgrade by binary swap works only while the cluster version has not moved"),
        Rule(
            step: .skipMinorUp, allowed: false, onlyBeforeClusterVersionMoves: false,
            why: "etcd upgrades one minor at a time; upgrade to the next minor first"),
        Rule(
            step: .skipMinorDown, allowed: false, onlyBeforeClusterVersionMoves: false, why: "downgrades skip no minor"),
        Rule(
            step: .majorChange, allowed: false, onlyBeforeClusterVersionMoves: false,
            why: "a major version change is not a rolling upgrade"),
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
        return [
            Hop(from: from, to: via, clusterVersion: clusterVersion),
            Hop(from: via, to: to, clusterVersion: via.minorVersion),
        ]
    }

    /// The floor a minor step needs, when `from` is below it.
    public func unmetPrerequisite(from: EtcdVersion, to: EtcdVersion) -> Prerequisite? {
        prerequisites.filter { $0.from == from.minorVersion && $0.to == to.minorVersion && from < $0.minimum }
            .max { $0.minimum < $1.minimum }
    }

    /// The known-bad rows that name `version`.
    public func knownBad(_ version: EtcdVersion) -> [KnownBad] { knownBad.filter { $0.range.contains(version) } }

    /// The advisories that affect `version` (warnings: the release runs, but a fixed one exists).
    public func advisories(for version: EtcdVersion) -> [Advisory] { advisories.filter { $0.affects(version) } }

    /// Steps etcd does not support while auth is enabled, by (from minor, to minor).
    public struct AuthNote: Sendable {
        public let from: String
        public let to: String
        public let reference: String
        public let why: String
    }

    public static let authNotes: [AuthNote] = [
        AuthNote(
            from: "3.4", to: "3.5", reference: "etcd-io/etcd#11943 (upgrade_3_5 guide)",
            why: "3.5 changes the WAL format of auth entries, so a rolling upgrade with auth enabled is unsupported; "
                + "operators report it works when no user, role or permission changes while the cluster is mixed"),
        AuthNote(
            from: "3.5", to: "3.4", reference: "etcd-io/etcd#11943 (upgrade_3_5 guide)",
            why: "the rolling downgrade 3.5 → 3.4 with auth enabled is unsupported for the same reason"),
    ]

    /// Auth as a request sees it: whether the cluster has it enabled, and whether the request accepted the risk of a
    /// step in `authNotes` (the daemons then halt if users, roles or permissions change).
    public struct Auth: Sendable, Equatable {
        public var enabled: Bool
        public var riskAccepted: Bool
        public init(enabled: Bool, riskAccepted: Bool) {
            self.enabled = enabled
            self.riskAccepted = riskAccepted
        }
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

    /// The built-in policy's verdict (tests, and callers with no policy files).
    public static func evaluate(
        from: EtcdVersion, to: EtcdVersion, clusterVersion: String?, allowKnownBad: Bool,
        auth: Auth = .disabled
    ) -> Verdict {
        builtIn.evaluate(from: from, to: to, clusterVersion: clusterVersion, allowKnownBad: allowKnownBad, auth: auth)
    }

    /// `clusterVersion` is the cluster's "major.minor" when known.
    public func evaluate(
        from: EtcdVersion, to: EtcdVersion, clusterVersion: String?, allowKnownBad: Bool,
        auth: Auth = .disabled
    ) -> Verdict {
        let s = Self.step(from: from, to: to)
        let rule = Self.rules.first { $0.step == s }!
        guard rule.allowed else { return .refused("\(from) → \(to): \(rule.why)") }
        if let p = unmetPrerequisite(from: from, to: to) {
            return .refused(
                "\(from) → \(to): every \(p.from) member must run \(p.minimum) or later first — \(p.why) (\(p.source)); "
                    + "both hops as one rollout: etcd-shepherd request \(to) --via \(p.minimum) (or a newer \(p.from) patch)"
            )
        }
        if rule.onlyBeforeClusterVersionMoves, let cv = clusterVersion, cv != to.minorVersion {
            return .refused("\(from) → \(to): \(rule.why) (the cluster version is already \(cv))")
        }
        var warnings: [String] = []
        let bad = knownBad(to)
        if !bad.isEmpty {
            let text =
                "\(to) is a known-bad release (" + bad.map { "\($0.reference): \($0.why)" }.joined(separator: "; ")
                + ")"
            guard allowKnownBad else { return .refused(text + "; pass allowKnownBad to accept the risk") }
            warnings.append(text + "; allowed by the request")
        }
        if auth.enabled, let note = Self.authNote(from: from, to: to) {
            let text = "\(from) → \(to) with auth enabled: \(note.why) (\(note.reference))"
            guard auth.riskAccepted else {
                return .refused(
                    text
                        + "; pass allowAuthRisk to accept it: the daemons then halt the rollout if users, roles or permissions change"
                )
            }
            warnings.append(text + "; allowed by the request, halting if users, roles or permissions change")
        }
        return .allowed(warnings: warnings)
    }
}
