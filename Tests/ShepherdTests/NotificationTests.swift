import EtcdClient
import Exec
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// Issue 21 item 3 on real parts: a real rollout tells a real local HTTP receiver and a command, each event once, by
/// the node that owns it; a receiver that fails or hangs delays nothing.
@Suite(.serialized) struct NotificationTests {
    /// A receiver process (scripts/webhook-receiver.py), stopped by PID when the body ends, even on failure.
    static func withReceiver<T>(
        mode: String, in dir: String, _ body: (_ url: String, _ log: String) async throws -> T
    ) async throws -> T {
        let port = FreePort.next()
        let log = dir + "/received-\(mode).jsonl"
        let pid = dir + "/receiver-\(mode).pid"
        let started = try await Command.run([
            Repo.scripts + "/bg.sh", "start", pid, dir + "/receiver-\(mode).log", "python3",
            Repo.scripts + "/webhook-receiver.py", "\(port)", log, mode,
        ])
        try #require(started.succeeded, "\(started.summary)")
        defer { _ = try? FileManager.default.removeItem(atPath: log) }
        do {
            let listening = await eventually(timeout: .seconds(10)) {
                !SafetyMonitor.refusesConnections(port: port)
            }
            try #require(listening, "the receiver did not listen on \(port)")
            let r = try await body("http://127.0.0.1:\(port)/hook", log)
            _ = try? await Command.run([Repo.scripts + "/bg.sh", "stop", pid, "5"])
            return r
        } catch {
            _ = try? await Command.run([Repo.scripts + "/bg.sh", "stop", pid, "5"])
            throw error
        }
    }

