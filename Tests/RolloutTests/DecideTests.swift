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
        #expect(Decide.next(observation(lock: heldLock, journal: st)) == .stopMember(target: v351, rollingBack: false, reason: nil))
    }

    @Test func ownerClearsWithoutTheLock() {
        let j = JournalEntry(rolloutID: "r1", step: .stopped, target: v351)
        #expect(Decide.next(observation(journal: j, processUp: false)) == .recoverStart)
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
        let j = JournalEntry(rolloutID: "r1", step: .started, target: v351, startedAt: 900)
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
}
