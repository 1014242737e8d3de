import Foundation
import SystemPackage

/// The etcd password of `cluster.auth`: read from a file only root (or the daemon's own user) can read, through a
/// descriptor opened without following a symlink, checked on that descriptor. Its content never appears in an error,
/// a log line or `status`.
public enum PasswordFile {
    static let limit = 4096

    public static func read(
        _ path: String, key: String = "cluster.auth.passwordFile", what: String = "the etcd user's password"
    ) throws -> String {
        func fail(_ problem: String, fix: String = "") -> Config.Invalid {
            Config.Invalid(key: key, problem: problem, fix: fix)
        }
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, .readOnly, options: [.noFollow, .nonBlocking, .closeOnExec])
        } catch {
            switch error {
            case .tooManySymbolicLinkLevels:
                throw fail("\(path) is a symlink", fix: "point passwordFile at the file itself")
            case .noSuchFileOrDirectory:
                throw fail("\(path) does not exist", fix: "write \(what) there (mode 600, owned by root)")
            case .permissionDenied:
                throw fail("\(path) is not readable by this process (uid \(geteuid()))", fix: "chown root \(path)")
            default: throw fail("\(path): \(error)")
            }
        }
        let bytes: [UInt8] = try fd.closeAfter {
            // Every check on the descriptor opened: the file read is the file checked.
            let st: Stat
            do { st = try fd.stat() } catch { throw fail("\(path): \(error)") }
            guard st.type == .regular else { throw fail("\(path) is not a regular file") }
            guard st.userID.rawValue == 0 || st.userID.rawValue == geteuid() else {
                throw fail("\(path) is owned by uid \(st.userID.rawValue), not root", fix: "chown root \(path)")
            }
            guard st.permissions.rawValue & 0o077 == 0 else {
                throw fail(
                    "\(path) is readable or writable by group or others "
                        + "(mode \(String(st.permissions.rawValue & 0o777, radix: 8)))",
                    fix: "chmod 600 \(path)")
            }
            guard st.size <= limit else { throw fail("\(path) is \(st.size) bytes; a password file holds one line") }
            do { return try fd.readUpTo(limit + 1) } catch { throw fail("\(path): \(error)") }
        }
        let n = bytes.count
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
