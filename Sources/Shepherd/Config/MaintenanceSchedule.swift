import Foundation
import Rollout
import Synchronization

/// `maintenance.windows` as a whole: which window is open at a wall-clock instant, which opens next, and in which one
/// each member of a rollout would be stopped. Weekly windows repeat, so every answer comes from the occurrences of a
/// few weeks around the instant asked about.
public struct MaintenanceSchedule: Sendable, Hashable {
    public var windows: [MaintenanceWindow]

    public init(windows: [MaintenanceWindow]) { self.windows = windows }

    /// One opening of a window: [start, end) in Unix seconds.
    public struct Occurrence: Sendable, Hashable {
        public var start: Double
        public var end: Double
        public var label: String
        /// The window's index in the config.
        public var window: Int
    }

    /// Longest window accepted: a week, after which it would overlap its own next opening.
    static let longest = 7 * 86400.0

    /// Every occurrence overlapping [from, until), in start order.
    public func occurrences(from: Double, until: Double) -> [Occurrence] {
        windows.enumerated().flatMap { i, w in
            w.openings(after: from - w.duration - 1, before: until).map {
                Occurrence(start: $0.start, end: $0.start + w.duration, label: $0.label, window: i)
            }
        }
        .filter { $0.end > from }
        .sorted { ($0.start, $0.window) < ($1.start, $1.window) }
    }

    /// How far ahead an answer looks: weekly windows open again within a week (two, across a DST change).
    static let horizon = 16 * 86400.0

    /// The windows at `now` (Unix seconds), as the core's gate 8 reads them.
    public func view(at now: Double) -> MaintenanceView {
        Self.view(at: now, near: occurrences(from: now, until: now + Self.horizon))
    }

    /// The view at `now` from occurrences that cover [now, now + horizon).
    static func view(at now: Double, near all: [Occurrence]) -> MaintenanceView {
        let near = all.filter { $0.end > now }
        let open = near.filter { $0.start <= now && now < $0.end }.max { $0.end < $1.end }
        // Weekly windows always open again within a week (two, across a DST change): never empty.
        let next = near.first { $0.start > now } ?? Occurrence(start: now, end: now, label: "?", window: 0)
        return MaintenanceView(
            current: open.map { .init(label: $0.label, seconds: $0.end - now) },
            next: .init(label: next.label, seconds: next.start - now))
    }

    /// The occurrences of a few weeks, computed once (a calendar walk per window and weekday) and reused while the
    /// instants asked about stay inside them: the daemon asks every tick; a wall clock stepped outside, or a reloaded
    /// schedule, computes them again.
    public struct Cache: Sendable {
        var schedule: MaintenanceSchedule?
        var from = 0.0
        var until = 0.0
        var list: [Occurrence] = []
        public init() {}

        public mutating func view(_ s: MaintenanceSchedule, at now: Double) -> MaintenanceView {
            if now < from || now + horizon > until || s != schedule {
                // From midnight UTC a day back to two days past the horizon: a clock stepped back a little, or a few
                // days of ticks, reuse them; day-aligned, so every daemon of a process shares one computation.
                let day = (now / 86400).rounded(.down) * 86400
                (schedule, from, until) = (s, day - 86400, day + horizon + 2 * 86400)
                list = Self.computed(s, from: from, until: until)
            }
            return MaintenanceSchedule.view(at: now, near: list)
        }

        private struct Key: Hashable {
            let schedule: MaintenanceSchedule
            let from: Double
        }
        private static let shared = Mutex<[Key: [Occurrence]]>([:])

        static func computed(_ s: MaintenanceSchedule, from: Double, until: Double) -> [Occurrence] {
            let key = Key(schedule: s, from: from)
            if let known = shared.withLock({ $0[key] }) { return known }
            let list = s.occurrences(from: from, until: until)
            shared.withLock {
                if $0.count >= 16 { $0.removeAll() }
                $0[key] = list
            }
            return list
        }
    }

    /// The first two windows that overlap in the eight weeks from `now` (DST moves windows in different zones against
    /// each other), as a config error's text; nil when none do.
    func overlap(from now: Double) -> String? {
        let all = occurrences(from: now, until: now + 56 * 86400)
        for (a, b) in zip(all, all.dropFirst()) where b.start < a.end {
            let when = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: b.start))
            return "windows[\(a.window)] (\(a.label)) and windows[\(b.window)] (\(b.label)) overlap at \(when): "
                + "make them one window, or shorten one"
        }
        return nil
    }

    /// Where each of `members`, in rollout order, would be stopped if the rollout started at `now`: a member needs
    /// `need` seconds left in a window at its stop and takes about `perMember` (its sequence, settle included).
    public func placement(
        members: [MemberName], now: Double, need: Double, perMember: Double
    ) -> [(MemberName, Occurrence)] {
        var t = now
        var out: [(MemberName, Occurrence)] = []
        for m in members {
            for _ in 0..<64 {
                let near = occurrences(from: t, until: t + 16 * 86400)
                if let open = near.first(where: { $0.start <= t && t < $0.end }), open.end - t >= need {
                    out.append((m, open))
                    t += perMember
                    break
                }
                guard let next = near.first(where: { $0.start > t }) else { return out }
                t = next.start
            }
        }
        return out
    }
}
