import EtcdClient
import Exec
import Foundation

/// One etcd-shepherd daemon per member of a `LocalCluster`, each a real process with its own config (command
/// controller = scripts/etcd-member.sh), state dir and log. `stopAll()` sends SIGTERM and waits for every exit.
public final class ShepherdFleet: Sendable {
    public let cluster: LocalCluster
    public let binary: String
    public let keyPrefix = "/etcd-shepherd"

    /// `binDir`: where `etcd-<version>` binaries are looked up (each node's binaryPathTemplate). `faults`: a folder
    /// of armed faults; the controller commands then go through scripts/faulty-member.sh with it. `statusCommand`:
    /// false leaves the controller's `status` out (the process state is then unknown to the daemon).
    public init(
        cluster: LocalCluster, settleSeconds: Double = 1, verifyTimeoutSeconds: Double = 30, tickSeconds: Double = 0.5,
        binDir: String = Repo.etcdBinDir, ownEndpointOnly: Bool = false, clusterExtra: String = "",
        metricsListen: [String]? = nil, faults: String? = nil, statusCommand: Bool = true, configExtra: String = "",
        fleetLockListen: [String]? = nil
    ) throws {
        self.cluster = cluster
        binary = try Repo.shepherdBinary()
        for m in cluster.members {
            // `ownEndpointOnly`: the layout of config.example.json, each daemon told only its own member's URL.
            // Daemons reach the members as the member list advertises them (a fault proxy, when the test runs one).
            let endpoints = (ownEndpointOnly ? [m.advertisedURL] : cluster.members.map(\.advertisedURL)).map {
                "\"\($0)\""
            }.joined(separator: ", ")
            try FileManager.default.createDirectory(atPath: m.dir + "/state", withIntermediateDirectories: true)
            let script = faults.map { "\(Repo.scripts)/faulty-member.sh\", \"\($0)" } ?? cluster.memberScript
            let json = """
                {
                  "member": { "name": "\(m.name)", "clientURL": "\(m.advertisedURL)", "dataDir": "\(m.dataDir)",
                              "binaryLink": "\(m.binaryLink)", "binaryPathTemplate": "\(binDir)/etcd-{version}" },
                  "cluster": { "endpoints": [\(endpoints)], "keyPrefix": "\(keyPrefix)"\(clusterExtra) },
                  "controller": { "kind": "command", "stop": ["\(script)", "stop", "\(m.dir)"],
                                  "start": ["\(script)", "start", "\(m.dir)"]\(statusCommand ? #", "status": ["\#(script)", "pid", "\#(m.dir)"]"# : "") },
                  "requestFile": "\(m.dir)/state/upgrade-request.json",
                  "stateDir": "\(m.dir)/state",
                  "backupDir": "\(m.dir)/backups"\(configExtra)\(fleetLockListen.map { #", "fleetLock": {"listen": "\#($0[cluster.members.firstIndex { $0.name == m.name }!])"}"# } ?? ""),
                  "metrics": \(metricsListen.map { #"{"listen": "\#($0[cluster.members.firstIndex { $0.name == m.name }!])", "textfile": "\#(m.dir)/state/shepherd.prom"}"# } ?? "null"),
                  "timing": { "tickSeconds": \(tickSeconds), "lockTTLSeconds": 15, "verifyTimeoutSeconds": \(verifyTimeoutSeconds),
                              "settleSeconds": \(settleSeconds), "minLeaseRemainingSeconds": 5 }
                }
                """
            try json.write(toFile: configPath(m.name), atomically: true, encoding: .utf8)
        }
    }

    public func configPath(_ name: String) -> String { member(name).dir + "/shepherd.json" }
    public func requestPath(_ name: String) -> String { member(name).dir + "/state/upgrade-request.json" }
    func member(_ name: String) -> LocalCluster.MemberInfo { cluster.members.first { $0.name == name }! }
    func pidFile(_ name: String) -> String { member(name).dir + "/daemon.pid" }
    public func log(_ name: String) -> String {
        (try? String(contentsOfFile: member(name).dir + "/daemon.log", encoding: .utf8)) ?? ""
    }

    public func startAll() async throws {
        for m in cluster.members { try await start(m.name) }
    }

