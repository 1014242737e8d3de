/// The tables of the version policy, each row with its source. They change several times a year (the 3.5 → 3.6
/// floor moved four times): a row is raised or added here, or by an operator's policy file (`PolicyOverlay`), which
/// can only make them stricter.
extension VersionPolicy {
    /// A release range with a known data-safety bug: refused as a target unless the request accepts it.
    public struct KnownBad: Sendable, Equatable {
        public let range: ClosedRange<EtcdVersion>
        public let reference: String
        public let why: String
        /// Where the row is documented (a URL).
        public let source: String
        public var origin: Origin = VersionPolicy.builtInOrigin

        public init(
            range: ClosedRange<EtcdVersion>, reference: String, why: String, source: String,
            origin: Origin = VersionPolicy.builtInOrigin
        ) {
            self.range = range
            self.reference = reference
            self.why = why
            self.source = source
            self.origin = origin
        }
    }

    /// A minor step etcd's guide allows only from a recent enough patch of the older minor: every member must run at
    /// least `minimum` first. `history`: the floors the guide named before, oldest first, each with its reason.
    public struct Prerequisite: Sendable, Equatable {
        public struct Floor: Sendable, Equatable {
            public let minimum: EtcdVersion
            public let when: String
            public let why: String
            public init(minimum: EtcdVersion, when: String, why: String) {
                self.minimum = minimum
                self.when = when
                self.why = why
            }
        }
        public let from: String
        public let to: String
        public let minimum: EtcdVersion
        public let source: String
        public let why: String
        public var history: [Floor] = []
        public var origin: Origin = VersionPolicy.builtInOrigin

        public init(
            from: String, to: String, minimum: EtcdVersion, source: String, why: String, history: [Floor] = [],
            origin: Origin = VersionPolicy.builtInOrigin
        ) {
            self.from = from
            self.to = to
            self.minimum = minimum
            self.source = source
            self.why = why
            self.history = history
            self.origin = origin
        }
    }

    /// A security advisory: a warning for the releases it affects (they run; a fixed one exists), never a refusal.
    /// `fixedIn`: the first fixed patch of each minor line that got the fix. A release is affected when its line
    /// has a fix it is below, or its line is older than every fixed line (no fix there, e.g. 3.4 after its end of
    /// life); a line newer than every fixed one is taken as fixed from its start.
    public struct Advisory: Sendable, Equatable {
        public let id: String
        public let fixedIn: [EtcdVersion]
        public let summary: String
        public let source: String
        public var origin: Origin = VersionPolicy.builtInOrigin

        public init(
            id: String, fixedIn: [EtcdVersion], summary: String, source: String,
            origin: Origin = VersionPolicy.builtInOrigin
        ) {
            self.id = id
            self.fixedIn = fixedIn
            self.summary = summary
            self.source = source
            self.origin = origin
        }

        public func affects(_ v: EtcdVersion) -> Bool {
            if let fix = fixedIn.first(where: { $0.major == v.major && $0.minor == v.minor }) { return v < fix }
            guard let oldestFixedLine = fixedIn.min() else { return false }
            return (v.major, v.minor) < (oldestFixedLine.major, oldestFixedLine.minor)
        }

        /// "CVE-…: summary; fixed in 3.5.30, 3.6.11 (source)".
        public var line: String {
            "\(id): \(summary); fixed in \(fixedIn.sorted().map(\.description).joined(separator: ", ")) (\(source))"
        }
    }

