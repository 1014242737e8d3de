import EtcdClient
import Exec
import Foundation
import Rollout
import Systemd
import TestSupport
import Testing

@testable import Shepherd

/// The daemon under a real systemd (PID 1 in namespaces, real journald, real D-Bus).
@Suite(.serialized) struct SystemdGuestTests {
    /// `sandboxWritable`: run under the shipped unit's hardening (systemd/etcd-shepherd.service, from
    /// `ProtectSystem=` on) with these ReadWritePaths instead of the shipped ones.
    static func daemonUnit(_ config: String, watchdog: Int = 30, sandboxWritable: String? = nil) throws -> String {
        var hardening = ""
        if let rw = sandboxWritable {
            let shipped = try String(contentsOfFile: Repo.root + "/systemd/etcd-shepherd.service", encoding: .utf8)
            let lines = shipped.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let from = try #require(lines.firstIndex { $0.hasPrefix("ProtectSystem=") }),
                to = try #require(lines.firstIndex(of: "[Install]"))
            // The test's tree may sit under /tmp or a home folder (a CI clone), which PrivateTmp=/ProtectHome= would
            // hide:
            // those two are the only directives the test cannot keep as shipped.
            let hides =
                (rw.hasPrefix("/tmp/") ? ["PrivateTmp="] : [])
                + (rw.hasPrefix("/home/") || rw.hasPrefix("/root/") ? ["ProtectHome="] : [])
            hardening =
                lines[from..<to].filter { l in
                    !l.hasPrefix("ReadWritePaths=") && !l.hasPrefix("#") && !l.isEmpty
                        && !hides.contains { l.hasPrefix($0) }
                }
                .joined(separator: "\n") + "\nReadWritePaths=\(rw)\nRestartPreventExitStatus=2\n"
        }
        return """
            [Unit]
            Description=etcd-shepherd under test
            [Service]
            Type=notify
            NotifyAccess=main
            ExecStart=\(try Repo.shepherdBinary()) run --config \(config)
            ExecReload=/bin/kill -HUP $MAINPID
            Restart=on-failure
            RestartSec=1
            WatchdogSec=\(watchdog)
            TimeoutStopSec=60
            Environment=SWIFT_BACKTRACE=enable=no
            \(hardening)
            """
    }

    static func config(
        name: String, clientURL: String, endpoints: [String], dir: String, controller: String,
        binDir: String = Repo.etcdBinDir, verifyTimeoutSeconds: Int = 30
    ) -> String {
        """
        {
          "member": { "name": "\(name)", "clientURL": "\(clientURL)", "dataDir": "\(dir)/data",
                      "binaryLink": "\(dir)/etcd", "binaryPathTemplate": "\(binDir)/etcd-{version}" },
          "cluster": { "endpoints": [\(endpoints.map { "\"\($0)\"" }.joined(separator: ", "))] },
          "controller": \(controller),
          "requestFile": "\(dir)/state/upgrade-request.json", "stateDir": "\(dir)/state", "backupDir": "\(dir)/backups",
          "metrics": null,
          "timing": { "tickSeconds": 0.5, "lockTTLSeconds": 15, "verifyTimeoutSeconds": \(verifyTimeoutSeconds), "settleSeconds": 1, "minLeaseRemainingSeconds": 5 }
        }
        """
    }

