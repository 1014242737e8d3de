import ArgumentParser
import EtcdClient
import Foundation
import Logging
import Rollout
import ServiceLifecycle
import Shepherd

struct Backups: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the snapshots in backupDir, or print the commands that restore one as a new cluster.",
        discussion:
            "The daemon keeps the newest backupRetention snapshots (default 3). --restore takes a file name or a "
            + "rollout id and prints one etcdutl (3.5+) or etcdctl (3.4) command per member, from the member list saved "
            + "with the snapshot: it works when the cluster is gone.\n\n"
            + ExitHelp.text([
                (0, "listed / printed"), (1, "no such snapshot, or it has no saved member list"),
                (2, "usage or config"),
            ]))
    @Option(help: "A snapshot (file name, path, or rollout id) to print the restore commands for.") var restore: String?
    @OptionGroup var options: ConfigOption
    @OptionGroup var output: OutputOption

    func run() async throws {
        let config = try options.load()
        let entries = BackupCatalog.list(dir: config.backupDir)
        guard let wanted = restore else {
            if output.isJSON {
                try output.print(entries)
                return
            }
            guard !entries.isEmpty else {
                print("no snapshots in \(config.backupDir)")
                return
            }
            let now = Date().timeIntervalSince1970
            print("ROLLOUT               FROM (leader)        REVISION      SIZE        SHA256            AGE   FILE")
            for e in entries {
                let age = Int(now - e.takenAt)
                let ageText =
                    age >= 86_400
                    ? "\(age / 86_400)d" : age >= 3600 ? "\(age / 3600)h" : age >= 60 ? "\(age / 60)m" : "\(age)s"
                print(
                    [
                        pad(e.rolloutID ?? "-", 21), pad(e.leaderID ?? "-", 20),
                        pad(e.revision.map(String.init) ?? "-", 13),
                        pad(String(format: "%.1f MiB", Double(e.size) / 1_048_576), 11),
                        pad(String((e.sha256 ?? "-").prefix(16)), 17),
                        pad(ageText, 5), e.file,
                    ].joined(separator: " "))
            }
            return
        }
        guard
            let e = entries.first(where: {
                $0.file == wanted || ($0.file as NSString).lastPathComponent == wanted || $0.rolloutID == wanted
            })
        else {
            throw Failure(
                code: Exit.notHealthy,
                message: "no snapshot '\(wanted)' in \(config.backupDir) (etcd-shepherd backups lists them)")
        }
        guard !e.members.isEmpty else {
            throw Failure(
                code: Exit.notHealthy,
                message:
                    "\(e.file) has no saved member list (taken by hand or by an older daemon): restore it with etcdutl snapshot restore, one member at a time, as etcd's recovery guide says"
            )
        }
        let commands = BackupCatalog.restoreCommands(e, dataDir: config.member.dataDir)
        if output.isJSON {
            try output.print(["snapshot": [e.file], "commands": commands])
            return
        }
        print(
            "# restore \(e.file) (rollout \(e.rolloutID ?? "?"), revision \(e.revision.map(String.init) ?? "?"), sha256 \(e.sha256 ?? "?"))"
        )
        print(
            "# on each member, with etcd stopped; then start every member with its restored data dir and the same token"
        )
        for c in commands { print(c) }
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
}
