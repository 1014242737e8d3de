import Foundation
import Synchronization

/// Where `FleetLockServer` leaves each valid call for the daemon loop, which answers it between two ticks. A call not
/// taken within `timeout` (the loop busy with a long step, a snapshot) gets 503 and nothing is done for it.
public final class FleetLockInbox: Sendable {
    struct Pending {
        let id: Int
        let call: FleetLockCall
        let reply: CheckedContinuation<FleetLockAnswer, Never>
    }
    private let state = Mutex<(next: Int, pending: [Pending])>((0, []))
    let timeout: Duration

    public init(timeout: Duration = .seconds(20)) { self.timeout = timeout }

    /// Whether a call waits (the loop's rest between ticks is cut short).
    public var hasPending: Bool { state.withLock { !$0.pending.isEmpty } }

    /// Queues `call` and waits for its answer.
    public func submit(_ call: FleetLockCall) async -> FleetLockAnswer {
        let id = state.withLock {
            $0.next += 1
            return $0.next
        }
        let timeout = self.timeout
        return await withCheckedContinuation { reply in
            state.withLock { $0.pending.append(Pending(id: id, call: call, reply: reply)) }
            Task {
                try? await Task.sleep(for: timeout)
                let expired = self.state.withLock { s -> Pending? in
                    guard let i = s.pending.firstIndex(where: { $0.id == id }) else { return nil }
                    return s.pending.remove(at: i)
                }
                expired?.reply.resume(
                    returning: .bad(503, "busy", "the daemon did not take the call within \(timeout); retry"))
            }
        }
    }

    /// Answers every waiting call with `answer` (the daemon loop, between ticks).
    public func drain(_ answer: (FleetLockCall) async -> FleetLockAnswer) async {
        while let next = state.withLock({ $0.pending.isEmpty ? nil : $0.pending.removeFirst() }) {
            next.reply.resume(returning: await answer(next.call))
        }
    }
}
