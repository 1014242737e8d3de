/// The few facts the daemon reads from a member's `/metrics`, robust to the 3.4 → 3.5 renames.
public struct MemberMetrics: Sendable, Equatable {
    /// "3.4", "3.5": the `etcd_cluster_version` series whose value is 1 (the old label stays at 0 after the flip).
    public let clusterVersion: String?
    public let serverVersion: String?
    /// The member ID in hex, as `etcd_server_id` labels it.
    public let serverIDHex: String?
    public let isLeader: Bool
    public let hasLeader: Bool
    /// `etcd_mvcc_db_total_size_in_bytes`, or the 3.4 debugging name.
    public let dbSizeBytes: Int64?
    public let leaderChangesSeen: Int64?
    /// `etcd_server_quota_backend_bytes`: the size at which the member raises the NOSPACE alarm and refuses writes.
    public let quotaBackendBytes: Int64?
    /// `process_start_time_seconds` (Unix time): a different value means a different process — the member restarted.
    public let processStartTime: Double?

    /// Every series this reads: pass it as `only` to skip the rest of a scrape.
    public static let names: Set<String> = [
        "etcd_cluster_version", "etcd_server_version", "etcd_server_id", "etcd_server_is_leader",
        "etcd_server_has_leader",
        "etcd_mvcc_db_total_size_in_bytes", "etcd_debugging_mvcc_db_total_size_in_bytes",
        "etcd_server_leader_changes_seen_total", "etcd_server_quota_backend_bytes", "process_start_time_seconds",
    ]

    public init(_ text: PrometheusText) {
        func label(_ metric: String, _ key: String) -> String? {
            text.series(metric).first { $0.value == 1 }?.labels[key]
        }
        clusterVersion = label("etcd_cluster_version", "cluster_version")
        serverVersion = label("etcd_server_version", "server_version")
        serverIDHex = label("etcd_server_id", "server_id")
        isLeader = text.value("etcd_server_is_leader") == 1
        hasLeader = text.value("etcd_server_has_leader") == 1
        let db =
            text.value("etcd_mvcc_db_total_size_in_bytes") ?? text.value("etcd_debugging_mvcc_db_total_size_in_bytes")
        dbSizeBytes = db.map { Int64($0) }
        leaderChangesSeen = text.value("etcd_server_leader_changes_seen_total").map { Int64($0) }
        quotaBackendBytes = text.value("etcd_server_quota_backend_bytes").map { Int64($0) }
        processStartTime = text.value("process_start_time_seconds")
    }
}
