import Testing

@testable import Rollout

/// A member a left sequence started is let go only once it was *seen* running `crashGraceSeconds` after its start:
/// an answer asked 3.5 s after the start, judged 6 s after it, says nothing of the 1.5 s after the answer (the
/// simulator's seed 4858924183: a crash-looping target died in them, was let go, and stayed down).
@Suite struct RecoveryGraceTests {
    @Test func aStartIsLetGoOnlyOnAnAnswerAskedAfterTheGrace() {
        var j = JournalEntry(
            rolloutID: "r1", step: .started, target: v351, stoppedAt: 990, startedAt: 995,
            previousBinary: "/opt/etcd/3.4.23/etcd", from: v3423)
        j.recordWrittenAt = 989
        let members = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351), member("s3", id: 3)]
        // Asked 3.5 s after the start, decided on 6 s after it (the observation 2.5 s old: fresh enough).
        let early = observation(members: members, journal: j, age: 2.5, now: 1001)
        #expect(
            Decide.recover(j, early, why: "lost the lock")
                == .wait(.recoveryRunning(member: "s2", secondsAgo: 6, grace: 5)))
        // Asked 5.5 s after the start: seen to have run the grace.
        let late = observation(members: members, journal: j, age: 0.5, now: 1001)
        if case .wait(.recoveryRunning) = Decide.recover(j, late, why: "lost the lock") {
            Issue.record("still held after an answer asked past the grace")
        }
    }
}
