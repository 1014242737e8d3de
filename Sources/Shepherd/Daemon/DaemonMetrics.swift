import Foundation
import Prometheus
import Rollout
import Synchronization
import Systemd

/// The daemon's own metrics, in the Prometheus text format (served by `MetricsServer` and/or written to a
/// node-exporter textfile): what an SRE alerts on — a halted rollout, a lock held too long, a stale backup, a
/// preflight that blocks, errors by kind. Updated by the supervisor from each tick's observation and from its events.
public final class DaemonMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let rolloutState: [String: Gauge]
    private let lockHeld: Gauge
    private let preflightBlocking: Gauge
    private let backupTime: Gauge
    private let backupSize: Gauge
    private let leaderChanges: Gauge
    private let lastRolloutDuration: Gauge
    private let localDowntime: Gauge
    private let tickErrors: Counter
    private let nextWindow: Gauge
    private let notificationsFailed: [String: Counter]
    private let nextWindowTime: Gauge
    private let phases = Mutex<[MemberName: [MemberPhase: Gauge]]>([:])
    private let events = Mutex<[String: Counter]>([:])
    /// The rollout last seen active, to time it when it ends.
    private let activeRollout = Mutex<(id: RolloutID, requestedAt: Double)?>(nil)

    /// `version`: the daemon's own, exported as `etcd_shepherd_build_info{version}` 1 (as Prometheus' own exporters
    /// do).
    public init(version: String = "unknown") {
        let r = registry
        r.makeGauge(
            descriptor: Self.named("build_info", "1, labelled with the version of this etcd-shepherd"),
            labels: [("version", version)]
        )
        .set(to: 1.0)
        rolloutState = Dictionary(
            uniqueKeysWithValues: (["none"] + RolloutState.allCases.map(\.rawValue)).map {
                (
                    $0,
                    r.makeGauge(
                        descriptor: Self.named(
                            "rollout_state", "1 for the state of the cluster's rollout record (none: no record)"),
                        labels: [("state", $0)])
                )
            })
        lockHeld = r.makeGauge(descriptor: Self.named("lock_held", "1 while this daemon holds the upgrade lock"))
        preflightBlocking = r.makeGauge(
            descriptor: Self.named(
                "preflight_blocking",
                "1 while this node's preflight blocks the active rollout (see the journal for the finding)"))
        backupTime = r.makeGauge(
            descriptor: Self.named(
                "last_backup_timestamp_seconds", "When the newest snapshot in backupDir was taken (0: none)"))
        backupSize = r.makeGauge(
            descriptor: Self.named("last_backup_size_bytes", "Size of the newest snapshot in backupDir"))
        leaderChanges = r.makeGauge(
            descriptor: Self.named(
                "leader_changes_seen", "etcd_server_leader_changes_seen_total of the local member, as last scraped"))
        lastRolloutDuration = r.makeGauge(
            descriptor: Self.named(
                "last_rollout_duration_seconds",
                "From request to the end (completed, halted or aborted) of the last rollout this daemon saw end"))
        localDowntime = r.makeGauge(
            descriptor: Self.named(
                "member_downtime_seconds", "How long the local member was down in its last upgrade (stop to verified)"))
        notificationsFailed = Dictionary(
            uniqueKeysWithValues: ["command", "webhook"].map {
                (
                    $0,
                    r.makeCounter(
                        descriptor: Self.named(
                            "notifications_failed_total",
                            "Notifications that could not be delivered (the command failed; the webhook after its retries)"
                        ),
                        labels: [("target", $0)])
                )
            })
        nextWindow = r.makeGauge(
            descriptor: Self.named(
                "next_window_seconds",
                "Seconds (rounded up to the minute) until a maintenance window lets a member be stopped; 0 while one "
                    + "does, or with no windows configured"))
        nextWindowTime = r.makeGauge(
            descriptor: Self.named(
                "next_window_timestamp_seconds",
                "When the next maintenance window opens (Unix time; 0 with no windows configured)"))
        tickErrors = r.makeCounter(
            descriptor: Self.named(
                "tick_errors_total",
                "Ticks that failed (etcd unreachable, a write refused…); each is retried on the next tick"))
    }

    /// `etcd_shepherd_<name>` (the unit, when there is one, is already part of `name`).
    static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "etcd_shepherd", metricName: name, unitName: "", helpText: help)
    }

    /// The text exposition of every metric.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// From one tick's observation.
    func observe(_ o: Observation, now: Double) {
        let state = o.rollout?.state.rawValue ?? "none"
        for (name, gauge) in rolloutState { gauge.set(to: name == state ? 1.0 : 0.0) }
        lockHeld.set(to: o.lock != nil ? 1.0 : 0.0)
        preflightBlocking.set(to: o.preflightBlocking.isEmpty ? 0.0 : 1.0)
        // Whole minutes: a gauge that changed every tick would rewrite the textfile every tick.
        let wait = Gates.maintenance(o) == nil ? 0 : o.maintenance.map { ($0.next.seconds / 60).rounded(.up) * 60 } ?? 0
        nextWindow.set(to: wait)
        nextWindowTime.set(to: o.maintenance.map { (now + $0.next.seconds).rounded() } ?? 0)
        let current = o.rollout.map { r in o.records.filter { $0.value.rolloutID == r.id } } ?? [:]
        phases.withLock { known in
            for name in current.keys where known[name] == nil {
                known[name] = Dictionary(
                    uniqueKeysWithValues: MemberPhase.allCases.map {
                        (
                            $0,
                            registry.makeGauge(
                                descriptor: Self.named(
                                    "member_phase", "1 for the phase of each member's record in the current rollout"),
                                labels: [("member", name.rawValue), ("phase", $0.rawValue)])
                        )
                    })
            }
            for (name, gauges) in known {
                for (phase, g) in gauges { g.set(to: current[name]?.phase == phase ? 1.0 : 0.0) }
            }
        }
        guard let r = o.rollout else { return }
        activeRollout.withLock { seen in
            if r.state == .active || r.state == .paused {
                seen = (r.id, r.requestedAt)
            } else if let s = seen, s.id == r.id {
                lastRolloutDuration.set(max(0, now - s.requestedAt))
                seen = nil
            }
        }
    }

    func leaderChangesSeen(_ total: Double) { leaderChanges.set(total) }
    func backupTaken(size: Int64, at: Double) {
        backupSize.set(Double(size))
        backupTime.set(at)
    }
    func memberDowntime(_ seconds: Double) { localDowntime.set(seconds) }
    func tickFailed() { tickErrors.increment() }
    public func notificationFailed(_ target: String) { notificationsFailed[target]?.increment() }

    /// Every journal event, by kind and severity: `etcd_shepherd_events_total{event="rolloutHalted",level="critical"}`.
    func count(_ id: MessageID, level: String) {
        let key = "\(id)|\(level)"
        let counter = events.withLock { all in
            if let c = all[key] { return c }
            let c = registry.makeCounter(
                descriptor: Self.named(
                    "events_total", "Journal events of this daemon by kind (MESSAGE_ID name) and level"),
                labels: [("event", "\(id)"), ("level", level)])
            all[key] = c
            return c
        }
        counter.increment()
    }
}
