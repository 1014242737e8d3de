import Rollout
import Testing

/// Every wait reason has an operator-facing sentence: one example of each case, and a switch the compiler keeps
/// exhaustive, so a case added without an example fails to build here.
@Suite struct WaitReasonTests {
    static let v = EtcdVersion("3.5.30")!
    static let examples: [WaitReason] = [
        .rolloutPaused, .memberDone(member: "s1"), .memberRolledBack(member: "s1"),
        .preflight(problems: ["binary missing", "disk full"]), .leaderGoesLast(others: ["s2", "s3"]),
        .unverifiedGoFirst(members: ["s2"], target: v), .maintenanceWindow(closed: "waiting for the window Tue 02:00"),
        .gate(number: 2, name: "all members healthy", detail: "not healthy: s2"), .noLeadershipTarget,
        .noLeaderForBackup, .window("observation is 4 s old"), .completionUnproven(members: ["s2"]),
        .completionAuthUnread, .completionObservationOld(seconds: 20), .completionWindow("lease too short"),
        .clusterVersion(target: v, current: nil), .stopPending(member: "s1"), .observingAfterRecordWrite, .noLock,
        .verifying(problem: "s1 not healthy yet"), .settling(elapsed: 3, of: 30),
        .rollbackWaitsForPeers(member: "s1", peers: "s2 is down"), .rollbackNeedsClusterVersion(member: "s1"),
        .clusterVersionUnknown(why: "s1 restarted"), .rollbackToUnknownClusterVersion(why: "s1 restarted", from: v),
        .observationOld(why: "s1 restarted", seconds: 5), .recoveryStarted(member: "s1", secondsAgo: 3),
        .recoveryRunning(member: "s1", secondsAgo: 3, grace: 5), .stopStillPending(member: "s1", issuedAgo: 4),
        .stopMayBePending(member: "s1", issuedAgo: 4, clearsIn: 56), .localAnswerOld(member: "s1", seconds: 4),
        .localNotAnswering(member: "s1"), .tickFailed(error: "connection refused"),
    ]

    /// The case's position in the declaration; exhaustive, with no default.
    static func index(_ r: WaitReason) -> Int {
        switch r {
        case .rolloutPaused: 0
        case .memberDone: 1
        case .memberRolledBack: 2
        case .preflight: 3
        case .leaderGoesLast: 4
        case .unverifiedGoFirst: 5
        case .maintenanceWindow: 6
        case .gate: 7
        case .noLeadershipTarget: 8
        case .noLeaderForBackup: 9
        case .window: 10
        case .completionUnproven: 11
        case .completionAuthUnread: 12
        case .completionObservationOld: 13
        case .completionWindow: 14
        case .clusterVersion: 15
        case .stopPending: 16
        case .observingAfterRecordWrite: 17
        case .noLock: 18
        case .verifying: 19
        case .settling: 20
        case .rollbackWaitsForPeers: 21
        case .rollbackNeedsClusterVersion: 22
        case .clusterVersionUnknown: 23
        case .rollbackToUnknownClusterVersion: 24
        case .observationOld: 25
        case .recoveryStarted: 26
        case .recoveryRunning: 27
        case .stopStillPending: 28
        case .stopMayBePending: 29
        case .localAnswerOld: 30
        case .localNotAnswering: 31
        case .tickFailed: 32
        }
    }

    @Test func everyCaseHasAnExample() {
        #expect(Self.examples.map(Self.index) == Array(0...32))
    }

    @Test func everyCaseReadsAsASentenceWithItsData() {
        var seen = Set<String>()
        for r in Self.examples {
            let text = r.description
            #expect(!text.isEmpty && !text.contains("Optional(") && !text.contains("WaitReason"), "\(text)")
            #expect(seen.insert(text).inserted, "two cases read the same: \(text)")
        }
        #expect(WaitReason.leaderGoesLast(others: ["s2", "s3"]).description == "leader goes last (s2, s3 first)")
        #expect(WaitReason.settling(elapsed: 3, of: 30).description == "verifying: settling 3/30 s")
        #expect(
            WaitReason.clusterVersion(target: Self.v, current: nil).description
                == "all members on 3.5.30; waiting for the cluster version to move from ?")
    }

    /// An action prints its reason as the quoted sentence (a seed's trace reads as before the enum).
    @Test func anActionPrintsTheSentence() {
        #expect("\(Action.wait(.noLock))" == "wait(\"no lock\")")
    }
}
