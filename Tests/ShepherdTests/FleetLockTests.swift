import EtcdClient
import Exec
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// Issue 21 item 2 on real parts: three real etcd members, a daemon beside each serving FleetLock, and curl playing
/// Zincati. One reboot at a time, gated like a stop; the hold outlives the daemon; released only once the member is
/// healthy; refused during a rollout; a node that never came back is forgotten; bad requests hold nothing.
@Suite(.serialized) struct FleetLockTests {
    struct Reply {
        let status: Int
        let kind: String
        let value: String
    }

    static func call(_ url: String, _ op: String, id: String, group: String = "default") async throws -> Reply {
        try await raw(url + "/v1/" + op, body: #"{"client_params": {"id": "\#(id)", "group": "\#(group)"}}"#)
    }

    static func raw(
        _ url: String, method: String = "POST", header: Bool = true, body: String
    ) async throws -> Reply {
        let r = try await Command.run(
            ["curl", "-s", "--max-time", "30", "-X", method, "-w", "\n%{http_code}"]
                + (header ? ["-H", "fleet-lock-protocol: true"] : []) + ["--data-binary", body, url])
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        let json =
            (try? JSONSerialization.jsonObject(with: Data(lines.dropLast().joined(separator: "\n").utf8)))
            as? [String: String]
        return Reply(status: status, kind: json?["kind"] ?? "?", value: json?["value"] ?? r.stdout)
    }

    @Test func oneRebootAtATimeHeldUntilHealthy() async throws {
        try await LocalCluster.with(size: 3, version: Releases.current, label: "fleetlock") { cluster in
            let listen = cluster.members.map { _ in "127.0.0.1:\(FreePort.next())" }
            let url = listen.map { "http://" + $0 }
            try await ShepherdFleet.with(cluster, fleetLockListen: listen) { fleet in
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                func holds() async throws -> [MemberName: RebootHold] { try await store.read().reboots }
                // The daemons answer once they run.
                #expect(
                    await eventually(timeout: .seconds(20)) {
                        (try? await Self.call(url[0], "steady-state", id: "probe"))?.status == 200
                    })

                // Bad requests: each its kind, nothing held.
                let good = #"{"client_params": {"id": "a", "group": "default"}}"#
                let bad: [(Reply, Int, String)] = [
                    (
                        try await Self.raw(url[0] + "/v1/pre-reboot", header: false, body: good), 400,
                        "missing_protocol_header"
                    ),
                    (try await Self.raw(url[0] + "/v1/pre-reboot", method: "GET", body: ""), 405, "method_not_allowed"),
                    (try await Self.raw(url[0] + "/v1/pre-reboot", body: "{nope"), 400, "malformed_body"),
                    (
                        try await Self.raw(url[0] + "/v1/pre-reboot", body: String(repeating: "x", count: 40_000)), 413,
                        "body_too_large"
                    ),
                    (try await Self.call(url[0], "pre-reboot", id: "a", group: "workers"), 400, "unknown_group"),
                ]
                for (reply, status, kind) in bad {
                    #expect(reply.status == status && reply.kind == kind, "\(reply)")
                }
                #expect(try await holds().isEmpty, "a bad request left a reboot hold")

                // Two nodes ask at once: one may reboot, the other is told why not.
                async let first = Self.call(url[0], "pre-reboot", id: "node-s1")
                async let second = Self.call(url[1], "pre-reboot", id: "node-s2")
                let answers = try await [first, second]
                let winners = answers.indices.filter { answers[$0].status == 200 }
                #expect(winners.count == 1, "\(answers)")
                let w = try #require(winners.first), l = 1 - w
                #expect(answers[l].status == 409 && ["member_mid_upgrade", "lock_busy"].contains(answers[l].kind))
                #expect(try await holds().keys.sorted() == [MemberName(cluster.members[w].name)])
                // The holder asking again is answered 200 (Zincati retries); the other still refused, with the reason.
                #expect(try await Self.call(url[w], "pre-reboot", id: "node-s\(w + 1)").status == 200)
                let again = try await Self.call(url[l], "pre-reboot", id: "node-s\(l + 1)")
                #expect(
                    again.status == 409 && again.value.contains("\(cluster.members[w].name) is rebooting"), "\(again)")
                // A peer goes down before the holder reboots: the holder asking again is judged on the cluster as it
                // is now — refused, its hold taken back — never answered 200 on the old check. Granted again once the
                // peer is back.
                try await cluster.stop(l)
                let peerDown = try await Self.call(url[w], "pre-reboot", id: "node-s\(w + 1)")
                #expect(
                    peerDown.status == 409 && peerDown.kind == "cluster_unhealthy"
                        && peerDown.value.contains(cluster.members[l].name), "\(peerDown)")
                #expect(try await holds().isEmpty, "a withdrawn grant left its reboot hold")
                try await cluster.start(l)
                #expect(
                    await eventually(timeout: .seconds(30)) {
                        (try? await Self.call(url[w], "pre-reboot", id: "node-s\(w + 1)"))?.status == 200
                    }, "no grant once the peer was back:\n\(fleet.logTails())")
                #expect(try await holds().keys.sorted() == [MemberName(cluster.members[w].name)])

