import ArgumentParser
import Foundation
import Rollout
import Shepherd

/// `etcd-shepherd policy`: the effective version policy — the built-in tables with the policy files applied — and
/// where every row comes from.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract:
            "Print the effective version policy (floors, known-bad releases, advisories) and where each row comes from.",
        discussion: "The built-in policy can be made stricter, never looser, by *.json files in the config's policyDir "
            + "(default \(PolicyFiles.defaultDir)): raise a floor, add a known-bad range or an advisory, each with its source.\n\n"
            + ExitHelp.text([
                (0, "printed"), (2, "usage or config"), (5, "a policy file is invalid or would loosen the policy"),
            ]))
    @Option(help: "Read the policy files of this folder instead of the config's policyDir.") var policyDir: String?
    @OptionGroup var options: ConfigOption
    @OptionGroup var output: OutputOption

    func run() async throws {
        let dir: String
        if let policyDir {
            dir = policyDir
        } else if options.isExplicit || FileManager.default.fileExists(atPath: options.path) {
            dir = try options.load().policyDir
        } else {
            dir = PolicyFiles.defaultDir
        }
        let policy: VersionPolicy
        do { policy = try PolicyFiles.load(dir: dir) } catch let e as PolicyOverlay.Problem {
            throw Failure(code: Exit.badPolicy, message: "\(e)")
        }
        let view = EffectivePolicy(policy, dir: dir)
        if output.isJSON { try output.print(view) } else { print(view.text()) }
    }
}

/// The effective policy as `policy` prints it (text and JSON from the same value).
struct EffectivePolicy: Encodable {
    struct Floor: Encodable {
        let step: String, minimum: String, why: String, source: String, origin: String
        let history: [String]
    }
    struct Bad: Encodable {
        let from: String, to: String, reference: String, why: String, source: String, origin: String
    }
    struct Advisory: Encodable { let id: String, fixedIn: [String], summary: String, source: String, origin: String }
    let policyDir: String
    let steps: [String]
    let floors: [Floor]
    let knownBad: [Bad]
    let advisories: [Advisory]

    init(_ p: VersionPolicy, dir: String) {
        policyDir = dir
        steps = VersionPolicy.rules.map {
            "\($0.step.rawValue): \($0.allowed ? ($0.onlyBeforeClusterVersionMoves ? "allowed while the cluster version has not moved" : "allowed") : "refused") — \($0.why)"
        }
        floors = p.prerequisites.map { f in
            Floor(
                step: "\(f.from) → \(f.to)", minimum: f.minimum.description, why: f.why, source: f.source,
                origin: f.origin,
                history: f.history.map { "\($0.minimum) (\($0.when)): \($0.why)" })
        }
        knownBad = p.knownBad.map {
            Bad(
                from: $0.range.lowerBound.description, to: $0.range.upperBound.description, reference: $0.reference,
                why: $0.why,
                source: $0.source, origin: $0.origin)
        }
        advisories = p.advisories.map {
            Advisory(
                id: $0.id, fixedIn: $0.fixedIn.sorted().map(\.description), summary: $0.summary, source: $0.source,
                origin: $0.origin)
        }
    }

    func text() -> String {
        var out = [
            "version policy: built in, made stricter by the *.json files in \(policyDir) (rows say where they come from)",
            "",
            "steps:",
        ]
        out += steps.map { "  " + $0 }
        out += ["", "floors (every member of the older minor on at least this release first):"]
        for f in floors {
            out.append("  \(f.step): \(f.minimum) or later — \(f.why) (\(f.source)) [\(f.origin)]")
            if !f.history.isEmpty { out.append("    earlier floors: " + f.history.joined(separator: "; ")) }
        }
        out += ["", "known-bad releases (refused as targets unless the request accepts them):"]
        for b in knownBad {
            out.append(
                "  \(b.from == b.to ? b.from : "\(b.from)–\(b.to)"): \(b.reference): \(b.why) (\(b.source)) [\(b.origin)]"
            )
        }
        out += ["", "security advisories (warnings in plan, check, request and status):"]
        for a in advisories {
            out.append(
                "  \(a.id): \(a.summary); fixed in \(a.fixedIn.joined(separator: ", ")) (\(a.source)) [\(a.origin)]")
        }
        return out.joined(separator: "\n")
    }
}
