import EtcdClient
import Exec
import Foundation

/// A real N-member etcd cluster on free loopback ports in a temp dir. Each member lives in its own folder
/// (`flags`, the `etcd` binary link, `etcd.log`, `etcd.pid`) and is started and stopped by scripts/etcd-member.sh,
/// exactly as the daemon's command controller does it. Always use `LocalCluster.with { … }`: it tears everything
/// down (every member stopped by its PID, the folder removed) even when the test body throws.
public final class LocalCluster: Sendable {
    public struct MemberInfo: Sendable {
        public let name: String
        public let dir: String
        public let clientURL: String
        public let peerURL: String
        /// What the member advertises to clients (the member list): `clientURL`, or a proxy in front of it.
        public let advertisedURL: String
        /// The network namespace the member (and its daemon) runs in, if any (scripts/netns.sh).
        public let netns: String?
        public var dataDir: String { dir + "/data" }
        public var binaryLink: String { dir + "/etcd" }
    }

    public let temp: TempDir
    public let members: [MemberInfo]
    public let version: String
    public let transport: Transport
    public let tls: TLSOptions

    public var clientURLs: [String] { members.map(\.clientURL) }
    public var memberScript: String { Repo.scripts + "/etcd-member.sh" }

    /// `extraFlags` go to every member; `clientScheme` "https" with `serverTLS` files makes client TLS (mTLS when
    /// `--client-cert-auth` is among the extra flags).
    /// `advertisedURLs`: per member, a URL to advertise instead of the client URL (a proxy the test runs).
    public init(
        size: Int, version: String, label: String, extraFlags: [String] = [], tls: TLSOptions = TLSOptions(),
        https: Bool = false, parentDir: String? = nil, advertisedURLs: [String]? = nil,
        hosts: [String]? = nil, netns: [String]? = nil, credentials: EtcdCredentials? = nil
    ) throws {
        let binary = try Repo.etcdBinary("etcd", version)
        self.version = version
        self.tls = tls
        temp = try TempDir(label, in: parentDir)
        let token = "tok-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var ms: [MemberInfo] = []
        for i in 1...size {
            let scheme = https ? "https" : "http"
            let host = hosts?[i - 1] ?? "127.0.0.1"
            let client = "\(scheme)://\(host):\(FreePort.next())"
            ms.append(
                MemberInfo(
                    name: "s\(i)", dir: "\(temp.path)/s\(i)", clientURL: client,
                    peerURL: "http://\(host):\(FreePort.next())", advertisedURL: advertisedURLs?[i - 1] ?? client,
                    netns: netns?[i - 1]))
        }
        members = ms
        let initial = ms.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
        for m in ms {
            try FileManager.default.createDirectory(atPath: m.dir, withIntermediateDirectories: true)
            let flags =
                [
                    "--name", m.name, "--data-dir", m.dataDir,
                    "--listen-client-urls", m.clientURL, "--advertise-client-urls", m.advertisedURL,
                    "--listen-peer-urls", m.peerURL, "--initial-advertise-peer-urls", m.peerURL,
                    "--initial-cluster", initial, "--initial-cluster-state", "new",
                    "--initial-cluster-token", token, "--logger", "zap",
                ] + extraFlags
            try (flags.joined(separator: "\n") + "\n").write(
                toFile: m.dir + "/flags", atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: m.binaryLink, withDestinationPath: binary)
            if let ns = m.netns { try ns.write(toFile: m.dir + "/netns", atomically: true, encoding: .utf8) }
        }
        transport = try Transport(tls: tls, credentials: credentials)
    }

    /// Starts a cluster, waits until every member is healthy, runs `body`, and always tears the cluster down.
    public static func with<T: Sendable>(
        size: Int = 3, version: String, label: String = "c", extraFlags: [String] = [],
        tls: TLSOptions = TLSOptions(), https: Bool = false, parentDir: String? = nil,
        credentials: EtcdCredentials? = nil,
        _ body: (LocalCluster) async throws -> T
    ) async throws -> T {
        let cluster = try LocalCluster(
            size: size, version: version, label: label, extraFlags: extraFlags, tls: tls, https: https,
            parentDir: parentDir, credentials: credentials)
        do {
            try await cluster.startAll()
            let r = try await body(cluster)
            await cluster.tearDown()
            return r
        } catch {
            await cluster.tearDown()
            throw error
        }
    }

    /// The member's flags as etcd's ETCD_* environment variables (for an EnvironmentFile=).
    public func environment(_ i: Int) throws -> String {
        let flags = try String(contentsOfFile: members[i].dir + "/flags", encoding: .utf8).split(separator: "\n").map(
            String.init)
        var lines: [String] = []
        var k = 0
        while k + 1 < flags.count {
            let name = "ETCD_" + flags[k].dropFirst(2).uppercased().replacingOccurrences(of: "-", with: "_")
            lines.append("\(name)=\(flags[k + 1])")
            k += 2
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public func endpoint(_ i: Int) -> EtcdEndpoint { EtcdEndpoint(url: members[i].clientURL, transport: transport) }
    public func clusterClient() -> EtcdCluster { EtcdCluster(urls: clientURLs, transport: transport) }

    public func startAll() async throws {
        for i in members.indices { try await start(i, waitHealthy: false) }
        for i in members.indices { try await waitHealthy(i) }
    }

    public func start(_ i: Int, waitHealthy wait: Bool = true) async throws {
        let r = try await Command.run([memberScript, "start", members[i].dir])
        guard r.succeeded else { throw ClusterError(detail: "start \(members[i].name): \(r.summary)") }
        if wait { try await waitHealthy(i) }
    }

    /// Stops member `i` and waits until its process has exited.
    public func stop(_ i: Int) async throws {
        let r = try await Command.run([memberScript, "stop", members[i].dir])
        guard r.succeeded else { throw ClusterError(detail: "stop \(members[i].name): \(r.summary)") }
    }

    public func pid(_ i: Int) -> Int32? {
        guard let s = try? String(contentsOfFile: members[i].dir + "/etcd.pid", encoding: .utf8) else { return nil }
        return Int32(s.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    public func waitHealthy(_ i: Int, timeout: Duration = .seconds(30)) async throws {
        let ep = endpoint(i)
        let ok = await eventually(timeout: timeout) { (try? await ep.health(timeout: .seconds(1)))?.healthy == true }
        guard ok else {
            let log = (try? String(contentsOfFile: members[i].dir + "/etcd.log", encoding: .utf8)) ?? ""
            throw ClusterError(
                detail: "\(members[i].name) not healthy within \(timeout); log tail:\n"
                    + log.split(separator: "\n").suffix(15).joined(separator: "\n"))
        }
    }

    /// Stops every member by its PID and removes the folder. Safe to call twice.
    public func tearDown() async {
        for m in members { _ = try? await Command.run([memberScript, "stop", m.dir]) }
        try? await transport.shutdown()
        temp.remove()
    }
}

public struct ClusterError: Error, CustomStringConvertible {
    public let detail: String
    public init(detail: String) { self.detail = detail }
    public var description: String { detail }
}
