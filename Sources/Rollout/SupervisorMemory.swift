/// What a supervisor remembers between ticks, advanced by each observation and the monotonic time it carries: how
/// long verification has held with one process, how often the process restarted while it was verified, how long the
/// member has not answered, how long it was down, and the local member's health transitions. Lost on a daemon
/// restart by design: verification then starts settling again.
public struct SupervisorMemory: Sendable, Equatable {
    public enum Event: Sendable, Equatable {
        case localRecovered
        /// Only outside a sequence of ours: while we stopped it, unhealthy is expected.
        case localUnhealthy
        /// The local process restarted while it was being verified (its start time changed).
        case localRestarted
    }

    public private(set) var verifiedSince: Double?
    public private(set) var lastHealthy: Bool?
    /// Stop issued → first healthy answer, for the member's record.
    public private(set) var downtime: Double?
    /// The process start time seen last while verifying, and the restarts seen since the sequence's start.
    private var lastStartTime: Double?
    private var restarts = 0
    private var sequenceStart: Double?
    private var unreachableSince: Double?
    /// The local process start time seen last, and when a new one was seen (any sequence or none).
    private var lastSeenStartTime: Double?
    private var restartTimes: [Restart] = []
    private struct Restart: Sendable, Equatable {
        var at: Double
        var version: EtcdVersion
    }

    public init() {}

    /// Fills `o.verifiedFor` and `o.localUnreachableFor`, and returns the transitions this
    /// observation shows.
    public mutating func advance(_ o: inout Observation) -> [Event] {
        var events: [Event] = []
        let healthy = o.local?.healthy ?? false
        if let was = lastHealthy, was != healthy {
            if healthy { events.append(.localRecovered) } else if o.journal == nil { events.append(.localUnhealthy) }
        }
        lastHealthy = healthy

        if o.local?.reachable == true || o.localProcess == .running {
            unreachableSince = nil
        } else {
            unreachableSince = unreachableSince ?? o.now
        }
        o.localUnreachableFor = unreachableSince.map { o.now - $0 } ?? 0

        // Restarts outside any sequence of ours (ours stop and start it on purpose): a member that crash-loops under
        // systemd after its sequence was lost is caught (found by the simulator, seed 111269870).
        if let t = o.localStartTime {
            if let last = lastSeenStartTime, !ProcessStart.same(t, last), o.journal == nil, let v = o.local?.version {
                restartTimes.append(Restart(at: o.now, version: v))
            }
            lastSeenStartTime = t
        }
        restartTimes.removeAll { o.now - $0.at > o.timing.restartWindowSeconds }
        // Restarts of the release it runs now: the crashes of the one it ran before say nothing of this one.
        o.localRestarts = restartTimes.filter { $0.version == o.local?.version }.count

        // Restarts count from this sequence's start: a process whose start time changes was not the one we started.
        if let j = o.journal, j.step == .started {
            // A new start of ours (offline ticks included): settling begins again, on the new process.
            if sequenceStart != j.startedAt {
                sequenceStart = j.startedAt
                lastStartTime = nil
                restarts = 0
                verifiedSince = nil
            }
            if let t = o.localStartTime {
                if let last = lastStartTime, !ProcessStart.same(t, last) {
                    restarts += 1
                    events.append(.localRestarted)
                }
                lastStartTime = t
            }
        } else {
            sequenceStart = nil
            lastStartTime = nil
            restarts = 0
        }

        if let j = o.journal, j.step == .started {
            if healthy, downtime == nil, let stopped = j.stoppedAt { downtime = max(0, o.now - stopped) }
            // Settle counts from a tick that read the process start time: one that began before any was read would
            // span a restart nobody saw (found by the simulator, seed 334577751: done 3 s into a 4 s settle).
            if Gates.verification(o, target: j.target) == nil && restarts == 0 && lastStartTime != nil {
                if verifiedSince == nil { verifiedSince = o.now }
            } else {
                verifiedSince = nil
            }
        } else {
            verifiedSince = nil
        }
        if o.journal?.step == .stopping { downtime = nil }
        o.verifiedFor = verifiedSince.map { o.now - $0 } ?? 0
        return events
    }

    /// The downtime is reported once, with the member's done record.
    public mutating func takeDowntime() -> Double? {
        defer { downtime = nil }
        return downtime
    }
}
