import EtcdClient
import Foundation
import Rollout

/// What happened to one member in one rollout, for `etcd-shepherd history`: timestamped marks its own daemon appends
/// under `<prefix>/history/<rolloutID>/<member>` as its journal events happen. History, not intent: no decision reads
/// it, a write that fails loses a mark and nothing else.
public struct MemberHistory: Codable, Sendable, Equatable {
    public struct Mark: Codable, Sendable, Equatable {
        /// backupStarted, backup, stopping, started, verified, rollback, halted, completed, hop,
        /// leadershipTransferred, leaderChanged.
        public var kind: String
        /// Wall-clock seconds.
        public var at: Double
        public var text: String
    }
    public var member: MemberName
    public var marks: [Mark]

    public static func prefix(_ keyPrefix: String, rolloutID: RolloutID) -> String {
        keyPrefix + "/history/" + rolloutID.rawValue + "/"
    }

    /// Every member's history of `rolloutID`, by member name.
    public static func read(
        cluster: any EtcdAPI, keyPrefix: String, rolloutID: RolloutID
    ) async throws -> [MemberHistory] {
        let r = try await cluster.range(prefix(keyPrefix, rolloutID: rolloutID), prefix: true, avoiding: [])
        return r.kvs.compactMap { try? JSONDecoder().decode(MemberHistory.self, from: Data($0.value)) }
            .sorted { $0.member < $1.member }
    }
}
