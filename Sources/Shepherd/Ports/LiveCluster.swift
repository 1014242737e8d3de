import EtcdClient
import Foundation
import Rollout

/// Observes through a cluster client whose endpoints grow with the member list: every observation adopts the client
/// URLs the member list names, and keeps them in `<stateDir>/endpoints.json`, so a daemon configured with only its own
/// member's URL still reaches the others while its member is down, even after a restart.
public struct LiveCluster: ClusterObserving {
    public let cluster: EtcdCluster
    let knownPath: String
    let clock: any ShepherdClock

    public init(cluster: EtcdCluster, stateDir: String, clock: any ShepherdClock = SystemClock()) {
        self.cluster = cluster
        self.clock = clock
        knownPath = stateDir + "/endpoints.json"
        if let data = FileManager.default.contents(atPath: knownPath),
            let urls = try? JSONDecoder().decode([String].self, from: data)
        {
            cluster.adopt(urls: urls.filter { $0.hasPrefix("http://") || $0.hasPrefix("https://") })
        }
    }

    public func observe(metrics: ClusterObserver.MetricsScope) async throws -> ClusterView {
        let view = try await ClusterObserver(cluster: cluster, metrics: metrics, clock: clock).observe()
        if cluster.adopt(urls: view.members.map(\.clientURL)) {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            try? FileIO.writeAtomically(try enc.encode(cluster.urls), to: knownPath)
        }
        return view
    }

    public func authFingerprint() async throws -> String {
        try await cluster.authFingerprint()
    }

    public func answers(_ url: String) async -> Bool {
        (try? await cluster.health(of: url, timeout: .milliseconds(250)))?.healthy == true
    }

    public func runningVersion(_ url: String) async -> EtcdVersion? {
        (try? await cluster.version(of: url, timeout: .seconds(2))).flatMap { EtcdVersion($0.server) }
    }

    public func responds(_ url: String) async -> Bool {
        do {
            _ = try await cluster.health(of: url, timeout: .seconds(2))
            return true
        } catch EtcdError.unreachable {
            return false
        } catch {
            return true
        }
    }
}
