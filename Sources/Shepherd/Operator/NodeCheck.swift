import EtcdClient
import Foundation
import Rollout

/// `etcd-shepherd check`: this node's preflight for a target — the version policy against what the cluster runs (when
/// it answers), the advisories, the local checks (binary, data dir, the member's flags) and the backup space. Changes
/// nothing; the CLI prints it.
public struct NodeCheck: Sendable, Encodable {
    /// What the cluster looked like, when it answered.
    public struct Seen: Sendable {
        public var running: RunningVersion
        public var clusterVersion: String?
        public var largestDB: Int64

        public init(_ view: ClusterView) {
            running = RunningVersion.of(view.members.map(\.view))
            clusterVersion = view.clusterVersion
            largestDB = view.members.map(\.dbSizeBytes).max() ?? 0
        }
    }

    public let member: MemberName
    public let target: String
    public let from: String?
    /// The cluster answered: without it the version policy was not checked, and nothing passes.
    public let reachable: Bool
    public let blocking: Int
    public let findings: [Finding]

    public static func make(
        config: Config, seen: Seen?, to: EtcdVersion, via: EtcdVersion?, binary: String?, sha256: String?,
        allowKnownBad: Bool, allowAuthRisk: Bool
    ) async -> NodeCheck {
        var findings: [Finding] = []
        let from = seen?.running.version
        if let seen {
            if let problem = seen.running.problem {
                findings.append(
                    Finding(
                        severity: .blocking, what: problem, fix: "run check once every member answers on one version"))
            }
            if let from {
                // Each hop on its own (with --via, the second from a cluster all on the first hop's version).
                for hop in VersionPolicy.hops(from: from, to: to, via: via, clusterVersion: seen.clusterVersion) {
                    switch config.policy.evaluate(
                        from: hop.from, to: hop.to, clusterVersion: hop.clusterVersion, allowKnownBad: allowKnownBad,
                        auth: .init(enabled: config.cluster.auth != nil, riskAccepted: allowAuthRisk))
                    {
                    case let .allowed(warnings):
                        findings += warnings.map {
                            Finding(
                                severity: .warning, what: $0, fix: "prefer a release without known data-safety bugs")
                        }
                    case let .refused(why):
                        findings.append(
                            Finding(
                                severity: .blocking, what: why,
                                fix: "pick an allowed target (see the version policy in the README)"))
                    }
                }
            }
        } else {
            findings.append(
                Finding(
                    severity: .warning,
                    what:
                        "cluster unreachable at \(config.cluster.endpoints.joined(separator: ", ")): version policy not checked",
                    fix: "run check where the cluster answers"))
        }
        findings += config.policy.advisoryFindings(running: from.map { [$0] } ?? [], target: to)
        findings += await Preflight.forRequest(config, from: from, via: via, to: to, binary: binary, sha256: sha256)
        // Whichever daemon goes first takes the snapshot into its own backupDir: a warning here, a wait there.
        if let db = seen?.largestDB, let short = BackupSpace.shortfall(dir: config.backupDir, dbSize: db) {
            findings.append(short)
        }
        return NodeCheck(
            member: config.member.name, target: to.description, from: from?.description, reachable: seen != nil,
            blocking: findings.filter { $0.severity == .blocking }.count, findings: findings)
    }

    /// The text `check` prints.
    public var lines: [String] {
        ["check \(member) for etcd \(target)\(from.map { " (cluster runs \($0))" } ?? ""):"]
            + findings.map { "  " + $0.line }
            + [blocking == 0 ? "nothing blocks (\(findings.count) warning(s))" : "\(blocking) blocking finding(s)"]
    }
}