    @Test func notifyJournalReloadAndWatchdog() async throws {
        try await SystemdGuest.with("notify") { guest in
            try await LocalCluster.with(size: 1, version: Releases.current, label: "sd1", parentDir: guest.work.path) {
                cluster in
                let m = cluster.members[0]
                let cfg = m.dir + "/shepherd.json"
                try FileManager.default.createDirectory(atPath: m.dir + "/state", withIntermediateDirectories: true)
                try Self.config(
                    name: m.name, clientURL: m.clientURL, endpoints: [m.clientURL], dir: m.dir,
                    controller: #"{"kind": "command", "stop": ["true"], "start": ["true"]}"#
                )
                .write(toFile: cfg, atomically: true, encoding: .utf8)
                try await guest.install(unit: "shepherd-t.service", try Self.daemonUnit(cfg))

                // Type=notify: `systemctl start` returns once READY=1 came; STATUS is the one-line summary.
                let start = try await guest.exec(["systemctl", "start", "shepherd-t.service"])
                #expect(start.succeeded, "\(start.summary)")
                #expect(try await guest.property("shepherd-t.service", "ActiveState") == "active")
                let status = try await guest.property("shepherd-t.service", "StatusText")
                #expect(status.hasPrefix("idle: s1 3.5.30 healthy leader; cluster 3.5, 1/1 healthy"), "\(status)")
                let pid = try await guest.property("shepherd-t.service", "MainPID")

                // An event with its MESSAGE_ID and fields lands in journald (a malformed request is refused).
                try "{not json".write(toFile: m.dir + "/state/upgrade-request.json", atomically: true, encoding: .utf8)
                chmod(m.dir + "/state/upgrade-request.json", 0o600)
                let refused = await eventually(timeout: .seconds(15)) {
                    let e = (try? await guest.journal(["MESSAGE_ID=\(MessageID.requestRefused.rawValue)"])) ?? []
                    return e.contains {
                        $0["_SYSTEMD_UNIT"] == "shepherd-t.service" && $0["ETCD_MEMBER"] == "s1"
                            && ($0["SHEPHERD_REASON"] ?? "").contains("not valid JSON") && $0["PRIORITY"] == "3"
                            && $0["CODE_FUNC"] != nil
                    }
                }
                #expect(refused, "no request-refused entry with its fields in the journal")

                // Reload: RELOADING=1 … READY=1 around SIGHUP, same main PID, still active.
                let reload = try await guest.exec(["systemctl", "reload", "shepherd-t.service"])
                #expect(reload.succeeded, "\(reload.summary)")
                let reloaded = await eventually(timeout: .seconds(10)) {
                    ((try? await guest.journal(["-u", "shepherd-t.service"])) ?? []).contains {
                        ($0["MESSAGE"] ?? "").hasPrefix("configuration reloaded")
                    }
                }
                #expect(reloaded)
                #expect(try await guest.property("shepherd-t.service", "MainPID") == pid)
                #expect(try await guest.property("shepherd-t.service", "ActiveState") == "active")
                let stop = try await guest.exec(["systemctl", "stop", "shepherd-t.service"])
                #expect(stop.succeeded)
                #expect(try await guest.property("shepherd-t.service", "Result") == "success")
            }

            // A loop stuck on an etcd that accepts connections but never answers stops pinging the watchdog:
            // systemd kills the daemon and restarts it.
            let hole = try BlackHole()
            defer { hole.close() }
            let dir = guest.work.path + "/wd"
            try FileManager.default.createDirectory(atPath: dir + "/state", withIntermediateDirectories: true)
            try Self.config(
                name: "s1", clientURL: hole.url, endpoints: [hole.url], dir: dir,
                controller: #"{"kind": "command", "stop": ["true"], "start": ["true"]}"#
            )
            .write(toFile: dir + "/shepherd.json", atomically: true, encoding: .utf8)
            try await guest.install(
                unit: "shepherd-wd.service", try Self.daemonUnit(dir + "/shepherd.json", watchdog: 2))
            _ = try await guest.exec(["systemctl", "start", "--no-block", "shepherd-wd.service"])
            let restarted = await eventually(timeout: .seconds(40)) {
                (Int((try? await guest.property("shepherd-wd.service", "NRestarts")) ?? "0") ?? 0) >= 1
            }
            #expect(restarted, "the watchdog did not restart a stuck daemon")
            let log = try await guest.exec(["journalctl", "--no-pager", "-u", "shepherd-wd.service"]).stdout
            #expect(log.contains("Watchdog timeout"), "\(log.suffix(800))")
            _ = try await guest.exec(["systemctl", "stop", "shepherd-wd.service"])
        }
    }

