import Exec
import Foundation
import Rollout
import Systemd
import Yams

/// Finds the member's real configuration wherever it lives: the running etcd process (its command line, its
/// environment — which holds an EnvironmentFile= or Environment= of its unit — and the YAML of its `--config-file`),
/// the command controller's start argv, and for the systemd controller the unit's ExecStart, Environment= and
/// EnvironmentFile= (so a setting that is configured but not yet running is seen too).
public enum MemberConfiguration {
    public static func gather(_ config: Config, units: UnitManager = UnitManager()) async -> MemberSettings {
        var all: [MemberSettings.Setting] = []
        if let pid = runningMember(dataDir: config.member.dataDir) {
            all += fromProcess(pid)
        }
        switch config.controller {
        case let .command(_, start, _):
            all += MemberSettings.flags(Array(start.dropFirst()), origin: "controller start command")
        case let .systemd(unit):
            all += await fromUnit(unit, units: units)
        }
        // The same setting seen in two places is one finding.
        var seen = Set<String>()
        return MemberSettings(all.filter { seen.insert("\($0.source)|\($0.name)|\($0.value ?? "")").inserted })
    }

    /// The etcd process serving this data dir (by `--data-dir`, ETCD_DATA_DIR or its config file), if it runs.
    static func runningMember(dataDir: String) -> Int32? {
        let fm = FileManager.default
        for entry in (try? fm.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let argv = cmdline(pid), let exe = argv.first else { continue }
            let base = (exe as NSString).lastPathComponent
            guard base.hasPrefix("etcd"), !base.hasPrefix("etcdctl"), !base.hasPrefix("etcdutl"),
                !base.hasPrefix("etcd-shepherd"),
                !base.hasSuffix(".sh")
            else { continue }
            let settings = fromProcess(pid)
            if settings.contains(where: { $0.name == "data-dir" && $0.value.map(normalize) == normalize(dataDir) }) {
                return pid
            }
        }
        return nil
    }

    static func normalize(_ p: String) -> String { (p as NSString).standardizingPath }

    static func fromProcess(_ pid: Int32) -> [MemberSettings.Setting] {
        guard let argv = cmdline(pid) else { return [] }
        var out = MemberSettings.flags(Array(argv.dropFirst()), origin: "command line of pid \(pid)")
        out += MemberSettings.environment(environ(pid), origin: "environment of pid \(pid)")
        let configFile = out.first { $0.name == "config-file" }?.value
        if let configFile { out += yaml(path: configFile) }
        return out
    }

    static func cmdline(_ pid: Int32) -> [String]? {
        guard let d = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !d.isEmpty else { return nil }
        return d.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    static func environ(_ pid: Int32) -> [String: String] {
        guard let d = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return [:] }
        var env: [String: String] = [:]
        for kv in d.split(separator: 0) {
            let s = String(decoding: kv, as: UTF8.self)
            if let eq = s.firstIndex(of: "=") { env[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
        }
        return env
    }

    /// The settings of etcd's YAML config file at `path` (none when it cannot be read).
    static func yaml(path: String) -> [MemberSettings.Setting] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return yaml(text, origin: path)
    }

    /// etcd's config file as etcd reads it (Go's YAML: 1.1 booleans such as `True` or `yes`), top-level keys by their
    /// flag names; the two TLS sections by the flags they stand for (`client-transport-security.cert-file` is
    /// `--cert-file`, `peer-transport-security.cert-file` is `--peer-cert-file`). Not YAML, or not a mapping: none.
    static func yaml(_ text: String, origin: String) -> [MemberSettings.Setting] {
        guard let root = (try? Yams.compose(yaml: text))?.flatMap(\.mapping) else { return [] }
        var out: [MemberSettings.Setting] = []
        func add(_ name: String, _ node: Node) {
            guard let value = flagValue(node) else { return }
            out.append(MemberSettings.Setting(name: name, value: value, source: .configFile, origin: origin))
        }
        for (k, v) in root {
            guard let key = k.string else { continue }
            if let section = v.mapping, let prefix = tlsSections[key] {
                for (nk, nv) in section { if let n = nk.string { add(prefix + n, nv) } }
            } else {
                add(key, v)
            }
        }
        return out
    }

    static let tlsSections = ["client-transport-security": "", "peer-transport-security": "peer-"]

    /// A scalar as the flag would be written: a YAML boolean as `true`/`false`; null, empty and collections: none.
    static func flagValue(_ node: Node) -> String? {
        guard let scalar = node.scalar else { return nil }
        switch Tag.Name(rawValue: node.tag.rawValue) {
        case .null: return nil
        case .bool: return node.bool.map { $0 ? "true" : "false" }
        default: return scalar.string.isEmpty ? nil : scalar.string
        }
    }

    /// KEY=VALUE lines of an environment file (comments and blank lines skipped, quotes removed).
    static func environmentFile(_ path: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var env: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard !t.hasPrefix("#"), let eq = t.firstIndex(of: "=") else { continue }
            env[String(t[..<eq])] = String(t[t.index(after: eq)...]).trimmingCharacters(
                in: CharacterSet(charactersIn: "'\""))
        }
        return env
    }

    /// ExecStart, Environment= and EnvironmentFile= of a unit, as systemd has loaded them (typed D-Bus properties).
    static func fromUnit(_ unit: String, units: UnitManager) async -> [MemberSettings.Setting] {
        guard let loaded = try? await units.serviceSettings(unit: unit) else { return [] }
        return fromUnit(loaded, unit: unit)
    }

    static func fromUnit(_ loaded: UnitServiceSettings, unit: String) -> [MemberSettings.Setting] {
        var out: [MemberSettings.Setting] = []
        for argv in loaded.execStart {
            out += MemberSettings.flags(Array(argv.dropFirst()), origin: "ExecStart of \(unit)")
        }
        if let cf = out.first(where: { $0.name == "config-file" })?.value { out += yaml(path: cf) }
        var env: [String: String] = [:]
        for kv in loaded.environment {
            if let eq = kv.firstIndex(of: "=") { env[String(kv[..<eq])] = String(kv[kv.index(after: eq)...]) }
        }
        out += MemberSettings.environment(env, origin: "Environment= of \(unit)")
        for path in loaded.environmentFiles {
            out += MemberSettings.environment(environmentFile(path), origin: path)
        }
        return out
    }
}
