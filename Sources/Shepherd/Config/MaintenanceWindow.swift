import Foundation

/// One weekly maintenance window of `maintenance.windows`: on each of `days`, from `start` (local time in `timeZone`)
/// for `duration` seconds. Its occurrences come from the system's tzdata through Foundation's calendar: a start that
/// does not exist on a day (the hour skipped when clocks spring forward) opens at the first instant after the gap, a
/// start that happens twice (clocks falling back) opens at the first; a window always lasts `duration` seconds of
/// elapsed time.
public struct MaintenanceWindow: Sendable, Hashable {
    /// Weekdays as Foundation numbers them: 1 = Sunday … 7 = Saturday.
    public var weekdays: [Int]
    public var hour: Int
    public var minute: Int
    public var duration: Double
    public var timeZone: TimeZone
    /// The zone as the config names it ("UTC" stays "UTC"; Foundation would call it "GMT").
    public var zoneName: String

    static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let fullNames = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    /// 1…7 for "Tue" or "tuesday" (any case); nil for anything else.
    static func weekday(_ name: String) -> Int? {
        let n = name.lowercased()
        return (fullNames.firstIndex(of: n) ?? dayNames.firstIndex { $0.lowercased() == n }).map { $0 + 1 }
    }

    /// "Tue 02:00 Europe/Berlin": a weekday stands for the occurrence that opens on it.
    func label(weekday: Int) -> String {
        "\(Self.dayNames[weekday - 1]) \(String(format: "%02d:%02d", hour, minute)) \(zoneName)"
    }

    /// "Tue,Thu 02:00 Europe/Berlin for 3 h": the window as configured.
    public var summary: String {
        "\(weekdays.map { Self.dayNames[$0 - 1] }.joined(separator: ",")) \(String(format: "%02d:%02d", hour, minute)) "
            + "\(zoneName) for \(MaintenanceWindowDuration.format(duration))"
    }

    /// Every opening of this window after `from` and before `until` (Unix seconds), each with its label.
    func openings(after from: Double, before until: Double) -> [(start: Double, label: String)] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var out: [(start: Double, label: String)] = []
        for day in weekdays {
            var t = Date(timeIntervalSince1970: from)
            let wanted = DateComponents(hour: hour, minute: minute, weekday: day)
            while let next = calendar.nextDate(
                after: t, matching: wanted, matchingPolicy: .nextTime, repeatedTimePolicy: .first),
                next.timeIntervalSince1970 < until
            {
                out.append((next.timeIntervalSince1970, label(weekday: day)))
                // Past this day's repeated hour too, or a falling-back day would yield its second 02:30.
                t = next.addingTimeInterval(2 * 3600)
            }
        }
        return out.sorted { $0.start < $1.start }
    }
}

/// Durations as the config writes them: "90m", "3h", "1h30m", "45s", "2d".
public enum MaintenanceWindowDuration {
    public static func parse(_ s: String) -> Double? {
        var total = 0.0, digits = "", sawUnit = false
        for c in s {
            if c.isASCII, c.isNumber {
                digits.append(c)
                continue
            }
            guard let n = Double(digits), let unit = ["s": 1.0, "m": 60, "h": 3600, "d": 86400][String(c)] else {
                return nil
            }
            total += n * unit
            digits = ""
            sawUnit = true
        }
        return digits.isEmpty && sawUnit ? total : nil
    }

    public static func format(_ seconds: Double) -> String {
        let s = Int(seconds)
        let parts = [(s / 86400, "d"), (s % 86400 / 3600, "h"), (s % 3600 / 60, "m"), (s % 60, "s")]
        let text = parts.filter { $0.0 > 0 }.map { "\($0.0)\($0.1)" }.joined()
        return text.isEmpty ? "0s" : text
    }
}
