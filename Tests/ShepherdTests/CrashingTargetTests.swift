import EtcdClient
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// A target that dies after its start, on real clusters (3.4.23 → 3.5.30): while it settles, after its verification,
/// after the cluster version moved. Before safety round two a target that died seconds after its start passed
/// verification, the rollout completed and the member stayed down with nothing reporting it. Settle is now a watched
/// period on etcd's process start time, and a verified member is watched until completion.
@Suite(.serialized) struct CrashingTargetTests {
    /// A binDir whose target (`Releases.current`) is scripts/dying-etcd.sh around the real binary: it dies `die-after`
    /// seconds after its start wherever the member's folder holds that file.
    static func dyingBinDir(_ work: TempDir) throws -> String {
        let dir = work.path + "/bin"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: Repo.etcdBinDir)
        where f != "etcd-\(Releases.current)" {
            try FileManager.default.createSymbolicLink(
                atPath: dir + "/" + f, withDestinationPath: Repo.etcdBinDir + "/" + f)
        }
        let real = try Repo.etcdBinary("etcd", Releases.current)
        try "#!/bin/bash\nexec \(Repo.scripts)/dying-etcd.sh \(real) \"$@\"\n".write(
            toFile: dir + "/etcd-\(Releases.current)", atomically: true, encoding: .utf8)
        _ = chmod(dir + "/etcd-\(Releases.current)", 0o755)
        return dir
    }

    /// The first member whose record says done (polled up to 90 s), and its index.
    static func firstVerified(
        _ store: RolloutStore, _ cluster: LocalCluster, _ fleet: ShepherdFleet
    ) async throws -> (name: String, index: Int) {
        var first: String?
        let done = await eventually(timeout: .seconds(90)) {
            first = (try? await store.read())?.records.first { $0.value.phase == .done }?.key.rawValue
            return first != nil
        }
        try #require(done, "no member was verified:\n\(fleet.logTails())")
        let name = first!
        return (name, try #require(cluster.members.firstIndex { $0.name == name }))
    }

    /// A 3.4 → 3.5 rollout requested with the write load and its monitor running, the controller calls logged in a
    /// faults folder (no fault armed: a test may arm one), run until its first member is verified.
    struct FirstVerified {
        let cluster: LocalCluster
        let fleet: ShepherdFleet
        let monitor: SafetyMonitor
        let store: RolloutStore
        /// The faults folder, and the controller calls logged in it (scripts/faulty-member.sh).
        let faults: String
        var calls: String { faults + "/calls" }
        let name: String
        let index: Int
    }

    static func rolledToFirstVerified(
        size: Int, label: String, _ body: (FirstVerified) async throws -> Void
    ) async throws {
        let faults = try TempDir("calls")
        defer { faults.remove() }
        try await LocalCluster.with(size: size, version: Releases.old, label: label) { cluster in
            try await ShepherdFleet.with(cluster, settleSeconds: 2, faults: faults.path) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                _ = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                let (name, i) = try await firstVerified(store, cluster, fleet)
                try await body(
                    FirstVerified(
                        cluster: cluster, fleet: fleet, monitor: monitor, store: store, faults: faults.path, name: name,
                        index: i))
            }
        }
    }

    /// Member `i`'s etcd killed (SIGKILL) and, with `restart`, started again once its process is gone, as systemd's
    /// Restart= would; returns when it was killed.
    static func crash(_ cluster: LocalCluster, _ i: Int, restart: Bool) async throws -> Double {
        let pid = try #require(cluster.pid(i))
        kill(pid, SIGKILL)
        let killed = Date().timeIntervalSince1970
        if restart {
            _ = await eventually(timeout: .seconds(5)) { !SafetyMonitor.alive(pid) }
            try await cluster.start(i)
        }
        return killed
    }

    /// The stop calls to members other than `name` logged after `time` (scripts/faulty-member.sh's call log).
    static func stopsOfOthers(than name: String, after time: Double, calls: String) throws -> [Substring] {
        try String(contentsOfFile: calls, encoding: .utf8).split(separator: "\n").filter {
            $0.contains(" stop ") && !$0.hasSuffix(" \(name)") && (Double($0.split(separator: " ")[0]) ?? 0) > time
        }
    }

    static func arm(_ m: LocalCluster.MemberInfo, seconds: Int) throws {
        try "\(seconds)\n".write(toFile: m.dir + "/die-after", atomically: true, encoding: .utf8)
    }

    /// Dies 4 s after every start, inside a 10 s settle: caught while the cluster is mixed, rolled back, halted, every
    /// member running the old release.
    @Test func aTargetThatDiesWhileItSettlesIsRolledBack() async throws {
        let work = try TempDir("dying")
        defer { work.remove() }
        let bin = try Self.dyingBinDir(work)
        try await LocalCluster.with(size: 3, version: Releases.old, label: "settle-crash") { cluster in
            for m in cluster.members { try Self.arm(m, seconds: 4) }
            try await ShepherdFleet.with(cluster, settleSeconds: 10, binDir: bin) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                _ = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                let end = try await RolloutEnd.wait(
                    RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient()), monitor: monitor)
                #expect(end.finished && end.state == .halted, "\(end.summary)\n\(fleet.logTails())")
                // Caught while it settled (not after a verification that should not have been).
                #expect(
                    end.snap.rollout?.reason?.contains("exited after its start on \(Releases.current)") == true,
                    "\(end.summary)")
                #expect(monitor.maxDown <= 1, "\(monitor.overlaps.prefix(5))")
                #expect(try await monitor.lostWrites() == [])
                // The rollback finishes after the halt: every member back on the old release, answering.
                let back = await eventually(timeout: .seconds(60)) {
                    for i in cluster.members.indices
                    where (try? await cluster.endpoint(i).version().server) != Releases.old { return false }
                    return true
                }
                #expect(back, "not every member is back on \(Releases.old):\n\(fleet.logTails())")
            }
        }
    }

    /// Killed right after its record says done, while the cluster is still mixed (5 members: a second member down
    /// meanwhile keeps quorum) — and left down, or restarted at once (as systemd's Restart= would): its daemon sees it
    /// down or on another process, halts the rollout and rolls it back. No other member is stopped once it died.
    @Test(arguments: [false, true])
    func aTargetThatDiesAfterItsVerificationHaltsAndIsRolledBack(restarted: Bool) async throws {
        try await Self.rolledToFirstVerified(size: 5, label: "after-verify") { w in
            let (cluster, fleet, monitor, store, name, i) = (w.cluster, w.fleet, w.monitor, w.store, w.name, w.index)
            let killed = try await Self.crash(cluster, i, restart: restarted)
            let end = try await RolloutEnd.wait(store, monitor: monitor)
            #expect(end.finished && end.state == .halted, "\(end.summary)\n\(fleet.logTails())")
            let reason = end.snap.rollout?.reason ?? ""
            #expect(
                reason.contains(name)
                    && reason.contains(restarted ? "restarted after its verification" : "since its verification"),
                "\(reason)")
            #expect(monitor.maxDown <= 2, "\(monitor.overlaps.prefix(5))")
            #expect(try await monitor.lostWrites() == [])
            // Gate 2 on every other member: nothing stopped once it was down or restarted (a stop whose gate
            // observation predates the death may still be issued within maxObservationAge, 3 s: the residual no
            // protocol removes).
            let later = try Self.stopsOfOthers(than: name, after: killed + 3, calls: w.calls)
            #expect(
                later.isEmpty, "stopped after \(name) died (killed at \(killed)): \(later)\n\(fleet.logTails(40))")
            let back = await eventually(timeout: .seconds(60)) {
                (try? await cluster.endpoint(i).version().server) == Releases.old
            }
            #expect(back, "\(name) was not rolled back to \(Releases.old):\n\(fleet.log(name).suffix(12000))")
            for j in cluster.members.indices {
                let up = await eventually(timeout: .seconds(30)) {
                    (try? await cluster.endpoint(j).health())?.healthy == true
                }
                #expect(up, "\(cluster.members[j].name) left down")
            }
        }
    }

    /// A rollout halted while still mixed: the member verified first, on the target, is still watched, so its crash
    /// and systemd's restart (a new process nobody verified) are seen and it is rolled back while a binary rollback is
    /// possible. (Not a killer of the mutation `watched-until-rolled-back`: 2 of 3 runs pass with it, the restart seen
    /// on another tick.)
    @Test func aVerifiedMemberRestartedAfterAHaltIsRolledBack() async throws {
        try await Self.rolledToFirstVerified(size: 3, label: "halt-watch") { w in
            let (cluster, fleet, monitor, store, name, i) = (w.cluster, w.fleet, w.monitor, w.store, w.name, w.index)
            // Every later start on the target fails: the next member is rolled back and the rollout halts, mixed.
            try Releases.current.write(toFile: w.faults + "/start-fails-on", atomically: true, encoding: .utf8)
            let halted = await eventually(timeout: .seconds(120)) {
                (try? await store.read())?.rollout?.state == .halted
            }
            try #require(halted, "the rollout did not halt:\n\(fleet.logTails())")
            #expect(try await cluster.endpoint(i).version().server == Releases.current, "\(name) left the target")
            _ = try await Self.crash(cluster, i, restart: true)
            let back = await eventually(timeout: .seconds(60)) {
                (try? await cluster.endpoint(i).version().server) == Releases.old
            }
            #expect(back, "\(name) restarted after the halt was not rolled back:\n\(fleet.log(name).suffix(8000))")
            await monitor.stop()
            #expect(monitor.maxDown <= 1, "two members down: \(monitor.overlaps.prefix(5))")
            #expect(try await monitor.lostWrites() == [])
        }
    }

    /// The member verified first is killed and started again (as systemd's Restart= would) while its own daemon is
    /// frozen, so nothing but the other daemons' gate 2 stands between its unverified process and the next stop: no
    /// other member is stopped while it runs a process nobody verified (mutation `gate2-verified-process`: the next
    /// member stopped within seconds). Thawed, its daemon halts the rollout and rolls it back.
    @Test func aVerifiedMemberRestartedUnderAFrozenDaemonHoldsEveryOtherStop() async throws {
        try await Self.rolledToFirstVerified(size: 3, label: "gate2-frozen") { w in
            let (cluster, fleet, monitor, store, name, i) = (w.cluster, w.fleet, w.monitor, w.store, w.name, w.index)
            try await fleet.freeze(name)
            let killed = try await Self.crash(cluster, i, restart: true)

            // The next member's daemon holds its stop on gate 2, naming the restart.
            let others = cluster.members.map(\.name).filter { $0 != name }
            let held = await eventually(timeout: .seconds(45)) {
                others.contains { fleet.log($0).contains("\(name) (restarted since its verification)") }
            }
            let stops = try Self.stopsOfOthers(than: name, after: killed + 3, calls: w.calls)
            #expect(held, "no daemon held its stop on \(name)'s restart:\n\(fleet.logTails(30))")
            #expect(
                stops.isEmpty, "stopped while \(name) runs an unverified process: \(stops)\n\(fleet.logTails(30))")

            try await fleet.thaw(name)
            let end = try await RolloutEnd.wait(store, monitor: monitor)
            #expect(end.finished && end.state == .halted, "\(end.summary)\n\(fleet.logTails())")
            #expect(end.snap.rollout?.reason?.contains(name) == true, "\(end.summary)")
            #expect(monitor.maxDown <= 1, "\(monitor.overlaps.prefix(5))")
            #expect(try await monitor.lostWrites() == [])
            for j in cluster.members.indices {
                let up = await eventually(timeout: .seconds(60)) {
                    (try? await cluster.endpoint(j).health())?.healthy == true
                }
                #expect(up, "\(cluster.members[j].name) left down")
            }
        }
    }

    /// The last member dies 12 s after its start, inside a 20 s settle, once the cluster version moved to 3.5: no
    /// binary rollback exists, so the rollout halts with the way forward, and nothing else is stopped.
    @Test func aTargetThatDiesAfterTheFlipHaltsWithTheWayForward() async throws {
        let work = try TempDir("dying")
        defer { work.remove() }
        let bin = try Self.dyingBinDir(work)
        try await LocalCluster.with(size: 3, version: Releases.old, label: "flip-crash") { cluster in
            try await ShepherdFleet.with(cluster, settleSeconds: 20, binDir: bin) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                _ = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                // Armed on the last member once the two others are done (its lock, backup, leadership move and stop
                // take longer than this poll).
                var last: String?
                let twoDone = await eventually(timeout: .seconds(120)) {
                    guard let snap = try? await store.read() else { return false }
                    let done = Set(snap.records.filter { $0.value.phase == .done }.keys)
                    guard done.count == 2 else { return false }
                    last = cluster.members.map(\.name).first { !done.contains(MemberName($0)) }
                    return true
                }
                try #require(twoDone, "two members never verified:\n\(fleet.logTails())")
                let i = try #require(cluster.members.firstIndex { $0.name == last })
                try Self.arm(cluster.members[i], seconds: 12)
                let end = try await RolloutEnd.wait(store, monitor: monitor)
                #expect(end.finished && end.state == .halted, "\(end.summary)\n\(fleet.logTails())")
                let reason = end.snap.rollout?.reason ?? ""
                #expect(reason.contains("already moved to 3.5") && reason.contains("backups --restore"), "\(reason)")
                #expect(monitor.maxDown <= 1, "\(monitor.overlaps.prefix(5))")
                #expect(try await monitor.lostWrites() == [])
                for j in cluster.members.indices where j != i {
                    #expect(try await cluster.endpoint(j).version().server == Releases.current)
                }
            }
        }
    }
}
