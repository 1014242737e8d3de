import EtcdClient
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// A daemon stopped or killed in the middle of its member's stop→start: SIGTERM finishes the sequence first; a crash
/// is recovered by the journal on restart (member brought up, record cleared by its owner, the rollout goes on).
@Suite(.serialized) struct DaemonRestartTests {
    /// Waits for some daemon to log that it is stopping its member; returns that member's name.
    func firstStopping(_ fleet: ShepherdFleet, _ cluster: LocalCluster) async -> String? {
        var found: String?
        _ = await eventually(timeout: .seconds(60)) {
            found = cluster.members.map(\.name).first { fleet.log($0).contains("stopping \($0) for") }
            return found != nil
        }
        return found
    }

    func finish(
        _ store: RolloutStore, _ monitor: SafetyMonitor, _ cluster: LocalCluster, _ fleet: ShepherdFleet
    ) async throws {
        let done = await eventually(timeout: .seconds(120)) { (try? await store.read())?.rollout?.state == .completed }
        await monitor.stop()
        let last = try? await store.read().rollout
        #expect(done, "rollout did not complete: \(String(describing: last))\n\(fleet.logTails(60))")
        #expect(monitor.maxDown <= 1, "\(monitor.overlaps.prefix(5))")
        #expect(try await monitor.lostWrites() == [])
        for i in cluster.members.indices { #expect(try await cluster.endpoint(i).version().server == Releases.current) }
    }

    @Test func sigtermMidSequenceFinishesTheMemberFirst() async throws {
        try await LocalCluster.with(size: 3, version: "3.4.23", label: "term") { cluster in
            try await ShepherdFleet.with(cluster, settleSeconds: 2) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                _ = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                let name = try #require(await firstStopping(fleet, cluster))
                let graceful = try await fleet.stop(name)
                #expect(graceful, "the daemon had to be killed")
                // It exited only after its member was back and verified: nothing half-done is left behind.
                let i = cluster.members.firstIndex { $0.name == name }!
                #expect((try? await cluster.endpoint(i).health())?.healthy == true)
                #expect(try await cluster.endpoint(i).version().server == Releases.current)
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                #expect(try await store.read().records[MemberName(name)]?.phase == .done)
                #expect(!FileManager.default.fileExists(atPath: cluster.members[i].dir + "/state/journal.json"))
                #expect(fleet.log(name).contains("\(name) verified on \(Releases.current)"))
                try await fleet.start(name)
                try await finish(store, monitor, cluster, fleet)
            }
        }
    }

    @Test func crashMidSequenceIsRecoveredFromTheJournal() async throws {
        try await LocalCluster.with(size: 3, version: "3.4.23", label: "crash") { cluster in
            try await ShepherdFleet.with(cluster, settleSeconds: 2) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                _ = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                let name = try #require(await firstStopping(fleet, cluster))
                try await fleet.kill(name)
                let i = cluster.members.firstIndex { $0.name == name }!
                // The journal survived the crash and says how far it got.
                let journal = try #require(
                    FileManager.default.contents(atPath: cluster.members[i].dir + "/state/journal.json"))
                let entry = try JSONDecoder().decode(JournalEntry.self, from: journal)
                #expect(entry.target == EtcdVersion(Releases.current))
                try await fleet.start(name)
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                try await finish(store, monitor, cluster, fleet)
                #expect(try await store.read().records[MemberName(name)]?.phase == .done)
            }
        }
    }

    /// When the daemon dies in its stop: right after the stop landed, or while the stop is still under way (a slow
    /// stop job, 6 s). The restarted daemon asks the stop's ticket (the stop command's pid and start time) whether it
    /// is still pending: it waits for a pending one to land, then starts its member once — before safety round two it
    /// waited a blanket 60 s for "a stop that may still be pending" and ran `start` twice.
    enum Moment: String, CaseIterable, Sendable {
        case afterItLanded = "kill-daemon-after", whileItRuns = "kill-daemon-during"
    }

    /// With and without a `status` command (without one the daemon cannot ask the process state: before safety round
    /// two that alone made the restarted daemon wait the blanket 60 s).
    @Test(arguments: [(Moment.afterItLanded, false), (.whileItRuns, true), (.whileItRuns, false)])
    func killedInItsStopStartsItsMemberOnceWithoutABlanketWait(moment: Moment, statusCommand: Bool) async throws {
        let faults = try TempDir("faults")
        defer { faults.remove() }
        try #require(FileManager.default.createFile(atPath: faults.path + "/" + moment.rawValue, contents: nil))
        try await LocalCluster.with(size: 3, version: Releases.old, label: "killstop") { cluster in
            try await ShepherdFleet.with(cluster, settleSeconds: 2, faults: faults.path, statusCommand: statusCommand) {
                fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                _ = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                let fired = await eventually(timeout: .seconds(60)) {
                    FileManager.default.fileExists(atPath: faults.path + "/fired/killed-at")
                }
                try #require(fired, "no daemon ever stopped its member")
                let name = try String(contentsOfFile: faults.path + "/fired/names", encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)
                let i = try #require(cluster.members.firstIndex { $0.name == name })
                let before = cluster.pid(i)
                let restarted = ContinuousClock.now
                try await fleet.start(name)
                if moment == .whileItRuns, let before {
                    // The stop lands while the new daemon runs: the process it stopped exits (the member may be
                    // started again before a poll could see it down: its old process is what tells).
                    let down = await eventually(timeout: .seconds(20)) { !SafetyMonitor.alive(before) }
                    #expect(down, "the pending stop never landed")
                }
                let back = await eventually(timeout: .seconds(90)) {
                    (try? await cluster.endpoint(i).health())?.healthy == true
                }
                let recovery = ContinuousClock.now - restarted
                print(
                    "daemon killed \(moment) its stop (status command: \(statusCommand)): \(name) healthy again \(recovery) after its daemon restarted"
                )
                #expect(back, "\(name) not back: \(fleet.log(name).suffix(2000))")
                #expect(recovery < .seconds(20), "recovery took \(recovery) (a blanket wait for a pending stop?)")
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                try await finish(store, monitor, cluster, fleet)
                // One start for the stop its dead daemon issued, none "already running" (its sequence is then done
                // again from the start: stopped and started once more).
                let calls = try String(contentsOfFile: faults.path + "/calls", encoding: .utf8).split(separator: "\n")
                    .filter { $0.hasSuffix(" start \(name)") || $0.hasSuffix(" stop \(name)") }.map {
                        $0.split(separator: " ")[1]
                    }
                #expect(
                    Array(calls.prefix(3)) == ["stop", "start", "stop"] || calls == ["stop", "start"],
                    "\(name)'s controller calls: \(calls)")
            }
        }
    }
}
