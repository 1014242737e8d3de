import EtcdClient
import Foundation
import Rollout

/// Snapshot and leadership calls, each sent to the member that must answer it.
public struct EtcdMaintenance: Maintenance {
    let cluster: EtcdCluster
    let backupDir: String
    let retention: Int
    let clock: any ShepherdClock

    public init(cluster: EtcdCluster, backupDir: String, retention: Int = 3, clock: any ShepherdClock = SystemClock()) {
        self.cluster = cluster
        self.backupDir = backupDir
        self.retention = retention
        self.clock = clock
    }

    /// Seconds without snapshot data after which the backup fails: well inside the watchdog interval (30 s in the
    /// shipped unit), which the progress callback keeps fed while data flows.
    static let snapshotIdleTimeout = Duration.seconds(10)

    public func takeBackup(
        leaderURL: String, leaderID: String, backupKey: String, node: MemberName,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws -> BackupRecord {
        // The file name comes from etcd: never a path (the store already refuses such ids; this is the last line).
        for part in [backupKey, leaderID] where !part.isEmpty {
            if let why = Identifier.problem(part) {
                throw StoreError(
                    thing: "backup \(Identifier.shown(backupKey))",
                    cause: "not taken under the name '\(Identifier.shown(part))': it \(why)")
            }
        }
        try FileIO.ensureDirectory(backupDir)
        let path = "\(backupDir)/\(backupKey)-\(leaderID.isEmpty ? "leader" : leaderID).db"
        let leader = cluster.endpoint(leaderURL)
        let before = try await leader.status()
        if let short = BackupSpace.shortfall(dir: backupDir, dbSize: before.dbSize) {
            throw StoreError(thing: "backup", cause: short.what, fix: short.fix)
        }
        let info = try await leader.snapshot(to: path, idleTimeout: Self.snapshotIdleTimeout, progress: progress)
        let status = try await leader.status()
        // What restoring it takes, kept beside it; then the oldest beyond the retention go (never this one).
        let members = (try? await cluster.memberList()) ?? []
        try BackupCatalog.record(
            BackupCatalog.Entry(
                file: path, rolloutID: backupKey, leaderID: leaderID, leaderURL: leaderURL,
                revision: status.header?.revision,
                size: info.size, sha256: info.sha256, takenAt: clock.wallNow(),
                etcdVersion: status.version,
                members: members.compactMap { m in
                    m.peerURLs.first.map { BackupCatalog.Entry.Peer(name: m.name, peerURL: $0) }
                }))
        BackupCatalog.prune(dir: backupDir, keep: retention, protecting: path)
        return BackupRecord(
            leaderID: leaderID, revision: status.header?.revision ?? 0, size: info.size, sha256: info.sha256,
            node: node, path: path)
    }

    public func transferLeadership(leaderURL: String, to target: MemberID) async throws {
        try await Leadership.transfer(cluster, leaderURL: leaderURL, to: target, clock: clock)
    }
}

/// Gate 6 on this node: the target binary (always this node's own `binaryPathTemplate`: nothing in etcd chooses what
/// runs here), the rollback binary, the binary link, the data dir and the member's configuration.
public struct LivePreflight: Preflighting {
    public init() {}
    public func check(_ config: Config, rollout r: RolloutRecord) async -> [Finding] {
        // The request's sha256 is the final target's; every later hop's binary must be staged before this hop starts.
        var out = await Preflight.all(
            config, from: r.from, to: r.to, binary: config.member.binaryPath(r.to),
            sha256: r.nextHop == nil ? r.sha256 : nil)
        for v in r.then ?? [] {
            out += await Preflight.binary(
                config.member.binaryPath(v), version: v, sha256: v == r.finalTarget ? r.sha256 : nil)
        }
        out += Preflight.link(config.member.binaryLink, rollbackBinary: config.member.binaryPath(r.from))
        return out
    }

    public func checkRequest(_ config: Config, request req: UpgradeRequest, from: EtcdVersion) async -> [Finding] {
        await Preflight.forRequest(
            config, from: from, via: req.via.flatMap(EtcdVersion.init), to: EtcdVersion(req.version)!,
            binary: req.binary, sha256: req.sha256)
    }
}

/// Leadership moved for a stop: the request goes to the leader, and it counts only once the leader says it moved.
public enum Leadership {
    public static func transfer(
        _ cluster: any EtcdAPI, leaderURL: String, to target: MemberID, clock: any ShepherdClock
    ) async throws {
        try await cluster.moveLeader(at: leaderURL, to: target.rawValue, timeout: .seconds(10))
        let deadline = clock.now() + 5
        while clock.now() < deadline {
            if (try? await cluster.status(of: leaderURL, timeout: .seconds(1)))?.leader == target.rawValue { return }
            try await clock.sleep(seconds: 0.05)
        }
        throw StoreError(thing: "leadership", cause: "did not move to \(target) within 5 s")
    }
}
