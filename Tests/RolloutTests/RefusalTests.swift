import Rollout
import Testing

/// Every refusal of a request reads as a sentence an operator can act on, one example of each case.
@Suite struct RefusalTests {

    @Test func everyCaseReadsAsASentence() {
        let v = EtcdVersion("3.5.30")!, old = EtcdVersion("3.4.23")!
        let examples: [(Refusal, String)] = [
            (
                .rolloutInProgress(id: "r1", from: old, to: v, state: .paused),
                "rollout r1 (3.4.23 → 3.5.30) is paused; abort it first (etcd-shepherd abort)"
            ),
            (.smallCluster(voters: 2), Gates.smallCluster(2)),
            (
                .unhealthy([Refusal.Sick(name: "s2", reachable: false), Refusal.Sick(name: "s3", reachable: true)]),
                "not every member is healthy: s2 (unreachable), s3 (no leader)"
            ),
            (.noSingleVersion("mixed versions: s1=3.4.23, s2=3.5.30"), "mixed versions: s1=3.4.23, s2=3.5.30"),
            (.versionPolicy("3.4.23 → 3.5.1: known-bad"), "3.4.23 → 3.5.1: known-bad"),
        ]
        for (refusal, sentence) in examples {
            #expect(refusal.description == sentence)
        }
        #expect(examples.map { Self.index($0.0) } == Array(0...4), "one example of every case")
    }

    /// The case's position in the declaration; exhaustive, with no default (a new case must be added here).
    static func index(_ r: Refusal) -> Int {
        switch r {
        case .rolloutInProgress: 0
        case .smallCluster: 1
        case .unhealthy: 2
        case .noSingleVersion: 3
        case .versionPolicy: 4
        }
    }
}
