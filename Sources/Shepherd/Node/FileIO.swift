import Foundation
import SystemPackage

/// Small file operations the daemon relies on for crash safety.
enum FileIO {
    /// Writes `data` to `path` atomically: a temp file in the same folder, fsync, rename, fsync of the folder.
    static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o600) throws {
        let dir = (path as NSString).deletingLastPathComponent
        // A fresh name nobody can have prepared (O_EXCL), never a symlink (O_NOFOLLOW).
        let tmp =
            "\(dir)/.\((path as NSString).lastPathComponent).tmp-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(
                tmp, .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                permissions: FilePermissions(rawValue: mode))
        } catch { throw ControllerError.file(tmp, "create: \(error)") }
        do {
            try fd.closeAfter {
                _ = try fd.writeAll(data)
                // The mode again: the umask may have narrowed the one asked at create.
                guard fchmod(fd.rawValue, mode) == 0 else { throw Errno(rawValue: errno) }
                try fd.sync()
            }
        } catch {
            unlink(tmp)
            throw ControllerError.file(tmp, "write: \(error)")
        }
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw ControllerError.file(path, "rename: \(String(cString: strerror(errno)))")
        }
        syncDirectory(dir)
    }

    static func syncDirectory(_ dir: String) {
        guard let fd = try? FileDescriptor.open(dir, .readOnly, options: [.directory, .closeOnExec]) else { return }
        _ = try? fd.closeAfter { try fd.sync() }
    }

    static func ensureDirectory(_ path: String, mode: Int = 0o700) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true,
                attributes: [.posixPermissions: mode])
        } catch { throw ControllerError.file(path, "cannot create directory: \(error.localizedDescription)") }
    }
}
