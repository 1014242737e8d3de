import EtcdClient
import Foundation
import Rollout

extension Config {
    /// `timing`: every key optional, each within its range, the defaults `Timing`'s; the two relations between keys
    /// (the lease kept at a stop below the lock's TTL, the settle period inside the verify deadline) checked too.
    static func timing(_ t: Reader) throws -> Timing {
        var timing = Timing()
        try t.allow([
            "tickSeconds", "lockTTLSeconds", "verifyTimeoutSeconds", "settleSeconds", "maxObservationAgeSeconds",
            "minLeaseRemainingSeconds", "raftSlack", "stopPendingSeconds", "startGraceSeconds", "crashGraceSeconds",
            "lockWaitSeconds", "idleTickSeconds", "lastLookSeconds",
        ])
        timing.tickSeconds = try t.number("tickSeconds", default: timing.tickSeconds, range: 0.05...60)
        timing.lockTTLSeconds = Int(
            try t.number("lockTTLSeconds", default: Double(timing.lockTTLSeconds), range: 5...600))
        timing.verifyTimeoutSeconds = try t.number(
            "verifyTimeoutSeconds", default: timing.verifyTimeoutSeconds, range: 1...3600)
        timing.settleSeconds = try t.number("settleSeconds", default: timing.settleSeconds, range: 0...600)
        timing.maxObservationAgeSeconds = try t.number(
            "maxObservationAgeSeconds", default: timing.maxObservationAgeSeconds, range: 0.5...10)
        timing.minLeaseRemainingSeconds = try t.number(
            "minLeaseRemainingSeconds",
            default: min(timing.minLeaseRemainingSeconds, Double(timing.lockTTLSeconds) / 2),
            range: 1...600)
        timing.raftSlack = UInt64(try t.number("raftSlack", default: Double(timing.raftSlack), range: 0...100_000))
        timing.stopPendingSeconds = try t.number(
            "stopPendingSeconds", default: timing.stopPendingSeconds, range: 1...3600)
        timing.startGraceSeconds = try t.number(
            "startGraceSeconds", default: timing.startGraceSeconds, range: 1...3600)
        timing.crashGraceSeconds = try t.number(
            "crashGraceSeconds", default: timing.crashGraceSeconds, range: 1...600)
        timing.lockWaitSeconds = try t.number("lockWaitSeconds", default: timing.lockWaitSeconds, range: 1...600)
        timing.idleTickSeconds = max(
            timing.tickSeconds,
            try t.number("idleTickSeconds", default: timing.idleTickSeconds, range: 0.05...10))
        timing.lastLookSeconds = try t.number("lastLookSeconds", default: timing.lastLookSeconds, range: 0.2...10)
        guard timing.minLeaseRemainingSeconds < Double(timing.lockTTLSeconds) else {
            throw Invalid(key: "timing.minLeaseRemainingSeconds", problem: "must be below lockTTLSeconds")
        }
        // The one deadline runs from the stop to verified: it must hold the settle period and a start.
        guard timing.settleSeconds < timing.verifyTimeoutSeconds else {
            throw Invalid(
                key: "timing.settleSeconds",
                problem: "\(timing.settleSeconds) s is not below verifyTimeoutSeconds "
                    + "(\(timing.verifyTimeoutSeconds) s), the deadline from the stop to verified that includes it: "
                    + "raise verifyTimeoutSeconds")
        }
        return timing
    }
}
