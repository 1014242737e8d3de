import Testing

@testable import Rollout

/// Gate 8: no member is stopped outside a maintenance window, nor in one that closes before its sequence could end.
@Suite struct MaintenanceGateTests {
    static let closed = MaintenanceView(
        current: nil, next: .init(label: "Tue 02:00 Europe/Berlin", seconds: 3 * 3600 + 12 * 60))
    static let open = MaintenanceView(
        current: .init(label: "Mon 02:00 UTC", seconds: 3600), next: .init(label: "Tue 02:00 UTC", seconds: 86400))
    /// Open, but it closes in 60 s: less than a member's 90 s (verify 60 + settle 30).
    static let closing = MaintenanceView(
        current: .init(label: "Mon 02:00 UTC", seconds: 60), next: .init(label: "Tue 02:00 UTC", seconds: 86400))

    func with(_ view: MaintenanceView?, _ o: Observation) -> Observation {
        var o = o
        o.maintenance = view
        return o
    }

    @Test func outsideAWindowTheLockIsNotEvenTaken() {
        let o = with(Self.closed, observation())
        #expect(
            Decide.next(o)
                == .wait(.maintenanceWindow(closed: "waiting for the window Tue 02:00 Europe/Berlin, in 3 h 12 m")))
        // Held (taken just before the window closed): let go, a reboot or another member may need it.
        #expect(Decide.next(with(Self.closed, observation(lock: heldLock, backup: backup))) == .release)
        // No windows configured, or one open with room: the usual path.
        #expect(Decide.next(with(nil, observation())) == .acquireLock)
        #expect(Decide.next(with(Self.open, observation())) == .acquireLock)
        let o2 = with(Self.open, observation(lock: heldLock, backup: backup, journal: begun(written: 990), age: 0.5))
        #expect(Decide.next(o2) == .stopMember(issueBy: 999.5 + 3, minLease: 10))
    }

    @Test func aWindowThatClosesTooSoonForASequenceWaitsForTheNextOne() {
        guard case let .wait(why) = Decide.next(with(Self.closing, observation())) else {
            Issue.record("went ahead 60 s before the window closes")
            return
        }
        #expect(
            why.description.contains("closes in 1 m, too soon for a member's 90 s")
                && why.description.contains("Tue 02:00 UTC, in 1 d"))
        #expect(
            Gates.evaluate(with(Self.closing, observation(lock: heldLock))).first { $0.number == 8 }?.passed == false)
        let gates = Gates.evaluate(with(Self.open, observation(lock: heldLock)))
        #expect(gates.allSatisfy { $0.passed })
    }

    /// The window closed between the record write and the stop: the sequence is left with the member up; a stop
    /// already issued whose call failed is not retried, the member is brought back instead.
    @Test func aWindowThatClosedBeforeTheStopLeavesTheSequence() {
        let o = with(Self.closed, observation(lock: heldLock, backup: backup, journal: begun(written: 990), age: 0.5))
        guard case let .leaveSequence(why) = Decide.next(o) else {
            Issue.record("expected the sequence left, got \(Decide.next(o))")
            return
        }
        #expect(why.contains("not stopped outside a maintenance window"))
        let issued = with(
            Self.closed,
            observation(lock: heldLock, backup: backup, journal: begun(written: 990, issued: 995), age: 0.5))
        #expect(!isStop(Decide.next(issued)))
    }

    /// A member already on the target is verified whatever the time (that stops nothing), and a rollback's stop
    /// repairs a member that failed: neither waits for a window.
    @Test func verificationAndRollbackDoNotWaitForAWindow() {
        let onTarget = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351), member("s3", id: 3)]
        let adopt = Decide.next(with(Self.closed, observation(members: onTarget, lock: heldLock)))
        guard case .adoptVerification = adopt else {
            Issue.record("a member on the target was not verified outside a window: \(adopt)")
            return
        }
        var j = begun(written: 990).rollback(to: v3423, reason: "target sick", down: false, now: 990)
        j.recordWrittenAt = 990
        let rollback = with(Self.closed, observation(members: onTarget, lock: heldLock, journal: j, age: 0.5))
        #expect(isStop(Decide.next(rollback)), "\(Decide.next(rollback))")
    }

    @Test func durationsReadAsAnOperatorSaysThem() {
        #expect(MaintenanceView.duration(3 * 3600 + 12 * 60) == "3 h 12 m")
        #expect(MaintenanceView.duration(2 * 86400 + 4 * 3600 + 59) == "2 d 4 h")
        #expect(MaintenanceView.duration(330) == "5 m 30 s")
        #expect(MaintenanceView.duration(44.2) == "45 s")
        #expect(MaintenanceView.duration(3600) == "1 h")
    }

    func isStop(_ a: Action) -> Bool {
        if case .stopMember = a { return true }
        return false
    }
}
