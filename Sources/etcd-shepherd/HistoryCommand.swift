import ArgumentParser
import EtcdClient
import Foundation
import Rollout
import Shepherd

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what happened in a rollout: each member's phases over time.",
        discussion: """
            Reads the marks each daemon keeps in etcd (<keyPrefix>/history/<rollout>/<member>): when the backup was \
            taken, when each member was stopped, started and verified (its downtime), leadership handovers, the \
            cluster-version flip and the halt. Without flags a table (times from the request); --html and --svg write \
            a self-contained picture of members × time (no network, no script).

            """
                + ExitHelp.text([(0, "shown"), (1, "no such rollout"), (2, "usage or config"), (3, "unreachable")]))
    @Argument(help: "The rollout id (default: the current rollout record's).") var rollout: String?
    @Option(help: "Write the timeline as a self-contained HTML page to this file.") var html: String?
    @Option(help: "Write the timeline as an SVG image to this file.") var svg: String?
    @OptionGroup var options: ConfigOption
    @OptionGroup var etcdctl: EtcdctlOptions
    @OptionGroup var output: OutputOption

    func run() async throws {
        let config = try options.load(etcdctl)
        let id = try rollout.map { text in
            guard let id = RolloutID(validating: text) else {
                throw Failure(
                    code: Exit.usage,
                    message: "'\(Identifier.shown(text))' is not a rollout id: it \(Identifier.problem(text) ?? "")")
            }
            return id
        }
        let timeline = try await withCluster(config: config) {
            try await Timeline.gather(cluster: $0, keyPrefix: config.cluster.keyPrefix, rolloutID: id)
        }
        guard let timeline else {
            throw Failure(
                code: Exit.notHealthy,
                message: rollout.map { "no history for rollout \($0)" } ?? "no rollout record and no rollout named")
        }
        do {
            if let html { try timeline.html().write(toFile: html, atomically: true, encoding: .utf8) }
            if let svg { try timeline.svg().write(toFile: svg, atomically: true, encoding: .utf8) }
        } catch {
            throw Failure(code: Exit.usage, message: "cannot write the timeline: \(error)")
        }
        if output.isJSON { try output.print(timeline) } else if html == nil && svg == nil { print(timeline.table()) }
    }
}
