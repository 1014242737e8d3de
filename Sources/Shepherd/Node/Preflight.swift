import Crypto
import Exec
import Foundation
import Rollout

/// Checks on this node for a target version: the binary, the data dir, and the member's configuration.
public enum Preflight {
    /// Everything gate 6 and `etcd-shepherd check` look at on this node.
    public static func all(
        _ config: Config, from: EtcdVersion?, to: EtcdVersion, binary: String, sha256: String?
    ) async -> [Finding] {
        let settings = await MemberConfiguration.gather(config)
        return await self.binary(binary, version: to, sha256: sha256) + dataDir(config.member.dataDir)
            + FlagRules.evaluate(settings, from: from, to: to)
            + v2store(
                settings, binary: binary, template: config.member.binaryPathTemplate, dataDir: config.member.dataDir,
                to: to)
    }

    /// This node for a rollout to `to`, through `via` when given: everything for the first hop, and the final
    /// target's binary too (`binary` and `sha256` name the final target, as a request does).
    public static func forRequest(
        _ config: Config, from: EtcdVersion?, via: EtcdVersion?, to: EtcdVersion,
        binary: String?, sha256: String?
    ) async -> [Finding] {
        let finalBinary = binary ?? config.member.binaryPath(to)
        guard let via else { return await all(config, from: from, to: to, binary: finalBinary, sha256: sha256) }
        return await all(config, from: from, to: via, binary: config.member.binaryPath(via), sha256: nil)
            + self.binary(finalBinary, version: to, sha256: sha256)
    }

