import Foundation
import Rollout
import Testing

@testable import Shepherd

/// `maintenance.windows`: parsed with clear errors, opened and closed by the system's tzdata (DST included), and
/// placed member by member for `plan`.
@Suite struct MaintenanceWindowTests {
    func config(_ windows: String) throws -> Config {
        try Config.parse(
            Data(
                ConfigTests.base.replacingOccurrences(
                    of: #""controller""#, with: #""maintenance": {"windows": \#(windows)}, "controller""#
                ).utf8))
    }

    func problem(_ windows: String) -> (key: String, problem: String)? {
        do {
            _ = try config(windows)
            return nil
        } catch let e as Config.Invalid {
            return (e.key, "\(e)")
        } catch { return ("?", "\(error)") }
    }

    static func unix(_ iso: String) -> Double { ISO8601DateFormatter().date(from: iso)!.timeIntervalSince1970 }

    @Test func aWindowParsesAndOpensByItsZone() throws {
        let c = try config(
            #"[{"days": ["Tue", "thursday"], "start": "02:00", "duration": "3h", "timeZone": "Europe/Berlin"}]"#)
        let s = try #require(c.maintenance)
        #expect(s.windows.first?.summary == "Tue,Thu 02:00 Europe/Berlin for 3h")
        // Saturday 2026-12-05 06:00 UTC: closed; Tuesday 02:00 CET is 01:00 UTC, 67 h away.
        let sat = s.view(at: Self.unix("2026-12-05T06:00:00Z"))
        #expect(sat.current == nil)
        #expect(sat.next == .init(label: "Tue 02:00 Europe/Berlin", seconds: 67 * 3600))
        // Tuesday 03:30 CET: open, 1 h 30 m left; the next one is Thursday's.
        let tue = s.view(at: Self.unix("2026-12-08T02:30:00Z"))
        #expect(tue.current == .init(label: "Tue 02:00 Europe/Berlin", seconds: 5400))
        #expect(tue.next.label == "Thu 02:00 Europe/Berlin" && tue.next.seconds == 46 * 3600 + 1800)
        #expect(try config("[]").maintenance == nil)
    }

    /// Spring forward in Berlin (2027-03-28, 02:00 → 03:00): a window at 02:30 opens at 03:00 CEST, the first instant
    /// after the gap, and keeps its length. Falling back (2027-10-31, 02:00–03:00 twice): it opens at the first 02:30.
    @Test func daylightSavingTransitions() throws {
        let s = try #require(
            try config(#"[{"days": ["Sun"], "start": "02:30", "duration": "2h", "timeZone": "Europe/Berlin"}]"#)
                .maintenance)
        let spring = s.view(at: Self.unix("2027-03-28T00:30:00Z"))
        #expect(spring.current == nil && spring.next.seconds == 1800, "\(spring)")
        let inSpring = s.view(at: Self.unix("2027-03-28T01:00:00Z"))
        #expect(inSpring.current?.seconds == 7200, "\(inSpring)")
        let fall = s.view(at: Self.unix("2027-10-31T00:00:00Z"))
        #expect(fall.current == nil && fall.next.seconds == 1800, "\(fall)")
        // Open from 00:30 UTC (the first 02:30 CEST) for 2 h of elapsed time, through the repeated hour.
        let inFall = s.view(at: Self.unix("2027-10-31T02:00:00Z"))
        #expect(inFall.current?.seconds == 1800, "\(inFall)")
    }

    @Test func badWindowsAreRefusedWithTheKeyAndTheFix() {
        func check(_ windows: String, key: String, says: String) {
            // One window alone is written without its list.
            let p = problem(windows.hasPrefix(#"{"days""#) ? "[\(windows)]" : windows)
            #expect(p?.key == key && p?.problem.contains(says) == true, "\(windows): \(String(describing: p))")
        }
        let w = #"{"days": ["Tue"], "start": "02:00", "duration": "3h", "timeZone": "UTC"}"#
        check(
            w.replacingOccurrences(of: "UTC", with: "Europe/Berln"), key: "maintenance.windows[0].timeZone",
            says: "unknown time zone 'Europe/Berln'")
        check(w.replacingOccurrences(of: "3h", with: "0m"), key: "maintenance.windows[0].duration", says: "is zero")
        check(
            w.replacingOccurrences(of: "3h", with: "1m"), key: "maintenance.windows[0].duration",
            says: "verifyTimeoutSeconds + settleSeconds = 90 s")
        check(
            w.replacingOccurrences(of: "3h", with: "three hours"), key: "maintenance.windows[0].duration",
            says: "not a duration")
        check(w.replacingOccurrences(of: "3h", with: "8d"), key: "maintenance.windows[0].duration", says: "a week")
        check(w.replacingOccurrences(of: "02:00", with: "2am"), key: "maintenance.windows[0].start", says: "HH:MM")
        check(w.replacingOccurrences(of: "02:00", with: "24:00"), key: "maintenance.windows[0].start", says: "HH:MM")
        check(w.replacingOccurrences(of: "Tue", with: "Tues"), key: "maintenance.windows[0].days", says: "weekday")
        check(w.replacingOccurrences(of: #"["Tue"]"#, with: "[]"), key: "maintenance.windows[0].days", says: "no day")
        check(
            w.replacingOccurrences(of: "\"start\"", with: "\"begin\""), key: "maintenance.windows[0].begin",
            says: "unknown key")
        check("{}", key: "maintenance.windows", says: "array")
        check("[3]", key: "maintenance.windows[0]", says: "object")
        // Two windows that overlap, in different zones: Tue 02:00 UTC for 3 h and Tue 04:00 Europe/Berlin (03:00 UTC).
        let berlin = w.replacingOccurrences(of: "02:00", with: "04:00").replacingOccurrences(
            of: "UTC", with: "Europe/Berlin")
        check("[\(w), \(berlin)]", key: "maintenance.windows", says: "overlap")
        // One window overlapping its own next day.
        check(
            #"[{"days": ["Mon", "Tue"], "start": "02:00", "duration": "1d1h", "timeZone": "UTC"}]"#,
            key: "maintenance.windows", says: "overlap")
        // Back to back is no overlap.
        #expect(problem("[\(w), \(w.replacingOccurrences(of: "02:00", with: "05:00"))]") == nil)
    }

    /// `plan`: members in rollout order, each in the first window with room left for its sequence.
    @Test func placementFillsAWindowThenTheNext() throws {
        let s = try #require(
            try config(#"[{"days": ["Tue", "Thu"], "start": "02:00", "duration": "4m", "timeZone": "UTC"}]"#)
                .maintenance)
        var timing = Timing()
        timing.verifyTimeoutSeconds = 60
        timing.settleSeconds = 30
        let now = Self.unix("2026-12-05T06:00:00Z")
        // 240 s windows, 90 s needed, 100 s a member: two in Tuesday's (at 0 and 100 s), the third on Thursday.
        let placed = s.placement(
            members: ["s1", "s2", "s3"], now: now, need: MaintenanceView.needed(timing), perMember: 100)
        #expect(placed.map(\.0) == ["s1", "s2", "s3"])
        #expect(placed.map(\.1.label) == ["Tue 02:00 UTC", "Tue 02:00 UTC", "Thu 02:00 UTC"])
        // As `plan` says it (settle + 10 s a member): four fit in Tuesday's window, the fifth goes on Thursday.
        let lines = Shepherd.Plan.windows(s, order: ["s1", "s2", "s3", "s4", "s5"], now: now, timing: timing)
        #expect(lines.contains("  s4: in the window Tue 02:00 UTC (2026-12-08 02:00 UTC)"), "\(lines)")
        #expect(lines.contains("  s5: in the window Thu 02:00 UTC (2026-12-10 02:00 UTC)"), "\(lines)")
    }
}
