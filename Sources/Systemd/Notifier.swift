import CSystemd

/// sd_notify(3): READY, STATUS, WATCHDOG, RELOADING, STOPPING. A silent no-op when NOTIFY_SOCKET is unset
/// (not started by systemd), so the daemon calls it unconditionally.
public struct Notifier: Sendable {
    public init() {}

    @discardableResult
    public func send(_ fields: String) -> Bool { sd_notify(0, fields) > 0 }

    public func ready(status: String? = nil) { send("READY=1" + (status.map { "\nSTATUS=\(Self.oneLine($0))" } ?? "")) }
    public func status(_ line: String) { send("STATUS=\(Self.oneLine(line))") }
    public func watchdog() { send("WATCHDOG=1") }
    public func reloading() { send("RELOADING=1") }
    public func stopping() { send("STOPPING=1") }

    /// The watchdog interval systemd expects pings within, or nil when the watchdog is off for this process.
    public func watchdogInterval() -> Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec))
    }

    static func oneLine(_ s: String) -> String { s.replacingOccurrences(of: "\n", with: " ") }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
