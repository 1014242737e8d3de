import Testing

@testable import Rollout

@Suite struct VersionPolicyTests {
    @Test(arguments: [
        ("3.4.23", "3.5.1", "3.4", true, true),  // one minor up (known-bad allowed)
        ("3.4.23", "3.5.1", "3.4", false, false),  // known-bad without the flag
        ("3.5.0", "3.5.1", "3.5", true, true),  // patch up
        ("3.5.1", "3.5.0", "3.5", true, true),  // patch down
        ("3.4.23", "3.6.0", "3.4", false, false),  // skips a minor
        ("3.5.1", "3.4.23", "3.4", false, true),  // minor down while the cluster version has not moved
        ("3.5.1", "3.4.23", "3.5", false, false),  // ... and after it moved
        ("3.5.1", "4.0.0", "3.5", false, false),  // major
        ("3.4.23", "3.4.23", "3.4", false, false),  // same
        ("3.4.23", "3.3.27", "3.4", false, false),  // a whole 3.4 cluster: its version moved, etcd refuses 3.3
        ("3.4.23", "3.3.27", "3.3", false, true),  // mixed 3.3/3.4, cluster version still 3.3
    ])
    func table(from: String, to: String, cluster: String, allowBad: Bool, allowed: Bool) {
        let v = VersionPolicy.evaluate(
            from: EtcdVersion(from)!, to: EtcdVersion(to)!, clusterVersion: cluster, allowKnownBad: allowBad)
        #expect(v.isAllowed == allowed, "\(from) → \(to): \(v)")
    }

    @Test func knownBadIsNamedAndWarned() {
        guard
            case let .refused(why) = VersionPolicy.evaluate(
                from: EtcdVersion(3, 4, 23), to: EtcdVersion(3, 5, 2),
                clusterVersion: "3.4", allowKnownBad: false)
        else {
            Issue.record()
            return
        }
        #expect(why.contains("etcd-io/etcd#13766"))
        guard
            case let .allowed(w) = VersionPolicy.evaluate(
                from: EtcdVersion(3, 4, 23), to: EtcdVersion(3, 5, 1),
                clusterVersion: "3.4", allowKnownBad: true)
        else {
            Issue.record()
            return
        }
        #expect(w.count == 1)
        #expect(
            VersionPolicy.evaluate(
                from: EtcdVersion(3, 4, 23), to: EtcdVersion(3, 5, 6), clusterVersion: "3.4", allowKnownBad: false)
                == .allowed(warnings: []))
    }

    @Test func versionsParseAndCompare() {
        #expect(EtcdVersion("v3.5.1-rc.0") == EtcdVersion(3, 5, 1))
        #expect(EtcdVersion("3.4")?.minorVersion == "3.4")
        #expect(EtcdVersion("3.x.1") == nil)
        #expect(EtcdVersion("") == nil)
        for bad in ["3", "v", "3.5.", "3..5", "3.5.1.2", "3.5.1x", ".3.5", "3.5.99999999999"] {
            #expect(EtcdVersion(bad) == nil, "\(bad)")
        }
        #expect(EtcdVersion("3.5.30") == EtcdVersion(3, 5, 30) && EtcdVersion("10.0.7-beta") == EtcdVersion(10, 0, 7))
        #expect(EtcdVersion("3.4.23")! < EtcdVersion("3.5.0")!)
    }
}

@Suite struct RunningVersionTests {
    @Test func oneVersionMixedOrUnknown() {
        let a = member("s1", id: 1), b = member("s2", id: 2), c = member("s3", id: 3, version: v351)
        #expect(RunningVersion.of([a, b]) == .uniform(v3423))
        #expect(RunningVersion.of([a, b, c]) == .mixed([v3423, v351]))
        var down = b
        down.version = nil
        down.reachable = false
        #expect(RunningVersion.of([a, down]) == .unknown(["s2"]))
        #expect(RunningVersion.of([a, down]).problem?.contains("s2") == true)
        #expect(RunningVersion.of([]).version == nil)
    }
}