    /// The policy this release ships. Sources: etcd's upgrade guides and announcements (reference/etcd-facts.md §9).
    public static let builtIn = VersionPolicy(
        knownBad: [
            KnownBad(
                range: EtcdVersion(3, 4, 0)...EtcdVersion(3, 4, 7), reference: "etcd-io/etcd#11651",
                why: "revisions and data can diverge between members after a restart; use 3.4.8 or later",
                source: "https://github.com/etcd-io/etcd/issues/11651"),
            KnownBad(
                range: EtcdVersion(3, 4, 20)...EtcdVersion(3, 4, 21), reference: "etcd-io/etcd#15761",
                why: "data inconsistency when auth is enabled and a new member is added; use 3.4.22 or later",
                source: "https://github.com/kubernetes/kubernetes/pull/114064"),
            KnownBad(
                range: EtcdVersion(3, 5, 0)...EtcdVersion(3, 5, 2), reference: "etcd-io/etcd#13766",
                why: "data inconsistency on crash during apply; use 3.5.3 or later",
                source: "https://github.com/etcd-io/etcd/issues/13766"),
            KnownBad(
                range: EtcdVersion(3, 5, 3)...EtcdVersion(3, 5, 3), reference: "etcd-io/etcd#14461",
                why: "a regression of 3.5.3 (etcd-io/etcd#14306); use 3.5.4 or later",
                source: "https://github.com/etcd-io/etcd/pull/14461"),
            KnownBad(
                range: EtcdVersion(3, 5, 0)...EtcdVersion(3, 5, 5), reference: "kubernetes/kubernetes#114064",
                why: "data inconsistency when etcd crashes during a defragmentation; use 3.5.6 or later",
                source: "https://github.com/kubernetes/kubernetes/pull/114064"),
            KnownBad(
                range: EtcdVersion(3, 5, 5)...EtcdVersion(3, 5, 5), reference: "etcd-io/etcd#14571",
                why: "data inconsistency when auth is enabled and a new member is added; use 3.5.6 or later",
                source: "https://github.com/etcd-io/etcd/issues/14571"),
            // No "do not use" notice exists for any 3.6.x (etcd's 3.6 release notes, as of 2026-12).
        ],
        prerequisites: [
            Prerequisite(
                from: "3.5", to: "3.6", minimum: EtcdVersion(3, 5, 32),
                source: "https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/",
                why:
                    "3.5.24 through 3.5.32 fix several potential upgrade blockers, including --v2-deprecation=write-only-skip-check "
                    + "and etcdutl check v2store inspecting WAL records as well as the v2 snapshot (guide revised 2026-08)",
                history: [
                    .init(
                        minimum: EtcdVersion(3, 5, 20), when: "2025",
                        why: "\"too many learner member\" when a 3.6 member joins (etcd-io/etcd#19557)"),
                    .init(
                        minimum: EtcdVersion(3, 5, 24), when: "2025",
                        why: "learner membership lost from a snapshot (etcd-io/etcd#20793)"),
                    .init(
                        minimum: EtcdVersion(3, 5, 26), when: "2026",
                        why: "zombie members after the upgrade, with no safe workaround below it"),
                ]),
            Prerequisite(
                from: "3.6", to: "3.7", minimum: EtcdVersion(3, 6, 11),
                source: "https://etcd.io/docs/v3.7/upgrades/upgrade_3_7/",
                why: "earlier 3.6 patch releases may not be compatible with a rolling upgrade to 3.7"),
        ],
        advisories: [
            Advisory(
                id: "CVE-2026-33413", fixedIn: [EtcdVersion(3, 5, 28), EtcdVersion(3, 6, 9)],
                summary: "a security fix (details in the advisory)",
                source: "https://github.com/etcd-io/etcd/security/advisories"),
            Advisory(
                id: "CVE-2026-33343", fixedIn: [EtcdVersion(3, 5, 28), EtcdVersion(3, 6, 9)],
                summary: "a security fix (details in the advisory)",
                source: "https://github.com/etcd-io/etcd/security/advisories"),
            Advisory(
                id: "CVE-2026-44283", fixedIn: [EtcdVersion(3, 5, 30), EtcdVersion(3, 6, 11)],
                summary: "a security fix (details in the advisory)",
                source: "https://github.com/etcd-io/etcd/security/advisories"),
            Advisory(
                id: "GHSA-3wh4-j44w-pg92", fixedIn: [EtcdVersion(3, 5, 32)],
                summary: "client certificate revocation lists (CRL) can be bypassed",
                source: "https://github.com/etcd-io/etcd/security/advisories/GHSA-3wh4-j44w-pg92"),
            Advisory(
                id: "watch-RBAC + TLS-handshake DoS",
                fixedIn: [EtcdVersion(3, 5, 33), EtcdVersion(3, 6, 14), EtcdVersion(3, 7, 1)],
                summary: "a watch can leak keys its user may not read; a slow TLS handshake can exhaust the server",
                source: "https://etcd.io/blog/"),
        ])
}

extension VersionPolicy {
    /// Security advisories as warnings, for each version running now and for the target: what affects it, and the
    /// release that fixes it (never a refusal: the release runs).
    public func advisoryFindings(running: [EtcdVersion], target: EtcdVersion?) -> [Finding] {
        var out: [Finding] = []
        let versions =
            Array(Set(running)).sorted().map { ($0, "running") } + (target.map { [($0, "the target")] } ?? [])
        for (v, role) in versions {
            for a in advisories(for: v) {
                let fix = a.fixedIn.first { $0.major == v.major && $0.minor == v.minor }
                out.append(
                    Finding(
                        severity: .warning,
                        what: "etcd \(v) (\(role)) is affected by \(a.id): \(a.summary) (\(a.source))",
                        fix: fix.map { "roll to \($0) or later" }
                            ?? "no \(v.minorVersion) release has the fix: move to \(a.fixedIn.sorted().map(\.description).joined(separator: " / ")) or later"
                    ))
            }
        }
        return out
    }
}
