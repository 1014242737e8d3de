import Exec
import Foundation
import TestSupport
import Testing

/// The sd_notify protocol of a real daemon process beside a real member, read from a NOTIFY_SOCKET the test owns
/// (the "reloading" state lasts the few milliseconds a reload takes: too short to catch through systemctl).
@Suite(.serialized) struct DaemonNotifyTests {
    @Test func readyThenReloadingAndReadyOnSighupThenStopping() async throws {
        try await LocalCluster.with(size: 1, version: Releases.current, label: "notify") { cluster in
            try await NotifySocket.with(label: "daemon") { socket in
                let m = cluster.members[0]
                let fleet = try ShepherdFleet(cluster: cluster)
                let pidFile = m.dir + "/notify-daemon.pid"
                let started = try await Command.run(
                    [
                        Repo.scripts + "/bg.sh", "start", pidFile, m.dir + "/daemon.log", fleet.binary, "run",
                        "--config", fleet.configPath(m.name),
                    ],
                    environment: ["NOTIFY_SOCKET": socket.path])
                #expect(started.succeeded, "\(started.summary)")
                defer { _ = try? FileManager.default.removeItem(atPath: pidFile) }
                do {
                    // READY=1 comes with the first STATUS line, after the first observation.
                    let first = socket.receive(until: { $0.hasPrefix("READY=1") })
                    #expect(first.last?.hasPrefix("READY=1\nSTATUS=idle: s1 3.5.30 healthy leader") == true, "\(first)")

                    // SIGHUP: RELOADING=1, the config is read again, then READY=1 (with the STATUS line) again.
                    _ = try await Command.run([Repo.scripts + "/bg.sh", "signal", pidFile, "HUP"])
                    let reload = socket.receive(until: { $0.hasPrefix("READY=1") })
                    let reloading = reload.firstIndex { $0 == "RELOADING=1" }
                    #expect(
                        reloading != nil && reloading! < reload.count - 1 && reload.last?.hasPrefix("READY=1") == true,
                        "\(reload)")
                    #expect(fleet.log(m.name).contains("configuration reloaded from \(fleet.configPath(m.name))"))

                    // SIGTERM: STOPPING=1, and the process exits by itself.
                    let stopping = Task { socket.receive(until: { $0 == "STOPPING=1" }) }
                    let stopped = try await Command.run(
                        [Repo.scripts + "/bg.sh", "stop", pidFile, "20"], timeout: .seconds(30))
                    #expect(stopped.exitCode == 0, "the daemon had to be killed")
                    #expect(await stopping.value.last == "STOPPING=1")
                } catch {
                    _ = try? await Command.run([Repo.scripts + "/bg.sh", "stop", pidFile, "5"], timeout: .seconds(15))
                    throw error
                }
            }
        }
    }
}
