import EtcdClient
import Exec
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// Real clusters, one real daemon process per member, a write load and a liveness monitor beside every rollout.
@Suite(.serialized) struct RolloutEndToEndTests {
    struct Case: Sendable, CustomStringConvertible {
        let size: Int, from: String, to: String
        var description: String { "\(size)×\(from)→\(to)" }
    }

    /// The releases people run today (Debian 12, 13 and sid): a minor up to each 3.5 target, a patch up and down, a
    /// known-bad release left behind, five members. No request needs --allow-known-bad.
    @Test(arguments: [
        Case(size: 3, from: Releases.old, to: Releases.trixie), Case(size: 3, from: Releases.old, to: Releases.current),
        Case(size: 3, from: Releases.trixie, to: Releases.current),
        Case(size: 3, from: Releases.current, to: Releases.trixie),
        Case(size: 3, from: Releases.knownBad, to: Releases.current),
        Case(size: 5, from: Releases.trixie, to: Releases.current),
    ])
    func rollingUpgradeKeepsQuorumAndEveryWrite(c: Case) async throws {
        try await LocalCluster.with(size: c.size, version: c.from, label: "e2e-\(c.size)") { cluster in
            try await ShepherdFleet.with(cluster) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                let end = try await RolloutEnd.afterRequest(c.to, in: fleet, monitor: monitor)
                let snap = end.snap
                #expect(end.finished, "rollout did not finish: \(end.summary)")
                #expect(snap.rollout?.state == .completed, "\(snap.rollout?.reason ?? "")")
                let logs = cluster.members.map { "--- \($0.name)\n" + fleet.log($0.name) }.joined(separator: "\n")
                #expect(monitor.maxDown <= 1, "members down at once: \(monitor.overlaps.prefix(5))\n\(logs)")
                #expect(monitor.acknowledged > 50, "the write load made too little progress to mean anything")
                #expect(try await monitor.lostWrites() == [], "acknowledged writes lost")
                for i in cluster.members.indices {
                    let v = try await cluster.endpoint(i).version()
                    #expect(v.server == c.to)
                    #expect(EtcdVersion(v.cluster)?.minorVersion == EtcdVersion(c.to)?.minorVersion)
                }
                #expect(snap.records.count == c.size)
                #expect(snap.records.values.allSatisfy { $0.phase == .done && $0.rolloutID == snap.rollout?.id })
                let backup = try #require(snap.rollout.flatMap { snap.backups[$0.id.rawValue] })
                #expect(FileManager.default.fileExists(atPath: backup.path))
                // Every daemon lets go of its lock.
                let noLock = await eventually(timeout: .seconds(10)) {
                    (try? await end.store.read())?.lockKeys.isEmpty == true
                }
                #expect(noLock, "a lock key was left behind")
                #expect(
                    try String(contentsOfFile: fleet.requestPath("s1") + ".status", encoding: .utf8).hasPrefix(
                        "accepted"))
                let outcome = RequestOutcome.read(requestFile: fleet.requestPath("s1"))
                #expect(outcome?.state == .accepted && outcome?.rolloutID != nil, "\(String(describing: outcome))")
                // The leader's handover shows in the members' /metrics, and the daemons that kept running report it.
                let reported = await eventually(timeout: .seconds(15)) {
                    cluster.members.contains { fleet.log($0.name).contains("saw a leader change") }
                }
                #expect(reported, "no daemon reported the leadership transfer from its member's /metrics")
                // The last member of a minor step takes leadership back once verified, so the cluster version moves
                // at once (unless etcd's own check, every 4 s, moved it during that member's 1 s settle): asked of
                // real etcd, the transfer works, and it is the member that handed leadership over that asks.
                #expect(!logs.contains("could not take leadership back"), "\(logs)")
                let took = cluster.members.filter { fleet.log($0.name).contains("took leadership back") }
                #expect(took.count <= 1, "leadership taken back by \(took.map(\.name))")
                if let m = took.first {
                    #expect(fleet.log(m.name).contains("handed leadership"), "\(m.name) took back what it never gave")
                    #expect(
                        EtcdVersion(c.from)?.minorVersion != EtcdVersion(c.to)?.minorVersion,
                        "leadership taken back on a patch step")
                }
                #expect(await fleet.stopAll() == [], "a daemon ignored SIGTERM")
            }
        }
    }

    /// Two hops as one request (`request 3.5.30 --via 3.5.16`): every member to 3.5.16, the cluster version to 3.5,
    /// then
    /// every member to 3.5.30 — each hop with its own backup, one member at a time, the write load never losing a
    /// write.
    @Test func twoHopsAsOneRequest() async throws {
        try await LocalCluster.with(size: 3, version: Releases.old, label: "e2e-hops") { cluster in
            try await ShepherdFleet.with(cluster) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                let plan = try await fleet.cli([
                    "plan", Releases.current, "--via", Releases.trixie, "--config", fleet.configPath("s1"),
                ])
                #expect(
                    plan.exitCode == 0 && plan.stdout.contains("3.4.23 → 3.5.16 → 3.5.30 (2 hops")
                        && plan.stdout.contains("hop 2 3.5.16 → 3.5.30"),
                    "\(plan.summary)")
                let req = try await fleet.cli([
                    "request", Releases.current, "--via", Releases.trixie, "--wait", "-w", "json",
                    "--config", fleet.configPath("s1"),
                ])
                #expect(req.exitCode == 0, "\(req.summary)\n\(fleet.logTails())")
                let events = req.stdout.split(separator: "\n").compactMap {
                    try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
                }
                #expect(
                    events.contains { $0["event"] == "hop" && $0["to"] == Releases.current }
                        && events.last?["state"] == "completed", "\(req.stdout)")
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                let end = try await RolloutEnd.wait(store, monitor: monitor)
                #expect(
                    end.state == .completed && end.snap.rollout?.from == EtcdVersion(Releases.trixie)
                        && end.snap.rollout?.stage == 1, "\(end.summary)")
                #expect(monitor.maxDown <= 1, "\(monitor.overlaps.prefix(5))")
                #expect(try await monitor.lostWrites() == [])
                for i in cluster.members.indices {
                    let v = try await cluster.endpoint(i).version()
                    #expect(v.server == Releases.current && v.cluster.hasPrefix("3.5"))
                }
                let id = try #require(end.snap.rollout?.id)
                #expect(
                    end.snap.backups[id.rawValue] != nil && end.snap.backups[id.rawValue + ".h1"] != nil,
                    "one backup per hop: \(end.snap.backups.keys.sorted())")
                #expect(await fleet.stopAll() == [], "a daemon ignored SIGTERM")
            }
        }
    }

    /// Each daemon told only its own member's URL (config.example.json's layout): it learns the others from the
    /// member list and keeps them, so it can finish its own member's sequence while that member is down. Before,
    /// the first member stopped stayed down and its lock key was left behind.
    @Test func ownEndpointOnlyConfigCompletes() async throws {
        try await LocalCluster.with(size: 3, version: Releases.old, label: "e2e-own") { cluster in
            try await ShepherdFleet.with(cluster, ownEndpointOnly: true) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                // `request --wait -w json` follows the rollout to its end: JSON lines, one per phase change, exit 0.
                let req = try await fleet.cli([
                    "request", Releases.current, "--wait", "-w", "json", "--config", fleet.configPath("s1"),
                ])
                #expect(req.exitCode == 0, "\(req.summary)")
                let events = req.stdout.split(separator: "\n").compactMap {
                    try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
                }
                #expect(
                    events.first?["event"] == "accepted" && events.last?["event"] == "end"
                        && events.last?["state"] == "completed",
                    "\(req.stdout)")
                for m in cluster.members {
                    #expect(
                        events.contains { $0["member"] == m.name && $0["phase"] == "done" },
                        "no done line for \(m.name): \(req.stdout)")
                }
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                let end = try await RolloutEnd.wait(store, monitor: monitor)
                #expect(end.finished && end.state == .completed, "\(end.summary)")
                #expect(monitor.maxDown <= 1, "\(monitor.overlaps.prefix(5))")
                #expect(try await monitor.lostWrites() == [])
                for i in cluster.members.indices {
                    #expect(try await cluster.endpoint(i).version().server == Releases.current)
                }
                #expect(await eventually(timeout: .seconds(10)) { (try? await store.read())?.lockKeys.isEmpty == true })
                // The snapshot is listed by the node that took it, and the restore command it prints works.
                let backup = try #require(end.snap.rollout.flatMap { end.snap.backups[$0.id.rawValue] })
                let listed = try await fleet.cli([
                    "backups", "-w", "json", "--config", fleet.configPath(backup.node.rawValue),
                ])
                #expect(listed.exitCode == 0 && listed.stdout.contains(backup.path), "\(listed.summary)")
                let restore = try await fleet.cli([
                    "backups", "--restore", end.snap.rollout!.id.rawValue, "--config",
                    fleet.configPath(backup.node.rawValue),
                ])
                let commands = restore.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
                #expect(restore.exitCode == 0 && commands.count == 3, "\(restore.summary)")
                if let first = commands.first {
                    let restored = cluster.temp.path + "/restored"
                    let line = first.replacingOccurrences(
                        of: " etcdctl ", with: " \(try Repo.etcdBinary("etcdctl", "3.4.23")) "
                    )
                    .replacingOccurrences(
                        of: #"--data-dir \S+"#, with: "--data-dir \(restored)", options: .regularExpression)
                    let ran = try await Command.run(["bash", "-c", line])
                    #expect(
                        ran.succeeded && FileManager.default.fileExists(atPath: restored + "/member/snap/db"),
                        "\(line): \(ran.summary)")
                }
                // What each daemon learned is kept for its next start.
                for m in cluster.members {
                    let known = try String(contentsOfFile: m.dir + "/state/endpoints.json", encoding: .utf8)
                    #expect(cluster.clientURLs.allSatisfy { known.contains($0) }, "\(m.name) kept \(known)")
                }
            }
        }
    }

    /// The target binary (at this node's binaryPathTemplate: nothing in etcd picks the binary) passes every check
    /// but exits at once: the start keeps failing or the member never verifies → rollback to the previous binary,
    /// the rollout halts with the reason, the lock is released, every member back on 3.4.23.
    @Test func targetThatCannotStartIsRolledBackAndTheRolloutHalts() async throws {
        try await LocalCluster.with(size: 3, version: Releases.old, label: "e2e-rb") { cluster in
            let bin = cluster.temp.path + "/bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                atPath: bin + "/etcd-3.4.23", withDestinationPath: try Repo.etcdBinary("etcd", "3.4.23"))
            let broken = bin + "/etcd-\(Releases.current)"
            try """
            #!/bin/sh
            [ "$1" = "--version" ] && exec \(try Repo.etcdBinary("etcd", Releases.current)) --version
            echo "refusing to start" >&2; exit 1
            """.write(toFile: broken, atomically: true, encoding: .utf8)
            chmod(broken, 0o755)
            try await ShepherdFleet.with(cluster, verifyTimeoutSeconds: 6, binDir: bin) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                // `request --wait` follows the rollout to its end: halted, exit 1, the rolled-back member named.
                let req = try await fleet.cli([
                    "request", Releases.current, "--wait", "--config", fleet.configPath("s1"),
                ])
                #expect(req.exitCode == 1, "\(req.summary)")
                #expect(req.stdout.contains(": rolledBack") && req.stdout.contains("halted"), "\(req.stdout)")
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                let halted = await eventually(timeout: .seconds(90)) {
                    (try? await store.read())?.rollout?.state == .halted
                }
                await monitor.stop()
                #expect(halted)
                let snap = try await store.read()
                let reason = snap.rollout?.reason ?? ""
                #expect(
                    reason.contains("not verified") || reason.contains("failed to start")
                        || reason.contains("not started")
                        || reason.contains("exited after its start"), "\(reason)")
                #expect(snap.records.values.filter { $0.phase == .rolledBack }.count == 1)
                #expect(monitor.maxDown <= 1)
                #expect(try await monitor.lostWrites() == [])
                for i in cluster.members.indices {
                    try await cluster.waitHealthy(i, timeout: .seconds(10))
                    #expect(try await cluster.endpoint(i).version().server == "3.4.23")
                }
                #expect(await eventually(timeout: .seconds(10)) { (try? await store.read())?.lockKeys.isEmpty == true })
            }
        }
    }

    /// The start command itself fails on the target, every time (as `systemctl start` does for a unit whose process
    /// exits before it is ready): after three failed starts the member is rolled back, at once and not at the verify
    /// deadline (60 s here), and the rollout halts naming the failures (mutation `deadline-stop-to-verified`: started
    /// for ever, the member left down).
    @Test func aStartThatFailsEveryTimeIsRolledBackAfterThreeTries() async throws {
        let faults = try TempDir("faults")
        defer { faults.remove() }
        try Releases.current.write(toFile: faults.path + "/start-fails-on", atomically: true, encoding: .utf8)
        try await LocalCluster.with(size: 3, version: Releases.old, label: "e2e-nostart") { cluster in
            try await ShepherdFleet.with(cluster, verifyTimeoutSeconds: 60, faults: faults.path) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                let req = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                #expect(req.succeeded, "\(req.summary)")
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                let end = try await RolloutEnd.wait(store, monitor: monitor)
                #expect(end.finished && end.state == .halted, "\(end.summary)\n\(fleet.logTails(30))")
                let reason = end.snap.rollout?.reason ?? ""
                #expect(reason.contains("failed to start on \(Releases.current) 3 times"), "\(reason)")
                #expect(end.snap.records.values.filter { $0.phase == .rolledBack }.count == 1, "\(end.summary)")
                #expect(monitor.maxDown <= 1, "two members down: \(monitor.overlaps.prefix(5))")
                #expect(try await monitor.lostWrites() == [])
                for i in cluster.members.indices {
                    try await cluster.waitHealthy(i, timeout: .seconds(30))
                    #expect(try await cluster.endpoint(i).version().server == Releases.old)
                }
            }
        }
    }

    /// A member whose flags the target refuses is never touched: its daemon reports the blocking finding, the
    /// others go ahead, and the operator can abort.
    @Test func preflightBlocksOneMemberAndAbortEndsTheRollout() async throws {
        try await LocalCluster.with(size: 3, version: Releases.old, label: "e2e-pf") { cluster in
            // s3 runs with --debug, which 3.5.30 refuses (exit 2, measured).
            let flags = cluster.members[2].dir + "/flags"
            try await cluster.stop(2)
            try (try String(contentsOfFile: flags, encoding: .utf8) + "--debug\n").write(
                toFile: flags, atomically: true, encoding: .utf8)
            try await cluster.start(2)
            let pid = cluster.pid(2)
            try await ShepherdFleet.with(cluster) { fleet in
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                // The request goes to s1 (its own preflight is clean).
                let leader = try await (0..<3).asyncFirst { try await cluster.endpoint($0).status().isLeader }
                let requester = cluster.members.indices.first { $0 != 2 && $0 != leader } ?? 0
                let req = try await fleet.cli([
                    "request", Releases.current, "--config", fleet.configPath(cluster.members[requester].name),
                ])
                #expect(req.succeeded)
                let blocked = await eventually(timeout: .seconds(60)) {
                    fleet.log("s3").contains("preflight blocks s3")
                }
                #expect(blocked, "s3's daemon did not report the blocking finding")
                #expect(fleet.log("s3").contains("replace --debug with --log-level=debug"))
                // Held by its daemon's decision (gate 6), not only reported: the wait names the finding.
                let held = await eventually(timeout: .seconds(60)) { fleet.log("s3").contains("s3 waits: preflight: ") }
                #expect(held, "s3's daemon never waited on its preflight")
                let others = await eventually(timeout: .seconds(60)) {
                    let s = try? await store.read()
                    return cluster.members.indices.filter { $0 != 2 && $0 != leader }
                        .allSatisfy { s?.records[MemberName(cluster.members[$0].name)]?.phase == .done }
                }
                #expect(others, "the unblocked follower was not upgraded")
                #expect(try await cluster.endpoint(2).version().server == "3.4.23")
                #expect(cluster.pid(2) == pid, "s3 was restarted")
                #expect(try await store.read().records["s3"]?.phase.isDestructive != true)
                let abort = try await fleet.cli(["abort", "--config", fleet.configPath("s1")])
                #expect(abort.succeeded && abort.stdout.contains("aborted"), "\(abort.summary)")
                #expect(try await store.read().rollout?.state == .aborted)
                let again = try await fleet.cli(["pause", "--config", fleet.configPath("s1")])
                #expect(again.exitCode == 1 && again.stderr.contains("aborted"), "\(again.summary)")
            }
        }
    }
}

