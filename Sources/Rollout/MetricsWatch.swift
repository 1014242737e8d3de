/// The three series of the local member's `/metrics` the watch needs (the shell parses the scrape).
public struct MetricsSample: Sendable, Equatable {
    public var leaderChangesSeen: Int64?
    public var dbSizeBytes: Int64?
    public var quotaBackendBytes: Int64?
    public init(leaderChangesSeen: Int64?, dbSizeBytes: Int64?, quotaBackendBytes: Int64?) {
        self.leaderChangesSeen = leaderChangesSeen
        self.dbSizeBytes = dbSizeBytes
        self.quotaBackendBytes = quotaBackendBytes
    }
}

/// Turns successive scrapes of the local member's `/metrics` into the events an on-call person wants in the journal:
/// the member saw the leader change, and its db is close to the backend quota (past it etcd raises NOSPACE and
/// refuses writes, which no upgrade can fix). Pure: the supervisor feeds it scrapes and logs what comes out.
public struct MetricsWatch: Sendable {
    public enum Event: Sendable, Equatable {
        /// The member's `etcd_server_leader_changes_seen_total` rose by `by` to `total`.
        case leaderChanged(total: Int64, by: Int64)
        case dbNearQuota(size: Int64, quota: Int64)
        case dbBelowQuota(size: Int64, quota: Int64)
    }

    /// The fraction of the quota at which the db is reported as near it.
    public static let nearQuota = 0.8

    public private(set) var latest: MetricsSample?
    private var leaderChanges: Int64?
    private var nearQuota = false

    public init() {}

    public mutating func update(_ m: MetricsSample) -> [Event] {
        var out: [Event] = []
        if let now = m.leaderChangesSeen {
            // A counter that went down belongs to a restarted process: its first value is the new baseline.
            if let before = leaderChanges, now > before { out.append(.leaderChanged(total: now, by: now - before)) }
            leaderChanges = now
        }
        if let size = m.dbSizeBytes, let quota = m.quotaBackendBytes, quota > 0 {
            let near = Self.percentOfQuota(size: size, quota: quota) != nil
            if near != nearQuota {
                out.append(near ? .dbNearQuota(size: size, quota: quota) : .dbBelowQuota(size: size, quota: quota))
            }
            nearQuota = near
        }
        latest = m
        return out
    }

    /// "db 85% of quota" while the db is near the quota, for the STATUS line; nil otherwise.
    public var quotaWarning: String? {
        guard let size = latest?.dbSizeBytes else { return nil }
        return Self.percentOfQuota(size: size, quota: latest?.quotaBackendBytes).map { "db \($0)% of quota" }
    }

    /// How full the db is, in percent of the quota, when that is at least `nearQuota`; nil below it or without a quota.
    public static func percentOfQuota(size: Int64, quota: Int64?) -> Int? {
        guard let quota, quota > 0, Double(size) >= Double(quota) * nearQuota else { return nil }
        return Int(Double(size) / Double(quota) * 100)
    }
}