    public func start(_ name: String) async throws {
        // A daemon just killed (SIGKILL is delivered, not awaited) may still hold its stateDir's instance lock: the
        // new one would refuse to run beside it. Wait for the old process to be gone first.
        if let text = try? String(contentsOfFile: pidFile(name), encoding: .utf8),
            let old = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            _ = await eventually(timeout: .seconds(10)) { !SafetyMonitor.alive(old) }
        }
        // A member in a network namespace has its daemon there too (`ip netns exec` execs: the PID stays the daemon's).
        let ns = member(name).netns.map { ["ip", "netns", "exec", $0] } ?? []
        let r = try await Command.run(
            [Repo.scripts + "/bg.sh", "start", pidFile(name), member(name).dir + "/daemon.log"]
                + ns + [binary, "run", "--config", configPath(name)])
        guard r.succeeded else { throw ClusterError(detail: "daemon \(name): \(r.summary)") }
    }

    /// SIGTERM and wait for the exit; returns false when it had to be killed.
    public func stop(_ name: String, seconds: Int = 30) async throws -> Bool {
        try await Command.run(
            [Repo.scripts + "/bg.sh", "stop", pidFile(name), "\(seconds)"], timeout: .seconds(Int64(seconds + 10))
        ).exitCode == 0
    }

    /// SIGHUP: the daemon reloads its config file.
    public func reload(_ name: String) async throws {
        _ = try await Command.run([Repo.scripts + "/bg.sh", "signal", pidFile(name), "HUP"])
    }

    /// SIGKILL: a daemon crash.
    public func kill(_ name: String) async throws {
        _ = try await Command.run([Repo.scripts + "/bg.sh", "signal", pidFile(name), "KILL"])
    }

    /// SIGSTOP: a daemon frozen (a paused VM, a process stuck in the kernel); `thaw` (SIGCONT) lets it go on. The
    /// fleet's stop thaws it too, so a test that fails while it is frozen still tears down.
    public func freeze(_ name: String) async throws {
        _ = try await Command.run([Repo.scripts + "/bg.sh", "signal", pidFile(name), "STOP"])
    }

    public func thaw(_ name: String) async throws {
        _ = try await Command.run([Repo.scripts + "/bg.sh", "signal", pidFile(name), "CONT"])
    }

    /// SIGTERM to every daemon; returns the names of those that needed SIGKILL (a graceful stop must not).
    @discardableResult
    public func stopAll() async -> [String] {
        var killed: [String] = []
        for m in cluster.members {
            let r = try? await Command.run(
                [Repo.scripts + "/bg.sh", "stop", pidFile(m.name), "30"], timeout: .seconds(40))
            if r?.exitCode == 3 { killed.append(m.name) }
        }
        return killed
    }

    /// Runs the CLI and returns its result.
    public func cli(_ args: [String]) async throws -> Command.Result {
        try await Command.run([binary] + args, timeout: .seconds(60))
    }

    /// Starts the fleet, runs `body`, and always stops the daemons (before the cluster tears down).
    public static func with<T: Sendable>(
        _ cluster: LocalCluster, settleSeconds: Double = 1, verifyTimeoutSeconds: Double = 30,
        binDir: String = Repo.etcdBinDir, ownEndpointOnly: Bool = false, clusterExtra: String = "",
        metricsListen: [String]? = nil, faults: String? = nil, statusCommand: Bool = true, configExtra: String = "",
        fleetLockListen: [String]? = nil, _ body: (ShepherdFleet) async throws -> T
    ) async throws -> T {
        let fleet = try ShepherdFleet(
            cluster: cluster, settleSeconds: settleSeconds, verifyTimeoutSeconds: verifyTimeoutSeconds,
            binDir: binDir, ownEndpointOnly: ownEndpointOnly, clusterExtra: clusterExtra,
            metricsListen: metricsListen, faults: faults, statusCommand: statusCommand, configExtra: configExtra,
            fleetLockListen: fleetLockListen)
        do {
            try await fleet.startAll()
            let r = try await body(fleet)
            await fleet.stopAll()
            return r
        } catch {
            await fleet.stopAll()
            print(
                "daemon logs after failure:\n"
                    + fleet.cluster.members.map {
                        "--- \($0.name)\n"
                            + fleet.log($0.name).split(separator: "\n").suffix(25).joined(separator: "\n")
                    }.joined(separator: "\n"))
            throw error
        }
    }
}
