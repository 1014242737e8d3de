import EtcdClient
import Foundation
import Synchronization

/// Runs beside a rollout: a write load through all endpoints and a liveness monitor of every member.
/// Afterwards it tells the largest number of members seen down at once, and which acknowledged writes were lost.
public final class SafetyMonitor: Sendable {
    struct State {
        var acked: [Int] = []
        var failedWrites = 0
        var maxDown = 0
        var downSamples: [String] = []
        var latencies: [Double] = []
        var longestStall: Double = 0
    }
    private let state = Mutex(State())
    private let cluster: LocalCluster
    private let tasks = Mutex<[Task<Void, Never>]>([])

    private let usePidFiles: Bool

    /// `usePidFiles`: the members are run by scripts/etcd-member.sh (false when a service manager runs them).
    public init(cluster: LocalCluster, usePidFiles: Bool = true) {
        self.cluster = cluster
        self.usePidFiles = usePidFiles
    }

    /// A member is down when its process is not running (its PID file is gone or the process exited) or its client
    /// port refuses a fresh TCP connection. A slow answer on a loaded machine is not "down": the process runs and
    /// serves.
    func downMembers() async -> [String] {
        await withTaskGroup(of: String?.self) { group in
            for i in cluster.members.indices {
                group.addTask {
                    let m = self.cluster.members[i]
                    if self.usePidFiles {
                        guard let pid = self.cluster.pid(i), Self.alive(pid) else { return "\(m.name)(no process)" }
                    }
                    // The port probe is for loopback members; one in a namespace is judged by its process alone.
                    guard m.clientURL.contains("127.0.0.1"), let port = URLComponents(string: m.clientURL)?.port else {
                        return nil
                    }
                    return Self.refusesConnections(port: port) ? "\(m.name)(port closed)" : nil
                }
            }
            var out: [String] = []
            for await d in group { if let d { out.append(d) } }
            return out.sorted()
        }
    }

    /// A fresh TCP connect to 127.0.0.1:port (not a pooled HTTP connection, whose closing says nothing).
    public static func refusesConnections(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let r = Loopback.withAddress(port: port) { connect(fd, $0, $1) }
        return r != 0 && errno == ECONNREFUSED
    }

    public static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        // The state follows the parenthesised command name; an unreaped zombie has exited.
        guard let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    public func start() {
        let writer = Task { [self] in
            var i = 0
            var lastAck = ContinuousClock.now
            while !Task.isCancelled {
                let n = self.cluster.members.count
                var ok = false
                let t0 = ContinuousClock.now
                for k in 0..<n where !ok {
                    let ep = self.cluster.endpoint((i + k) % n)
                    do {
                        try await ep.put("/load/\(i)", Array("v\(i)".utf8), timeout: .seconds(2))
                        ok = true
                    } catch {}
                }
                let now = ContinuousClock.now
                self.state.withLock {
                    if ok {
                        $0.acked.append(i)
                        $0.latencies.append((now - t0).seconds)
                        $0.longestStall = max($0.longestStall, (now - lastAck).seconds)
                    } else {
                        $0.failedWrites += 1
                    }
                }
                if ok { lastAck = now }
                i += 1
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        let monitor = Task { [self] in
            while !Task.isCancelled {
                let down = await self.downMembers()
                self.state.withLock {
                    $0.maxDown = max($0.maxDown, down.count)
                    if down.count > 1 {
                        $0.downSamples.append("\(Date().timeIntervalSince1970): " + down.joined(separator: "+"))
                    }
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        tasks.withLock { $0 = [writer, monitor] }
    }

    public func stop() async {
        let ts = tasks.withLock { $0 }
        for t in ts { t.cancel() }
        for t in ts { await t.value }
    }

    public var maxDown: Int { self.state.withLock { $0.maxDown } }
    public var overlaps: [String] { self.state.withLock { $0.downSamples } }
    public var acknowledged: Int { self.state.withLock { $0.acked.count } }
    public var longestStall: Double { self.state.withLock { $0.longestStall } }
    public var p99Latency: Double {
        self.state.withLock { s in
            let l = s.latencies.sorted()
            return l.isEmpty ? 0 : l[min(l.count - 1, Int(Double(l.count) * 0.99))]
        }
    }

    /// Acknowledged keys that are missing or hold the wrong value now (linearizable read of the whole prefix).
    public func lostWrites() async throws -> [Int] {
        let r = try await cluster.clusterClient().range("/load/", prefix: true)
        var have: [Int: String] = [:]
        for kv in r.kvs { if let i = Int(kv.keyString.dropFirst("/load/".count)) { have[i] = kv.valueString } }
        return self.state.withLock { $0.acked }.filter { have[$0] != "v\($0)" }
    }
}
