import Foundation
import Rollout

extension Config {
    /// `maintenance.windows`: weekly windows outside which no member is stopped (gate 8). Each is
    /// `{"days": ["Tue", "Thu"], "start": "02:00", "duration": "3h", "timeZone": "Europe/Berlin"}`; the list is
    /// checked as a whole too (no two windows overlap, each holds a member's sequence). Absent or empty: any time.
    static func maintenance(_ r: Reader, timing: Timing, now: Double) throws -> MaintenanceSchedule? {
        guard r.has("maintenance") else { return nil }
        let m = try r.object("maintenance")
        try m.allow(["windows"])
        guard case let .array(items)? = m.o["windows"] else {
            throw Invalid(key: "maintenance.windows", problem: "must be an array of windows")
        }
        let windows = try items.enumerated().map { i, item in
            guard case let .object(o) = item else {
                throw Invalid(
                    key: "maintenance.windows[\(i)]",
                    problem:
                        #"must be an object like {"days": ["Tue"], "start": "02:00", "duration": "3h", "timeZone": "UTC"}"#
                )
            }
            return try window(Reader(o, path: "maintenance.windows[\(i)]"), timing: timing)
        }
        guard !windows.isEmpty else { return nil }
        let schedule = MaintenanceSchedule(windows: windows)
        if let overlap = schedule.overlap(from: now) { throw Invalid(key: "maintenance.windows", problem: overlap) }
        return schedule
    }

    static func window(_ w: Reader, timing: Timing) throws -> MaintenanceWindow {
        try w.allow(["days", "start", "duration", "timeZone"])
        let days = try w.stringArray("days").map { day -> Int in
            guard let i = MaintenanceWindow.weekday(day) else {
                throw Invalid(key: w.key("days"), problem: "'\(day)' is not a weekday (Mon, Tue, … Sun)")
            }
            return i
        }
        guard !days.isEmpty else {
            throw Invalid(key: w.key("days"), problem: "names no day", fix: "list at least one")
        }
        guard Set(days).count == days.count else {
            throw Invalid(key: w.key("days"), problem: "names a day twice")
        }
        let start = try w.string("start")
        let hm = start.split(separator: ":", omittingEmptySubsequences: false)
        guard hm.count == 2, hm.allSatisfy({ $0.count == 2 }), let hour = Int(hm[0]), let minute = Int(hm[1]),
            (0...23).contains(hour), (0...59).contains(minute)
        else {
            throw Invalid(key: w.key("start"), problem: "'\(start)' is not a local time HH:MM (like 02:00)")
        }
        let text = try w.string("duration")
        guard let duration = MaintenanceWindowDuration.parse(text) else {
            throw Invalid(key: w.key("duration"), problem: "'\(text)' is not a duration (like 90m, 3h, 1h30m)")
        }
        guard duration > 0 else { throw Invalid(key: w.key("duration"), problem: "is zero: a window must last") }
        guard duration <= MaintenanceSchedule.longest else {
            throw Invalid(key: w.key("duration"), problem: "'\(text)' is longer than a week")
        }
        let need = MaintenanceView.needed(timing)
        guard duration >= need else {
            throw Invalid(
                key: w.key("duration"),
                problem: "'\(text)' is shorter than one member's sequence: verifyTimeoutSeconds + settleSeconds = "
                    + "\(Int(need)) s must fit in a window")
        }
        let zone = try w.string("timeZone")
        guard let tz = TimeZone(identifier: zone) else {
            throw Invalid(
                key: w.key("timeZone"),
                problem: "unknown time zone '\(zone)'",
                fix: "use an IANA name such as Europe/Berlin or UTC (see /usr/share/zoneinfo; the tzdata package)")
        }
        return MaintenanceWindow(
            weekdays: days.sorted(), hour: hour, minute: minute, duration: duration, timeZone: tz, zoneName: zone)
    }
}
