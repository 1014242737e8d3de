import Testing

@testable import Rollout

/// FleetLock's decisions: a reboot passes the gates a stop passes, and its hold blocks every stop and reboot.
@Suite struct RebootRulesTests {
    let done = RolloutRecord(
        id: "r0", from: v3423, to: v351, state: .completed, requestedBy: "s1", requestedAt: 0, allowKnownBad: true)

    func calm(
        lock: LockHold? = nil, reboots: [MemberName: RebootHold] = [:], members: [MemberView]? = nil
    ) -> Observation {
        var o = observation(members: members, rollout: done, lock: lock)
        o.reboots = reboots
        return o
    }

    func hold(_ node: MemberName, _ client: String = "zincati-a") -> RebootHold {
        RebootHold(node: node, clientID: client, group: "default", memberID: 2, since: 0)
    }

    @Test func aCalmClusterGrantsOneRebootUnderTheLock() {
        #expect(RebootRules.preReboot(calm(), clientID: "zincati-a") == .needLock)
        #expect(RebootRules.preReboot(calm(lock: heldLock), clientID: "zincati-a") == .grant)
        // No rollout record at all is as calm.
        var none = calm(lock: heldLock)
        none.rollout = nil
        #expect(RebootRules.preReboot(none, clientID: "zincati-a") == .grant)
        // After the write, with our own hold: confirmed; the same client asking again is answered 200 (recursive).
        let written = calm(lock: heldLock, reboots: ["s2": hold("s2")])
        #expect(RebootRules.confirm(written, clientID: "zincati-a") == .grant)
        #expect(RebootRules.preReboot(written, clientID: "zincati-a") == .alreadyHeld)
        guard case .refuse(kind: "held_by_other_client", _) = RebootRules.preReboot(written, clientID: "other") else {
            Issue.record("another client took over the hold")
            return
        }
    }

    /// A pre-reboot asked again by the client that holds the reboot lock (its first answer lost, or a withdrawal whose
    /// delete failed) is judged on the cluster as it is now, without the lock: a peer down since takes the grant back.
    @Test func aRetriedPreRebootIsJudgedAgainNeverGrantedBlind() {
        let written = calm(reboots: ["s2": hold("s2")])
        #expect(RebootRules.preReboot(written, clientID: "zincati-a") == .alreadyHeld)
        var peerDown = written
        peerDown.members[2].healthy = false
        peerDown.members[2].reachable = false
        guard
            case .withdraw(kind: "cluster_unhealthy", let why) = RebootRules.preReboot(peerDown, clientID: "zincati-a")
        else {
            Issue.record("a retried pre-reboot was granted while s3 is down")
            return
        }
        #expect(why.contains("s3"))
        var midUpgrade = written
        midUpgrade.rollout = RolloutRecord(
            id: "r2", from: v3423, to: v351, requestedBy: "s1", requestedAt: 0, allowKnownBad: true)
        guard case .withdraw(kind: "rollout_in_progress", _) = RebootRules.preReboot(midUpgrade, clientID: "zincati-a")
        else {
            Issue.record("a retried pre-reboot was granted during a rollout")
            return
        }
    }

    @Test func everyGateOfAStopHoldsForAReboot() {
        func kind(_ o: Observation) -> String? {
            if case let .refuse(kind, _) = RebootRules.preReboot(o, clientID: "zincati-a") { return kind }
            return nil
        }
        // Another node rebooting.
        #expect(kind(calm(lock: heldLock, reboots: ["s3": hold("s3", "zincati-c")])) == "member_mid_upgrade")
        // A rollout under way (active or paused).
        var active = calm(lock: heldLock)
        active.rollout = rollout
        #expect(kind(active) == "rollout_in_progress")
        // A member unhealthy or lagging.
        let sick = [member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3, healthy: false)]
        #expect(kind(calm(lock: heldLock, members: sick)) == "cluster_unhealthy")
        let behind = [member("s1", id: 1, leader: true, raft: 500), member("s2", id: 2), member("s3", id: 3)]
        #expect(kind(calm(lock: heldLock, members: behind)) == "cluster_unhealthy")
        // Two voters: one down loses quorum.
        let two = [member("s1", id: 1, leader: true), member("s2", id: 2)]
        #expect(kind(calm(lock: heldLock, members: two)) == "quorum_margin")
        // A destructive record of an older rollout.
        var busy = calm(lock: heldLock)
        busy.records = ["s3": record(.stopping)]
        #expect(kind(busy) == "member_mid_upgrade")
        // A maintenance window closed.
        var closed = calm(lock: heldLock)
        closed.maintenance = MaintenanceView(current: nil, next: .init(label: "Tue 02:00 UTC", seconds: 600))
        #expect(kind(closed) == "outside_maintenance_window")
        // A peer that fell ill after the hold was written takes the grant back.
        var after = calm(lock: heldLock, reboots: ["s2": hold("s2")], members: sick)
        after.rollout = done
        guard case .refuse(kind: "cluster_unhealthy", _) = RebootRules.confirm(after, clientID: "zincati-a") else {
            Issue.record("a reboot confirmed with a peer down")
            return
        }
    }

    /// While a node holds the reboot lock, no member is stopped for an upgrade — the holder's own included.
    @Test func aRebootHoldBlocksEveryStop() {
        for node: MemberName in ["s2", "s3"] {
            var o = observation(lock: heldLock, backup: backup)
            o.reboots = [node: hold(node)]
            let gate4 = Gates.evaluate(o).first { $0.number == 4 }
            #expect(gate4?.passed == false && gate4?.detail.contains("\(node) is rebooting") == true, "\(node)")
            if case .beginStop = Decide.next(o) { Issue.record("a stop began while \(node) holds the reboot lock") }
        }
    }

    @Test func steadyStateReleasesOnlyAHealthyCaughtUpMember() {
        let mine: [MemberName: RebootHold] = ["s2": hold("s2")]
        #expect(RebootRules.steadyState(calm(reboots: mine), clientID: "zincati-a") == .release)
        #expect(RebootRules.steadyState(calm(), clientID: "zincati-a") == .nothingHeld)
        let down = [member("s1", id: 1, leader: true), member("s2", id: 2, healthy: false), member("s3", id: 3)]
        guard
            case .refuse(kind: "member_not_healthy", _) = RebootRules.steadyState(
                calm(reboots: mine, members: down), clientID: "zincati-a")
        else {
            Issue.record("released while the member is down")
            return
        }
        let lagging = [
            member("s1", id: 1, leader: true, raft: 900), member("s2", id: 2, raft: 10), member("s3", id: 3),
        ]
        #expect(RebootRules.steadyState(calm(reboots: mine, members: lagging), clientID: "zincati-a") != .release)
        #expect(RebootRules.steadyState(calm(reboots: mine), clientID: "someone-else") != .release)
    }
}
