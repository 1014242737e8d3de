import ArgumentParser
import EtcdClient
import Foundation
import Rollout
import Shepherd

/// `request --wait`: waits for the daemon's verdict on the request file, then follows the rollout it created until it
/// ends — one line per change of a member's phase (with a progress bar on a terminal; JSON lines with `--json`).
/// Exit 0 completed, 1 halted or aborted, 2 refused, 3 the cluster stayed unreachable for 30 s.
struct RolloutFollower {
    let config: Config
    let json: Bool
    var onTerminal: Bool { !json && isatty(STDOUT_FILENO) == 1 }

    func follow() async throws {
        let verdict = try await waitForVerdict()
        guard verdict.state == .accepted, let id = verdict.rolloutID else {
            emit(["event": "refused", "reason": verdict.reason], text: "refused by the daemon: \(verdict.message)")
            throw ExitCode(Exit.usage)
        }
        emit(["event": "accepted", "rollout": id.rawValue], text: "accepted: \(verdict.message)")
        let state = try await withCluster(config: config) { cluster in try await track(id, cluster: cluster) }
        throw ExitCode(state == .completed ? Exit.ok : Exit.notHealthy)
    }

    /// The daemon writes `<requestFile>.status.json` when it settles the request (accepted or rejected).
    func waitForVerdict() async throws -> RequestOutcome {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if let outcome = RequestOutcome.read(requestFile: config.requestFile) { return outcome }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw Failure(
            code: Exit.unreachable,
            message:
                "no daemon settled \(config.requestFile) within 120 s: is etcd-shepherd running on \(config.member.name)? (systemctl status etcd-shepherd)"
        )
    }

    func track(_ id: RolloutID, cluster: EtcdCluster) async throws -> RolloutState {
        let store = RolloutStore(prefix: config.cluster.keyPrefix, cluster: cluster)
        var phases: [MemberName: MemberPhase] = [:]
        var hop: EtcdVersion?
        var failingSince: ContinuousClock.Instant?
        var total = 0
        while true {
            let snap: RolloutStore.Snapshot
            do {
                if total == 0 { total = try await cluster.memberList().count }
                snap = try await store.read()
                failingSince = nil
            } catch let e as EtcdError {
                // A member restarting, an election: keep following; a cluster gone for 30 s ends the wait.
                let since = failingSince ?? .now
                failingSince = since
                if ContinuousClock.now - since > .seconds(30) { throw e }
                try await Task.sleep(for: .seconds(1))
                continue
            }
            guard let r = snap.rollout, r.id == id else {
                throw Failure(
                    code: Exit.notHealthy,
                    message:
                        "rollout \(id) is no longer the cluster's rollout (replaced by \(snap.rollout?.id.rawValue ?? "nothing"))"
                )
            }
            if hop != r.to {
                if hop != nil || r.nextHop != nil {
                    emit(
                        ["event": "hop", "from": r.from.description, "to": r.to.description],
                        text: "hop \((r.stage ?? 0) + 1): \(r.from) → \(r.to)")
                }
                hop = r.to
                phases = [:]  // a new hop: every member's phase is news again
            }
            for (name, rec) in snap.records.sorted(by: { $0.key < $1.key })
            where rec.rolloutID == id && rec.to == r.to && phases[name] != rec.phase {
                phases[name] = rec.phase
                emit(
                    ["event": "phase", "member": name.rawValue, "phase": rec.phase.rawValue],
                    text: "\(name): \(rec.phase.rawValue)\(rec.error.map { " (\($0))" } ?? "")")
            }
            if onTerminal {
                let done = phases.values.filter { $0 == .done }.count
                print(
                    "\r\u{1b}[K" + Self.bar(done: done, total: max(total, 1)) + " \(r.state.rawValue)", terminator: "")
                fflush(nil)
            }
            if r.state.isTerminal {
                emit(
                    ["event": "end", "state": r.state.rawValue, "reason": r.reason ?? ""],
                    text: "rollout \(id) \(r.state.rawValue)\(r.reason.map { ": \($0)" } ?? "")")
                return r.state
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    static func bar(done: Int, total: Int, width: Int = 20) -> String {
        let filled = width * min(done, total) / total
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            + "] \(done)/\(total) members done"
    }

    func emit(_ fields: [String: String], text: String) {
        if json {
            let data =
                (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]))
                ?? Data()
            print(String(decoding: data, as: UTF8.self))
        } else {
            print((onTerminal ? "\r\u{1b}[K" : "") + text)
        }
        fflush(nil)
    }
}
