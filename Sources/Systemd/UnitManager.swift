import CSystemd
import Dispatch
import Explained
import Foundation

/// Stop, start and restart a systemd unit over D-Bus (sd-bus), waiting for the job's JobRemoved result.
///
/// sd-bus objects are single-threaded: every bus connection lives and dies inside one job on this manager's serial
/// queue, and nothing bus-related escapes it. Each operation opens its own connection to the system bus, subscribes,
/// installs the JobRemoved match *before* the method call (a fast job could finish before the call returns), and
/// pumps the bus until its job is removed or the deadline passes.
public final class UnitManager: Sendable {
    public enum Operation: String, Sendable { case stop = "StopUnit", start = "StartUnit", restart = "RestartUnit" }

    /// A job or a D-Bus call on a unit that failed: the unit is its `thing`.
    public struct Failure: ExplainedError {
        public let unit: String
        public let detail: String
        public var thing: String { unit }
        public var cause: String { detail }
        public var fix: String { "" }
    }

    private let queue = DispatchQueue(label: "etcd-shepherd.sd-bus")
    /// Empty: the system bus. Tests may point at another bus address (`unix:path=…`).
    let address: String?

    public init(address: String? = nil) { self.address = address }

    /// Runs the operation and returns the job result ("done"); throws on any other result ("failed", "timeout",
    /// "canceled", "dependency", "skipped"), on a D-Bus error (named), or when the deadline passes.
    @discardableResult
    /// `queued` is called with the job's object path as soon as systemd queued it (before the wait for its result).
    public func perform(
        _ op: Operation, unit: String, timeout: Duration = .seconds(90),
        queued: (@Sendable (String) -> Void)? = nil
    ) async throws -> String {
        try await onQueue { try self.performSync(op, unit: unit, timeout: timeout, queued: queued) }
    }

    /// Whether the job at `path` (from `perform`'s `queued`) is still queued or running: its object exists.
    public func jobExists(_ path: String) async throws -> Bool {
        try await onQueue { try self.jobExistsSync(path) }
    }

    /// The unit's ActiveState ("active", "inactive", "failed", "activating", "deactivating"…).
    public func activeState(unit: String) async throws -> String {
        try await onQueue { try self.activeStateSync(unit: unit) }
    }