@Suite struct RequestRulesTests {
    @Test func acceptsOnlyAHealthyUniformClusterWithoutARolloutInFlight() {
        let healthy = [member("s1", id: 1, leader: true), member("s2", id: 2)]
        #expect(
            RequestRules.evaluate(to: v351, allowKnownBad: true, rollout: nil, members: healthy, clusterVersion: "3.4")
                == .accept(from: v3423))
        if case let .refuse(why) = RequestRules.evaluate(
            to: v351, allowKnownBad: false, rollout: nil, members: healthy, clusterVersion: "3.4")
        {
            #expect(why.description.contains("known-bad"), "\(why)")
        } else {
            Issue.record("a known-bad target without allowKnownBad was accepted")
        }
        #expect(
            RequestRules.evaluate(
                to: v351, allowKnownBad: true, rollout: rollout, members: healthy, clusterVersion: "3.4")
                == .refuse(
                    .rolloutInProgress(id: "r1", from: v3423, to: v351, state: .active)))
        let sick = [member("s1", id: 1, leader: true), member("s2", id: 2, healthy: false)]
        #expect(
            RequestRules.evaluate(to: v351, allowKnownBad: true, rollout: nil, members: sick, clusterVersion: "3.4")
                == .refuse(.unhealthy([Refusal.Sick(name: "s2", reachable: true)])))
        let mixed = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351)]
        if case let .refuse(why) = RequestRules.evaluate(
            to: v351, allowKnownBad: true, rollout: nil, members: mixed, clusterVersion: "3.4")
        {
            #expect(why.description.contains("mixed versions"), "\(why)")
        } else {
            Issue.record("a mixed cluster was accepted")
        }
    }
}

