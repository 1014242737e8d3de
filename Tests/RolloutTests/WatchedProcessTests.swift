import Testing

@testable import Rollout

/// The process start time as evidence (issue 18, round two): a peer verified in this hop that restarted blocks a
/// stop; completion and settle rest only on start times read just now; a rollback waiting on its peers lets the lock
/// go. Each case failed before its fix (the real test or the simulator seed named beside it).
@Suite struct WatchedProcessTests {
    /// s3, verified on 3.5.1 at process start 500, seen from s2 (still on 3.4.23) holding the lock with its backup.
    func gating(s3StartTime: Double?) -> Observation {
        var s3 = record(.done)
        s3.to = v351
        s3.processStartTime = 500
        let ms = [member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3, version: v351)]
        var o = observation(members: ms, records: ["s3": s3], lock: heldLock, backup: backup)
        if let s3StartTime { o.startTimes["s3"] = s3StartTime }
        return o
    }

    /// `CrashingTargetTests…(restarted: true)`: s5 stopped while s1, verified, had been killed and restarted.
    @Test func aVerifiedPeerOnAnotherProcessBlocksTheStop() {
        #expect(Decide.next(gating(s3StartTime: 500)) == .beginStop(begun(written: nil)))
        #expect(
            Decide.next(gating(s3StartTime: 640))
                == .wait(
                    .gate(
                        number: 2, name: "all members healthy",
                        detail: "not healthy: s3 (restarted since its verification)")))
        // Before the record write the peers' processes are not read: the stop's gate decides.
        #expect(Decide.next(gating(s3StartTime: nil)) == .beginStop(begun(written: nil)))
        var atTheStop = gating(s3StartTime: nil)
        atTheStop.journal = begun(written: 990)
        #expect(
            Decide.next(atTheStop)
                == .wait(
                    .gate(
                        number: 2, name: "all members healthy",
                        detail: "not healthy: s3 (its verified process not observed)")))
        atTheStop.startTimes["s3"] = 500
        guard case .stopMember = Decide.next(atTheStop) else {
            Issue.record("expected the stop: \(Decide.next(atTheStop))")
            return
        }
    }

    /// Simulator seed 997795: the restarted peer's own rollback needs the lock a rollback waiting on it would hold.
    @Test func aRestartedPeerDoesNotBlockARollback() {
        #expect(Gates.peersForRollback(gating(s3StartTime: 640)) == nil)
    }

    /// Simulator seed 649359: start times read before a crash, the decision made 20 s later.
    @Test func completionNeedsAFreshObservation() {
        let ms = [
            member("s1", id: 1, leader: true, version: v351), member("s2", id: 2, version: v351),
            member("s3", id: 3, version: v351),
        ]
        var records: [MemberName: MemberRecord] = [:]
        for (name, id) in [("s1", 1), ("s2", 2), ("s3", 3)] as [(MemberName, MemberID)] {
            var r = record(.done, id: id)
            r.processStartTime = 500
            records[name] = r
        }
        var o = observation(members: ms, records: records, lock: heldLock, clusterVersion: "3.5")
        o.startTimes = ["s1": 500, "s2": 500, "s3": 500]
        #expect(Decide.next(o) == .markCompleted)
        o.observedAt = o.now - 20
        #expect(Decide.next(o) == .wait(.completionObservationOld(seconds: 20)))
    }

    /// Simulator seed 19662878: s2's verified target restarted in a halted rollout; its rollback waits on s3's
    /// destructive record, whose daemon needs the lock to finish: the lock is let go after `lockWaitSeconds`.
    @Test func aRollbackWaitingOnItsPeersLetsTheLockGo() {
        var mine = record(.done, id: 0x2)
        mine.processStartTime = 500
        let halted = RolloutRecord(
            id: "r1", from: v3423, to: v351, state: .halted, requestedBy: "s1", requestedAt: 0, allowKnownBad: true)
        let ms = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351), member("s3", id: 3)]
        var o = observation(
            members: ms, rollout: halted, records: ["s2": mine, "s3": record(.verifying)], lock: heldLock, now: 1000)
        o.localStartTime = 640
        guard case .wait(let why) = Decide.next(o) else {
            Issue.record("expected a wait: \(Decide.next(o))")
            return
        }
        #expect(why.description.contains("rollback of s2 waits") && why.description.contains("s3 is verifying"))
        o.now = heldLock.heldSince + o.timing.lockWaitSeconds + 1
        o.observedAt = o.now - 0.1
        #expect(Decide.next(o) == .release)
    }
}
