import Foundation

/// One daemon per member: an exclusive lock (flock) on `<stateDir>/daemon.lock`, held for the daemon's lifetime,
/// with its pid inside. A second `etcd-shepherd run` with the same config (a debug run beside the unit) would act on
/// the same journal and the same member; it is refused, naming the process that holds the lock.
public final class InstanceLock: Sendable {
    let fd: Int32
    public let path: String

    /// Takes the lock, or throws a `ControllerError` naming the process that holds it (or the file, when it cannot be
    /// opened).
    public init(stateDir: String) throws {
        try FileIO.ensureDirectory(stateDir)
        path = stateDir + "/daemon.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw ControllerError.file(path, "cannot open: \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.describe(pidIn: fd)
            close(fd)
            throw ControllerError(
                thing: path,
                cause: "another etcd-shepherd (\(holder)) already supervises this member with this stateDir: "
                    + "two daemons would act on one journal and one member",
                fix: "stop that one first (systemctl stop etcd-shepherd, or kill it)")
        }
        self.fd = fd
        let me = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = me.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { close(fd) }

    /// "pid 812: etcd-shepherd run --config …" from the pid the holder wrote.
    static func describe(pidIn fd: Int32) -> String {
        var buf = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buf, buf.count, 0)
        guard n > 0,
            let pid = Int32(String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            return "pid unknown"
        }
        let cmdline =
            FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
            .map { $0.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ") } ?? ""
        return "pid \(pid)\(cmdline.isEmpty ? "" : ": \(cmdline)")"
    }
}
