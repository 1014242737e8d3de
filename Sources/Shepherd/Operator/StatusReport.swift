import EtcdClient
import Foundation
import Rollout

/// What `etcd-shepherd status` shows: one row per member of the member list, the cluster version, and the rollout.
public struct StatusReport: Codable, Sendable {
    public struct Row: Codable, Sendable {
        public var name: MemberName
        public var id: String
        public var endpoint: String
        public var version: String?
        public var health: String
        public var leader: Bool
        public var raftIndex: UInt64
        public var dbSizeBytes: Int64
        /// The backend quota (`etcd_server_quota_backend_bytes`), past which etcd raises NOSPACE and refuses writes.
        public var quotaBackendBytes: Int64?
        /// Leader changes this member has seen since its process started (`/metrics`).
        public var leaderChangesSeen: Int64?
        public var phase: String?
        public var error: String?
        /// Stop issued → healthy again, in this rollout.
        public var downtimeSeconds: Double?
    }
    /// A record the member rows do not show: another rollout's, a name not in the member list, or one this
    /// version cannot read. A destructive one blocks every stop (gate 4).
    public struct OtherRecord: Codable, Sendable {
        public var name: MemberName
        public var rolloutID: RolloutID?
        public var phase: String
        public var blocksStops: Bool
        public var note: String
    }
    public struct RolloutInfo: Codable, Sendable {
        public var id: RolloutID
        public var from: String
        public var to: String
        public var state: String
        public var reason: String?
        public var backup: String?
        /// In a rollout in hops: the hops still to come after `to` (nil: this is the last).
        public var then: [String]?
        /// Active, but no member is stopped until a maintenance window opens: why, and when.
        public var waiting: String?
    }

    public var clusterVersion: String?
    public var members: [Row]
    public var rollout: RolloutInfo?
    /// "s2 (lease 694d…)", or the lease alone when no record names it yet.
    public var lockHolder: String?
    public var lockWaiting: [String]
    public var otherRecords: [OtherRecord]
    /// Why the rollout record was set aside (an unsafe id), when it was.
    public var rolloutProblem: String?
    public var allHealthy: Bool
    /// Security advisories for the versions running now and the rollout's target (warnings: `Finding.line`).
    public var advisories: [String] = []
    /// The maintenance windows now, when the config sets them.
    public var maintenance: Maintenance? = nil
    /// FleetLock reboot holds: each blocks every stop and every other reboot until its node's steady-state.
    public var reboots: [Reboot] = []

    public struct Reboot: Codable, Sendable {
        public var node: MemberName
        public var clientID: String?
        public var group: String?
        /// ISO 8601, UTC.
        public var since: String?
    }

    /// `maintenance.windows` at the moment of the report.
    public struct Maintenance: Codable, Sendable {
        /// The window open now, and the seconds until it closes.
        public var open: String?
        public var closesInSeconds: Double?
        public var next: String
        public var opensInSeconds: Double
        /// Whether a member may be stopped now (gate 8); when not, why.
        public var stopsAllowed: Bool
        public var waitReason: String?

        public init(_ view: MaintenanceView, timing: Timing) {
            open = view.current?.label
            closesInSeconds = view.current?.seconds
            next = view.next.label
            opensInSeconds = view.next.seconds
            waitReason = Gates.maintenance(view, timing: timing)
            stopsAllowed = waitReason == nil
        }

        var line: String {
            let now =
                open.map { "\($0) open, closes in \(MaintenanceView.duration(closesInSeconds ?? 0))" }
                ?? "no window open"
            return "maintenance: \(now); next \(next) in \(MaintenanceView.duration(opensInSeconds))"
        }
    }