    /// Each member an `etcd@sN.service` unit, each controlled over D-Bus by its own `etcd-shepherd@sN.service`.
    @Test func rolloutWithSystemdUnitsOverDBus() async throws {
        try await SystemdGuest.with("roll") { guest in
            // The members run as units inside the guest (its poweroff stops them); the cluster object only lays out
            // their folders and talks to them.
            let cluster = try LocalCluster(size: 3, version: "3.4.23", label: "sdroll", parentDir: guest.work.path)
            do { try await rollout(guest, cluster) } catch {
                await cluster.tearDown()
                throw error
            }
            await cluster.tearDown()
        }
    }

    /// `etcd@sN.service` and `etcd-shepherd@sN.service` for every member, all started and healthy.
    func startUnits(
        _ guest: SystemdGuest, _ cluster: LocalCluster, binDir: String = Repo.etcdBinDir,
        verifyTimeoutSeconds: Int = 30,
        sandboxed: Bool = false
    ) async throws {
        let root = cluster.temp.path
        try await guest.install(
            unit: "etcd@.service",
            """
            [Unit]
            Description=etcd member %i (test)
            [Service]
            Type=notify
            EnvironmentFile=\(root)/%i/etcd.env
            ExecStart=\(root)/%i/etcd
            TimeoutStopSec=30
            """)
        try await guest.install(
            unit: "etcd-shepherd@.service",
            try Self.daemonUnit("\(root)/%i/shepherd.json", sandboxWritable: sandboxed ? root : nil))
        for (i, m) in cluster.members.enumerated() {
            try cluster.environment(i).write(toFile: m.dir + "/etcd.env", atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: m.dir + "/state", withIntermediateDirectories: true)
            try Self.config(
                name: m.name, clientURL: m.clientURL, endpoints: cluster.clientURLs, dir: m.dir,
                controller: #"{"kind": "systemd", "unit": "etcd@\#(m.name).service"}"#, binDir: binDir,
                verifyTimeoutSeconds: verifyTimeoutSeconds
            )
            .write(toFile: m.dir + "/shepherd.json", atomically: true, encoding: .utf8)
        }
        let etcd = try await guest.exec(["systemctl", "start"] + cluster.members.map { "etcd@\($0.name).service" })
        #expect(etcd.succeeded, "\(etcd.summary)")
        for i in cluster.members.indices { try await cluster.waitHealthy(i) }
        let daemons = try await guest.exec(
            ["systemctl", "start"] + cluster.members.map { "etcd-shepherd@\($0.name).service" })
        #expect(daemons.succeeded, "\(daemons.summary)")
    }

    func rollout(_ guest: SystemdGuest, _ cluster: LocalCluster) async throws {
        do {
            // The daemons run under the shipped unit's sandbox: the hardening must leave the whole rollout possible.
            try await startUnits(guest, cluster, sandboxed: true)
            #expect(try await guest.property("etcd-shepherd@s1.service", "ProtectSystem") == "strict")
            #expect(try await guest.property("etcd-shepherd@s1.service", "SystemCallErrorNumber") != "0")
            let monitor = SafetyMonitor(cluster: cluster, usePidFiles: false)
            monitor.start()
            let req = try await guest.exec([
                try Repo.shepherdBinary(), "request", Releases.current,
                "--config", cluster.members[1].dir + "/shepherd.json",
            ])
            #expect(req.succeeded, "\(req.summary)")
            let store = RolloutStore(prefix: "/etcd-shepherd", cluster: cluster.clusterClient())
            let end = try await RolloutEnd.wait(store, monitor: monitor, timeout: .seconds(120))
            #expect(end.finished && end.state == .completed, "\(end.summary)")
            #expect(monitor.maxDown <= 1, "\(monitor.overlaps.prefix(5))")
            #expect(try await monitor.lostWrites() == [])
            for i in cluster.members.indices {
                #expect(try await cluster.endpoint(i).version().server == Releases.current)
            }
            // Each daemon drove its own unit and logged the verification with its fields.
            for m in cluster.members {
                let verified = try await guest.journal([
                    "_SYSTEMD_UNIT=etcd-shepherd@\(m.name).service",
                    "MESSAGE_ID=\(MessageID.memberVerified.rawValue)",
                ])
                #expect(
                    verified.contains { $0["ETCD_MEMBER"] == m.name && $0["SHEPHERD_PHASE"] == "done" },
                    "\(m.name) verified entry")
                #expect(try await guest.property("etcd@\(m.name).service", "ActiveState") == "active")
                let status = try await guest.property("etcd-shepherd@\(m.name).service", "StatusText")
                #expect(status.contains(m.name), "\(status)")
            }
            // The leader's handover, read from the members' /metrics, is journaled with its own ID, priority and
            // fields.
            let handover = await eventually(timeout: .seconds(15)) {
                let e = (try? await guest.journal(["MESSAGE_ID=\(MessageID.leaderChanged.rawValue)"])) ?? []
                return e.contains {
                    $0["PRIORITY"] == "5" && $0["ETCD_LEADER"].map(["s1", "s2", "s3"].contains) == true
                        && (Int($0["ETCD_LEADER_CHANGES_SEEN"] ?? "") ?? 0) >= 2
                }
            }
            #expect(handover, "no leader-change entry with ETCD_LEADER and ETCD_LEADER_CHANGES_SEEN in the journal")
            _ = try await guest.exec(
                ["systemctl", "stop"] + cluster.members.map { "etcd-shepherd@\($0.name).service" }
                    + cluster.members.map { "etcd@\($0.name).service" })
        }
    }
}

