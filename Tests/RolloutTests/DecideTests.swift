import Testing
@testable import Rollout

@Suite struct DecideTests {
    @Test func noRolloutIsIdle() {
        #expect(Decide.next(observation(rollout: nil)) == .idle("no rollout"))
        #expect(Decide.next(observation(rollout: nil, lock: heldLock)) == .release)
    }

    @Test func followerAsksForTheLockThenBacksUpThenStops() {
        #expect(Decide.next(observation()) == .acquireLock)
        #expect(Decide.next(observation(lock: heldLock)) == .takeBackup(leaderURL: "http://s1:2379"))
        #expect(Decide.next(observation(lock: heldLock, backup: backup)) == .stopMember(target: v351, rollingBack: false, reason: nil))
    }

    @Test func leaderGoesLastThenHandsOverLeadership() {
        let a = Decide.next(observation(local: "s1"))
        guard case let .wait(why) = a else { Issue.record("\(a)"); return }
        #expect(why.contains("leader goes last"))
        let upgraded = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351, raft: 90),
                        member("s3", id: 3, version: v351, raft: 99)]
        let done = ["s2": record(.done, id: "2"), "s3": record(.done, id: "3")]
        #expect(Decide.next(observation(local: "s1", members: upgraded, records: done, lock: heldLock, backup: backup))
                == .transferLeadership(leaderURL: "http://s1:2379", target: 3))
        // Holding the lock while others are pending, the leader gives it back.
        #expect(Decide.next(observation(local: "s1", lock: heldLock)) == .release)
    }

    /// Each gate, failing alone, keeps the member up (the lock stays held while waiting).
    @Test(arguments: [
        (2, observation(members: [member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3, healthy: false)],
                        lock: heldLock, backup: backup)),
        (4, observation(records: ["s3": record(.stopping)], lock: heldLock, backup: backup)),
        (4, observation(records: ["s3": record(.verifying)], lock: heldLock, backup: backup)),
        (5, observation(members: [member("s1", id: 1, leader: true), member("s2", id: 2),
                                  member("s3", id: 3, version: EtcdVersion(3, 4, 22))], lock: heldLock, backup: backup)),
        (3, observation(members: [member("s1", id: 1, leader: true), member("s2", id: 2)], lock: heldLock, backup: backup)),
    ])
    func failingGateWaits(gate: Int, o: Observation) {
        let a = Decide.next(o)
        guard case let .wait(why) = a else { Issue.record("expected wait, got \(a)"); return }
        #expect(why.hasPrefix("gate \(gate) "), "\(why)")
    }

    @Test func destructiveRecordBlocksWhateverItsLease() {
        // The model-checked rule: a stopping record whose lease is long gone still blocks (trail T1).
        var stale = record(.stopping)
        stale.leaseID = "dead"; stale.updatedAt = -1_000_000
        let r = Gates.evaluate(observation(records: ["s3": stale], lock: heldLock))
        #expect(r.first { $0.number == 4 }?.passed == false)
        // A record of an older rollout, or a non-destructive one, does not block.
        #expect(Gates.evaluate(observation(records: ["s3": record(.interrupted)])).allSatisfy { $0.number != 4 || $0.passed })
    }

    @Test func smallClusterOnlyWhenAllowed() {
        var o = observation(members: [member("s1", id: 1, leader: true), member("s2", id: 2)], lock: heldLock)
        #expect(Gates.evaluate(o).first { $0.number == 3 }?.passed == false)
        o.allowSmallCluster = true
        #expect(Gates.evaluate(o).first { $0.number == 3 }?.passed == true)
    }

    @Test func preflightBlocksBeforeTheLock() {
        let a = Decide.next(observation(preflight: ["binary missing"]))
        #expect(a == .wait("preflight: binary missing"))
    }

    @Test func pausedAndTerminalRollouts() {
        var p = rollout; p.state = .paused
        #expect(Decide.next(observation(rollout: p)) == .wait("rollout paused"))
        #expect(Decide.next(observation(rollout: p, lock: heldLock)) == .release)
        var h = rollout; h.state = .halted
        #expect(Decide.next(observation(rollout: h, lock: heldLock)) == .release)
    }

    @Test func staleObservationOrShortLeaseReobserveBeforeStopping() {
        guard case .wait = Decide.next(observation(lock: heldLock, backup: backup, age: 3.5)) else { Issue.record("stale"); return }
        var short = heldLock; short.leaseRemaining = 5
        guard case .wait = Decide.next(observation(lock: short, backup: backup)) else { Issue.record("short lease"); return }
    }

    @Test func sequenceContinuesUnderTheLock() {
        let j = JournalEntry(rolloutID: "r1", step: .stopped, target: v351)
        #expect(Decide.next(observation(lock: heldLock, journal: j)) == .switchBinary(to: v351))
        var s = j; s.step = .switched
        #expect(Decide.next(observation(lock: heldLock, journal: s)) == .startMember)
        var st = j; st.step = .stopping
        // The member is already down: finishing the stop is harmless.
        #expect(Decide.next(observation(lock: heldLock, journal: st, processUp: false)) == .stopMember(target: v351, rollingBack: false, reason: nil))
        // The member still runs: the stop is re-gated like a first one.
        #expect(Decide.next(observation(lock: heldLock, backup: backup, journal: st)) == .stopMember(target: v351, rollingBack: false, reason: nil))
    }

    @Test func ownerClearsWithoutTheLock() {
        let j = JournalEntry(rolloutID: "r1", step: .stopped, target: v351)
        #expect(Decide.next(observation(journal: j, processUp: false)) == .recoverStart(restorePreviousBinary: false))
        var withPrevious = j; withPrevious.previousBinary = "/opt/etcd-3.4.23"
        // The new binary was never started: back to the previous one before the start.
        #expect(Decide.next(observation(journal: withPrevious, processUp: false)) == .recoverStart(restorePreviousBinary: true))
        var started = withPrevious; started.step = .started
        #expect(Decide.next(observation(journal: started, processUp: false)) == .recoverStart(restorePreviousBinary: false))
        guard case .clearInterrupted = Decide.next(observation(journal: j, processUp: true)) else { Issue.record("clear"); return }
    }

    @Test func verificationSettlesThenMarksDone() {
        let up = [member("s1", id: 1, leader: true, raft: 200), member("s2", id: 2, version: v351, raft: 195), member("s3", id: 3)]
        let j = JournalEntry(rolloutID: "r1", step: .started, target: v351, startedAt: 990)
        let mine = ["s2": record(.verifying, id: "2")]
        #expect(Decide.next(observation(members: up, records: mine, lock: heldLock, journal: j, verifiedFor: 2.1)) == .markDone)
        guard case .wait = Decide.next(observation(members: up, records: mine, lock: heldLock, journal: j, verifiedFor: 1)) else {
            Issue.record("must settle"); return
        }
        // Behind the leader's raft index: not verified.
        let behind = [member("s1", id: 1, leader: true, raft: 500), member("s2", id: 2, version: v351, raft: 100), member("s3", id: 3)]
        #expect(Gates.verification(observation(members: behind, records: mine), target: v351) == "raft 100/500")
        // A different member ID after the restart is not the same member.
        #expect(Gates.verification(observation(members: up, records: ["s2": record(.verifying, id: "99")]), target: v351)?.contains("member ID") == true)
    }

    @Test func verifyTimeoutRollsBackWhileMixedAndHaltsAfterTheFlip() {
        let down = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351, healthy: false), member("s3", id: 3)]
        let j = JournalEntry(rolloutID: "r1", step: .started, target: v351, stoppedAt: 900)
        guard case .rollBack = Decide.next(observation(members: down, lock: heldLock, journal: j, now: 1000)) else {
            Issue.record("expected rollback"); return
        }
        guard case let .halt(why) = Decide.next(observation(members: down, lock: heldLock, journal: j, clusterVersion: "3.5", now: 1000)) else {
            Issue.record("expected halt"); return
        }
        #expect(why.contains("restore the snapshot"))
        var rb = j; rb.rollingBack = true; rb.target = v3423; rb.reason = "boom"
        let back = [member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3)]
        #expect(Decide.next(observation(members: back, lock: heldLock, journal: rb, verifiedFor: 5, now: 905)) == .halt(reason: "boom"))
    }

    @Test func completionWaitsForTheClusterVersion() {
        let all = [member("s1", id: 1, leader: true, version: v351), member("s2", id: 2, version: v351), member("s3", id: 3, version: v351)]
        let done = ["s1": record(.done, id: "1"), "s2": record(.done, id: "2"), "s3": record(.done, id: "3")]
        guard case .waitForClusterVersion = Decide.next(observation(members: all, records: done)) else { Issue.record("wait for flip"); return }
        #expect(Decide.next(observation(members: all, records: done, clusterVersion: "3.5")) == .markCompleted)
    }

    // MARK: issue 8 — each of these failed before the fix

    /// A retried `.stopping` step whose member still runs goes through the gates again (it used to stop at once).
    @Test func retriedStopIsReGated() {
        let st = JournalEntry(rolloutID: "r1", step: .stopping, target: v351)
        let peerDown = [member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3, healthy: false)]
        let a = Decide.next(observation(members: peerDown, lock: heldLock, backup: backup, journal: st))
        guard case let .wait(why) = a else { Issue.record("expected a wait, got \(a)"); return }
        #expect(why.hasPrefix("gate 2 "))
        // A stale observation or a short lease: no stop either.
        guard case .wait = Decide.next(observation(lock: heldLock, backup: backup, journal: st, age: 5)) else { Issue.record("stale"); return }
        // Paused meanwhile: the sequence is left (record cleared by its owner), not continued.
        var p = rollout; p.state = .paused
        guard case .clearInterrupted = Decide.next(observation(rollout: p, lock: heldLock, backup: backup, journal: st)) else {
            Issue.record("paused"); return
        }
    }

    @Test func startThatKeepsFailingRollsBackWhileDown() {
        var j = JournalEntry(rolloutID: "r1", step: .switched, target: v351, stoppedAt: 990, from: v3423)
        j.startFailures = 1
        #expect(Decide.next(observation(lock: heldLock, journal: j, processUp: false)) == .startMember)
        j.startFailures = Decide.maxStartFailures
        guard case .rollBackStopped = Decide.next(observation(lock: heldLock, journal: j, processUp: false)) else { Issue.record("rollback"); return }
        // The deadline covers the steps before the start too.
        let stuck = JournalEntry(rolloutID: "r1", step: .stopped, target: v351, stoppedAt: 900, from: v3423)
        guard case .rollBackStopped = Decide.next(observation(lock: heldLock, journal: stuck, processUp: false, now: 1000)) else {
            Issue.record("deadline"); return
        }
        // A rollback that cannot start either halts.
        var rb = stuck; rb.rollingBack = true; rb.target = v3423
        guard case let .halt(why) = Decide.next(observation(lock: heldLock, journal: rb, processUp: false, now: 1000)) else { Issue.record("halt"); return }
        #expect(why.hasPrefix("rollback failed"))
    }

    @Test func journalRollbackWhileDownKeepsTheDeadlineFresh() {
        var j = JournalEntry(rolloutID: "r1", step: .switched, target: v351, stoppedAt: 900, from: v3423)
        j.beginRollbackWhileDown(to: v3423, reason: "boom", now: 1000)
        #expect(j.step == .stopped && j.rollingBack && j.target == v3423 && j.stoppedAt == 1000)
        #expect(Decide.next(observation(lock: heldLock, journal: j, processUp: false, now: 1001)) == .switchBinary(to: v3423))
    }

    @Test func rollbackStopWaitsForHealthyPeers() {
        let sick = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351, healthy: false), member("s3", id: 3, healthy: false)]
        let j = JournalEntry(rolloutID: "r1", step: .started, target: v351, stoppedAt: 900)
        let a = Decide.next(observation(members: sick, lock: heldLock, journal: j, now: 1000))
        guard case let .wait(why) = a else { Issue.record("expected a wait, got \(a)"); return }
        #expect(why.contains("s3"))
    }

    @Test func unreadableOrForeignDestructiveRecordsBlockGate4() {
        var o = observation(lock: heldLock, backup: backup)
        o.undecodableRecords = ["s3"]
        #expect(Gates.evaluate(o).first { $0.number == 4 }?.passed == false)
        // A destructive record of a member no longer in the list, or of another rollout, blocks too.
        var other = record(.stopping); other.rolloutID = "r0"
        #expect(Gates.evaluate(observation(records: ["gone": other], lock: heldLock)).first { $0.number == 4 }?.passed == false)
    }

    @Test func offlineBringsOwnMemberBackWithoutEtcd() {
        let t = Timing()
        let j = JournalEntry(rolloutID: "r1", step: .stopped, target: v351, stoppedAt: 990, previousBinary: "/old", from: v3423)
        #expect(Decide.offline(journal: j, lockHeld: true, processUp: false, now: 1000, timing: t) == .switchBinary(to: v351))
        #expect(Decide.offline(journal: j, lockHeld: false, processUp: false, now: 1000, timing: t) == .recoverStart(restorePreviousBinary: true))
        guard case .rollBackStopped = Decide.offline(journal: j, lockHeld: true, processUp: false, now: 2000, timing: t) else {
            Issue.record("deadline offline"); return
        }
        #expect(Decide.offline(journal: nil, lockHeld: true, processUp: false, now: 1000, timing: t) == nil)
        // Seed 5289893 (n=1): the stop landed but reported failure, and nothing answers: go on from the stop.
        var stopping = j; stopping.step = .stopping
        #expect(Decide.offline(journal: stopping, lockHeld: true, processUp: false, now: 1000, timing: t) == .switchBinary(to: v351))
        #expect(Decide.offline(journal: stopping, lockHeld: true, processUp: true, now: 1000, timing: t) == nil)
    }

    @Test func memoryCountsVerificationOnTheMonotonicClock() {
        var mem = SupervisorMemory()
        let up = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351), member("s3", id: 3)]
        let j = JournalEntry(rolloutID: "r1", step: .started, target: v351, stoppedAt: 95)
        var o1 = observation(members: up, records: ["s2": record(.verifying, id: "2")], lock: heldLock, journal: j, now: 100)
        _ = mem.advance(&o1)
        var o2 = o1; o2.now = 102.5
        _ = mem.advance(&o2)
        #expect(o2.verifiedFor == 2.5)
        #expect(mem.downtime == 5)
        // A failing check resets the settle clock.
        var o3 = o2; o3.members[1].healthy = false; o3.now = 103
        _ = mem.advance(&o3)
        #expect(o3.verifiedFor == 0)
    }

    /// Owner-clears waits while a stop issued by the crashed incarnation may still land (it used to clear at once,
    /// and the member went down afterwards with its record saying interrupted).
    @Test func ownerClearsWaitsForAPendingStop() {
        let j = JournalEntry(rolloutID: "r1", step: .stopping, target: v351, stoppedAt: 995)
        guard case let .wait(why) = Decide.next(observation(journal: j, processUp: true, now: 1000)) else { Issue.record("must wait"); return }
        #expect(why.contains("may still be pending"))
        #expect(Decide.next(observation(journal: j, processUp: false, now: 1000)) == .recoverStart(restorePreviousBinary: false))
        guard case .clearInterrupted = Decide.next(observation(journal: j, processUp: true, now: 1100)) else { Issue.record("clear after"); return }
        // Never issued (no stoppedAt): nothing can be pending.
        let unissued = JournalEntry(rolloutID: "r1", step: .stopping, target: v351)
        guard case .clearInterrupted = Decide.next(observation(journal: unissued, processUp: true)) else { Issue.record("clear"); return }
    }

    /// Found by the simulator (seed 31677, n=1): a lone member is its own leader and has nobody to hand over to;
    /// it used to wait for an upgraded member forever.
    @Test func aSickMemberOnTheTargetIsVerifiedUnderTheDeadlineNotWaitedOn() {
        // s2 runs the target, unhealthy, its sequence lost (no journal): verification starts (and its deadline).
        let sick = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351, healthy: false), member("s3", id: 3)]
        #expect(Decide.next(observation(members: sick, records: ["s2": record(.interrupted, id: "2")], lock: heldLock, backup: backup))
                == .adoptVerification)
        let j = JournalEntry(rolloutID: "r1", step: .started, target: v351, stoppedAt: 900, startedAt: 900)
        let late = Decide.next(observation(members: sick, lock: heldLock, backup: backup, journal: j, now: 900 + Timing().verifyTimeoutSeconds))
        #expect(late == .rollBack(reason: "s2 not verified on 3.5.1 within \(Int(Timing().verifyTimeoutSeconds)) s: s2 not healthy yet"))
    }

    @Test func aPeerStepsAsideForASickMemberOnTheTarget() {
        // s3 runs the target, unhealthy, record interrupted: s2 neither holds nor takes the lock meanwhile.
        let sick = [member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3, version: v351, healthy: false)]
        let records = ["s3": record(.interrupted)]
        #expect(Decide.next(observation(members: sick, records: records, lock: heldLock, backup: backup)) == .release)
        #expect(Decide.next(observation(members: sick, records: records)) == .wait("s3 on 3.5.1 but not verified: it goes first"))
        // Once it rolled back (or is done), the others go on.
        #expect(Decide.next(observation(members: sick, records: ["s3": record(.rolledBack)])) == .acquireLock)
    }

    @Test func loneMemberDoesNotWaitForAHandover() {
        var o = observation(local: "s1", members: [member("s1", id: 1, leader: true)], lock: heldLock, backup: backup)
        o.allowSmallCluster = true
        #expect(Decide.next(o) == .stopMember(target: v351, rollingBack: false, reason: nil))
    }

    /// Found by the simulator (seed 14483852, n=3, bad target): a daemon that crashed mid-rollback restarted the bad
    /// target forever; recovery points the link back first whenever the sequence was rolling back.
    @Test func recoveryMidRollbackRestoresThePreviousBinary() {
        var j = JournalEntry(rolloutID: "r1", step: .switched, target: v351, stoppedAt: 990, previousBinary: "/old", from: v3423)
        j.beginRollbackWhileDown(to: v3423, reason: "bad", now: 995)
        #expect(Decide.next(observation(journal: j, processUp: false, now: 1000)) == .recoverStart(restorePreviousBinary: true))
        var started = j; started.step = .started
        #expect(Decide.next(observation(journal: started, processUp: false, now: 1000)) == .recoverStart(restorePreviousBinary: true))
    }
}

