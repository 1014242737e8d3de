import Foundation
import Logging
import Rollout
import Systemd

/// Structured events: one log entry per event, with its MESSAGE_ID and the DESIGN.md journal fields.
public struct Events: Sendable {
    public var logger: Logger
    public let member: MemberName
    /// Counts every event by kind and level, when the daemon exposes metrics.
    public var metrics: DaemonMetrics?
    /// `notify`: the events people are told about go there too (each sent by the node that owns it: the intake node
    /// for requests, the member's daemon for its member, the daemon that halts or completes).
    public var notifications: NotificationSender?
    /// The member's marks for `etcd-shepherd history` (nil in the simulator).
    public var history: HistoryRecorder?

    public init(
        logger: Logger, member: MemberName, metrics: DaemonMetrics? = nil, notifications: NotificationSender? = nil,
        history: HistoryRecorder? = nil
    ) {
        self.logger = logger
        self.member = member
        self.metrics = metrics
        self.notifications = notifications
        self.history = history
    }

    /// The history mark of each journal event that is one.
    static let marked: [MessageID: String] = [
        .backupTaken: "backup", .memberStopping: "stopping", .memberStarted: "started", .memberVerified: "verified",
        .rollback: "rollback", .rolloutHalted: "halted", .rolloutCompleted: "completed", .hopCompleted: "hop",
        .leadershipTransferred: "leadershipTransferred", .leaderChanged: "leaderChanged",
    ]

    /// The notification name of each journal event that is one.
    static let notified: [MessageID: String] = [
        .requestAccepted: "rollout_accepted", .requestRefused: "rollout_refused", .memberStarted: "member_started",
        .memberVerified: "member_done", .rollback: "member_rolling_back", .rolloutHalted: "halted",
        .rolloutCompleted: "completed", .lockStuck: "lock_stuck", .clusterHealthy: "cluster_healthy",
        .rebootGranted: "reboot_granted", .rebootReleased: "reboot_released",
    ]

    /// A notification that has no journal event of its own (a member rolled back: the end of a rollback).
    public func notify(_ event: String, _ message: String, rollout r: RolloutRecord?, reason: String? = nil) {
        notifications?.post(
            Notification(
                event: event, time: ISO8601DateFormatter().string(from: Date()), node: member, message: message,
                rolloutID: r?.id, from: r?.from.description, to: r?.to.description, reason: reason))
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
        if let event = Self.notified[id] { notify(event, message, rollout: rollout, reason: reason) }
        if let kind = Self.marked[id], let r = rollout { history?.record(kind, rolloutID: r.id, text: message) }
    }
}
