import Exec
import Foundation
import Systemd

/// Stops and starts the local etcd member.
///
/// Contract: `stop()` returns only once the member's process has exited (not merely closed its port: a 3.5 member
/// lingers about a second, a leader that cannot hand over up to ~7 s), and throws when it could not be stopped.
/// `start()` returns once the start was issued; verification is the caller's. `isRunning()` answers without side effects.
public protocol MemberController: Sendable {
    func stop() async throws
    func start() async throws
    func isRunning() async -> Bool?
}

public struct ControllerError: Error, CustomStringConvertible, Sendable {
    public let detail: String
    public var description: String { detail }
}

/// Runs configured commands (argv, no shell): e.g. `["systemctl", "stop", "etcd"]`.
public struct CommandController: MemberController {
    public let stopCommand: [String]
    public let startCommand: [String]
    public let statusCommand: [String]?
    public let timeout: Duration

    public init(stop: [String], start: [String], status: [String]?, timeout: Duration = .seconds(60)) {
        stopCommand = stop; startCommand = start; statusCommand = status; self.timeout = timeout
    }

    public func stop() async throws { try await run(stopCommand, "stop") }
    public func start() async throws { try await run(startCommand, "start") }

    public func isRunning() async -> Bool? {
        guard let s = statusCommand else { return nil }
        return (try? await Command.run(s, timeout: .seconds(10)))?.succeeded
    }

    private func run(_ argv: [String], _ what: String) async throws {
        let r: Command.Result
        do { r = try await Command.run(argv, timeout: timeout) } catch {
            throw ControllerError(detail: "\(what) member: \(error)")
        }
        guard r.succeeded else { throw ControllerError(detail: "\(what) member: \(r.summary)") }
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
/// is done only once the unit's processes have exited).
public struct SystemdController: MemberController {
    public let unit: String
    let manager: UnitManager

    public init(unit: String, manager: UnitManager = UnitManager()) { self.unit = unit; self.manager = manager }

    public func stop() async throws {
        do { try await manager.perform(.stop, unit: unit) } catch { throw ControllerError(detail: "stop member: \(error)") }
    }

    public func start() async throws {
        do { try await manager.perform(.start, unit: unit) } catch { throw ControllerError(detail: "start member: \(error)") }
    }

    public func isRunning() async -> Bool? {
        guard let state = try? await manager.activeState(unit: unit) else { return nil }
        return state == "active" || state == "activating" || state == "reloading"
    }
}