@Suite struct IdentifierTests {
    @Test(arguments: ["r1795605976-61cd", "s1", "etcd-0.example_a"])
    func safe(_ s: String) { #expect(Identifier.problem(s) == nil) }

    @Test(arguments: [
        ("", "is empty"), ("../x", "starts with '.'"), (".hidden", "starts with '.'"), ("a/b", "contains '/'"),
        ("a b", "contains ' '"), ("a\u{1b}[31m", "contains U+1B"),
        (String(repeating: "a", count: 65), "longer than 64"),
    ])
    func unsafe(_ s: String, _ why: String) { #expect(Identifier.problem(s)?.contains(why) == true, "\(s)") }

    @Test func shownEscapesWhatIsNotSafe() {
        #expect(Identifier.shown("../a b") == "..%2Fa%20b")
        #expect(Identifier.shown("s1") == "s1")
    }
}

/// etcd's 3.4 ↔ 3.5 auth note (etcd-io/etcd#11943) as data: refused with auth enabled unless the request accepts the
/// risk; the rollout then halts if users, roles or permissions change, and stops nothing while they cannot be read.
@Suite struct AuthPolicyTests {
    static let v3510 = EtcdVersion(3, 5, 10)

    @Test func authSensitiveStepNeedsTheRequestToAcceptIt() {
        let on = VersionPolicy.Auth(enabled: true, riskAccepted: false)
        guard
            case let .refused(why) = VersionPolicy.evaluate(
                from: v3423, to: v351, clusterVersion: "3.4", allowKnownBad: true, auth: on)
        else {
            Issue.record("3.4 → 3.5 with auth was allowed without allowAuthRisk")
            return
        }
        #expect(why.contains("allowAuthRisk") && why.contains("etcd-io/etcd#11943"), "\(why)")
        let accepted = VersionPolicy.evaluate(
            from: v3423, to: v351, clusterVersion: "3.4", allowKnownBad: true,
            auth: .init(enabled: true, riskAccepted: true))
        guard case let .allowed(warnings) = accepted else {
            Issue.record("\(accepted)")
            return
        }
        #expect(warnings.contains { $0.contains("halting if users, roles or permissions change") })
        // Without auth the step is etcd's documented upgrade; a patch step with auth has no note.
        #expect(VersionPolicy.evaluate(from: v3423, to: v351, clusterVersion: "3.4", allowKnownBad: true).isAllowed)
        #expect(
            VersionPolicy.evaluate(from: v351, to: Self.v3510, clusterVersion: "3.5", allowKnownBad: false, auth: on)
                .isAllowed)
        // The downgrade back is covered by the same note.
        #expect(
            !VersionPolicy.evaluate(from: v351, to: v3423, clusterVersion: "3.4", allowKnownBad: false, auth: on)
                .isAllowed)
        #expect(
            RequestRules.evaluate(
                to: v351, allowKnownBad: true, rollout: nil,
                members: [member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3)],
                clusterVersion: "3.4", auth: on) != .accept(from: v3423))
    }

    @Test func gateFiveBlocksUnlessTheUsersAndRolesAreTheRequestsOnes() {
        var r = rollout
        r.authFingerprint = "aaa"
        func gate5(_ seen: AuthView?) -> GateResult? {
            var o = observation(rollout: r, lock: heldLock, backup: backup)
            o.auth = seen
            return Gates.evaluate(o).first { $0.number == 5 }
        }
        #expect(gate5(AuthView(fingerprint: "aaa"))?.passed == true)
        #expect(gate5(AuthView(fingerprint: "bbb"))?.detail.contains("changed") == true)
        #expect(gate5(AuthView(fingerprint: nil))?.detail.contains("could not be read") == true)
        // A record without the digest on a cluster with auth: the step was never accepted (a hand-written record).
        var o = observation(lock: heldLock, backup: backup)
        o.auth = AuthView(fingerprint: nil)
        #expect(Gates.evaluate(o).first { $0.number == 5 }?.detail.contains("allowAuthRisk") == true)
    }

    @Test func aChangeHaltsOnlyBetweenSequences() {
        var r = rollout
        r.authFingerprint = "aaa"
        var idle = observation(rollout: r)
        idle.auth = AuthView(fingerprint: "bbb")
        guard case let .halt(reason, _, _) = Decide.next(idle) else {
            Issue.record("\(Decide.next(idle))")
            return
        }
        #expect(reason.contains("users, roles or permissions changed"))
        // A member mid-sequence (started on the target, verifying) finishes its sequence first.
        var busy = observation(
            rollout: r, records: ["s2": record(.verifying, id: 0x2)], lock: heldLock, backup: backup,
            journal: JournalEntry(
                rolloutID: "r1", step: .started, target: v351, startedAt: 990,
                previousBinary: "/old", from: v3423))
        busy.auth = AuthView(fingerprint: "bbb")
        if case .halt = Decide.next(busy) { Issue.record("halted with its member mid-sequence") }
        // Every member on the target by now: the change may have been made while the last one was down (seed
        // 544106572), so it halts too; and nothing completes on users and roles that were not read.
        let upgraded = [
            member("s1", id: 1, leader: true, version: v351), member("s2", id: 2, version: v351),
            member("s3", id: 3, version: v351),
        ]
        var done = observation(
            members: upgraded, rollout: r,
            records: [
                "s1": record(.done, id: 0x1), "s2": record(.done, id: 0x2),
                "s3": record(.done, id: 0x3),
            ], clusterVersion: "3.5")
        done.auth = AuthView(fingerprint: "bbb")
        guard case .halt = Decide.next(done) else {
            Issue.record("all on the target: \(Decide.next(done))")
            return
        }
        done.auth = AuthView(fingerprint: nil)
        guard case let .wait(why) = Decide.next(done), why.description.contains("not read") else {
            Issue.record("unread: \(Decide.next(done))")
            return
        }
        done.auth = AuthView(fingerprint: "aaa")
        #expect(Decide.next(done) == .acquireLock)
        done.lock = heldLock
        #expect(Decide.next(done) == .markCompleted)
        // Unchanged: the rollout goes on.
        idle.auth = AuthView(fingerprint: "aaa")
        #expect(Decide.next(idle) == .acquireLock)
        // A later hop without the auth note (3.5.0 → 3.5.1 after 3.4 → 3.5.0) watches nothing: no halt, no block.
        var laterHop = r
        laterHop.from = EtcdVersion(3, 5, 0)
        laterHop.stage = 1
        var later = observation(
            members: [
                member("s1", id: 1, leader: true, version: EtcdVersion(3, 5, 0)),
                member("s2", id: 2, version: EtcdVersion(3, 5, 0)), member("s3", id: 3, version: EtcdVersion(3, 5, 0)),
            ],
            rollout: laterHop, clusterVersion: "3.5")
        later.auth = AuthView(fingerprint: "bbb")
        #expect(!laterHop.watchesAuth && Decide.next(later) == .acquireLock)
    }
}
