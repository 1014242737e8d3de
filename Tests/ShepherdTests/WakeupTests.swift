import Shepherd
import Testing

/// The flag the daemon's loop and a daemon queued for the lock wait on (a change seen by the watch raises it).
struct WakeupTests {
    @Test func aSignalWithNobodyWaitingIsKeptForTheNextWaitAndCountsOnce() async {
        let w = Wakeup()
        w.signal()
        w.signal()
        #expect(await w.wait(upTo: .seconds(30)))
        #expect(!w.take(), "two signals before a wait are one")
        #expect(!(await w.wait(upTo: .milliseconds(1))), "nothing signalled: the wait ends at its timeout")
    }

    /// The waiter is woken by the signal, not by its timeout (which would return false after 60 s).
    @Test func aSignalWakesAWaiter() async {
        let w = Wakeup()
        let waiter = Task { await w.wait(upTo: .seconds(60)) }
        // Signalled until the waiter has returned: a signal before it waits is kept, one after wakes it.
        let signaller = Task {
            while !Task.isCancelled {
                w.signal()
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        #expect(await waiter.value)
        signaller.cancel()
    }

    @Test func aCancelledWaitEndsFalseAndLeavesTheFlagAlone() async {
        let w = Wakeup()
        let waiter = Task { await w.wait(upTo: .seconds(60)) }
        waiter.cancel()
        #expect(!(await waiter.value))
        w.signal()
        #expect(w.take(), "a signal after a cancelled wait is kept for the next one")
    }
}
