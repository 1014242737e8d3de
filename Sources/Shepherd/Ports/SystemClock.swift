import Foundation

/// Production time: `now()` is CLOCK_BOOTTIME (monotonic, counts suspend, unaffected by NTP steps and shared by
/// every process of this boot, so a restarted daemon can compare it with what its journal recorded).
public struct SystemClock: ShepherdClock {
    public init() {}
    public func now() -> Double { Self.boottime() }
    public func wallNow() -> Double { Date().timeIntervalSince1970 }
    public func sleep(seconds: Double) async throws { try await Task.sleep(for: .milliseconds(Int64(seconds * 1000))) }

    public static func boottime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_BOOTTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// This boot's identity: monotonic times in the journal mean nothing after a reboot.
    public static let bootID: String = {
        let raw = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? ""
        return raw.trimmingCharacters(in: .whitespacesAndNewlines)
    }()
}
