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
    /// The first version that warns about it (deprecated, still accepted); nil: none.
    public var deprecatedIn: EtcdVersion? = nil
    /// Where the rule comes from: "measured" (the real binaries here) or the guide's URL (no such binary here).
    public var source: String = "measured"
}

public enum FlagRules {
    public static let table: [FlagRule] =
        [
            FlagRule(
                name: "logger", value: "capnslog", removedIn: EtcdVersion(3, 5, 0), flagBlocks: true,
                elsewhereBlocks: true,
                exitCode: 1, fix: "use --logger=zap (the 3.5 default) with --log-level / --log-outputs"),
            FlagRule(
                name: "debug", value: nil, removedIn: EtcdVersion(3, 5, 0), flagBlocks: true, elsewhereBlocks: false,
                exitCode: 2, fix: "replace --debug with --log-level=debug"),
            FlagRule(
                name: "log-package-levels", value: nil, removedIn: EtcdVersion(3, 5, 0), flagBlocks: true,
                elsewhereBlocks: false,
                exitCode: 2, fix: "replace --log-package-levels with --log-level"),
            FlagRule(
                name: "log-output", value: nil, removedIn: EtcdVersion(3, 5, 0), flagBlocks: true,
                elsewhereBlocks: false,
                exitCode: 2, fix: "replace --log-output with --log-outputs"),
            FlagRule(
                name: "ca-file", value: nil, removedIn: EtcdVersion(3, 4, 0), flagBlocks: true, elsewhereBlocks: false,
                exitCode: 2, fix: "replace --ca-file with --client-cert-auth --trusted-ca-file"),
            FlagRule(
                name: "peer-ca-file", value: nil, removedIn: EtcdVersion(3, 4, 0), flagBlocks: true,
                elsewhereBlocks: false,
                exitCode: 2, fix: "replace --peer-ca-file with --peer-client-cert-auth --peer-trusted-ca-file"),
            // From the 3.6 and 3.7 guides (no 3.6/3.7 binary reaches this machine: not measured, blocking as the guides
            // say).
            FlagRule(
                name: "enable-v2", value: "true", removedIn: EtcdVersion(3, 6, 0), flagBlocks: true,
                elsewhereBlocks: true,
                exitCode: nil,
                fix:
                    "migrate any v2 data (the v2 migration guide), check with etcdutl check v2store, then remove --enable-v2 / ETCD_ENABLE_V2",
                source: "https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/"),
            FlagRule(
                name: "experimental-enable-v2v3", value: nil, removedIn: EtcdVersion(3, 7, 0), flagBlocks: true,
                elsewhereBlocks: true,
                exitCode: nil, fix: "the v2-on-v3 emulation is gone in 3.7: remove the flag",
                source: "https://etcd.io/docs/v3.7/upgrades/upgrade_3_7/"),
        ] + featureGateRenames

    /// 3.6 turns experimental flags into feature gates: the old flag is deprecated in 3.6 (a warning) and gone in 3.7.
    static let featureGateRenames: [FlagRule] = [
        ("experimental-compact-hash-check-enabled", "CompactHashCheck"),
        ("experimental-initial-corrupt-check", "InitialCorruptCheck"),
        ("experimental-txn-mode-write-with-shared-buffer", "TxnModeWriteWithSharedBuffer"),
        ("experimental-stop-grpc-service-on-defrag", "StopGRPCServiceOnDefrag"),
    ].map { flag, gate in
        FlagRule(
            name: flag, value: nil, removedIn: EtcdVersion(3, 7, 0), flagBlocks: true, elsewhereBlocks: true,
            exitCode: nil,
            fix: "use --feature-gates=\(gate)=true (YAML: feature-gates: \(gate)=true)",
            deprecatedIn: EtcdVersion(3, 6, 0),
            source: "https://etcd.io/docs/v3.6/feature-gates/")
    }

    /// Settings that still work but change meaning or are on their way out.
    static func advisories(_ s: MemberSettings.Setting, from: EtcdVersion?, to: EtcdVersion) -> Finding? {
        if s.name == "enable-v2", s.value == nil || s.value == "true", to >= EtcdVersion(3, 5, 0),
            to < EtcdVersion(3, 6, 0)
        {
            return Finding(
                severity: .warning, what: "\(s.spelled) (\(s.origin)): the v2 API is deprecated in 3.5 and gone in 3.6",
                fix: "migrate v2 data and clients to v3, then drop --enable-v2")
        }
        return nil
    }

    /// Findings for running `settings` on `to`. `from` (the current version) adds the notes that only matter
    /// across a minor step, such as renamed metrics.
    public static func evaluate(_ settings: MemberSettings, from: EtcdVersion?, to: EtcdVersion) -> [Finding] {
        var out: [Finding] = []
        for s in settings.settings {
            for rule in table where rule.name == s.name && to >= (rule.deprecatedIn ?? rule.removedIn) {
                if let v = rule.value, (s.value ?? "true") != v { continue }
                if to < rule.removedIn {
                    out.append(
                        Finding(
                            severity: .warning,
                            what:
                                "\(s.spelled) (\(s.origin)): deprecated in etcd \(rule.deprecatedIn!), gone in \(rule.removedIn)",
                            fix: rule.fix))
                    continue
                }
                let blocks = s.source == .flag ? rule.flagBlocks : rule.elsewhereBlocks
                let effect =
                    blocks
                    ? "etcd \(to) refuses it\(rule.exitCode.map { " (exits \($0))" } ?? "")"
                    : "etcd \(to) ignores it (the setting is silently lost)"
                out.append(
                    Finding(
                        severity: blocks ? .blocking : .warning,
                        what: "\(s.spelled) (\(s.origin)): \(effect)", fix: rule.fix))
            }
            if let a = advisories(s, from: from, to: to) { out.append(a) }
        }
        // 3.3 → 3.4 (upgrade_3_4 guide): two defaults change under the operator's feet.
        if let from, from < EtcdVersion(3, 4, 0), to >= EtcdVersion(3, 4, 0) {
            if !settings.settings.contains(where: { $0.name == "enable-v2" }) {
                out.append(
                    Finding(
                        severity: .warning,
                        what:
                            "etcd 3.4 no longer serves the v2 API unless told to (--enable-v2=false is the new default)",
                        fix:
                            "if anything still uses the v2 API, add --enable-v2=true before the upgrade (https://etcd.io/docs/v3.4/upgrades/upgrade_3_4/)"
                    ))
            }
            out.append(
                Finding(
                    severity: .warning, what: "etcdctl 3.4 speaks the v3 API by default (ETCDCTL_API=3)",
                    fix:
                        "scripts that use v2 etcdctl commands need ETCDCTL_API=2 (https://etcd.io/docs/v3.4/upgrades/upgrade_3_4/)"
                ))
        }
        if let from, from < EtcdVersion(3, 5, 0), to >= EtcdVersion(3, 5, 0) {
            out.append(
                Finding(
                    severity: .warning, what: "metric etcd_debugging_mvcc_db_total_size_in_bytes is gone in 3.5",
                    fix: "point dashboards and alerts at etcd_mvcc_db_total_size_in_bytes (exported by 3.4 too)"))
        }
        return out
    }
}
