import Foundation
import Rollout

/// Whether the backup dir can take the snapshot without starving its filesystem. That filesystem is often the one
/// etcd's data dir lives on, and a member that cannot write its WAL stops; so the snapshot must fit with room to spare.
public enum BackupSpace {
    /// etcd preallocates WAL segments of 64 MiB: at least one must still fit after the snapshot.
    public static let headroom: Int64 = 64 << 20

    /// Bytes available to this process on the filesystem that holds `dir` (or would: its nearest existing ancestor).
    public static func freeBytes(_ dir: String) -> Int64? {
        var path = dir
        while !FileManager.default.fileExists(atPath: path), path != "/", !path.isEmpty {
            path = (path as NSString).deletingLastPathComponent
        }
        var s = statvfs()
        guard statvfs(path.isEmpty ? "/" : path, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// nil when a snapshot of a `dbSize`-byte db fits in `dir` with the headroom left; otherwise what is short and the
    /// fix.
    public static func shortfall(dir: String, dbSize: Int64) -> Finding? {
        guard let free = freeBytes(dir) else {
            return Finding(
                severity: .warning,
                what: "cannot read the free space of backupDir \(dir): \(String(cString: strerror(errno)))",
                fix: "check that backupDir is a reachable path")
        }
        guard free < dbSize + headroom else { return nil }
        return Finding(
            severity: .warning,
            what:
                "backupDir \(dir) has \(StatusReport.bytes(free)) free; the snapshot needs \(StatusReport.bytes(dbSize)) plus "
                + "\(StatusReport.bytes(headroom)) headroom (one etcd WAL segment)",
            fix:
                "free space there or point backupDir at a larger filesystem; no member is stopped until the snapshot is taken"
        )
    }
}
