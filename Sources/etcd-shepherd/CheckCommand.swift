import ArgumentParser
import EtcdClient
import Foundation
import Logging
import Rollout
import ServiceLifecycle
import Shepherd

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Preflight this node for a target version: version policy, binary, data dir, the member's flags.",
        discussion: ExitHelp.text([
            (0, "nothing blocks"), (1, "something blocks"), (2, "usage or config"),
            (3, "the cluster could not be reached (the version policy was not checked) and nothing local blocks"),
            (4, "invalid version"),
        ]))
    @OptionGroup var target: VersionTarget
    @OptionGroup var options: ConfigOption
    @OptionGroup var output: OutputOption

    func run() async throws {
        let config = try options.load()
        let to = try target.parsed()
        let via = try target.parsedVia()
        var findings: [Finding] = []
        // The version policy needs the cluster; the local checks do not.
        let view: (running: RunningVersion, cluster: String?, db: Int64)? = try? await withCluster(config: config) {
            let v = try await ClusterObserver(cluster: $0).observe()
            return (RunningVersion.of(v.members.map(\.view)), v.clusterVersion, v.members.map(\.dbSizeBytes).max() ?? 0)
        }
        var from: EtcdVersion? = nil
        if let view {
            from = view.running.version
            if let problem = view.running.problem {
                findings.append(
                    Finding(
                        severity: .blocking, what: problem, fix: "run check once every member answers on one version"))
            }
            if let from {
                // Each hop on its own (with --via, the second from a cluster all on the first hop's version).
                for hop in VersionPolicy.hops(from: from, to: to, via: via, clusterVersion: view.cluster) {
                    switch config.policy.evaluate(
                        from: hop.from, to: hop.to, clusterVersion: hop.clusterVersion,
                        allowKnownBad: target.allowKnownBad,
                        auth: .init(enabled: config.cluster.auth != nil, riskAccepted: target.allowAuthRisk))
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
        findings += await Preflight.forRequest(
            config, from: from, via: via, to: to, binary: target.binary, sha256: target.sha256)
        // Whichever daemon goes first takes the snapshot into its own backupDir: a warning here, a wait there.
        if let db = view?.db, let short = BackupSpace.shortfall(dir: config.backupDir, dbSize: db) {
            findings.append(short)
        }
        let blocking = findings.filter { $0.severity == .blocking }.count
        if output.isJSON {
            struct Report: Encodable {
                let member: String, target: String, from: String?, reachable: Bool, blocking: Int, findings: [Finding]
            }
            try output.print(
                Report(
                    member: config.member.name, target: to.description, from: from?.description, reachable: view != nil,
                    blocking: blocking, findings: findings))
        } else {
            print("check \(config.member.name) for etcd \(to)\(from.map { " (cluster runs \($0))" } ?? ""):")
            for f in findings { print("  " + f.line) }
            print(blocking == 0 ? "nothing blocks (\(findings.count) warning(s))" : "\(blocking) blocking finding(s)")
        }
        if blocking > 0 { throw ExitCode(Exit.notHealthy) }
        // Nothing local blocks, but the cluster's half (the version policy) was not checked: not a pass.
        if view == nil { throw ExitCode(Exit.unreachable) }
    }
}