/// The break-glass rule of `etcd-shepherd forget`.
@Suite struct ForgetRuleTests {
    static func member(healthy: Bool, id: UInt64 = 0xa) -> MemberView {
        MemberView(name: "s2", id: id, clientURL: "http://s2:2379", reachable: healthy, healthy: healthy, hasLeader: healthy,
                   isLeader: false, version: EtcdVersion(3, 4, 23), raftIndex: 1)
    }
    static func record(_ phase: MemberPhase) -> ForgetRule.Stored {
        .record(MemberRecord(rolloutID: "r1", memberID: "a", phase: phase, from: EtcdVersion(3, 4, 23), to: EtcdVersion(3, 5, 1),
                             leaseID: "694d", updatedAt: 0))
    }

    @Test func aRemovedMembersDestructiveRecordMayBeForgotten() {
        #expect(ForgetRule.refusal(name: "s2", stored: Self.record(.stopping), member: nil, leaseAlive: false) == nil)
        #expect(ForgetRule.refusal(name: "s2", stored: .unreadable, member: nil, leaseAlive: false) == nil)
    }

    @Test func aMemberThatIsUpAgainMayBeForgotten() {
        #expect(ForgetRule.refusal(name: "s2", stored: Self.record(.verifying), member: Self.member(healthy: true), leaseAlive: false) == nil)
    }

