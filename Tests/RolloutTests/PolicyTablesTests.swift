import Testing

@testable import Rollout

/// The policy's tables as data (issue 17): every row has its source; the 3.5 → 3.6 floor is the current guide's with
/// its history; known-bad ranges and advisories say what they cover; an overlay only ever makes the policy stricter.
@Suite struct PolicyTablesTests {
    let p = VersionPolicy.builtIn

    @Test func everyRowNamesItsSource() {
        #expect(p.knownBad.allSatisfy { $0.source.hasPrefix("https://") && !$0.why.isEmpty && $0.origin == "built-in" })
        #expect(p.prerequisites.allSatisfy { $0.source.hasPrefix("https://etcd.io/docs/") && !$0.why.isEmpty })
        #expect(p.advisories.allSatisfy { $0.source.hasPrefix("https://") && !$0.fixedIn.isEmpty })
    }

    /// The floor moved four times; the row keeps how it got there.
    @Test func theThreeSixFloorIsTheCurrentGuidesWithItsHistory() throws {
        let f = try #require(p.prerequisites.first { $0.from == "3.5" && $0.to == "3.6" })
        #expect(f.minimum == EtcdVersion(3, 5, 32))
        #expect(f.history.map(\.minimum) == [EtcdVersion(3, 5, 20), EtcdVersion(3, 5, 24), EtcdVersion(3, 5, 26)])
        #expect(f.history[0].why.contains("etcd-io/etcd#19557") && f.history[1].why.contains("etcd-io/etcd#20793"))
        guard
            case let .refused(why) = p.evaluate(
                from: EtcdVersion(3, 5, 30), to: EtcdVersion(3, 6, 4), clusterVersion: "3.5",
                allowKnownBad: false)
        else {
            Issue.record("3.5.30 → 3.6.4 allowed")
            return
        }
        #expect(
            why.contains("must run 3.5.32 or later first")
                && why.contains("https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/")
                && why.contains("etcd-shepherd request 3.6.4 --via 3.5.32") && why.contains("write-only-skip-check"),
            "\(why)")
    }

    @Test(arguments: [
        ("3.4.7", true), ("3.4.8", false), ("3.4.20", true), ("3.4.21", true), ("3.4.22", false), ("3.4.23", false),
        ("3.5.0", true), ("3.5.3", true), ("3.5.5", true), ("3.5.6", false), ("3.5.16", false), ("3.5.30", false),
        ("3.6.0", false), ("3.6.15", false),
    ])
    func knownBadRanges(version: String, bad: Bool) {
        #expect(!p.knownBad(EtcdVersion(version)!).isEmpty == bad, "\(version)")
    }

    /// 3.5.5 is named by both of its rows (crash during defrag, auth + new member).
    @Test func aReleaseInSeveralRowsNamesEveryReason() {
        guard
            case let .refused(why) = p.evaluate(
                from: EtcdVersion(3, 5, 4), to: EtcdVersion(3, 5, 5), clusterVersion: "3.5",
                allowKnownBad: false)
        else {
            Issue.record()
            return
        }
        #expect(why.contains("kubernetes/kubernetes#114064") && why.contains("etcd-io/etcd#14571"), "\(why)")
    }

    @Test func advisoriesAffectWhatTheirFixesSay() throws {
        let cve = try #require(p.advisories.first { $0.id == "CVE-2026-44283" })
        #expect(cve.affects(EtcdVersion(3, 5, 29)) && !cve.affects(EtcdVersion(3, 5, 30)))
        #expect(cve.affects(EtcdVersion(3, 6, 10)) && !cve.affects(EtcdVersion(3, 6, 11)))
        #expect(cve.affects(EtcdVersion(3, 4, 23)), "a line older than every fixed one has no fix")
        #expect(!cve.affects(EtcdVersion(3, 7, 0)), "a line newer than every fixed one is fixed from its start")
        let findings = p.advisoryFindings(running: [EtcdVersion(3, 5, 16)], target: EtcdVersion(3, 5, 30))
        #expect(findings.allSatisfy { $0.severity == .warning })
        #expect(
            findings.contains {
                $0.what.contains("3.5.16 (running)") && $0.what.contains("CVE-2026-44283")
                    && $0.fix == "roll to 3.5.30 or later"
            })
        #expect(!findings.contains { $0.what.contains("3.5.30 (the target)") && $0.what.contains("CVE-2026-44283") })
        #expect(
            findings.contains { $0.what.contains("3.5.30 (the target)") && $0.what.contains("GHSA-3wh4-j44w-pg92") })
    }

    // MARK: overlays

    func floor(_ from: String, _ to: String, _ min: EtcdVersion) -> VersionPolicy.Prerequisite {
        .init(from: from, to: to, minimum: min, source: "https://example.org/guide", why: "operator's reason")
    }

    @Test func aRaisedFloorKeepsTheOldOneInItsHistory() throws {
        let raised = try p.applying(
            PolicyOverlay(origin: "/etc/p/10.json", floors: [floor("3.5", "3.6", EtcdVersion(3, 5, 34))]))
        let f = try #require(raised.prerequisites.first { $0.from == "3.5" })
        #expect(f.minimum == EtcdVersion(3, 5, 34) && f.origin == "/etc/p/10.json")
        #expect(
            f.history.last?.minimum == EtcdVersion(3, 5, 32) && f.history.last?.when == "built-in"
                && f.history.count == 4)
        #expect(
            raised.unmetPrerequisite(from: EtcdVersion(3, 5, 33), to: EtcdVersion(3, 6, 4))?.minimum
                == EtcdVersion(3, 5, 34))
    }

    @Test func aLoweredFloorIsRefusedNamingTheRow() {
        #expect(throws: PolicyOverlay.Problem.self) {
            try p.applying(
                PolicyOverlay(origin: "/etc/p/lower.json", floors: [floor("3.5", "3.6", EtcdVersion(3, 5, 26))]))
        }
        do {
            _ = try p.applying(
                PolicyOverlay(origin: "/etc/p/lower.json", floors: [floor("3.5", "3.6", EtcdVersion(3, 5, 26))]))
        } catch {
            #expect(
                error.row.contains("floors[0]") && error.problem.contains("below the floor in force, 3.5.32")
                    && error.problem.contains("only make the policy stricter"), "\(error)")
        }
    }

    @Test func addedRowsApplyAndSayWhereTheyCameFrom() throws {
        let o = PolicyOverlay(
            origin: "/etc/p/20.json",
            knownBad: [
                .init(
                    range: EtcdVersion(3, 5, 30)...EtcdVersion(3, 5, 30), reference: "example#1", why: "found by us",
                    source: "https://example.org/1")
            ],
            floors: [floor("3.7", "3.8", EtcdVersion(3, 7, 4))],
            advisories: [
                .init(
                    id: "CVE-2027-0001", fixedIn: [EtcdVersion(3, 5, 35)], summary: "s",
                    source: "https://example.org/cve")
            ])
        let q = try p.applying(o)
        #expect(q.knownBad(EtcdVersion(3, 5, 30)).map(\.origin) == ["/etc/p/20.json"])
        #expect(
            !q.evaluate(
                from: EtcdVersion(3, 5, 16), to: EtcdVersion(3, 5, 30), clusterVersion: "3.5", allowKnownBad: false
            ).isAllowed)
        #expect(q.unmetPrerequisite(from: EtcdVersion(3, 7, 2), to: EtcdVersion(3, 8, 0))?.origin == "/etc/p/20.json")
        #expect(q.advisories(for: EtcdVersion(3, 5, 34)).contains { $0.id == "CVE-2027-0001" })
        // Everything the built-in policy refused, the stricter one refuses too.
        #expect(q.knownBad.count == p.knownBad.count + 1 && q.prerequisites.count == p.prerequisites.count + 1)
    }

    @Test func anAdvisoryCannotBeNarrowed() {
        let narrower = PolicyOverlay(
            origin: "/etc/p/30.json",
            advisories: [
                .init(
                    id: "CVE-2026-44283", fixedIn: [EtcdVersion(3, 5, 20)], summary: "s", source: "https://example.org")
            ])
        #expect(throws: PolicyOverlay.Problem.self) { try p.applying(narrower) }
        let wider = PolicyOverlay(
            origin: "/etc/p/30.json",
            advisories: [
                .init(
                    id: "CVE-2026-44283", fixedIn: [EtcdVersion(3, 5, 31), EtcdVersion(3, 6, 11)], summary: "s",
                    source: "https://example.org")
            ])
        #expect(
            (try? p.applying(wider))?.advisories(for: EtcdVersion(3, 5, 30)).contains { $0.id == "CVE-2026-44283" }
                == true)
    }
}
