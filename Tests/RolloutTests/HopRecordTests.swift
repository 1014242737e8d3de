import Testing

@testable import Rollout

/// A record done in an earlier hop of a multi-hop rollout says nothing about the running hop: a member that runs
/// the hop's target under it (its next stop's record write failed, then it was started on the target) is verified
/// again, not counted as done — the completion used to wait for ever on its unverified process.
@Suite struct HopRecordTests {
    @Test func aRecordDoneInTheLastHopIsNotDoneInThisOne() {
        let v3516 = EtcdVersion(3, 5, 16), v3530 = EtcdVersion(3, 5, 30)
        let r = RolloutRecord(id: "r1", from: v3516, to: v3530, requestedBy: "s1", requestedAt: 0)
        var hop1 = MemberRecord(rolloutID: "r1", memberID: 1, phase: .done, from: v3423, to: v3516, updatedAt: 0)
        hop1.processStartTime = 100
        #expect(!hop1.isDone(in: r))
        var hop2 = hop1
        hop2.to = v3530
        #expect(hop2.isDone(in: r))
        var o = observation(
            local: "s1", members: [member("s1", id: 1, leader: true, version: v3530)], rollout: r,
            records: ["s1": hop1], clusterVersion: "3.5")
        o.allowSmallCluster = true
        // Taken through the verification again: the lock first, then the running process adopted and verified.
        let first = Decide.next(o)
        guard case .acquireLock = first else {
            Issue.record("not verified again: \(first)")
            return
        }
        o.lock = heldLock
        let second = Decide.next(o)
        guard case let .adoptVerification(j) = second else {
            Issue.record("not verified again: \(second)")
            return
        }
        #expect(j.target == v3530 && j.step == .started)
    }
}