    @Test func aMemberThatIsDownIsNotForgotten() {
        let why = ForgetRule.refusal(name: "s2", stored: Self.record(.stopping), member: Self.member(healthy: false), leaseAlive: false)
        #expect(why?.contains("not healthy") == true)
        #expect(ForgetRule.refusal(name: "s2", stored: .unreadable, member: Self.member(healthy: false), leaseAlive: false) != nil)
    }

    @Test func aRecordWhoseDaemonHoldsTheLockIsNotForgotten() {
        let why = ForgetRule.refusal(name: "s2", stored: Self.record(.stopping), member: Self.member(healthy: true), leaseAlive: true)
        #expect(why?.contains("still holds the upgrade lock") == true)
    }

    @Test func nothingToForget() {
        #expect(ForgetRule.refusal(name: "s2", stored: .none, member: nil, leaseAlive: false)?.contains("no record") == true)
        #expect(ForgetRule.refusal(name: "s2", stored: Self.record(.done), member: nil, leaseAlive: false)?.contains("nothing to forget") == true)
    }

    @Test func aNameReusedByANewMemberCountsOnlyWhileThatMemberIsHealthy() {
        #expect(ForgetRule.refusal(name: "s2", stored: Self.record(.stopping), member: Self.member(healthy: false, id: 0xb), leaseAlive: false) != nil)
        #expect(ForgetRule.refusal(name: "s2", stored: Self.record(.stopping), member: Self.member(healthy: true, id: 0xb), leaseAlive: false) == nil)
    }
}

