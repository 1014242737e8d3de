/// What a target version refuses or ignores in a member's configuration, as data. Every blocking row was checked
/// against the real binaries on this project's machines (Tests/ShepherdTests/PreflightTests.swift proves each one
/// again: the member runs that way on the old version, the target binary exits, the check catches it).
public struct FlagRule: Sendable {
    public let name: String
    /// nil: any value; otherwise the setting only matches this value.
    public let value: String?
    /// The first version that no longer accepts it.
    public let removedIn: EtcdVersion
    /// Blocking as a flag (the binary exits) — measured exit codes in `exitCode`.
    public let flagBlocks: Bool
    /// Blocking as an ETCD_* variable or a config-file key. Removed flags are only *ignored* there by 3.5
    /// ("unrecognized environment variable"), which silently drops the setting: a warning.
    public let elsewhereBlocks: Bool
    public let exitCode: Int32?
    public let fix: String
}

public enum FlagRules {
    public static let table: [FlagRule] = [
        FlagRule(name: "logger", value: "capnslog", removedIn: EtcdVersion(3, 5, 0), flagBlocks: true, elsewhereBlocks: true,
                 exitCode: 1, fix: "use --logger=zap (the 3.5 default) with --log-level / --log-outputs"),
        FlagRule(name: "debug", value: nil, removedIn: EtcdVersion(3, 5, 0), flagBlocks: true, elsewhereBlocks: false,
                 exitCode: 2, fix: "replace --debug with --log-level=debug"),
        FlagRule(name: "log-package-levels", value: nil, removedIn: EtcdVersion(3, 5, 0), flagBlocks: true, elsewhereBlocks: false,
                 exitCode: 2, fix: "replace --log-package-levels with --log-level"),
        FlagRule(name: "log-output", value: nil, removedIn: EtcdVersion(3, 5, 0), flagBlocks: true, elsewhereBlocks: false,
                 exitCode: 2, fix: "replace --log-output with --log-outputs"),
        FlagRule(name: "ca-file", value: nil, removedIn: EtcdVersion(3, 4, 0), flagBlocks: true, elsewhereBlocks: false,
                 exitCode: 2, fix: "replace --ca-file with --client-cert-auth --trusted-ca-file"),
        FlagRule(name: "peer-ca-file", value: nil, removedIn: EtcdVersion(3, 4, 0), flagBlocks: true, elsewhereBlocks: false,
                 exitCode: 2, fix: "replace --peer-ca-file with --peer-client-cert-auth --peer-trusted-ca-file"),
    ]

    /// Settings that still work but change meaning or are on their way out.
    static func advisories(_ s: MemberSettings.Setting, from: EtcdVersion?, to: EtcdVersion) -> Finding? {
        if s.name == "enable-v2", s.value == nil || s.value == "true", to >= EtcdVersion(3, 5, 0) {
            return Finding(severity: .warning, what: "\(s.spelled) (\(s.origin)): the v2 API is deprecated in 3.5 and gone in 3.6",
                           fix: "migrate v2 data and clients to v3, then drop --enable-v2")
        }
        return nil
    }

    /// Findings for running `settings` on `to`. `from` (the current version) adds the notes that only matter
    /// across a minor step, such as renamed metrics.
    public static func evaluate(_ settings: MemberSettings, from: EtcdVersion?, to: EtcdVersion) -> [Finding] {
        var out: [Finding] = []
        for s in settings.settings {
            for rule in table where rule.name == s.name && to >= rule.removedIn {
                if let v = rule.value, s.value != v { continue }
                let blocks = s.source == .flag ? rule.flagBlocks : rule.elsewhereBlocks
                let effect = blocks
                    ? "etcd \(to) refuses it\(rule.exitCode.map { " (exits \($0))" } ?? "")"
                    : "etcd \(to) ignores it (the setting is silently lost)"
                out.append(Finding(severity: blocks ? .blocking : .warning,
                                   what: "\(s.spelled) (\(s.origin)): \(effect)", fix: rule.fix))
            }
            if let a = advisories(s, from: from, to: to) { out.append(a) }
        }
        if let from, from < EtcdVersion(3, 5, 0), to >= EtcdVersion(3, 5, 0) {
            out.append(Finding(severity: .warning, what: "metric etcd_debugging_mvcc_db_total_size_in_bytes is gone in 3.5",
                               fix: "point dashboards and alerts at etcd_mvcc_db_total_size_in_bytes (exported by 3.4 too)"))
        }
        return out
    }
}
