import Foundation

/// Whether the backup dir can take the snapshot without starving its filesystem. That filesystem is often the one
/// etcd's data dir lives on, and a member that cannot write its WAL stops; so the snapshot must fit with room to spare.
public enum BackupSpace {
    /// etcd preallocates WAL segments of 64 MiB: at least one must still fit after the snapshot.
    public static let headroom: Int64 = 64 << 20

    /// Bytes available to this process on the filesystem holding `dir`.
    public static func freeBytes(_ dir: String) -> Int64? {
        var s = statvfs()
        guard statvfs(dir, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// nil when a snapshot of a `dbSize`-byte db fits in `dir` with the headroom left; otherwise what is wrong and the fix.
    public static func shortfall(dir: String, dbSize: Int64) -> String? {
        guard let free = freeBytes(dir) else { return "cannot read the free space of \(dir): \(String(cString: strerror(errno)))" }
        let need = dbSize + headroom
        guard free < need else { return nil }
        return "backupDir \(dir) has \(StatusReport.bytes(free)) free; the snapshot needs \(StatusReport.bytes(dbSize)) plus "
            + "\(StatusReport.bytes(headroom)) headroom (one etcd WAL segment) — free space there or point backupDir at a larger "
            + "filesystem; no member is stopped until the snapshot is taken"
    }
}