extension RolloutEndToEndTests {
    /// `plan` changes nothing and says why it would or would not proceed; pause and resume change the state.
    @Test func planPauseResume() async throws {
        try await LocalCluster.with(size: 3, version: Releases.old, label: "e2e-plan") { cluster in
            try await ShepherdFleet.with(cluster) { fleet in
                let cfg = fleet.configPath("s1")
                let refused = try await fleet.cli(["plan", "3.5.1", "--config", cfg])
                #expect(
                    refused.exitCode == 1 && refused.stdout.contains("FAIL 5 versions allowed")
                        && refused.stdout.contains("etcd-io/etcd#13766"),
                    "\(refused.stdout)")
                let ok = try await fleet.cli(["plan", Releases.current, "--config", cfg])
                #expect(ok.exitCode == 0 && ok.stdout.contains("result: would proceed"), "\(ok.stdout)")
                #expect(
                    ok.stdout.contains("etcd 3.4.23 (running) is affected by CVE-2026-44283"),
                    "advisories for the running version: \(ok.stdout)")
                #expect(
                    ok.stdout.contains("leader last")
                        && ok.stdout.contains("rollback: by binary swap while the cluster version stays 3.4"))
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                #expect(try await store.read().rollout == nil, "plan wrote a rollout")
                let skip = try await fleet.cli(["plan", "3.6.0", "--config", cfg])
                #expect(skip.exitCode == 1 && skip.stdout.contains("one minor at a time"))

