import EtcdClient
import Foundation
import Shepherd
import TestSupport
import Testing

/// The observer port's two questions about one member, on real etcd: `answers` (healthy now) and `responds` (a
/// process may serve the URL). The binary link is never switched under a member that responds: one restarted without
/// quorum answers `/health` unhealthy and runs all the same (simulator seed 3123546604 switched a rollback's link under
/// such a member while the check asked only for a healthy answer), and etcd 3.4 without a leader answers some health
/// reads only after 1 s (measured here: 1.0 s, then 1–4 ms, in turn; 3.5.30 answers at once).
@Suite(.serialized) struct LiveClusterTests {
    @Test(arguments: [Releases.old, Releases.current])
    func aMemberWithoutQuorumRespondsButDoesNotAnswerHealthy(version: String) async throws {
        let state = try TempDir("livecluster")
        defer { state.remove() }
        try await LocalCluster.with(version: version, label: "responds") { c in
            let live = LiveCluster(cluster: c.clusterClient(), stateDir: state.path)
            let url = c.members[2].clientURL
            #expect(await live.answers(url), "a healthy member answers")
            #expect(await live.responds(url), "a healthy member responds")
            try await c.stop(0)
            try await c.stop(1)
            // Without quorum the survivor's /health turns unhealthy, at once once etcd noticed the lost leader (within
            // its election timeout; before that a health read waits on raft). It still serves the URL.
            let unhealthy = await eventually(timeout: .seconds(20)) {
                (try? await c.endpoint(2).health(timeout: .seconds(2)))?.healthy == false
            }
            #expect(unhealthy, "\(version): the survivor still answered healthy without quorum")
            #expect(await !live.answers(url), "\(version): a member without quorum answered healthy")
            #expect(await live.responds(url), "\(version): a running member without quorum must respond")
            #expect(await !live.responds(c.members[0].clientURL), "\(version): a stopped member responded")
        }
    }
}
