import Foundation

/// A datagram socket bound the way systemd listens on NOTIFY_SOCKET, so a test can read what a process sd_notify()s.
/// `close()` removes it; use `NotifySocket.with { … }` to have that happen even when the test throws.
public final class NotifySocket: Sendable {
    public let path: String
    let fd: Int32

    public init(label: String) throws {
        path = NSTemporaryDirectory() + "/notify-\(label)-\(getpid()).sock"
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw ClusterError(detail: "socket(AF_UNIX, SOCK_DGRAM) failed: errno \(errno)") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            path.utf8CString.withUnsafeBytes {
                raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(raw.count)))
            }
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            _ = Foundation.close(fd)
            throw ClusterError(detail: "bind \(path) failed: errno \(errno)")
        }
        // Reads wait at most 100 ms, so `receive(timeout:)` can give up on a process that never sends.
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    public static func with<T>(label: String, _ body: (NotifySocket) async throws -> T) async throws -> T {
        let s = try NotifySocket(label: label)
        defer { s.close() }
        return try await body(s)
    }

    /// The next datagram, or nil when none came within `timeout`.
    public func receive(timeout: Duration = .seconds(10)) -> String? {
        let deadline = ContinuousClock.now + timeout
        var buf = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let r = recv(fd, &buf, buf.count, 0)
            if r > 0 { return String(decoding: buf[0..<r], as: UTF8.self) }
        }
        return nil
    }

    /// Datagrams until one satisfies `match` (returned last), or all that came before `timeout`.
    public func receive(until match: (String) -> Bool, timeout: Duration = .seconds(10)) -> [String] {
        let deadline = ContinuousClock.now + timeout
        var got: [String] = []
        while ContinuousClock.now < deadline, let m = receive(timeout: deadline - .now) {
            got.append(m)
            if match(m) { break }
        }
        return got
    }

    public func close() {
        _ = Foundation.close(fd)
        unlink(path)
    }
}