@Suite struct PreflightMemoryTests {
    @Test func cleanHoldsForTheRolloutBlockingIsRecheckedAndReportedOnceWhenNew() {
        var m = PreflightMemory()
        #expect(m.cached(for: rollout, now: 0) == nil)
        let first = m.record(["binary missing"], for: rollout, now: 0)
        #expect(first)                                                           // new: report it
        #expect(m.cached(for: rollout, now: 10) == ["binary missing"])
        #expect(m.cached(for: rollout, now: PreflightMemory.recheckSeconds) == nil)   // re-check
        let again = m.record(["binary missing"], for: rollout, now: 15)
        #expect(!again)                                                          // same finding: not again
        let clean = m.record([], for: rollout, now: 30)
        #expect(!clean)
        #expect(m.cached(for: rollout, now: 10_000) == [])                       // clean holds
        var other = rollout; other.id = "r2"
        #expect(m.cached(for: other, now: 10_000) == nil)                        // a new rollout checks again
        m.forget()
        #expect(m.cached(for: rollout, now: 10_000) == nil)
    }

    /// A rollout in hops: when every member is on this hop's target and the cluster version caught up, the record
    /// moves to the next hop (not completed); the last hop completes. Each hop has its own backup key.
    @Test func hopsAdvanceThenComplete() {
        var r = rollout
        r.to = EtcdVersion(3, 5, 0); r.then = [v351]; r.stage = 0
        let onHop = [member("s1", id: 1, leader: true, version: EtcdVersion(3, 5, 0)), member("s2", id: 2, version: EtcdVersion(3, 5, 0)),
                     member("s3", id: 3, version: EtcdVersion(3, 5, 0))]
        let done = ["s1": record(.done, id: "1"), "s2": record(.done, id: "2"), "s3": record(.done, id: "3")]
        #expect(Decide.next(observation(members: onHop, rollout: r, records: done, clusterVersion: "3.5")) == .advanceHop)
        #expect(Decide.next(observation(members: onHop, rollout: r, records: done, lock: heldLock, clusterVersion: "3.5")) == .release)
        let next = r.advanced()!
        #expect(next.from == EtcdVersion(3, 5, 0) && next.to == v351 && next.then == nil && next.stage == 1 && next.nextHop == nil)
        #expect(r.backupKey == "r1" && next.backupKey == "r1.h1" && r.finalTarget == v351)
        // On the next hop the same members (records still done from hop 1) go again, one at a time.
        #expect(Decide.next(observation(members: onHop, rollout: next, records: done, clusterVersion: "3.5")) == .acquireLock)
        let final = onHop.map { var m = $0; m.version = v351; return m }
        #expect(Decide.next(observation(members: final, rollout: next, records: done, clusterVersion: "3.5")) == .markCompleted)
    }
}
