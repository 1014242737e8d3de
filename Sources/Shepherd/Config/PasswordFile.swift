import Foundation

/// The etcd password of `cluster.auth`: read from a file only root (or the daemon's own user) can read, through a
/// descriptor opened without following a symlink, checked on that descriptor. Its content never appears in an error,
/// a log line or `status`.
public enum PasswordFile {
    static let limit = 4096

    public static func read(
        _ path: String, key: String = "cluster.auth.passwordFile", what: String = "the etcd user's password"
    ) throws -> String {
        func fail(_ problem: String) -> Config.Invalid { Config.Invalid(key: key, problem: problem) }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            switch e {
            case ELOOP: throw fail("\(path) is a symlink: point passwordFile at the file itself")
            case ENOENT:
                throw fail("\(path) does not exist: write \(what) there (mode 600, owned by root)")
            case EACCES: throw fail("\(path) is not readable by this process (uid \(geteuid())): chown root \(path)")
            default: throw fail("\(path): \(String(cString: strerror(e)))")
            }
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw fail("\(path): \(String(cString: strerror(errno)))") }
        guard st.st_mode & S_IFMT == S_IFREG else { throw fail("\(path) is not a regular file") }
        guard st.st_uid == 0 || st.st_uid == geteuid() else {
            throw fail("\(path) is owned by uid \(st.st_uid), not root: chown root \(path)")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw fail(
                "\(path) is readable or writable by group or others (mode \(String(st.st_mode & 0o777, radix: 8))): chmod 600 \(path)"
            )
        }
        guard st.st_size <= limit else { throw fail("\(path) is \(st.st_size) bytes; a password file holds one line") }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        let n = bytes.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, limit + 1) }
        guard n >= 0 else { throw fail("\(path): \(String(cString: strerror(errno)))") }
        var text = bytes[..<n]
        // One line: the trailing newline an editor or `echo` adds is not part of the password.
        if text.last == UInt8(ascii: "\n") { text = text.dropLast() }
        if text.last == UInt8(ascii: "\r") { text = text.dropLast() }
        guard !text.isEmpty else { throw fail("\(path) is empty: write \(what) there") }
        guard !text.contains(UInt8(ascii: "\n")), let password = String(validating: text, as: UTF8.self) else {
            throw fail("\(path) must hold \(what) alone, on one line, in UTF-8")
        }
        return password
    }
}