    /// etcd 3.6 drops the v2 store (upgrade_3_6 guide): with `--enable-v2` set, `etcdutl check v2store` must find no
    /// custom v2 data; found, or not checkable, the member is not stopped. The target's etcdutl is used when it is
    /// staged (beside the target binary, or at the template's etcdutl path); otherwise the newest staged etcdutl that
    /// has the check, and the finding says which (below 3.5.32 it inspects the v2 snapshot only, not the WAL).
    public static func v2store(
        _ settings: MemberSettings, binary: String, template: String, dataDir: String,
        to: EtcdVersion
    ) async -> [Finding] {
        guard to >= EtcdVersion(3, 6, 0),
            let flag = settings.settings.first(where: { $0.name == "enable-v2" && ($0.value ?? "true") == "true" })
        else { return [] }
        let guide = "https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/"
        let targets =
            [(binary as NSString).deletingLastPathComponent + "/etcdutl"]
            + (StagedVersions.toolTemplate(template, tool: "etcdutl").map {
                [$0.replacingOccurrences(of: "{version}", with: to.description)]
            } ?? [])
        var tool: (path: String, version: EtcdVersion?)? = targets.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }.map { ($0, to) }
        var which = ""
        if tool == nil, let utl = StagedVersions.toolTemplate(template, tool: "etcdutl") {
            // No etcdutl of the target: the newest staged one that knows the check (3.5.30 does; 3.5.16 does not).
            for v in StagedVersions.all(utl).reversed() {
                let path = utl.replacingOccurrences(of: "{version}", with: v.description)
                if (try? await Command.run([path, "check", "v2store", "--help"], timeout: .seconds(10)))?.succeeded
                    == true
                {
                    tool = (path, v)
                    which =
                        " (etcdutl \(v), the newest staged that has the check: no etcdutl \(to) is staged at \(targets.last ?? targets[0]))"
                    break
                }
            }
        }
        guard let tool else {
            return [
                Finding(
                    severity: .blocking,
                    what: "\(flag.spelled) (\(flag.origin)) is set and no etcdutl with `check v2store` is staged "
                        + "(looked for \(targets.joined(separator: ", ")) and etcdutl beside the staged binaries): the v2 store cannot be checked",
                    fix:
                        "stage etcdutl \(to) beside the target binary (or run etcdutl check v2store --data-dir \(dataDir) yourself), then remove --enable-v2 (\(guide))"
                )
            ]
        }
        let r: Command.Result
        do {
            r = try await Command.run([tool.path, "check", "v2store", "--data-dir", dataDir], timeout: .seconds(60))
        } catch {
            return [
                Finding(
                    severity: .blocking, what: "\(tool.path) check v2store failed to run: \(error)",
                    fix: "run it by hand: \(tool.path) check v2store --data-dir \(dataDir)")
            ]
        }
        guard r.succeeded else {
            let said = (r.stderr + r.stdout).split(separator: "\n").last.map(String.init) ?? "exit \(r.exitCode)"
            return [
                Finding(
                    severity: .blocking,
                    what: "\(tool.path) check v2store found custom v2 data in \(dataDir) (\(said))\(which)",
                    fix:
                        "migrate it (the v2 migration guide) or drop it: add --snapshot-count=1, restart the member, restore --snapshot-count, "
                        + "restart again, check again; then remove --enable-v2 (\(guide))")
            ]
        }
        guard which.isEmpty else {
            return [
                Finding(
                    severity: .warning,
                    what: "\(tool.path) check v2store found no custom v2 data in \(dataDir)\(which)",
                    fix:
                        "etcdutl below 3.5.32 inspects the v2 snapshot only, not the WAL: stage etcdutl \(to) and check again before the upgrade"
                )
            ]
        }
        return []
    }

    /// The binary link must be a symlink (the daemon repoints it; a regular file there would be overwritten and the
    /// old binary lost), and what it points at now — where a rollback goes back to — must exist and be executable.
    public static func link(_ link: String, rollbackBinary: String) -> [Finding] {
        var st = stat()
        guard lstat(link, &st) == 0 else {
            return [
                Finding(
                    severity: .blocking,
                    what: "binary link \(link) does not exist (\(String(cString: strerror(errno))))",
                    fix:
                        "make \(link) a symlink to the running etcd binary (ln -s \(rollbackBinary) \(link)) and run the member through it"
                )
            ]
        }
        guard (st.st_mode & S_IFMT) == S_IFLNK else {
            return [
                Finding(
                    severity: .blocking, what: "binary link \(link) is not a symlink",
                    fix:
                        "move the binary to a versioned path (like \(rollbackBinary)) and replace \(link) with a symlink to it"
                )
            ]
        }
        let current = BinaryLink(path: link).target().map {
            $0.hasPrefix("/") ? $0 : (link as NSString).deletingLastPathComponent + "/" + $0
        }
        guard let current, access(current, X_OK) == 0 else {
            return [
                Finding(
                    severity: .blocking,
                    what:
                        "binary link \(link) points at \(current ?? "nothing") which is missing or not executable: there is nothing to roll back to",
                    fix: "point \(link) at the etcd binary the member runs now")
            ]
        }
        return []
    }

    /// The binary exists, is executable, reports `version` in `--version`, and matches `sha256` when given.
    public static func binary(_ path: String, version: EtcdVersion, sha256 expected: String?) async -> [Finding] {
        let fm = FileManager.default
        guard fm.fileExists(atPath: path) else {
            return [
                Finding(
                    severity: .blocking, what: "target binary \(path) does not exist",
                    fix: "install etcd \(version) at \(path) (member.binaryPathTemplate) or pass --binary")
            ]
        }
        guard fm.isExecutableFile(atPath: path) else {
            return [
                Finding(severity: .blocking, what: "target binary \(path) is not executable", fix: "chmod 755 \(path)")
            ]
        }
        if let expected {
            guard let actual = sha256(ofFile: path) else {
                return [
                    Finding(
                        severity: .blocking, what: "cannot read \(path) to check its sha256",
                        fix: "check its permissions")
                ]
            }
            guard actual == expected.lowercased() else {
                return [
                    Finding(
                        severity: .blocking, what: "sha256 of \(path) is \(actual), the request says \(expected)",
                        fix: "install the right binary, or correct the checksum in the request")
                ]
            }
        }
        let reported: String?
        do {
            let r = try await Command.run([path, "--version"], timeout: .seconds(10))
            reported = r.stdout.split(separator: "\n").first { $0.hasPrefix("etcd Version:") }
                .map { $0.dropFirst("etcd Version:".count).trimmingCharacters(in: .whitespaces) }
        } catch {
            return [
                Finding(
                    severity: .blocking, what: "\(path) --version failed: \(error)",
                    fix: "check that it is an etcd binary for this machine")
            ]
        }
        guard let reported, EtcdVersion(reported) == version else {
            return [
                Finding(
                    severity: .blocking, what: "\(path) reports version \(reported ?? "nothing"), expected \(version)",
                    fix: "point member.binaryPathTemplate (or --binary) at etcd \(version)")
            ]
        }
        return []
    }

    /// The data dir holds v3 data, and not the state (db missing while raft .snap files exist) that makes etcd exit 2.
    public static func dataDir(_ dir: String) -> [Finding] {
        let fm = FileManager.default
        let snap = dir + "/member/snap"
        let hasDB = fm.fileExists(atPath: snap + "/db")
        let snaps = ((try? fm.contentsOfDirectory(atPath: snap)) ?? []).filter { $0.hasSuffix(".snap") }
        if !hasDB && !snaps.isEmpty {
            return [
                Finding(
                    severity: .blocking,
                    what: "\(snap)/db is missing while \(snaps.count) .snap file(s) exist: etcd will exit 2",
                    fix: "restore the member from a snapshot (etcdutl snapshot restore) or remove and re-add it")
            ]
        }
        if !hasDB && !fm.fileExists(atPath: dir + "/member/wal") {
            return [
                Finding(
                    severity: .blocking, what: "\(dir) holds no etcd v3 data (no member/snap/db)",
                    fix: "check member.dataDir in the config")
            ]
        }
        return []
    }

    public static func sha256(ofFile path: String) -> String? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        var hasher = SHA256()
        while let chunk = try? h.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
