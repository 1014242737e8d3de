import ArgumentParser
import EtcdClient
import Foundation
import Logging
import Rollout
import ServiceLifecycle
import Shepherd

struct ForgetMember: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Break-glass: clear the destructive record of a member whose daemon is gone for good.",
        discussion: """
            A record in a destructive phase blocks every other member's stop (gate 4) until its own daemon rewrites it. \
            When that daemon is gone for good (the node is lost, its daemon removed), forget rewrites the record to \
            'interrupted' by compare-and-swap. Refused while the member is in the member list and not healthy, or while \
            a lock is held under the record's lease. Only use it once that node's daemon is stopped: a daemon that comes \
            back paused mid-stop could still stop its member.

            """
                + ExitHelp.text([
                    (0, "forgotten"), (1, "refused"), (2, "usage (no --yes) or config"), (3, "unreachable"),
                ]))
    @Argument(help: "The member name whose record to forget.") var member: String
    @Flag(help: "Confirm: this node's daemon is gone and will not come back mid-sequence.") var yes = false
    @OptionGroup var options: ConfigOption
    @OptionGroup var etcdctl: EtcdctlOptions
    @OptionGroup var output: OutputOption

    func run() async throws {
        let config = try options.load(etcdctl)
        guard yes else {
            throw Failure(
                code: Exit.usage,
                message:
                    "forget \(member) needs --yes: confirm that \(member)'s daemon is stopped for good (see --help)")
        }
        let by =
            ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"]
            ?? "operator"
        let outcome = try await withCluster(config: config) {
            try await Forget.run(
                name: MemberName(member), cluster: $0, keyPrefix: config.cluster.keyPrefix,
                by: "\(by) on \(config.member.name)")
        }
        switch outcome {
        case let .forgotten(what):
            Events(logger: makeLogger("etcd-shepherd"), member: MemberName(member))
                .emit(.recordForgotten, .warning, "forgot \(member)'s record: \(what)", reason: "forgotten by \(by)")
            if output.isJSON {
                try output.print(["member": member, "forgotten": what])
            } else {
                print("forgot \(member): \(what)")
            }
        case let .refused(why):
            throw Failure(code: Exit.notHealthy, message: "not forgetting \(member): \(why)")
        }
    }
}
