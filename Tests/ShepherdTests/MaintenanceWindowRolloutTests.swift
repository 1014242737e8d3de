import EtcdClient
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// Issue 21 item 1 on real parts: a rollout requested outside every maintenance window is accepted and waits — no
/// lock taken, no member stopped — and says so in `status`, `plan`, the journal and the metrics; once a window is open
/// (the config reloaded with SIGHUP, as an operator would change it) the same rollout goes on by itself.
@Suite(.serialized) struct MaintenanceWindowRolloutTests {
    /// A window that is closed now: two days from today (UTC), an hour long.
    static func closedWindow(now: Date) -> String {
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let day = (utc.component(.weekday, from: now) + 1) % 7 + 1
        return window(weekday: day, hour: 0, minute: 0, duration: "1h", zone: "UTC")
    }

    /// A window open now with hours left: it opened an hour ago in Berlin time (whatever the day there).
    static func openWindow(now: Date) -> String {
        var berlin = Calendar(identifier: .gregorian)
        berlin.timeZone = TimeZone(identifier: "Europe/Berlin")!
        let start = now.addingTimeInterval(-3600)
        let c = berlin.dateComponents([.weekday, .hour, .minute], from: start)
        return window(weekday: c.weekday!, hour: c.hour!, minute: c.minute!, duration: "6h", zone: "Europe/Berlin")
    }

    static func window(weekday: Int, hour: Int, minute: Int, duration: String, zone: String) -> String {
        let day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][weekday - 1]
        return
            #", "maintenance": {"windows": [{"days": ["\#(day)"], "start": "\#(String(format: "%02d:%02d", hour, minute))", "duration": "\#(duration)", "timeZone": "\#(zone)"}]}"#
    }

    @Test func aRolloutOutsideAWindowWaitsThenGoesOnInOne() async throws {
        try await LocalCluster.with(size: 3, version: Releases.trixie, label: "window") { cluster in
            let listen = cluster.members.map { _ in "127.0.0.1:\(FreePort.next())" }
            let closed = Self.closedWindow(now: Date())
            try await ShepherdFleet.with(cluster, metricsListen: listen, configExtra: closed) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                let plan = try await fleet.cli(["plan", Releases.current, "--config", fleet.configPath("s1")])
                #expect(
                    plan.exitCode == 0 && plan.stdout.contains("wait 8 maintenance window: waiting for the window")
                        && plan.stdout.contains("s1: in the window") && plan.stdout.contains("result: would proceed"),
                    "\(plan.summary)")

                let req = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                #expect(
                    req.succeeded
                        && req.stderr.contains("maintenance: no member is stopped yet: waiting for the window"),
                    "\(req.summary)")
                // Each follower's daemon says it waits, as a journal event (the leader's waits for them: it goes
                // last); status says why nothing moves.
                let waiting = await eventually(timeout: .seconds(30)) {
                    cluster.members.filter { fleet.log($0.name).contains("waiting for the window") }.count == 2
                }
                #expect(waiting, "\(fleet.logTails())")
                let status = try await fleet.cli(["status", "--config", fleet.configPath("s1")])
                #expect(
                    status.stdout.contains("no member is stopped: waiting for the window")
                        && status.stdout.contains("maintenance: no window open; next"), "\(status.summary)")
                let json = try await fleet.cli(["status", "-w", "json", "--config", fleet.configPath("s2")])
                let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
                let maintenance = parsed?["maintenance"] as? [String: Any]
                #expect(maintenance?["stopsAllowed"] as? Bool == false, "\(json.stdout)")
                let metric = await eventually(timeout: .seconds(10)) {
                    let text =
                        (try? String(
                            contentsOfFile: cluster.members[0].dir + "/state/shepherd.prom", encoding: .utf8)) ?? ""
                    return text.split(separator: "\n").contains {
                        $0.hasPrefix("etcd_shepherd_next_window_seconds ")
                            && (Double($0.split(separator: " ").last ?? "") ?? 0) > 3600
                    }
                }
                #expect(metric, "etcd_shepherd_next_window_seconds does not show the wait")
                // While it waits: no lock key, no record, every member up on the old release.
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                let snap = try await store.read()
                #expect(snap.rollout?.state == .active && snap.lockKeys.isEmpty && snap.records.isEmpty)
                #expect(monitor.maxDown == 0, "a member was stopped outside the window")
                for i in cluster.members.indices {
                    #expect(try await cluster.endpoint(i).version().server == Releases.trixie)
                }

                // The operator opens a window now: the config reloaded, the rollout goes on by itself.
                let open = Self.openWindow(now: Date())
                for m in cluster.members {
                    let path = fleet.configPath(m.name)
                    let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(
                        of: closed, with: open)
                    try text.write(toFile: path, atomically: true, encoding: .utf8)
                    try await fleet.reload(m.name)
                }
                let end = try await RolloutEnd.wait(store, monitor: monitor)
                #expect(end.state == .completed, "\(end.summary)\n\(fleet.logTails())")
                #expect(monitor.maxDown <= 1, "members down at once: \(monitor.overlaps.prefix(5))")
                #expect(try await monitor.lostWrites() == [], "acknowledged writes lost")
                for i in cluster.members.indices {
                    #expect(try await cluster.endpoint(i).version().server == Releases.current)
                }
                #expect(await fleet.stopAll() == [], "a daemon ignored SIGTERM")
            }
        }
    }
}
