import Synchronization

/// A flag one side raises and the daemon's loop waits on between ticks: a change under the key prefix ends the
/// loop's pause the moment it is seen, not at the loop's next poll (each poll's wait was up to 100 ms a lock handoff
/// paid). A signal with nobody waiting is kept for the next wait; several signals before it count as one.
public final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Bool, Never>?
    }
    private let state = Mutex(State())

    public init() {}

    /// Raises the flag: wakes the waiter, or the next `wait`.
    public func signal() {
        let waiter = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            guard let w = s.waiter else {
                s.pending = true
                return nil
            }
            s.waiter = nil
            return w
        }
        waiter?.resume(returning: true)
    }

    /// Whether the flag was raised since the last call (lowers it).
    public func take() -> Bool {
        state.withLock { s in
            defer { s.pending = false }
            return s.pending
        }
    }

    /// Waits until the flag is raised (true, lowered again) or `timeout` passes or the task is cancelled (false).
    public func wait(upTo timeout: Duration) async -> Bool {
        if take() { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.next() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            // A signal that raced the timeout is not lost: the waiter it found was resumed with true.
            for await rest in group where rest { return true }
            return first
        }
    }

    /// One waiter at a time (the loop): true when signalled, false when cancelled.
    private func next() async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                let now = state.withLock { s -> Bool? in
                    if s.pending {
                        s.pending = false
                        return true
                    }
                    // Cancelled before the waiter was in place: the handler below found nobody to resume.
                    if Task.isCancelled { return false }
                    s.waiter = c
                    return nil
                }
                if let now { c.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { s in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: false)
        }
    }
}
