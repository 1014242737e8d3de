import Foundation
import Rollout

/// FleetLock's two operations for this node, decided by `RebootRules` on fresh observations. Called by the daemon
/// loop between ticks, never inside one.
extension Supervisor {
    public func fleetLock(_ call: FleetLockCall) async -> FleetLockAnswer {
        do {
            switch call.operation {
            case .preReboot: return try await preReboot(call)
            case .steadyState: return try await steadyState(call)
            }
        } catch {
            return .bad(503, "unavailable", "etcd could not be read or written: \(error); retry")
        }
    }

    func preReboot(_ call: FleetLockCall) async throws -> FleetLockAnswer {
        let me = config.member.name
        var (o, _) = try await observe()
        var decision = RebootRules.preReboot(o, clientID: call.clientID)
        if case let .withdraw(kind, why) = decision {
            // Our hold as this observation saw it; a delete that fails leaves it for the next call to judge again.
            // No lock was taken here, so none is let go (this daemon may hold it for a sequence of its own).
            await deleteHold(o)
            return .refused(kind, why)
        }
        if decision == .alreadyHeld, let stale = staleAnswer(o) { return stale }
        guard decision == .needLock || decision == .grant else { return answer(decision, call) }
        if decision == .needLock {
            guard try await ports.lock.acquire(wait: .seconds(5)) else {
                return .refused("lock_busy", "the upgrade lock is held by another daemon; retry")
            }
        }
        do {
            // On health asked with the lock in hand.
            (o, _) = try await observe()
            decision = RebootRules.preReboot(o, clientID: call.clientID)
            guard decision == .grant, let lock = o.lock else {
                await ports.lock.release()
                return answer(decision == .needLock ? .refuse(kind: "lock_busy", why: "lock lost") : decision, call)
            }
            let hold = RebootHold(
                node: me, clientID: call.clientID, group: call.group, memberID: o.local?.id,
                since: ports.clock.wallNow())
            try await ports.store.putRebootFenced(hold, lock: lock)
            // As before a stop: the gates once more on health asked after our own write (our hold aside).
            (o, _) = try await observe()
            let after = RebootRules.confirm(o, clientID: call.clientID)
            if case let .refuse(kind, why) = after {
                await takeBackHold(o)
                return .refused(kind, why)
            }
            if let stale = staleAnswer(o) {
                await takeBackHold(o)
                return stale
            }
            await ports.lock.release()
            events.emit(
                .rebootGranted, .notice,
                "\(me) may reboot: FleetLock reboot lock granted to client '\(call.clientID)' (group \(call.group))",
                memberID: o.local?.id.description, reason: call.clientID)
            return .ok("\(me) may reboot; the reboot lock is held until steady-state finds it healthy")
        } catch {
            await ports.lock.release()
            throw error
        }
    }

    /// The window bound of a stop, for the reboot Zincati does on a 200: none on an observation older than
    /// maxObservationAgeSeconds (this daemon was frozen, a call hung).
    func staleAnswer(_ o: Observation) -> FleetLockAnswer? {
        let age = ports.clock.now() - o.observedAt
        guard age > config.timing.maxObservationAgeSeconds else { return nil }
        return .bad(503, "stale", "the checks are \(Int(age)) s old by now (this daemon was held up); retry")
    }

    /// A grant not given after all: our hold deleted, the lock this grant took let go.
    func takeBackHold(_ o: Observation) async {
        await deleteHold(o)
        await ports.lock.release()
    }

    /// Our hold, as `o` saw it, deleted: best effort, a CAS on that revision (one changed since is left as it is).
    func deleteHold(_ o: Observation) async {
        let me = config.member.name
        if let rev = o.rebootRevisions[me] { _ = try? await ports.store.deleteRebootCAS(me, modRevision: rev) }
    }

    func steadyState(_ call: FleetLockCall) async throws -> FleetLockAnswer {
        let me = config.member.name
        let (o, _) = try await observe()
        switch RebootRules.steadyState(o, clientID: call.clientID) {
        case .nothingHeld:
            return .ok("\(me) holds no reboot lock")
        case let .refuse(kind, why):
            return .refused(kind, why)
        case .release:
            // The hold the decision saw, at the revision it saw: one changed since is left for the next call.
            guard let rev = o.rebootRevisions[me], try await ports.store.deleteRebootCAS(me, modRevision: rev) else {
                return .refused("changed", "\(me)'s reboot lock changed while it was released; retry")
            }
            events.emit(
                .rebootReleased, .notice,
                "\(me) is healthy again after its reboot: FleetLock reboot lock released by client '\(call.clientID)'",
                memberID: o.local?.id.description, reason: call.clientID)
            return .ok("\(me)'s reboot lock released")
        }
    }

    func answer(_ d: RebootRules.PreReboot, _ call: FleetLockCall) -> FleetLockAnswer {
        switch d {
        case .alreadyHeld: return .ok("\(config.member.name) already holds the reboot lock")
        case let .refuse(kind, why): return .refused(kind, why)
        case let .withdraw(kind, why): return .refused(kind, why)
        case .grant, .needLock: return .refused("lock_busy", "the upgrade lock is not available; retry")
        }
    }
}
