import Exec
import Explained
import Foundation
import Rollout
import Systemd

/// Stops and starts the local etcd member.
///
/// Contract: `stop(issued:)` calls `issued` with a ticket once the stop is under way (it is journalled, so a daemon
/// that dies while the stop runs knows later whether it is still pending), and returns only once the member's
/// process has exited (not merely closed its port: a 3.5 member lingers about a second, a leader that cannot hand
/// over up to ~7 s); it throws when it could not be stopped. `start()` returns once the start was issued;
/// verification is the caller's. `process()` answers without side effects and says `unknown` rather than guess.
/// `stopPending(ticket:)` says whether the stop a ticket names may still land (nil: this controller cannot tell).
public protocol MemberController: Sendable {
    func stop(issued: @escaping @Sendable (String) -> Void) async throws
    func start() async throws
    func process() async -> ProcessState
    func stopPending(ticket: String?) async -> Bool?
}

/// The node layer's one error: the member, its binary link, the daemon's own files — a stop or start that failed,
/// a file that could not be written, a member not in the state an action needs.
public struct ControllerError: ExplainedError {
    public let thing: String
    public let cause: String
    public let fix: String

    public init(thing: String, cause: String, fix: String = "") {
        self.thing = thing
        self.cause = cause
        self.fix = fix
    }

    /// A file operation on `path` that failed.
    static func file(_ path: String, _ cause: String, fix: String = "") -> ControllerError {
        ControllerError(thing: path, cause: cause, fix: fix)
    }
}

/// Runs configured commands (argv, no shell): e.g. `["systemctl", "stop", "etcd"]`. A stop's ticket is its command's
/// pid and kernel start time: the stop is pending while that very process runs (it outlives a daemon that dies).
public struct CommandController: MemberController {
    public let stopCommand: [String]
    public let startCommand: [String]
    public let statusCommand: [String]?
    public let timeout: Duration

    public init(stop: [String], start: [String], status: [String]?, timeout: Duration = .seconds(60)) {
        stopCommand = stop
        startCommand = start
        statusCommand = status
        self.timeout = timeout
    }

    public func stop(issued: @escaping @Sendable (String) -> Void) async throws {
        try await run(stopCommand, "stop") { pid in
            if let start = ProcessTicket.startTime(pid) { issued(ProcessTicket(pid: pid, startTime: start).text) }
        }
    }

    public func start() async throws { try await run(startCommand, "start", started: nil) }

    public func process() async -> ProcessState {
        guard let s = statusCommand else { return .unknown }
        guard let r = try? await Command.run(s, timeout: .seconds(10)) else { return .unknown }
        return r.succeeded ? .running : .stopped
    }

    public func stopPending(ticket: String?) async -> Bool? {
        guard let ticket, let t = ProcessTicket(ticket) else { return nil }
        return ProcessTicket.startTime(t.pid) == t.startTime
    }

    private func run(_ argv: [String], _ what: String, started: (@Sendable (Int32) -> Void)?) async throws {
        let r: Command.Result
        do { r = try await Command.run(argv, timeout: timeout, started: started) } catch {
            throw ControllerError(thing: "\(what) member", cause: "\(error)", fix: Self.fix(what))
        }
        guard r.succeeded else {
            throw ControllerError(thing: "\(what) member", cause: r.summary, fix: Self.fix(what))
        }
    }

    static func fix(_ what: String) -> String {
        "check controller.\(what) in the config, and run it by hand as the daemon's user"
    }
}

/// A process named by its pid and its start time in clock ticks since boot (`/proc/PID/stat` field 22): a pid that
/// was reused by another process does not match.
struct ProcessTicket: Equatable {
    let pid: Int32
    let startTime: UInt64
    var text: String { "pid:\(pid):\(startTime)" }

    init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }
    init?(_ text: String) {
        let p = text.split(separator: ":")
        guard p.count == 3, p[0] == "pid", let pid = Int32(p[1]), let st = UInt64(p[2]) else { return nil }
        self.init(pid: pid, startTime: st)
    }

    /// The start time of a live (not zombie) process, nil when there is none with that pid.
    static func startTime(_ pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)": state is field 3, starttime field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z" else { return nil }
        return UInt64(fields[19])
    }
}

/// Picks the controller for a configuration.
public enum MemberControllers {
    public static func make(_ c: Config.Controller) throws -> any MemberController {
        switch c {
        case let .command(stop, start, status):
            return CommandController(stop: stop, start: start, status: status)
        case let .systemd(unit):
            return SystemdController(unit: unit)
        }
    }
}

/// Controls the member's systemd unit over D-Bus: StopUnit/StartUnit, each waiting for its job's result (a stop job
/// is done only once the unit's processes have exited). A stop's ticket is its job: pending while systemd has it.
public struct SystemdController: MemberController {
    public let unit: String
    let manager: UnitManager

    public init(unit: String, manager: UnitManager = UnitManager()) {
        self.unit = unit
        self.manager = manager
    }

    public func stop(issued: @escaping @Sendable (String) -> Void) async throws {
        do { _ = try await manager.perform(.stop, unit: unit, queued: { issued("job:" + $0) }) } catch {
            throw ControllerError(thing: "stop member", cause: "\(error)", fix: fix)
        }
    }

    public func start() async throws {
        do { _ = try await manager.perform(.start, unit: unit) } catch {
            throw ControllerError(thing: "start member", cause: "\(error)", fix: fix)
        }
    }

    /// Where systemd says why its job failed.
    var fix: String { "see systemctl status \(unit) and journalctl -u \(unit)" }

    public func process() async -> ProcessState {
        guard let state = try? await manager.activeState(unit: unit) else { return .unknown }
        switch state {
        case "active", "activating", "reloading", "deactivating": return .running
        case "inactive", "failed": return .stopped
        default: return .unknown
        }
    }

    public func stopPending(ticket: String?) async -> Bool? {
        guard let ticket, ticket.hasPrefix("job:") else { return nil }
        return try? await manager.jobExists(String(ticket.dropFirst(4)))
    }
}
