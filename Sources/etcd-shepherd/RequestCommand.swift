import ArgumentParser
import EtcdClient
import Foundation
import Logging
import Rollout
import ServiceLifecycle
import Shepherd

struct VersionTarget: ParsableArguments {
    @Argument(help: "Target etcd version, e.g. 3.5.1.") var version: String
    @Option(help: "Path of the target binary (default: member.binaryPathTemplate).") var binary: String?
    @Option(help: "Expected sha256 of the target binary.") var sha256: String?
    @Option(help: "Roll to this version first, then to VERSION, as one rollout in two hops (e.g. 3.6.4 --via 3.5.26).")
    var via: String?
    @Flag(help: "Accept a known-bad target release.") var allowKnownBad = false
    @Flag(
        help:
            "Accept a step etcd does not support with auth enabled (3.4 ↔ 3.5); the daemons halt the rollout if users, roles or permissions change."
    )
    var allowAuthRisk = false

    func parsed() throws -> EtcdVersion {
        if let why = EtcdVersion.problemAsRequested(version) { throw Failure(code: Exit.invalidRequest, message: why) }
        return EtcdVersion(version)!
    }

    /// The intermediate hop, when --via is given.
    func parsedVia() throws -> EtcdVersion? {
        guard let via else { return nil }
        if let why = EtcdVersion.problemAsRequested(via) {
            throw Failure(code: Exit.invalidRequest, message: "--via: " + why)
        }
        return EtcdVersion(via)!
    }
}

struct Request: AsyncParsableCommand {
    @Flag(help: "Follow the rollout until it ends: exit 0 completed, 1 halted or aborted, 2 refused.") var wait = false
    static let configuration = CommandConfiguration(
        abstract: "Write the upgrade request file the daemons act on (atomically, mode 0600).",
        discussion: "With --wait, follows the rollout until it ends (one line per member and phase).\n\n"
            + "The daemon renames the file <file>.accepted or <file>.rejected and writes the outcome beside it: "
            + "<file>.status, one line for people (\"accepted at <time>: rollout <id> <from> → <to>\"), and "
            + "<file>.status.json for scripts: {\"state\": \"accepted\"|\"rejected\", \"at\": ISO 8601, \"reason\", "
            + "\"rolloutID\" and \"follow\" (the command that follows the rollout; accepted only), \"message\" (the "
            + "line)}.\n\n"
            + ExitHelp.text([
                (0, "written (with --wait: the rollout completed)"),
                (1, "with --wait: the rollout halted or was aborted"),
                (2, "usage or config; with --wait: the daemon refused the request"),
                (3, "with --wait: the cluster could not be reached"),
                (4, "invalid version or target binary: nothing written"),
            ]))
    @OptionGroup var target: VersionTarget
    @OptionGroup var options: ConfigOption
    @OptionGroup var etcdctl: EtcdctlOptions
    @OptionGroup var output: OutputOption

    func run() async throws {
        let config = try options.load(etcdctl)
        let version = try target.parsed()
        let via = try target.parsedVia()
        let req = UpgradeRequest(
            version: target.version, binary: target.binary, sha256: target.sha256?.lowercased(),
            allowKnownBad: target.allowKnownBad ? true : nil, allowAuthRisk: target.allowAuthRisk ? true : nil,
            via: target.via)
        do { _ = try UpgradeRequest.parse(JSONEncoder().encode(req)) } catch {
            throw Failure(code: Exit.invalidRequest, message: "\(error)")
        }
        // The daemon on this node would refuse a request whose binary is missing or wrong: say so now, write nothing.
        let binary = target.binary ?? config.member.binaryPath(version)
        if let f = await Preflight.binary(binary, version: version, sha256: target.sha256).first {
            throw Failure(code: Exit.invalidRequest, message: "\(f.text); no request was written")
        }
        if let via, let f = await Preflight.binary(config.member.binaryPath(via), version: via, sha256: nil).first {
            throw Failure(
                code: Exit.invalidRequest, message: "first hop: \(f.text); no request was written")
        }
        for f in config.policy.advisoryFindings(running: [], target: version) {
            FileHandle.standardError.write(Data("etcd-shepherd: \(f.line)\n".utf8))
        }
        // Accepted at any time; said now when no member will be stopped before a window opens.
        if let schedule = config.maintenance,
            let wait = Gates.maintenance(schedule.view(at: Date().timeIntervalSince1970), timing: config.timing)
        {
            FileHandle.standardError.write(Data("etcd-shepherd: maintenance: no member is stopped yet: \(wait)\n".utf8))
        }
        // A status file left by an earlier request must not be read as this one's answer.
        unlink(config.requestFile + ".status")
        unlink(config.requestFile + ".status.json")
        do { try req.write(to: config.requestFile) } catch { throw Failure(code: Exit.usage, message: "\(error)") }
        if output.isJSON && !wait {
            struct Written: Encodable { let requestFile: String, version: String, member: MemberName }
            try output.print(
                Written(requestFile: config.requestFile, version: target.version, member: config.member.name))
        } else if !output.isJSON {
            print(
                "wrote \(config.requestFile): etcd \(target.version); the daemon on \(config.member.name) will validate it (see \(config.requestFile).status)"
            )
        }
        guard wait else { return }
        try await RolloutFollower(config: config, json: output.isJSON).follow()
    }
}
