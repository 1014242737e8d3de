import Testing

@testable import Rollout
@testable import Shepherd

/// `systemctl status etcd-shepherd@s2` is read beside the other members' daemons: whatever the daemon does during a
/// rollout, its status line names its own member (a line without it was once read at the moment of completion).
@Suite struct StatusLineTests {
    @Test func everyLineDuringARolloutNamesTheMember() {
        let from = EtcdVersion(3, 4, 23), to = EtcdVersion(3, 5, 30)
        let members = ["s1", "s2", "s3"].enumerated().map { i, name in
            MemberView(
                name: name, id: MemberID(UInt64(i + 1)), clientURL: "http://\(name):2379", reachable: true,
                healthy: true, hasLeader: true, isLeader: i == 0, version: from, raftIndex: 100)
        }
        let rollout = RolloutRecord(id: "r1", from: from, to: to, requestedBy: "s1", requestedAt: 0)
        let o = Observation(
            localName: "s2", members: members, clusterVersion: "3.4", rollout: rollout, records: [:], backup: nil,
            lock: nil, journal: nil, preflightBlocking: [], localProcess: .running, observedAt: 999, verifiedFor: 0,
            now: 1000, timing: Timing())
        let journal = JournalEntry(rolloutID: "r1", step: .stopping, target: to, from: from)
        let actions: [Action] = [
            .idle("waiting for s1"), .wait(.rolloutPaused), .waitForClusterVersion(.rolloutPaused), .acquireLock,
            .takeBackup(leaderURL: "http://s1:2379"), .transferLeadership(leaderURL: "http://s1:2379", target: 3),
            .takeLeadership(leaderURL: "http://s1:2379"), .beginStop(journal),
            .stopMember(issueBy: 1001, minLease: 10), .markStopped, .switchBinary(path: "/opt/etcd/3.5.30/etcd"),
            .startMember(phase: nil), .markDone(processStartTime: 5), .rollBackWhileDown(journal),
            .halt(reason: "the target crashed", recordPhase: .interrupted, keepJournal: false), .release,
            .markCompleted,
            .advanceHop, .recoverStart(binary: nil), .restoreLink(path: "/opt/etcd/3.4.23/etcd"),
            .leaveSequence(reason: "interrupted"), .noteProcess(startTime: 5), .adoptVerification(journal),
        ]
        let view = ClusterView(members: [], clusterVersion: "3.4", startedAt: 999)
        for action in actions {
            let line = StatusLine.make(action: action, o, view)
            #expect(line.hasPrefix("rollout 3.4.23→3.5.30 [0/3 done]: s2 "), "\(action): \(line)")
        }
    }
}
