import Foundation

/// Small file operations the daemon relies on for crash safety.
enum FileIO {
    struct Failure: Error, CustomStringConvertible {
        let path: String
        let detail: String
        var description: String { "\(path): \(detail)" }
    }

    /// Writes `data` to `path` atomically: a temp file in the same folder, fsync, rename, fsync of the folder.
    static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o600) throws {
        let dir = (path as NSString).deletingLastPathComponent
        // A fresh name nobody can have prepared (O_EXCL), never a symlink (O_NOFOLLOW).
        let tmp =
            "\(dir)/.\((path as NSString).lastPathComponent).tmp-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(path: tmp, detail: "create: \(String(cString: strerror(errno)))") }
        var ok = false
        defer {
            if !ok {
                close(fd)
                unlink(tmp)
            }
        }
        try data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                guard n > 0 else { throw Failure(path: tmp, detail: "write: \(String(cString: strerror(errno)))") }
                off += n
            }
        }
        guard fchmod(fd, mode) == 0, fsync(fd) == 0 else {
            throw Failure(path: tmp, detail: "fsync: \(String(cString: strerror(errno)))")
        }
        close(fd)
        ok = true
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw Failure(path: path, detail: "rename: \(String(cString: strerror(errno)))")
        }
        syncDirectory(dir)
    }

    static func syncDirectory(_ dir: String) {
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    static func ensureDirectory(_ path: String, mode: Int = 0o700) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true,
                attributes: [.posixPermissions: mode])
        } catch { throw Failure(path: path, detail: "cannot create directory: \(error.localizedDescription)") }
    }
}