    func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { cont in
            queue.async { cont.resume(with: Result { try body() }) }
        }
    }

    // MARK: synchronous, on the queue only

    fileprivate func openBus(_ what: String) throws -> OpaquePointer { try open(what) }

    func open(_ unit: String) throws -> OpaquePointer {
        var bus: OpaquePointer?
        let r: Int32
        if let address {
            var b: OpaquePointer?
            guard sd_bus_new(&b) >= 0, let nb = b else { throw Failure(unit: unit, detail: "sd_bus_new failed") }
            sd_bus_set_address(nb, address)
            sd_bus_set_bus_client(nb, 1)
            r = sd_bus_start(nb)
            bus = nb
        } else {
            r = sd_bus_open_system(&bus)
        }
        guard r >= 0, let bus else {
            throw Failure(unit: unit, detail: "cannot connect to the system bus: \(String(cString: strerror(-r)))")
        }
        return bus
    }

    func call(
        _ bus: OpaquePointer, _ unit: String, path: String = "/org/freedesktop/systemd1",
        interface: String = "org.freedesktop.systemd1.Manager", member: String, args: [String],
        timeoutUsec: UInt64
    ) throws -> OpaquePointer? {
        var msg: OpaquePointer?
        guard sd_bus_message_new_method_call(bus, &msg, "org.freedesktop.systemd1", path, interface, member) >= 0,
            let msg
        else {
            throw Failure(unit: unit, detail: "cannot build the \(member) call")
        }
        defer { sd_bus_message_unref(msg) }
        for a in args {
            let r = a.withCString { sd_bus_message_append_basic(msg, CChar(UInt8(ascii: "s")), $0) }
            guard r >= 0 else { throw Failure(unit: unit, detail: "cannot append \(a) to \(member)") }
        }
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var reply: OpaquePointer?
        let r = sd_bus_call(bus, msg, timeoutUsec, &error, &reply)
        guard r >= 0 else {
            let name = error.name.map { String(cString: $0) } ?? "errno \(-r)"
            let message = error.message.map { String(cString: $0) } ?? String(cString: strerror(-r))
            throw Failure(unit: unit, detail: "\(member) failed: \(name): \(message)")
        }
        return reply
    }

    static func readObjectPath(_ reply: OpaquePointer?) -> String? {
        guard let reply else { return nil }
        var p: UnsafePointer<CChar>?
        guard sd_bus_message_read_basic(reply, CChar(UInt8(ascii: "o")), &p) >= 0, let p else { return nil }
        return String(cString: p)
    }

    private func performSync(
        _ op: Operation, unit: String, timeout: Duration, queued: (@Sendable (String) -> Void)?
    ) throws -> String {
        let bus = try open(unit)
        defer { sd_bus_flush_close_unref(bus) }
        let ctx = JobWatch()
        let userdata = Unmanaged.passRetained(ctx)
        defer { userdata.release() }
        var slot: OpaquePointer?
        let mr = sd_bus_match_signal(
            bus, &slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
            "org.freedesktop.systemd1.Manager", "JobRemoved",
            { m, data, _ in
                guard let m, let data else { return 0 }
                var id: UInt32 = 0
                var job: UnsafePointer<CChar>?, unit: UnsafePointer<CChar>?, result: UnsafePointer<CChar>?
                guard sd_bus_message_read_basic(m, CChar(UInt8(ascii: "u")), &id) >= 0,
                    sd_bus_message_read_basic(m, CChar(UInt8(ascii: "o")), &job) >= 0,
                    sd_bus_message_read_basic(m, CChar(UInt8(ascii: "s")), &unit) >= 0,
                    sd_bus_message_read_basic(m, CChar(UInt8(ascii: "s")), &result) >= 0,
                    let job, let result
                else { return 0 }
                Unmanaged<JobWatch>.fromOpaque(data).takeUnretainedValue().results[String(cString: job)] = String(
                    cString: result)
                return 0
            }, userdata.toOpaque())
        guard mr >= 0 else {
            throw Failure(unit: unit, detail: "cannot watch JobRemoved: \(String(cString: strerror(-mr)))")
        }
        defer { sd_bus_slot_unref(slot) }
        let usec = UInt64(max(1, timeout.components.seconds)) * 1_000_000
        sd_bus_message_unref(try call(bus, unit, member: "Subscribe", args: [], timeoutUsec: usec))
        let reply = try call(bus, unit, member: op.rawValue, args: [unit, "replace"], timeoutUsec: usec)
        defer { sd_bus_message_unref(reply) }
        guard let job = Self.readObjectPath(reply) else {
            throw Failure(unit: unit, detail: "\(op.rawValue) returned no job")
        }
        queued?(job)
        let deadline = DispatchTime.now() + .nanoseconds(Int(usec * 1000))
        while ctx.results[job] == nil {
            let r = sd_bus_process(bus, nil)
            if r < 0 {
                throw Failure(
                    unit: unit, detail: "bus error while waiting for \(job): \(String(cString: strerror(-r)))")
            }
            if r > 0 { continue }
            let now = DispatchTime.now()
            guard now < deadline else {
                throw Failure(unit: unit, detail: "\(op.rawValue) job \(job) not finished within \(timeout)")
            }
            _ = sd_bus_wait(bus, (deadline.uptimeNanoseconds - now.uptimeNanoseconds) / 1000)
        }
        let result = ctx.results[job]!
        guard result == "done" else {
            throw Failure(unit: unit, detail: "\(op.rawValue) job finished with result '\(result)'")
        }
        return result
    }

    private func activeStateSync(unit: String) throws -> String {
        let bus = try open(unit)
        defer { sd_bus_flush_close_unref(bus) }
        return try unitProperty(bus, unit, path: try unitPath(bus, unit), "ActiveState")
    }

    /// The object path of `unit` (LoadUnit: systemd answers for any name, with LoadState not-found for one it lacks).
    func unitPath(_ bus: OpaquePointer, _ unit: String) throws -> String {
        let reply = try call(bus, unit, member: "LoadUnit", args: [unit], timeoutUsec: 10_000_000)
        defer { sd_bus_message_unref(reply) }
        guard let path = Self.readObjectPath(reply) else {
            throw Failure(unit: unit, detail: "LoadUnit returned no path")
        }
        return path
    }

    /// A string property of the unit's `org.freedesktop.systemd1.Unit` interface (ActiveState, LoadState…).
    func unitProperty(_ bus: OpaquePointer, _ unit: String, path: String, _ name: String) throws -> String {
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var value: UnsafeMutablePointer<CChar>?
        let r = sd_bus_get_property_string(
            bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit", name, &error, &value)
        guard r >= 0, let value else {
            throw Failure(
                unit: unit,
                detail: "\(name): \(error.message.map { String(cString: $0) } ?? String(cString: strerror(-r)))")
        }
        defer { free(value) }
        return String(cString: value)
    }
}

extension UnitManager {
    fileprivate func jobExistsSync(_ path: String) throws -> Bool {
        let bus = try openBus(path)
        defer { sd_bus_flush_close_unref(bus) }
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var value: UnsafeMutablePointer<CChar>?
        let r = sd_bus_get_property_string(
            bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Job", "State", &error, &value)
        if r >= 0 {
            free(value)
            return true
        }
        let name = error.name.map { String(cString: $0) } ?? ""
        // A finished job's object is gone: systemd answers UnknownObject (or UnknownMethod on older versions).
        if name.contains("UnknownObject") || name.contains("UnknownMethod") || name.contains("NoSuchJob")
            || name.contains("UnknownInterface")
        {
            return false
        }
        throw Failure(
            unit: path,
            detail: "job State: \(error.message.map { String(cString: $0) } ?? String(cString: strerror(-r)))")
    }
}

/// JobRemoved results by job path; only touched on the manager's queue (inside sd_bus_process).
private final class JobWatch: @unchecked Sendable {
    var results: [String: String] = [:]
}
