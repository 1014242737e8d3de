import ArgumentParser
import EtcdClient
import Foundation
import Logging
import Rollout
import ServiceLifecycle
import Shepherd

let stateChangeExits: [(Int32, String)] = [
    (0, "done"), (1, "not allowed in the rollout's state"), (2, "usage or config"), (3, "unreachable"),
]

/// pause / resume / abort: a CAS on the rollout record's state.
func changeState(
    _ options: ConfigOption, _ etcdctl: EtcdctlOptions, _ output: OutputOption, to state: RolloutState,
    from: Set<RolloutState>, reason: String
) async throws {
    let config = try options.load(etcdctl)
    let (r, busy) = try await withCluster(config: config) { cluster -> (RolloutRecord, [String]) in
        let store = RolloutStore(prefix: config.cluster.keyPrefix, cluster: cluster)
        do {
            let r = try await store.setRolloutState(state, reason: reason, allowedFrom: from)
            let snap = try await store.read()
            let busy =
                snap.records.filter { $0.value.phase.isDestructive }.map { "\($0.key) is \($0.value.phase.rawValue)" }
                + snap.undecodableRecords.map { "\($0) is unreadable" }
            return (r, busy.sorted())
        } catch let e as StoreError { throw Failure(code: Exit.notHealthy, message: "\(e)") }
    }
    if output.isJSON {
        struct Changed: Encodable {
            let rollout: String, from: String, to: String, state: String, inFlight: [String]
        }
        try output.print(
            Changed(
                rollout: r.id.rawValue, from: r.from.description, to: r.to.description, state: r.state.rawValue,
                inFlight: busy))
        return
    }
    print("rollout \(r.id) (\(r.from) → \(r.to)) is now \(r.state.rawValue)")
    // A sequence in flight is finished by its daemon (member up, record cleared); one whose daemon is gone is not.
    for b in busy {
        print(
            "  \(b): its daemon brings the member back and clears the record; if that daemon is gone for good: etcd-shepherd forget \(b.split(separator: " ")[0]) --yes"
        )
    }
}

struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pause the rollout: no member is stopped until resume (one in flight finishes).",
        discussion: ExitHelp.text(stateChangeExits))
    @OptionGroup var options: ConfigOption
    @OptionGroup var etcdctl: EtcdctlOptions
    @OptionGroup var output: OutputOption
    func run() async throws {
        try await changeState(options, etcdctl, output, to: .paused, from: [.active], reason: "paused by operator")
    }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resume a paused rollout.", discussion: ExitHelp.text(stateChangeExits))
    @OptionGroup var options: ConfigOption
    @OptionGroup var etcdctl: EtcdctlOptions
    @OptionGroup var output: OutputOption
    func run() async throws {
        try await changeState(options, etcdctl, output, to: .active, from: [.paused], reason: "resumed by operator")
    }
}

struct Abort: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Abort the rollout; members already upgraded stay upgraded.",
        discussion: ExitHelp.text(stateChangeExits))
    @OptionGroup var options: ConfigOption
    @OptionGroup var etcdctl: EtcdctlOptions
    @OptionGroup var output: OutputOption
    func run() async throws {
        try await changeState(
            options, etcdctl, output, to: .aborted, from: [.active, .paused, .halted], reason: "aborted by operator")
    }
}
