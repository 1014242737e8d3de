import EtcdClient
import Foundation
import Rollout

/// The snapshots in backupDir and what is known of each: a sidecar `<file>.json` written beside every snapshot the
/// daemon takes (rollout, the leader it came from, revision, size, sha256, when, and the member list at that time,
/// so the restore commands can be printed even when the cluster is gone). Keeps the newest `retention`.
public enum BackupCatalog {
    public struct Entry: Codable, Sendable, Equatable {
        public struct Peer: Codable, Sendable, Equatable {
            public let name: String
            public let peerURL: String
            public init(name: String, peerURL: String) {
                self.name = name
                self.peerURL = peerURL
            }
        }
        public var file: String
        public var rolloutID: String?
        public var leaderID: String?
        public var leaderURL: String?
        public var revision: Int64?
        public var size: Int64
        public var sha256: String?
        /// Seconds since 1970.
        public var takenAt: Double
        /// The etcd version the leader ran (picks etcdctl or etcdutl for the restore).
        public var etcdVersion: String?
        public var members: [Peer]

        public init(
            file: String, rolloutID: String?, leaderID: String?, leaderURL: String?, revision: Int64?, size: Int64,
            sha256: String?, takenAt: Double, etcdVersion: String?, members: [Peer]
        ) {
            self.file = file
            self.rolloutID = rolloutID
            self.leaderID = leaderID
            self.leaderURL = leaderURL
            self.revision = revision
            self.size = size
            self.sha256 = sha256
            self.takenAt = takenAt
            self.etcdVersion = etcdVersion
            self.members = members
        }
    }

    /// Writes the sidecar of `entry.file` (atomically, mode 0600).
    public static func record(_ entry: Entry) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileIO.writeAtomically(try enc.encode(entry), to: entry.file + ".json", mode: 0o600)
    }

    /// Every `*.db` in `dir`, newest first; one without a sidecar (copied in by hand, or from before sidecars) is
    /// listed with what the file itself says.
    public static func list(dir: String) -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix(".db") }.compactMap { name -> Entry? in
            let file = dir + "/" + name
            var st = stat()
            guard lstat(file, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
            if let data = FileManager.default.contents(atPath: file + ".json"),
                var e = try? JSONDecoder().decode(Entry.self, from: data)
            {
                e.file = file
                return e
            }
            return Entry(
                file: file, rolloutID: nil, leaderID: nil, leaderURL: nil, revision: nil, size: Int64(st.st_size),
                sha256: nil, takenAt: Double(st.st_mtim.tv_sec), etcdVersion: nil, members: [])
        }.sorted { ($0.takenAt, $0.file) > ($1.takenAt, $1.file) }
    }

    /// Removes all but the newest `keep` snapshots (and their sidecars), never `protecting`. Returns what it removed.
    @discardableResult
    public static func prune(dir: String, keep: Int, protecting: String) -> [String] {
        var removed: [String] = []
        for e in list(dir: dir).dropFirst(max(keep, 1)) where e.file != protecting {
            if unlink(e.file) == 0 { removed.append(e.file) }
            unlink(e.file + ".json")
        }
        return removed
    }

    /// The commands that restore `entry` as a new cluster, one per member (etcd's disaster-recovery procedure:
    /// every member restored from the same snapshot, each into a new data dir, with a new cluster token).
    /// `dataDir`: this node's data dir; the same layout is assumed on the others.
    public static func restoreCommands(_ entry: Entry, dataDir: String) -> [String] {
        let initial = entry.members.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
        let v = entry.etcdVersion.flatMap(EtcdVersion.init)
        // etcdutl has the restore from 3.5 on; 3.4 has it in etcdctl (v3 API).
        let tool = v.map { ($0.major, $0.minor) >= (3, 5) } ?? true ? "etcdutl" : "ETCDCTL_API=3 etcdctl"
        let token = "etcd-restored-\(entry.rolloutID ?? "snapshot")"
        return entry.members.map { m in
            "\(tool) snapshot restore \(entry.file) --name \(m.name) --initial-cluster \(initial) "
                + "--initial-cluster-token \(token) --initial-advertise-peer-urls \(m.peerURL) --data-dir \(dataDir).restored"
        }
    }
}