extension SystemdGuestTests {
    /// A target that exits at once under a `Type=notify` unit: `systemctl start` fails, the daemon counts the failed
    /// starts, rolls its member back to the previous binary, halts the rollout with the reason and releases the lock.
    @Test func systemdControllerRollsBackATargetThatCannotStart() async throws {
        try await SystemdGuest.with("badtarget") { guest in
            let cluster = try LocalCluster(size: 3, version: "3.4.23", label: "sdbad", parentDir: guest.work.path)
            do {
                let bin = cluster.temp.path + "/bin"
                try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
                try FileManager.default.createSymbolicLink(
                    atPath: bin + "/etcd-3.4.23", withDestinationPath: try Repo.etcdBinary("etcd", "3.4.23"))
                try """
                #!/bin/sh
                [ "$1" = "--version" ] && exec \(try Repo.etcdBinary("etcd", Releases.current)) --version
                echo "refusing to start" >&2; exit 1
                """.write(toFile: bin + "/etcd-\(Releases.current)", atomically: true, encoding: .utf8)
                chmod(bin + "/etcd-\(Releases.current)", 0o755)
                try await startUnits(guest, cluster, binDir: bin, verifyTimeoutSeconds: 20)
                let monitor = SafetyMonitor(cluster: cluster, usePidFiles: false)
                monitor.start()
                let req = try await guest.exec([
                    try Repo.shepherdBinary(), "request", Releases.current,
                    "--config", cluster.members[0].dir + "/shepherd.json",
                ])
                #expect(req.succeeded, "\(req.summary)")
                let store = RolloutStore(prefix: "/etcd-shepherd", cluster: cluster.clusterClient())
                let halted = await eventually(timeout: .seconds(120)) {
                    (try? await store.read())?.rollout?.state == .halted
                }
                await monitor.stop()
                #expect(halted)
                let snap = try await store.read()
                #expect(
                    snap.rollout?.reason?.contains("failed to start") == true, "\(snap.rollout?.reason ?? "no reason")")
                #expect(snap.records.values.filter { $0.phase == .rolledBack }.count == 1)
                #expect(monitor.maxDown <= 1, "\(monitor.overlaps.prefix(5))")
                #expect(try await monitor.lostWrites() == [])
                for (i, m) in cluster.members.enumerated() {
                    try await cluster.waitHealthy(i, timeout: .seconds(15))
                    #expect(try await cluster.endpoint(i).version().server == "3.4.23")
                    #expect(try await guest.property("etcd@\(m.name).service", "ActiveState") == "active")
                }
                #expect(await eventually(timeout: .seconds(10)) { (try? await store.read())?.lockKeys.isEmpty == true })
                let failed = try await guest.journal(["MESSAGE_ID=\(MessageID.startFailed.rawValue)"])
                #expect(
                    failed.count >= 1 && failed.allSatisfy { $0["SHEPHERD_REASON"]?.isEmpty == false },
                    "\(failed.prefix(2))")
                _ = try await guest.exec(
                    ["systemctl", "stop"] + cluster.members.map { "etcd-shepherd@\($0.name).service" }
                        + cluster.members.map { "etcd@\($0.name).service" })
            } catch {
                await cluster.tearDown()
                throw error
            }
            await cluster.tearDown()
        }
    }

    /// UnitManager against the guest's systemd over its real D-Bus: job results and errors that name unit and error.
    @Test func unitManagerJobsAndErrors() async throws {
        try await SystemdGuest.with("bus") { guest in
            try await guest.install(unit: "ok-t.service", "[Service]\nExecStart=/bin/sleep 600\n")
            try await guest.install(unit: "fail-t.service", "[Service]\nType=oneshot\nExecStart=/bin/false\n")
            let bus = UnitManager(address: try guest.busAddress())
            #expect(try await bus.perform(.start, unit: "ok-t.service") == "done")
            #expect(try await bus.activeState(unit: "ok-t.service") == "active")
            #expect(try await guest.property("ok-t.service", "ActiveState") == "active")
            #expect(try await bus.perform(.restart, unit: "ok-t.service") == "done")
            #expect(try await bus.perform(.stop, unit: "ok-t.service") == "done")
            #expect(try await bus.activeState(unit: "ok-t.service") == "inactive")
            do {
                try await bus.perform(.start, unit: "fail-t.service")
                Issue.record("a failing unit started")
            } catch let e as UnitManager.Failure {
                #expect(e.unit == "fail-t.service" && e.detail.contains("'failed'"), "\(e)")
            }
            do {
                try await bus.perform(.start, unit: "nosuch-t.service")
                Issue.record("a missing unit started")
            } catch let e as UnitManager.Failure {
                #expect(
                    e.description.contains("nosuch-t.service")
                        && e.detail.contains("org.freedesktop.systemd1.NoSuchUnit"), "\(e)")
            }
        }
    }

    /// The .deb built by `make deb`: lintian finds no error; in the guest it installs enabled but not started, refuses
    /// its placeholder config (exit 2, no restart loop), runs once the config is edited, under a sandbox rated ≤ 4.5;
    /// its man page renders, its completions and journald catalog are in place, and its units verify clean.
    @Test func debianPackageInstallsAndItsServiceStarts() async throws {
        let dir = Repo.root + "/.build/deb"
        let deb = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .first { $0.hasPrefix("etcd-shepherd_") && $0.hasSuffix(".deb") }
        guard let deb else { throw Repo.MissingDependency(what: "the .deb in .build/deb (run `make deb`)") }
        let lintian = try await Command.run(["lintian", "--fail-on", "error", dir + "/" + deb], timeout: .seconds(300))
        let complaints = lintian.stdout.split(separator: "\n").filter { $0.hasPrefix("E:") || $0.hasPrefix("W:") }
        #expect(lintian.exitCode == 0 && !complaints.contains { $0.hasPrefix("E:") }, "lintian: \(lintian.summary)")
        // Every warning that stays is listed in the README with why.
        let readme = try String(contentsOfFile: Repo.root + "/README.md", encoding: .utf8)
        for w in complaints {
            let tag = w.split(separator: " ").dropFirst(2).first.map(String.init) ?? ""
            let explained = readme.contains("`\(tag)`")
            #expect(explained, "lintian warning not explained in the README: \(w)")
        }
        try await SystemdGuest.with("deb") { guest in
            // The host image's policy-rc.d (exit 101) blocks maintainer-script starts; remove it in the overlay only.
            _ = try await guest.exec(["rm", "-f", "/usr/sbin/policy-rc.d"])
            let install = try await guest.exec(["dpkg", "-i", dir + "/" + deb], timeout: .seconds(180))
            #expect(install.succeeded, "\(install.summary)")
            #expect(
                try await guest.exec(["systemctl", "is-enabled", "etcd-shepherd.service"]).stdout.hasPrefix("enabled"))
            #expect(
                try await guest.exec(["systemctl", "is-enabled", "etcd-shepherd.path"]).stdout.hasPrefix("enabled"))
            #expect(
                try await guest.property("etcd-shepherd.service", "ActiveState") == "inactive",
                "started with a placeholder config")
            let mode = try await guest.exec(["stat", "-c", "%a %U", "/etc/etcd-shepherd/config.json"])
            #expect(mode.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "600 root", "\(mode.summary)")
            let verify = try await guest.exec([
                "systemd-analyze", "verify", "etcd-shepherd.service", "etcd-shepherd.path",
            ])
            #expect(verify.succeeded && !verify.stderr.contains("etcd-shepherd"), "\(verify.summary)")

            // Started with the placeholder: refused with what to edit, exit 2, and no restart loop.
            _ = try await guest.exec(["systemctl", "start", "etcd-shepherd.service"])
            let failed = await eventually(timeout: .seconds(20)) {
                (try? await guest.property("etcd-shepherd.service", "ActiveState")) == "failed"
            }
            #expect(failed)
            #expect(try await guest.property("etcd-shepherd.service", "ExecMainStatus") == "2")
            let said = try await guest.exec(["journalctl", "-u", "etcd-shepherd.service", "--no-pager", "-o", "cat"])
            #expect(said.stdout.contains("placeholder config"), "\(said.stdout.suffix(600))")
            #expect(try await guest.property("etcd-shepherd.service", "NRestarts") == "0")

            // Edited: the daemon runs (no etcd on the default endpoint: it says so in STATUS instead of failing).
            _ = try await guest.exec(["sed", "-i", "/\"placeholder\"/d", "/etc/etcd-shepherd/config.json"])
            _ = try await guest.exec(["systemctl", "reset-failed", "etcd-shepherd.service"])
            _ = try await guest.exec(["systemctl", "start", "etcd-shepherd.service"])
            let active = await eventually(timeout: .seconds(30)) {
                (try? await guest.property("etcd-shepherd.service", "ActiveState")) == "active"
            }
            let unitStatus = (try? await guest.exec(["systemctl", "status", "etcd-shepherd.service"]))?.stdout ?? ""
            #expect(active, "\(unitStatus)")
            // The shipped unit's sandbox, as systemd itself rates it for the loaded unit (was 5.9 MEDIUM).
            let security = try await guest.exec(["systemd-analyze", "security", "--no-pager", "etcd-shepherd.service"])
            let overall = security.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") } ?? ""
            let exposure = Double(overall.split(separator: ":").last?.split(separator: " ").first ?? "") ?? 99
            #expect(exposure <= 4.5, "systemd-analyze security: \(overall)")
            let status = await eventually(timeout: .seconds(15)) {
                let s = (try? await guest.property("etcd-shepherd.service", "StatusText")) ?? ""
                return s.contains("error") && s.contains("127.0.0.1:2379")
            }
            let statusText = (try? await guest.property("etcd-shepherd.service", "StatusText")) ?? ""
            #expect(status, "\(statusText)")
            // The sandboxed unit serves its metrics on the default loopback address.
            let scraped = await eventually(timeout: .seconds(10)) {
                (try? await guest.exec(["curl", "-sf", "http://127.0.0.1:9798/metrics"]))?.stdout.contains(
                    "etcd_shepherd_rollout_state") == true
            }
            #expect(scraped, "no metrics on 127.0.0.1:9798 from the packaged unit")
            let version = try await guest.exec(["/usr/bin/etcd-shepherd", "--version"])
            #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.2.0")

            // journalctl -x explains a MESSAGE_ID from the installed catalog.
            let halted = MessageID.rolloutHalted.rawValue
            _ = try await guest.exec([
                "bash", "-c",
                "printf 'MESSAGE_ID=\(halted)\\nMESSAGE=test halt\\nSHEPHERD_REASON=a test\\n' | logger --journald",
            ])
            let explained = await eventually(timeout: .seconds(10)) {
                let x =
                    (try? await guest.exec(["journalctl", "-x", "--no-pager", "MESSAGE_ID=\(halted)"]))?.stdout ?? ""
                return x.contains("etcd rollout halted: a test") && x.contains("No further member is stopped")
            }
            #expect(explained, "journalctl -x did not show the catalog entry")
            // The man page renders; the completions and the README the unit links to are where they belong.
            let man = try await guest.exec(["bash", "-c", "MANWIDTH=100 man -P cat etcd-shepherd"])
            #expect(
                man.succeeded && man.stdout.contains("EXIT CODES") && man.stdout.contains("etcd-shepherd request"),
                "\(man.summary)")
            for f in [
                "/usr/share/bash-completion/completions/etcd-shepherd",
                "/usr/share/zsh/vendor-completions/_etcd-shepherd",
                "/usr/share/fish/vendor_completions.d/etcd-shepherd.fish", "/usr/share/doc/etcd-shepherd/README.md",
                "/usr/share/doc/etcd-shepherd/examples/etcd.service.d/etcd-shepherd.conf",
            ] {
                #expect(try await guest.exec(["test", "-s", f]).succeeded, "\(f) missing")
            }
            let purge = try await guest.exec(["dpkg", "--purge", "etcd-shepherd"], timeout: .seconds(120))
            #expect(purge.succeeded, "\(purge.summary)")
        }
    }
}