                // Pause right after the request: every daemon reports it, and resume finishes the rollout.
                _ = try await fleet.cli(["request", Releases.current, "--config", cfg])
                #expect(await eventually(timeout: .seconds(15)) { (try? await store.read())?.rollout != nil })
                let pause = try await fleet.cli(["pause", "--config", cfg])
                #expect(pause.succeeded && pause.stdout.contains("paused"), "\(pause.summary)")
                let allPaused = await eventually(timeout: .seconds(30)) {
                    cluster.members.allSatisfy { fleet.log($0.name).contains("waits: rollout paused") }
                }
                #expect(allPaused)
                let status = try await fleet.cli(["status", "--config", cfg])
                #expect(status.stdout.contains("paused"), "\(status.stdout)")
                let resume = try await fleet.cli(["resume", "--config", cfg])
                #expect(resume.succeeded && resume.stdout.contains("active"))
                #expect(
                    await eventually(timeout: .seconds(90)) { (try? await store.read())?.rollout?.state == .completed })
                let after = try await fleet.cli(["status", "--json", "--config", cfg])
                #expect(after.exitCode == 0 && after.stdout.contains("\"state\" : \"completed\""), "\(after.stdout)")
                #expect(
                    after.stdout.contains("GHSA-3wh4-j44w-pg92") && after.stdout.contains("roll to 3.5.32 or later"),
                    "status shows the advisories of the running version: \(after.stdout)")
            }
        }
    }
}

extension Range where Bound == Int {
    func asyncFirst(_ p: (Int) async throws -> Bool) async throws -> Int? {
        for i in self where try await p(i) { return i }
        return nil
    }
}