    public static func gather(
        cluster: EtcdCluster, keyPrefix: String, policy: VersionPolicy = .builtIn,
        maintenance schedule: MaintenanceSchedule? = nil, timing: Timing = Timing()
    ) async throws -> StatusReport {
        let windows = schedule.map { Maintenance($0.view(at: Date().timeIntervalSince1970), timing: timing) }
        let view = try await ClusterObserver(cluster: cluster, metrics: .all).observe()
        let snap = try? await RolloutStore(prefix: keyPrefix, cluster: cluster).read()
        let rollout = snap?.rollout
        let rows = view.members.map { d -> Row in
            let rec = snap?.records[d.name].flatMap { $0.rolloutID == rollout?.id ? $0 : nil }
            return Row(
                name: d.name, id: d.id.description, endpoint: d.clientURL, version: d.serverVersion,
                health: d.healthy ? "healthy" : (d.reachable ? "unhealthy: \(d.problem ?? "?")" : "unreachable"),
                leader: d.isLeader, raftIndex: d.raftIndex, dbSizeBytes: d.dbSizeBytes,
                quotaBackendBytes: view.metrics[d.clientURL]?.quotaBackendBytes,
                leaderChangesSeen: view.metrics[d.clientURL]?.leaderChangesSeen,
                phase: rec?.phase.rawValue, error: rec?.error, downtimeSeconds: rec?.downtimeSeconds)
        }
        let info = rollout.map {
            RolloutInfo(
                id: $0.id, from: $0.from.description, to: $0.to.description, state: $0.state.rawValue,
                reason: $0.reason,
                backup: snap?.backups[$0.backupKey]?.path, then: $0.then?.map(\.description),
                waiting: $0.state == .active ? windows?.waitReason : nil)
        }
        // Lock keys end in the lease ID (hex); a member record written under the lock carries the same lease.
        let owners = (snap?.lockKeys ?? []).map { key -> String in
            let lease = String(key.split(separator: "/").last ?? "")
            let name = snap?.records.first { $0.value.leaseID == lease }?.key
            return name.map { "\($0) (lease \(lease))" } ?? "lease \(lease)"
        }
        let listed = Set(view.members.map(\.name))
        var others: [OtherRecord] = (snap?.records ?? [:]).sorted { $0.key < $1.key }.compactMap { name, rec in
            let inList = listed.contains(name)
            guard !inList || rec.rolloutID != rollout?.id else { return nil }
            let note =
                (inList ? "from rollout \(rec.rolloutID)" : "not in the member list")
                + (rec.error.map { ": \($0)" } ?? "")
            return OtherRecord(
                name: name, rolloutID: rec.rolloutID, phase: rec.phase.rawValue, blocksStops: rec.phase.isDestructive,
                note: note)
        }
        others += (snap?.undecodableRecords ?? []).sorted().map {
            OtherRecord(
                name: MemberName($0), rolloutID: nil, phase: "unreadable", blocksStops: true,
                note: "a newer daemon's record or a corrupted value")
        }
        let holder = owners.first
        let waiting = Array(owners.dropFirst())
        let running = view.members.compactMap { $0.serverVersion.flatMap(EtcdVersion.init) }
        let target = rollout.flatMap { $0.state.isTerminal ? nil : $0.finalTarget }
        return StatusReport(
            clusterVersion: view.clusterVersion, members: rows, rollout: info, lockHolder: holder, lockWaiting: waiting,
            otherRecords: others, rolloutProblem: snap?.rolloutProblem,
            allHealthy: !rows.isEmpty && view.members.allSatisfy(\.healthy),
            advisories: policy.advisoryFindings(running: running, target: target).map(\.line), maintenance: windows,
            reboots: (snap?.reboots ?? [:]).sorted { $0.key < $1.key }.map {
                Reboot(
                    node: $0.key, clientID: $0.value.clientID, group: $0.value.group,
                    since: ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0.value.since)))
            } + (snap?.undecodableReboots ?? []).sorted().map { Reboot(node: MemberName($0)) })
    }

    public func table() -> String {
        let header = ["NAME", "ID", "ENDPOINT", "VERSION", "HEALTH", "LEADER", "RAFT INDEX", "DB SIZE", "PHASE"]
        let rows = members.map {
            [
                $0.name.rawValue, $0.id, $0.endpoint, $0.version ?? "-", $0.health, $0.leader ? "*" : "",
                $0.raftIndex == 0 ? "-" : "\($0.raftIndex)",
                $0.dbSizeBytes == 0 ? "-" : Self.bytes($0.dbSizeBytes) + Self.quotaNote($0), $0.phase ?? "-",
            ]
        }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                separator: "  "
            )
            .trimmingCharacters(in: .whitespaces)
        }
        var out = [line(header)] + rows.map(line)
        out.append("")
        out.append(
            "cluster version: \(clusterVersion ?? "unknown")   healthy: \(members.filter { $0.health == "healthy" }.count)/\(members.count)"
        )
        if let r = rollout {
            let next = r.then.map { " → " + $0.joined(separator: " → ") + " (next hop)" } ?? ""
            out.append("rollout: \(r.id)  \(r.from) → \(r.to)\(next)  \(r.state)\(r.reason.map { "  (\($0))" } ?? "")")
            if let w = r.waiting { out.append("  no member is stopped: \(w)") }
            if let b = r.backup { out.append("backup: \(b)") }
            for m in members where m.error != nil { out.append("  \(m.name): \(m.error!)") }
        } else if let p = rolloutProblem {
            out.append("rollout: set aside, nothing runs: \(p)")
        } else {
            out.append("rollout: none")
        }
        for o in otherRecords {
            let block =
                o.blocksStops
                ? "  BLOCKS every stop (gate 4) until its daemon rewrites it; if that daemon is gone for good: etcd-shepherd forget \(o.name) --yes"
                : ""
            out.append("record \(o.name): \(o.phase) (\(o.note))" + block)
        }
        if let h = lockHolder {
            out.append(
                "lock: held by \(h)" + (lockWaiting.isEmpty ? "" : "; waiting: " + lockWaiting.joined(separator: ", ")))
        }
        for r in reboots {
            out.append(
                "reboot lock: held by \(r.node) (FleetLock client '\(r.clientID ?? "?")', since \(r.since ?? "?")); "
                    + "blocks every stop and reboot until \(r.node) is healthy and its steady-state releases it; "
                    + "if that node is gone for good: etcd-shepherd forget \(r.node) --yes")
        }
        if let m = maintenance { out.append(m.line) }
        for a in advisories { out.append(a) }
        return out.joined(separator: "\n")
    }

    public func json() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? enc.encode(self)) ?? Data(), as: UTF8.self)
    }

    static func bytes(_ n: Int64) -> String {
        if n >= 1 << 30 { return String(format: "%.1f GiB", Double(n) / Double(1 << 30)) }
        return n >= 1 << 20
            ? String(format: "%.1f MiB", Double(n) / 1048576) : String(format: "%.0f KiB", Double(n) / 1024)
    }

    /// " (85% of quota)" when the db is near the backend quota, as the daemon warns about it.
    static func quotaNote(_ row: Row) -> String {
        MetricsWatch.percentOfQuota(size: row.dbSizeBytes, quota: row.quotaBackendBytes).map { " (\($0)% of quota)" }
            ?? ""
    }
}
