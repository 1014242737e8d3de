import EtcdClient
import Exec
import Foundation
import Shepherd
import TestSupport
import Testing

/// The daemon's change watch on its own member (3.5.16, where a leftover connection hung the member's SIGTERM).
@Suite(.serialized) struct ChangeWatcherTests {
    /// A change under the prefix wakes the daemon; closed — however soon after it was opened — it leaves no
    /// connection of ours to the member open (the watch's, and the pooled ones of the daemon's other calls), and the
    /// member exits on SIGTERM promptly. (Before: a pooled connection that never carried a byte, made for a request
    /// cancelled while it connected, held 3.5.16's `Close` in its connection matcher until the member was killed at
    /// 20 s. That race is not reproducible on demand; what is checked is that nothing of ours stays open at all.)
    @Test func aClosedWatchLeavesNoConnectionToItsMember() async throws {
        try await LocalCluster.with(size: 1, version: Releases.trixie, label: "watch") { c in
            let url = c.members[0].clientURL
            let port = try #require(URLComponents(string: url)?.port)
            // The watcher's cluster client: a transport of the test's own, never shut down here.
            let clientTransport = try Transport()
            defer { Task { try? await clientTransport.shutdown() } }
            // As the daemon sets it up: its own member on a transport of its own.
            let cluster = EtcdCluster(urls: [url], transport: clientTransport)
            try cluster.isolate(url)
            let watcher = ChangeWatcher(cluster: cluster, prefix: "/w", localURL: url)

            watcher.reopen()
            // the watch's first message
            let confirmed = await eventually(timeout: .seconds(10)) { watcher.changes.take() }
            #expect(confirmed, "the watch never answered")
            try await c.endpoint(0).put("/w/x", Array("1".utf8))
            #expect(
                await eventually(timeout: .seconds(5)) { watcher.changes.take() },
                "a put under the prefix did not wake the daemon")
            // A history mark wakes nobody; a lock key wakes the lock's queue, not the loop. (The watch delivers
            // events in revision order: once the lock key's is seen, the history mark's was seen before it.)
            try await c.endpoint(0).put("/w/history/r1/s1", Array("1".utf8))
            try await c.endpoint(0).put("/w/lock/1", Array("1".utf8))
            #expect(
                await eventually(timeout: .seconds(5)) { watcher.lockQueue.take() },
                "a lock key put did not wake the daemon queued for the lock")
            #expect(!watcher.changes.take(), "a history mark or a lock key woke the daemon's loop")

            // Closed at every point of its life: right after opening (connecting), and open.
            for i in 0..<100 {
                watcher.reopen()
                try await Task.sleep(for: .microseconds(i < 90 ? (i * 17) % 1500 : 50_000))
                await watcher.close()
            }
            // And the daemon's other calls to its member: a pooled connection stays open after its answer.
            watcher.reopen()
            _ = try await cluster.endpoint(url).health()
            _ = try await cluster.range("/w/", prefix: true)
            await watcher.close()
            // The test's own calls above went through the cluster's shared pool: closed too, so that what is left is
            // the watcher's.
            try await c.transport.shutdown()
            let r = try await Command.run(["ss", "-tnpH", "state", "established", "( dport = :\(port) )"])
            #expect(r.succeeded, "\(r.summary)")
            // Ours only: etcd's gateway keeps a connection of its own to its gRPC port.
            let open = r.stdout.split(separator: "\n").filter { $0.contains("pid=\(getpid()),") }
            #expect(open.isEmpty, "connections to the member left open after close():\n\(open.joined(separator: "\n"))")
            await cluster.shutdownIsolated()

            let pid = try #require(c.pid(0))
            kill(pid, SIGTERM)
            let exited = await eventually(timeout: .seconds(10)) { kill(pid, 0) != 0 }
            #expect(exited, "the member ignored SIGTERM for 10 s (it exits in about 1 s unless a connection holds it)")
        }
    }

    /// A peer about to be stopped (its record says `stopping`): every connection of ours to it goes at once, the
    /// pooled ones a burst of calls opened included — one opened for a call another connection served never carries
    /// a byte, and 3.5's SIGTERM waits for it (a 3.5.16 stop took 3.1 s instead of 1.1 s in the benchmark, `ss`
    /// showing such a connection from a peer's daemon). Checked within the pool's 2 s idle timeout, which would
    /// otherwise be what closes them.
    @Test func connectionsToAPeerAboutToStopAllGoAtOnce() async throws {
        try await LocalCluster.with(size: 1, version: Releases.trixie, label: "peer") { c in
            let url = c.members[0].clientURL
            let port = try #require(URLComponents(string: url)?.port)
            let shared = try Transport()
            defer { Task { try? await shared.shutdown() } }
            // As the daemon sets it up: every member on a transport of its own (here the peer, not its own member).
            let cluster = EtcdCluster(urls: [url], transport: shared)
            try cluster.isolateEveryMember()
            let streams = ChangeWatcher(cluster: cluster, prefix: "/w", localURL: "http://127.0.0.1:1")
            func ours() async throws -> [Substring] {
                let r = try await Command.run(["ss", "-tnpH", "state", "established", "( dport = :\(port) )"])
                #expect(r.succeeded, "\(r.summary)")
                return r.stdout.split(separator: "\n").filter { $0.contains("pid=\(getpid()),") }
            }
            // A burst, as an observation makes: several pooled connections.
            try await withThrowingTaskGroup(of: Void.self) { g in
                for _ in 0..<16 { g.addTask { _ = try await cluster.endpoint(url).health() } }
                try await g.waitForAll()
            }
            try await c.transport.shutdown()  // the harness's own calls, so that what is left is the cluster's
            #expect(try await !ours().isEmpty, "the burst left no pooled connection: nothing to check")
            let started = ContinuousClock.now
            await streams.closeConnections(to: url)
            // Closed in the background (a tick does not wait for it), well within the pool's 2 s idle timeout.
            var left: [Substring] = []
            let gone = await eventually(timeout: .seconds(1)) {
                left = (try? await ours()) ?? ["ss failed"]
                return left.isEmpty
            }
            #expect(gone, "connections to the peer left open:\n\(left.joined(separator: "\n"))")
            #expect(ContinuousClock.now - started < .seconds(1), "closed by the idle timeout, not by closeConnections")
            // Calls after it still work (a fresh transport for the peer).
            _ = try await cluster.endpoint(url).health()
            await cluster.shutdownIsolated()
        }
    }
}
