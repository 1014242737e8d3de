import Testing

@testable import Rollout

/// The upgrade paths of etcd's guides as data: each prerequisite and flag rule, with its source.
@Suite struct UpgradePathTests {
    @Test(arguments: [
        ("3.5.21", "3.6.4", "3.5.32"), ("3.5.30", "3.6.0", "3.5.32"), ("3.6.10", "3.7.0", "3.6.11"),
        ("3.6.0", "3.7.2", "3.6.11"),
    ])
    func belowTheFloorIsRefusedNamingItAndTheCommand(from: String, to: String, floor: String) {
        let v = VersionPolicy.evaluate(
            from: EtcdVersion(from)!, to: EtcdVersion(to)!, clusterVersion: EtcdVersion(from)!.minorVersion,
            allowKnownBad: false)
        guard case let .refused(why) = v else {
            Issue.record("\(from) → \(to) allowed")
            return
        }
        #expect(
            why.contains("must run \(floor) or later first")
                && why.contains("etcd-shepherd request \(to) --via \(floor)")
                && why.contains("https://etcd.io/docs/"), "\(why)")
    }

    @Test(arguments: [
        ("3.5.32", "3.6.4"), ("3.5.34", "3.6.0"), ("3.6.11", "3.7.0"), ("3.4.23", "3.5.6"), ("3.5.20", "3.5.26"),
    ])
    func atOrAboveTheFloorOrWithinAMinorIsAllowed(from: String, to: String) {
        #expect(
            VersionPolicy.evaluate(
                from: EtcdVersion(from)!, to: EtcdVersion(to)!, clusterVersion: EtcdVersion(from)!.minorVersion,
                allowKnownBad: false
            ).isAllowed)
    }

    @Test func everyRuleNamesItsSource() {
        #expect(
            VersionPolicy.builtIn.prerequisites.allSatisfy {
                $0.source.hasPrefix("https://etcd.io/docs/") && !$0.why.isEmpty
            })
        #expect(FlagRules.table.allSatisfy { $0.source == "measured" || $0.source.hasPrefix("https://etcd.io/docs/") })
    }

    static func settings(_ s: [(String, String?, MemberSettings.Source)]) -> MemberSettings {
        MemberSettings(s.map { MemberSettings.Setting(name: $0.0, value: $0.1, source: $0.2, origin: "test") })
    }

    /// 3.6 turns experimental flags into feature gates (a warning) and 3.7 removes them (blocking), as flags,
    /// ETCD_* variables and YAML keys alike; the v2 store goes in 3.6 (--enable-v2) and its emulation in 3.7.
    @Test func flagsFor36And37() {
        let gate = Self.settings([("experimental-initial-corrupt-check", "true", .environment)])
        let on36 = FlagRules.evaluate(gate, from: EtcdVersion(3, 5, 26), to: EtcdVersion(3, 6, 4))
        #expect(
            on36.count == 1 && on36[0].severity == .warning
                && on36[0].fix.contains("--feature-gates=InitialCorruptCheck=true"), "\(on36)")
        let on37 = FlagRules.evaluate(gate, from: EtcdVersion(3, 6, 11), to: EtcdVersion(3, 7, 0))
        #expect(on37.count == 1 && on37[0].severity == .blocking, "\(on37)")
        #expect(FlagRules.evaluate(gate, from: EtcdVersion(3, 5, 0), to: EtcdVersion(3, 5, 3)).isEmpty)

        let v2 = Self.settings([("enable-v2", nil, .flag)])
        #expect(
            FlagRules.evaluate(v2, from: EtcdVersion(3, 5, 26), to: EtcdVersion(3, 6, 4)).contains {
                $0.severity == .blocking && $0.fix.contains("etcdutl check v2store")
            })
        #expect(
            FlagRules.evaluate(v2, from: EtcdVersion(3, 4, 23), to: EtcdVersion(3, 5, 3)).allSatisfy {
                $0.severity == .warning
            })
        #expect(
            FlagRules.evaluate(
                Self.settings([("enable-v2", "false", .configFile)]), from: nil, to: EtcdVersion(3, 6, 4)
            ).isEmpty)
        let v2v3 = Self.settings([("experimental-enable-v2v3", "/v2/", .configFile)])
        #expect(FlagRules.evaluate(v2v3, from: nil, to: EtcdVersion(3, 6, 4)).isEmpty)
        #expect(FlagRules.evaluate(v2v3, from: nil, to: EtcdVersion(3, 7, 0)).first?.severity == .blocking)
    }

    /// 3.3 → 3.4: the removed TLS flags block (measured on 3.4.23), and the two changed defaults are named.
    @Test func from33To34() {
        let ca = Self.settings([("ca-file", "/ca.pem", .flag)])
        let found = FlagRules.evaluate(ca, from: EtcdVersion(3, 3, 27), to: EtcdVersion(3, 4, 23))
        #expect(found.contains { $0.severity == .blocking && $0.fix.contains("--trusted-ca-file") })
        #expect(
            found.contains { $0.what.contains("ETCDCTL_API=3") }
                && found.contains { $0.what.contains("--enable-v2=false") })
        // An explicit --enable-v2 says the operator already decided: only the etcdctl note stays.
        let v2 = FlagRules.evaluate(
            Self.settings([("enable-v2", "true", .flag)]), from: EtcdVersion(3, 3, 27), to: EtcdVersion(3, 4, 23))
        #expect(
            !v2.contains { $0.what.contains("--enable-v2=false") } && v2.contains { $0.what.contains("ETCDCTL_API") })
        #expect(
            !FlagRules.evaluate(MemberSettings(), from: EtcdVersion(3, 4, 23), to: EtcdVersion(3, 5, 3)).contains {
                $0.what.contains("ETCDCTL_API")
            })
    }
}
