import CSystemd
import Foundation

/// What a service unit runs, as systemd has loaded it: each ExecStart= command line, Environment= and
/// EnvironmentFile=, read as typed D-Bus properties (`org.freedesktop.systemd1.Service`) — an argument or a value with
/// spaces stays one, as systemd will pass it (the text of `systemctl show` cannot say where one ends).
public struct UnitServiceSettings: Sendable, Equatable {
    /// argv of each ExecStart= line (argv[0] the program as the unit names it).
    public var execStart: [[String]]
    /// `KEY=VALUE`, in order.
    public var environment: [String]
    /// Paths of EnvironmentFile= lines (a leading `-`, "missing is fine", is not part of the path).
    public var environmentFiles: [String]

    public init(execStart: [[String]] = [], environment: [String] = [], environmentFiles: [String] = []) {
        self.execStart = execStart
        self.environment = environment
        self.environmentFiles = environmentFiles
    }
}

extension UnitManager {
    /// The unit's ExecStart, Environment and EnvironmentFiles properties.
    public func serviceSettings(unit: String) async throws -> UnitServiceSettings {
        try await onQueue { try self.serviceSettingsSync(unit: unit) }
    }

    private func serviceSettingsSync(unit: String) throws -> UnitServiceSettings {
        let bus = try open(unit)
        defer { sd_bus_flush_close_unref(bus) }
        let path = try unitPath(bus, unit)
        // LoadUnit answers for a unit that does not exist too: with LoadState not-found and empty properties.
        let loadState = try unitProperty(bus, unit, path: path, "LoadState")
        guard loadState == "loaded" else {
            throw Failure(unit: unit, detail: "systemd has no such unit loaded (LoadState \(loadState))")
        }
        var settings = UnitServiceSettings()
        try property(bus, unit, path, "ExecStart", "a(sasbttttuii)") { m in
            try Self.forEach(m, "(sasbttttuii)") {
                _ = try Self.string(m)
                settings.execStart.append(try Self.strings(m))
                guard sd_bus_message_skip(m, "bttttuii") >= 0 else { throw Self.unreadable("ExecStart") }
            }
        }
        try property(bus, unit, path, "Environment", "as") { m in settings.environment = try Self.strings(m) }
        try property(bus, unit, path, "EnvironmentFiles", "a(sb)") { m in
            try Self.forEach(m, "(sb)") {
                settings.environmentFiles.append(try Self.string(m))
                guard sd_bus_message_skip(m, "b") >= 0 else { throw Self.unreadable("EnvironmentFiles") }
            }
        }
        return settings
    }

    /// Reads one property of the unit's Service interface, of D-Bus type `type`, with `read`.
    private func property(
        _ bus: OpaquePointer, _ unit: String, _ path: String, _ name: String, _ type: String,
        _ read: (OpaquePointer) throws -> Void
    ) throws {
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var reply: OpaquePointer?
        let r = sd_bus_get_property(
            bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Service", name, &error, &reply, type)
        guard r >= 0, let reply else {
            throw Failure(
                unit: unit,
                detail: "\(name): \(error.message.map { String(cString: $0) } ?? String(cString: strerror(-r)))")
        }
        defer { sd_bus_message_unref(reply) }
        try read(reply)
    }

    /// Each element of the array of structs `contents` ("(sb)") at the message's position: `body` reads one.
    private static func forEach(_ m: OpaquePointer, _ contents: String, _ body: () throws -> Void) throws {
        guard sd_bus_message_enter_container(m, CChar(UInt8(ascii: "a")), contents) >= 0 else {
            throw unreadable(contents)
        }
        let inner = String(contents.dropFirst().dropLast())
        while true {
            let r = sd_bus_message_enter_container(m, CChar(UInt8(ascii: "r")), inner)
            guard r >= 0 else { throw unreadable(contents) }
            if r == 0 { break }
            try body()
            guard sd_bus_message_exit_container(m) >= 0 else { throw unreadable(contents) }
        }
        guard sd_bus_message_exit_container(m) >= 0 else { throw unreadable(contents) }
    }

    private static func string(_ m: OpaquePointer) throws -> String {
        var p: UnsafePointer<CChar>?
        guard sd_bus_message_read_basic(m, CChar(UInt8(ascii: "s")), &p) >= 0, let p else { throw unreadable("s") }
        return String(cString: p)
    }

    private static func strings(_ m: OpaquePointer) throws -> [String] {
        var list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        guard sd_bus_message_read_strv(m, &list) >= 0 else { throw unreadable("as") }
        guard let list else { return [] }
        defer {
            var i = 0
            while let s = list[i] {
                free(s)
                i += 1
            }
            free(list)
        }
        var out: [String] = []
        var i = 0
        while let s = list[i] {
            out.append(String(cString: s))
            i += 1
        }
        return out
    }

    private static func unreadable(_ what: String) -> Failure {
        Failure(unit: "systemd", detail: "a property of type \(what) could not be read")
    }
}