    static func received(_ log: String) -> [(auth: String?, event: String, node: String)] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let b = o["body"] as? [String: Any], let e = b["event"] as? String
            else { return nil }
            return (o["auth"] as? String, e, b["node"] as? String ?? "?")
        }
    }

    @Test func aRolloutTellsTheWebhookAndTheCommandEachEventOnce() async throws {
        try await LocalCluster.with(size: 3, version: Releases.trixie, label: "notify") { cluster in
            let dir = cluster.members[0].dir + "/.."
            let token = dir + "/webhook-token"
            try "s3cr3t-t0ken\n".write(toFile: token, atomically: true, encoding: .utf8)
            chmod(token, 0o600)
            let commandLog = dir + "/command.log"
            try await Self.withReceiver(mode: "ok", in: dir) { url, log in
                let notify =
                    #", "notify": {"command": ["\#(Repo.scripts)/notify-recorder.sh", "\#(commandLog)"], "webhook": {"url": "\#(url)", "bearerTokenFile": "\#(token)"}}"#
                try await ShepherdFleet.with(cluster, configExtra: notify) { fleet in
                    let monitor = SafetyMonitor(cluster: cluster)
                    let end = try await RolloutEnd.afterRequest(Releases.current, on: "s2", in: fleet, monitor: monitor)
                    #expect(end.state == .completed, "\(end.summary)")
                    #expect(monitor.maxDown <= 1)
                    #expect(try await monitor.lostWrites() == [])
                    // Every event arrives (the sender's queue drains on its own), each once, from its owner.
                    let all = await eventually(timeout: .seconds(20)) {
                        Self.received(log).filter { $0.event == "member_done" }.count == 3
                            && Self.received(log).contains { $0.event == "completed" }
                    }
                    let got = Self.received(log)
                    #expect(all, "\(got.map(\.event))")
                    func count(_ e: String) -> Int { got.filter { $0.event == e }.count }
                    #expect(
                        count("rollout_accepted") == 1 && got.first { $0.event == "rollout_accepted" }?.node == "s2")
                    #expect(count("completed") == 1 && count("member_done") == 3, "\(got.map(\.event))")
                    #expect(Set(got.filter { $0.event == "member_done" }.map(\.node)) == ["s1", "s2", "s3"])
                    #expect(count("halted") == 0)
                    #expect(got.allSatisfy { $0.auth == "Bearer s3cr3t-t0ken" }, "\(got.map(\.auth))")
                    // The command got the same events with ETCD_SHEPHERD_EVENT, the JSON on stdin.
                    let lines = ((try? String(contentsOfFile: commandLog, encoding: .utf8)) ?? "").split(
                        separator: "\n")
                    #expect(lines.filter { $0.hasPrefix("member_done {") }.count == 3, "\(lines)")
                    #expect(lines.contains { $0.hasPrefix("completed {") && $0.contains(#""event":"completed""#) })
                    // The token is in no log.
                    for m in cluster.members { #expect(!fleet.log(m.name).contains("s3cr3t-t0ken")) }
                    #expect(await fleet.stopAll() == [])
                }
            }
        }
    }

    /// A receiver answering 500 gets every attempt (retried with backoff); one that hangs times out; the rollout
    /// goes on at its own pace either way and completes.
    @Test func aFailingOrHangingReceiverDelaysNothing() async throws {
        try await LocalCluster.with(size: 3, version: Releases.trixie, label: "notify-bad") { cluster in
            let dir = cluster.members[0].dir + "/.."
            try await Self.withReceiver(mode: "fail", in: dir) { failURL, failLog in
                try await Self.withReceiver(mode: "hang", in: dir) { hangURL, hangLog in
                    // s1 and s2 post to a receiver that fails, s3 to one that hangs (timeout 1 s, 2 retries).
                    let hook = { (url: String) in
                        #", "notify": {"webhook": {"url": "\#(url)", "timeoutSeconds": 1, "retries": 2}}"#
                    }
                    let listen = cluster.members.map { _ in "127.0.0.1:\(FreePort.next())" }
                    try await ShepherdFleet.with(cluster, metricsListen: listen, configExtra: hook(failURL)) { fleet in
                        let path = fleet.configPath("s3")
                        let text = try String(contentsOfFile: path, encoding: .utf8)
                        try text.replacingOccurrences(of: failURL, with: hangURL).write(
                            toFile: path, atomically: true, encoding: .utf8)
                        #expect(try await fleet.stop("s3"))
                        try await fleet.start("s3")
                        let monitor = SafetyMonitor(cluster: cluster)
                        let end = try await RolloutEnd.afterRequest(Releases.current, in: fleet, monitor: monitor)
                        #expect(end.state == .completed, "\(end.summary)\n\(fleet.logTails())")
                        #expect(monitor.maxDown <= 1)
                        // Each event to the failing receiver is tried 3 times (1 + 2 retries), and said so in the log.
                        let tried = await eventually(timeout: .seconds(30)) {
                            let done = Self.received(failLog).filter { $0.event == "rollout_accepted" }.count
                            return done == 3 && fleet.log("s1").contains("failed after 3 attempts: HTTP 500")
                        }
                        #expect(tried, "\(Self.received(failLog).map(\.event))\n\(fleet.log("s1"))")
                        #expect(Self.received(hangLog).contains { $0.event == "member_started" && $0.node == "s3" })
                        // Counted for alerting.
                        let counted = await eventually(timeout: .seconds(10)) {
                            let text =
                                (try? String(
                                    contentsOfFile: cluster.members[0].dir + "/state/shepherd.prom", encoding: .utf8))
                                ?? ""
                            return text.split(separator: "\n").contains {
                                $0.hasPrefix(#"etcd_shepherd_notifications_failed_total{target="webhook"} "#)
                                    && (Double($0.split(separator: " ").last ?? "") ?? 0) >= 1
                            }
                        }
                        #expect(counted, "etcd_shepherd_notifications_failed_total does not count the failures")
                        #expect(await fleet.stopAll() == [], "a daemon did not stop in time behind a hanging receiver")
                    }
                }
            }
        }
    }
}
