import Explained

/// An operator's policy file (`/etc/etcd-shepherd/policy.d/*.json`), parsed: rows that make the built-in policy
/// stricter — known-bad ranges and advisories added, floors added or raised. Nothing in it can lower a floor or take a
/// row away: `VersionPolicy.applying` refuses a file that tries, naming the row and why, and the daemon keeps the
/// policy it had. Floors and lists move several times a year; an SRE moves them the day a guide changes.
public struct PolicyOverlay: Sendable, Equatable {
    /// The file it came from (every row it adds carries it, so `etcd-shepherd policy` says where each row came from).
    public var origin: VersionPolicy.Origin
    public var knownBad: [VersionPolicy.KnownBad]
    public var floors: [VersionPolicy.Prerequisite]
    public var advisories: [VersionPolicy.Advisory]

    public init(
        origin: VersionPolicy.Origin, knownBad: [VersionPolicy.KnownBad] = [],
        floors: [VersionPolicy.Prerequisite] = [],
        advisories: [VersionPolicy.Advisory] = []
    ) {
        self.origin = origin
        self.knownBad = knownBad
        self.floors = floors
        self.advisories = advisories
    }

    /// The policy layer's one error: a policy file that cannot be read, or a row of it (e.g. "floors[0]"; "" for the
    /// file as a whole) that is malformed or would loosen the policy in force.
    public struct Problem: ExplainedError, Equatable {
        public let origin: String
        public let row: String
        public let problem: String

        public let fix: String

        /// `fix`: what mends this file, when it is more than fixing or removing it (a mode, an owner).
        public init(origin: String, row: String = "", problem: String, fix: String = "") {
            self.origin = origin
            self.row = row
            self.problem = problem
            self.fix = fix.isEmpty ? "fix or remove the file; the built-in policy is never loosened" : fix
        }

        public var thing: String { "policy file \(origin)" + (row.isEmpty ? "" : ": \(row)") }
        public var cause: String { problem }
    }
}

extension VersionPolicy {
    /// This policy with `o` applied, or the first row of `o` that would make it looser.
    public func applying(_ o: PolicyOverlay) throws(PolicyOverlay.Problem) -> VersionPolicy {
        var p = self
        func refuse(_ row: String, _ why: String) -> PolicyOverlay.Problem {
            PolicyOverlay.Problem(
                origin: o.origin, row: row,
                problem: why + "; a policy file can only make the policy stricter "
                    + "(add known-bad ranges and advisories, add or raise floors), never looser")
        }
        for (i, f) in o.floors.enumerated() {
            let row = "floors[\(i)] (\(f.from) → \(f.to))"
            guard let minor = EtcdVersion(f.from), f.minimum.minorVersion == minor.minorVersion else {
                throw refuse(row, "minimum \(f.minimum) is not a \(f.from) release")
            }
            if let k = p.prerequisites.firstIndex(where: { $0.from == f.from && $0.to == f.to }) {
                let current = p.prerequisites[k]
                if f.minimum < current.minimum {
                    throw refuse(
                        row, "minimum \(f.minimum) is below the floor in force, \(current.minimum) (\(current.origin))")
                }
                guard f.minimum > current.minimum else { continue }
                // Raised: the floor it replaces joins the row's history, so the row still says how it got here.
                var raised = f
                raised.history =
                    current.history + [.init(minimum: current.minimum, when: current.origin, why: current.why)]
                raised.origin = o.origin
                p.prerequisites[k] = raised
            } else {
                var added = f
                added.origin = o.origin
                p.prerequisites.append(added)
            }
        }
        for b in o.knownBad {
            guard !p.knownBad.contains(where: { $0.range == b.range && $0.reference == b.reference }) else { continue }
            var added = b
            added.origin = o.origin
            p.knownBad.append(added)
        }
        for (i, a) in o.advisories.enumerated() {
            if let existing = p.advisories.first(where: { $0.id == a.id }) {
                // The same advisory again may only widen what it covers: no fixed line may move down or go away.
                for fix in existing.fixedIn {
                    guard let mine = a.fixedIn.first(where: { $0.minorVersion == fix.minorVersion }), mine >= fix else {
                        throw refuse(
                            "advisories[\(i)] (\(a.id))",
                            "fixedIn would stop covering \(fix.minorVersion) releases below \(fix) (\(existing.origin))"
                        )
                    }
                }
                p.advisories.removeAll { $0.id == a.id }
            }
            var added = a
            added.origin = o.origin
            p.advisories.append(added)
        }
        return p
    }
}
