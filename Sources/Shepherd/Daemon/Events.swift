import Logging
import Rollout
import Systemd

/// Structured events: one log entry per event, with its MESSAGE_ID and the DESIGN.md journal fields.
public struct Events: Sendable {
    public var logger: Logger
    public let member: String
    /// Counts every event by kind and level, when the daemon exposes metrics.
    public var metrics: DaemonMetrics?

    public init(logger: Logger, member: String, metrics: DaemonMetrics? = nil) {
        self.logger = logger
        self.member = member
        self.metrics = metrics
    }

    public func emit(
        _ id: MessageID, _ level: Logger.Level, _ message: String, rollout: RolloutRecord? = nil,
        phase: String? = nil, memberID: String? = nil, clusterVersion: String? = nil, reason: String? = nil,
        fields: Logger.Metadata = [:]
    ) {
        metrics?.count(id, level: "\(level)")
        var md: Logger.Metadata = fields.merging([MessageID.metadataKey: "\(id.rawValue)", "etcd_member": "\(member)"])
        { $1 }
        if let r = rollout {
            md["shepherd_rollout_id"] = "\(r.id)"
            md["etcd_from_version"] = "\(r.from)"
            md["etcd_to_version"] = "\(r.to)"
        }
        if let phase { md["shepherd_phase"] = "\(phase)" }
        if let memberID { md["etcd_member_id"] = "\(memberID)" }
        if let clusterVersion { md["etcd_cluster_version"] = "\(clusterVersion)" }
        if let reason { md["shepherd_reason"] = "\(reason)" }
        logger.log(level: level, "\(message)", metadata: md)
    }
}
