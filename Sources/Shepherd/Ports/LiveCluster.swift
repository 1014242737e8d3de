import EtcdClient
import Foundation

/// Observes through a cluster client whose endpoints grow with the member list: every observation adopts the client
/// URLs the member list names, and keeps them in `<stateDir>/endpoints.json`, so a daemon configured with only its own
/// member's URL still reaches the others while its member is down, even after a restart.
public struct LiveCluster: ClusterObserving {
    public let cluster: EtcdCluster
    let knownPath: String

    public init(cluster: EtcdCluster, stateDir: String) {
        self.cluster = cluster
        knownPath = stateDir + "/endpoints.json"
        if let data = FileManager.default.contents(atPath: knownPath),
           let urls = try? JSONDecoder().decode([String].self, from: data) {
            cluster.adopt(urls: urls.filter { $0.hasPrefix("http://") || $0.hasPrefix("https://") })
        }
    }

    public func observe(metricsOf url: String?) async throws -> ClusterView {
        let view = try await ClusterObserver(cluster: cluster, metrics: url.map { .member(clientURL: $0) } ?? .none).observe()
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
}
