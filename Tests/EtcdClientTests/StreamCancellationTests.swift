import EtcdClient
import Synchronization
import TestSupport
import Testing

/// A stream's caller cancelled at any moment of its start gets control back at once. The daemon closes its change
/// watch right before its member's stop, at whatever point of the watch's life: a watch cancelled within
/// microseconds of its start was seen to wait for its 300 s deadline inside gRPC (`ChangeWatcherTests` under the
/// parallel runner), holding up the stop.
@Suite struct StreamCancellationTests {
    @Test func aWatchCancelledAtAnyMomentOfItsStartEndsAtOnce() async throws {
        try await LocalCluster.with(size: 1, version: Releases.current, label: "cancel") { c in
            let endpoint = c.endpoint(0)
            for i in 0..<300 {
                let ended = Mutex(false)
                let watch = Task {
                    _ = try? await endpoint.watch(prefix: "/c/", timeout: .seconds(300)) { _ in }
                    ended.withLock { $0 = true }
                }
                try await Task.sleep(for: .microseconds((i * 7) % 400))
                watch.cancel()
                let returned = await eventually(timeout: .seconds(10)) { ended.withLock { $0 } }
                try #require(returned, "a watch cancelled \((i * 7) % 400) µs after its start still runs 10 s later")
            }
        }
    }
}