/// A TCP listener that never accepts: connections complete in the kernel's backlog and requests hang.
struct BlackHole {
    let fd: Int32
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var assigned = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok =
            Loopback.withAddress(port: 0) { bind(fd, $0, $1) == 0 } && listen(fd, 64) == 0
            && withUnsafeMutablePointer(to: &assigned) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) == 0 }
            }
        guard ok else { throw ClusterError(detail: "black hole listener: errno \(errno)") }
        port = Int(UInt16(bigEndian: assigned.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}

extension SystemdGuestTests {
    /// The member's unit as systemd loaded it, read as typed D-Bus properties: an argument and an Environment= value
    /// with spaces stay one (split on spaces, as the text of `systemctl show` was, "tok with spaces" became the token
    /// "tok" and two stray arguments), every EnvironmentFile= is read (a `-` one that is missing too), and the
    /// settings the preflight judges come out whole.
    @Test func memberUnitSettingsAreReadOverDBus() async throws {
        try await SystemdGuest.with("unitprops") { guest in
            let env = guest.work.path + "/etcd.env"
            try "ETCD_ENABLE_V2=true\n".write(toFile: env, atomically: true, encoding: .utf8)
            try await guest.install(
                unit: "etcd-props.service",
                """
                [Service]
                Environment="ETCD_INITIAL_CLUSTER_STATE=existing" "ETCD_LOG_OUTPUTS=stderr, /var/log/etcd x.log"
                EnvironmentFile=-/nonexistent/etcd.env
                EnvironmentFile=\(env)
                ExecStart=/bin/true --name s9 --initial-cluster-token "tok with spaces" --data-dir /var/lib/etcd
                """)
            let loaded = try await UnitManager(address: try guest.busAddress()).serviceSettings(
                unit: "etcd-props.service")
            #expect(
                loaded.execStart == [
                    [
                        "/bin/true", "--name", "s9", "--initial-cluster-token", "tok with spaces", "--data-dir",
                        "/var/lib/etcd",
                    ]
                ], "\(loaded.execStart)")
            #expect(
                loaded.environment == [
                    "ETCD_INITIAL_CLUSTER_STATE=existing", "ETCD_LOG_OUTPUTS=stderr, /var/log/etcd x.log",
                ], "\(loaded.environment)")
            #expect(loaded.environmentFiles == ["/nonexistent/etcd.env", env], "\(loaded.environmentFiles)")
            let settings = Dictionary(
                MemberConfiguration.fromUnit(loaded, unit: "etcd-props.service").map { ($0.name, $0.value ?? "") },
                uniquingKeysWith: { a, _ in a })
            #expect(settings["initial-cluster-token"] == "tok with spaces", "\(settings)")
            #expect(settings["log-outputs"] == "stderr, /var/log/etcd x.log", "\(settings)")
            #expect(settings["enable-v2"] == "true" && settings["data-dir"] == "/var/lib/etcd", "\(settings)")
            // A unit that does not exist: an error naming it, not an empty answer.
            await #expect(throws: UnitManager.Failure.self) {
                _ = try await UnitManager(address: try guest.busAddress()).serviceSettings(unit: "no-such.service")
            }
        }
    }
}
