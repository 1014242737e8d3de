import Foundation
import Synchronization

/// Paths in the checkout the tests run from.
public enum Repo {
    /// The repository root: two levels above this file's folder (Tests/TestSupport/Repo.swift).
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static var scripts: String { root + "/scripts" }

    /// Where `scripts/install-deps.sh` puts the etcd binaries.
    public static var etcdBinDir: String { ProcessInfo.processInfo.environment["ETCD_BIN_DIR"] ?? root + "/.etcd/bin" }

    public struct MissingDependency: Error, CustomStringConvertible {
        public let what: String
        public init(what: String) { self.what = what }
        public var description: String {
            "\(what) is missing: run `sudo scripts/install-deps.sh` (or `make deps`) first"
        }
    }

    /// The path of `etcd-<version>` (or etcdctl-/etcdutl-); throws with the setup command when it is not installed.
    public static func etcdBinary(_ tool: String = "etcd", _ version: String) throws -> String {
        let path = "\(etcdBinDir)/\(tool)-\(version)"
        guard FileManager.default.isExecutableFile(atPath: path) else { throw MissingDependency(what: path) }
        return path
    }

    /// The Prometheus server (or `promtool`) install-deps.sh extracts beside the etcd binaries.
    public static func prometheus(_ tool: String = "prometheus") throws -> String {
        let path = etcdBinDir + "/" + tool
        guard FileManager.default.isExecutableFile(atPath: path) else { throw MissingDependency(what: path) }
        return path
    }

    /// The built `etcd-shepherd` executable next to the test bundle (SHEPHERD_BINARY: another build, e.g. an older
    /// commit's, to show that a test fails there).
    public static func shepherdBinary() throws -> String {
        if let p = ProcessInfo.processInfo.environment["SHEPHERD_BINARY"] {
            guard FileManager.default.isExecutableFile(atPath: p) else {
                throw MissingDependency(what: "SHEPHERD_BINARY=\(p)")
            }
            return p
        }
        let candidates = [
            Bundle.main.bundlePath, Bundle.main.bundleURL.deletingLastPathComponent().path,
            root + "/.build/debug",
        ]
        for dir in candidates {
            let p = dir + "/etcd-shepherd"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw MissingDependency(what: "the etcd-shepherd executable (swift build)")
    }
}

/// A temporary folder removed on `remove()`; tests call it from their cleanup path.
public struct TempDir: Sendable {
    public let path: String
    /// `parent` defaults to the system temp dir; systemd-guest tests put theirs under the checkout, which the guest
    /// sees.
    public init(_ label: String, in parent: String? = nil) throws {
        var template = Array("\(parent ?? NSTemporaryDirectory())/shepherd-\(label)-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw Repo.MissingDependency(what: "a temp dir (mkdtemp failed)") }
        path = String(cString: p)
    }
    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Free loopback TCP ports for test clusters: never one handed out before in this process (binding port 0 twice
/// in a row can return the same port), and below the ephemeral range (32768+) so an outgoing connection cannot
/// take it between the check and etcd's bind.
public enum FreePort {
    private static let handedOut = Mutex(Set<Int>())

    public static func next() -> Int {
        while true {
            let port = Int.random(in: 24000..<32000)
            let fresh = handedOut.withLock { $0.insert(port).inserted }
            if fresh && bindable(port) { return port }
        }
    }

    static func bindable(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        return Loopback.withAddress(port: port) { bind(fd, $0, $1) } == 0
    }
}

/// 127.0.0.1:port as the socket calls want it.
public enum Loopback {
    public static func withAddress<T>(port: Int, _ body: (UnsafeMutablePointer<sockaddr>, socklen_t) -> T) -> T {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
public func eventually(timeout: Duration, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}
