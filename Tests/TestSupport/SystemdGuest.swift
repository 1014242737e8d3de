import Exec
import Foundation

/// A real systemd (PID 1 of fresh namespaces, on a throw-away overlay of the host root) booted by
/// scripts/systemd-guest.sh. It shares the host's network namespace, so host-side code reaches the guest's loopback
/// services, and the checkout is bound in at the same path. `SystemdGuest.with` always powers it off.
public struct SystemdGuest: Sendable {
    public let name: String
    /// A folder under the checkout for the test's files, visible at the same path inside the guest.
    public let work: TempDir

    static var script: String { Repo.scripts + "/systemd-guest.sh" }

    public static func with<T: Sendable>(_ label: String, _ body: (SystemdGuest) async throws -> T) async throws -> T {
        let workParent = Repo.root + "/.build/guest-work"
        try FileManager.default.createDirectory(atPath: workParent, withIntermediateDirectories: true)
        let guest = SystemdGuest(name: "shep-\(label)-\(getpid())", work: try TempDir(label, in: workParent))
        let env = ["GUEST_SHARE_NET": "1", "BIND_DIRS": Repo.root]
        let boot = try await Command.run(
            ["bash", script, "start", guest.name], environment: env, timeout: .seconds(60))
        guard boot.succeeded, boot.stdout.contains("state=running") || boot.stdout.contains("state=degraded") else {
            _ = try? await Command.run(["bash", script, "stop", guest.name], timeout: .seconds(60))
            guest.work.remove()
            throw Repo.MissingDependency(
                what: "a booting systemd guest (systemd-guest.sh start said: \(boot.stdout) \(boot.stderr))")
        }
        do {
            let r = try await body(guest)
            await guest.shutdown()
            return r
        } catch {
            print(
                "guest journal tail:\n"
                    + ((try? await guest.exec(["journalctl", "--no-pager", "-n", "60"]))?.stdout ?? ""))
            await guest.shutdown()
            throw error
        }
    }

    func shutdown() async {
        _ = try? await Command.run(["bash", Self.script, "stop", name], timeout: .seconds(60))
        work.remove()
    }

    /// Runs a command inside the guest (all its namespaces).
    @discardableResult
    public func exec(_ argv: [String], timeout: Duration = .seconds(120)) async throws -> Command.Result {
        try await Command.run(["bash", Self.script, "exec", name] + argv, timeout: timeout)
    }

    /// The guest's system bus, reachable from the host through PID 1's root (for sd-bus clients in the test process).
    public func busAddress() throws -> String {
        let pid = try String(contentsOfFile: "/tmp/\(name).pid1", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        return "unix:path=/proc/\(pid)/root/run/dbus/system_bus_socket"
    }

    /// Installs a unit file into the guest's /etc/systemd/system and reloads systemd.
    public func install(unit: String, _ text: String) async throws {
        let staged = work.path + "/" + unit
        try text.write(toFile: staged, atomically: true, encoding: .utf8)
        let r = try await exec(["sh", "-c", "cp '\(staged)' /etc/systemd/system/ && systemctl daemon-reload"])
        guard r.succeeded else { throw ClusterError(detail: "installing \(unit): \(r.summary)") }
    }

    /// `systemctl show -p PROP --value UNIT`
    public func property(_ unit: String, _ prop: String) async throws -> String {
        try await exec(["systemctl", "show", "-p", prop, "--value", unit]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    /// The unit's journal entries as JSON objects (string fields only).
    public func journal(_ args: [String]) async throws -> [[String: String]] {
        let r = try await exec(["journalctl", "--no-pager", "-o", "json"] + args)
        return r.stdout.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return o.compactMapValues { $0 as? String }
        }
    }
}
