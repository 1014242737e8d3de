import Foundation

/// The folders the daemon writes — `stateDir`, `backupDir`, `member.binaryLink`'s folder and `metrics.textfile`'s —
/// must be writable where
/// it runs: under the shipped unit (`ProtectSystem=strict`) only `ReadWritePaths=` are. Checked when the daemon
/// starts, so a sandbox that does not fit the configuration fails at once with what to change, not at the first
/// binary switch mid-rollout with a member down.
public enum WritablePaths {
    public static func problems(_ config: Config) -> [String] {
        var out: [String] = []
        var dirs = [
            ("stateDir", config.stateDir, true), ("backupDir", config.backupDir, true),
            ("member.binaryLink's folder", (config.member.binaryLink as NSString).deletingLastPathComponent, false),
        ]
        if let file = config.metrics?.textfile {
            dirs.append(("metrics.textfile's folder", (file as NSString).deletingLastPathComponent, false))
        }
        for (key, dir, create) in dirs {
            if create {
                do { try FileIO.ensureDirectory(dir) } catch {
                    out.append("\(key) \(dir) cannot be created: \(error)\(hint(errno))")
                    continue
                }
            }
            if access(dir, W_OK) != 0 {
                out.append("\(key) \(dir) is not writable (\(String(cString: strerror(errno))))\(hint(errno))")
            }
        }
        return out
    }

    static func hint(_ e: Int32) -> String {
        e == EROFS ? "; under the shipped unit add it to ReadWritePaths= (systemctl edit etcd-shepherd)" : ""
    }
}
