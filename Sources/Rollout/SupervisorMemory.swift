/// What a supervisor remembers between ticks, advanced by each observation and the monotonic time it carries: how
/// long verification has held continuously, how long the member was down, and the local member's health
/// transitions. Lost on a daemon restart by design: verification then starts settling again.
public struct SupervisorMemory: Sendable, Equatable {
    public enum Event: Sendable, Equatable {
        case localRecovered
        /// Only outside a sequence of ours: while we stopped it, unhealthy is expected.
        case localUnhealthy
    }

    public private(set) var verifiedSince: Double?
    public private(set) var lastHealthy: Bool?
    /// Stop issued → first healthy answer, for the member's record.
    public private(set) var downtime: Double?

    public init() {}

    /// Fills `o.verifiedFor` and returns the health transitions this observation shows.
    public mutating func advance(_ o: inout Observation) -> [Event] {
        var events: [Event] = []
        let healthy = o.local?.healthy ?? false
        if let was = lastHealthy, was != healthy {
            if healthy { events.append(.localRecovered) } else if o.journal == nil { events.append(.localUnhealthy) }
        }
        lastHealthy = healthy

        if let j = o.journal, j.step == .started {
            if healthy, downtime == nil, let stopped = j.stoppedAt { downtime = max(0, o.now - stopped) }
            if Gates.verification(o, target: j.target) == nil {
                if verifiedSince == nil { verifiedSince = o.now }
            } else { verifiedSince = nil }
        } else {
            verifiedSince = nil
        }
        if o.journal?.step == .stopping { downtime = nil }
        o.verifiedFor = verifiedSince.map { o.now - $0 } ?? 0
        return events
    }

    /// The downtime is reported once, with the member's done record.
    public mutating func takeDowntime() -> Double? { defer { downtime = nil }; return downtime }
}