                // The winner reboots: its daemon and member go down; the hold stays in etcd.
                let name = cluster.members[w].name
                #expect(try await fleet.stop(name))
                try await cluster.stop(w)
                let status = try await fleet.cli(["status", "--config", fleet.configPath(cluster.members[l].name)])
                #expect(
                    status.stdout.contains("reboot lock: held by \(name) (FleetLock client 'node-s\(w + 1)'"),
                    "\(status.summary)")
                // Back up, the daemon first: steady-state keeps the hold while its member is down.
                try await fleet.start(name)
                #expect(
                    await eventually(timeout: .seconds(20)) {
                        (try? await Self.call(url[w], "steady-state", id: "node-s\(w + 1)"))?.kind
                            == "member_not_healthy"
                    })
                #expect(try await holds()[MemberName(name)] != nil)
                try await cluster.start(w)
                #expect(
                    await eventually(timeout: .seconds(30)) {
                        (try? await Self.call(url[w], "steady-state", id: "node-s\(w + 1)"))?.status == 200
                    })
                #expect(try await holds().isEmpty)

                // A rollout under way: every reboot refused with the reason; the rollout itself completes.
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                let req = try await fleet.cli(["request", Releases.trixie, "--config", fleet.configPath("s1")])
                #expect(req.succeeded, "\(req.summary)")
                #expect(
                    await eventually(timeout: .seconds(20)) {
                        (try? await store.read())?.rollout?.state == .active
                    })
                let during = try await Self.call(url[2], "pre-reboot", id: "node-s3")
                #expect(during.status == 409 && during.kind == "rollout_in_progress", "\(during)")
                let end = try await RolloutEnd.wait(store, monitor: monitor)
                #expect(end.state == .completed, "\(end.summary)\n\(fleet.logTails())")
                #expect(monitor.maxDown <= 1, "members down at once: \(monitor.overlaps.prefix(5))")
                #expect(try await monitor.lostWrites() == [])

                // A node that never comes back: status names its hold, forget releases it.
                #expect(try await Self.call(url[2], "pre-reboot", id: "node-s3").status == 200)
                #expect(try await fleet.stop("s3"))
                try await cluster.stop(2)
                let forget = try await fleet.cli(["forget", "s3", "--yes", "--config", fleet.configPath("s1")])
                #expect(forget.succeeded && forget.stdout.contains("reboot lock"), "\(forget.summary)")
                #expect(try await holds().isEmpty)
                try await cluster.start(2)
                try await fleet.start("s3")
                #expect(await fleet.stopAll() == [], "a daemon ignored SIGTERM")
            }
        }
    }
}
