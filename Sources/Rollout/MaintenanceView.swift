/// The operator's maintenance windows as the shell saw them at one tick: computed from the configuration and the wall
/// clock (time zones and calendars stay in the shell), so the gate below is a plain comparison. An `Observation`
/// without one (nil) has no windows configured: any time will do.
public struct MaintenanceView: Sendable, Equatable {
    /// One occurrence of a window: its label ("Tue 02:00 Europe/Berlin") and a number of seconds from now.
    public struct Window: Sendable, Equatable {
        public var label: String
        public var seconds: Double
        public init(label: String, seconds: Double) {
            self.label = label
            self.seconds = seconds
        }
    }

    /// The window open now, with the seconds until it closes; nil when none is.
    public var current: Window?
    /// The next window to open after now (not the one open now), with the seconds until it opens.
    public var next: Window

    public init(current: Window?, next: Window) {
        self.current = current
        self.next = next
    }

    /// What a member's sequence needs left in a window when its stop is issued: the whole verify deadline and the
    /// settle period on top (the rule; the settle is inside the deadline, so this leaves a margin).
    public static func needed(_ timing: Timing) -> Double { timing.verifyTimeoutSeconds + timing.settleSeconds }

    /// "3 h 12 m", "2 d 4 h", "45 s": a wait as an operator reads it.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(max(0, seconds).rounded(.up))
        let (d, h, m) = (s / 86400, s % 86400 / 3600, s % 3600 / 60)
        if d > 0 { return h > 0 ? "\(d) d \(h) h" : "\(d) d" }
        if h > 0 { return m > 0 ? "\(h) h \(m) m" : "\(h) h" }
        if m > 0 { return s % 60 > 0 && m < 10 ? "\(m) m \(s % 60) s" : "\(m) m" }
        return "\(s) s"
    }
}

extension Gates {
    /// Gate 8: no member is stopped outside a maintenance window, nor in one that closes before its sequence could
    /// end (`MaintenanceView.needed`). Nil: the stop may go ahead (or no windows are configured). Checked before the
    /// lock is taken, at the stop's gate, and by the shell once more right before it issues the stop. A rollback's
    /// stop is not held back: it repairs a member that failed in a window, and waiting would leave it failing.
    public static func maintenance(_ view: MaintenanceView?, timing: Timing) -> String? {
        guard let view else { return nil }
        let need = MaintenanceView.needed(timing)
        if let open = view.current, open.seconds >= need { return nil }
        let tooShort =
            view.current.map {
                "the window \($0.label) closes in \(MaintenanceView.duration($0.seconds)), too soon for a member's "
                    + "\(Int(need)) s; "
            } ?? ""
        return tooShort
            + "waiting for the window \(view.next.label), in \(MaintenanceView.duration(view.next.seconds))"
    }

    public static func maintenance(_ o: Observation) -> String? { maintenance(o.maintenance, timing: o.timing) }
}
