import EtcdClient
import Rollout

extension MetricsSample {
    /// The series the core's `MetricsWatch` reads, from a parsed scrape.
    public init(_ m: MemberMetrics) {
        self.init(
            leaderChangesSeen: m.leaderChangesSeen, dbSizeBytes: m.dbSizeBytes, quotaBackendBytes: m.quotaBackendBytes)
    }
}
