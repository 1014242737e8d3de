import Rollout
import Testing

@testable import Shepherd

/// etcd's `--config-file` read as etcd reads it (Go's YAML 1.1): the settings the preflight's flag rules look at.
@Suite struct MemberConfigurationTests {
    static func settings(_ yaml: String) -> [String: String] {
        Dictionary(
            MemberConfiguration.yaml(yaml, origin: "/etc/etcd/etcd.yml").map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { a, _ in a })
    }

    @Test func yamlBooleansCountAsEtcdReadsThem() {
        // `True`, `yes` and `on` are booleans to Go's YAML, as `true` is: `enable-v2: True` enables the v2 store.
        for spelling in ["true", "True", "TRUE", "yes", "on"] {
            #expect(Self.settings("enable-v2: \(spelling)\n")["enable-v2"] == "true", "\(spelling)")
        }
        #expect(Self.settings("enable-v2: False\n")["enable-v2"] == "false")
        // Quoted, it is a string: etcd would refuse it; it is passed on as written.
        #expect(Self.settings("enable-v2: 'yes'\n")["enable-v2"] == "yes")
    }

    @Test func nestedTLSSectionsAreTheFlagsTheyStandFor() {
        let s = Self.settings(
            """
            name: s1   # this member
            data-dir: "/var/lib/etcd"
            listen-client-urls: https://10.0.0.1:2379
            client-transport-security:
              cert-file: /etc/etcd/server.crt
              client-cert-auth: true
            peer-transport-security:
              cert-file: /etc/etcd/peer.crt
              auto-tls: false
            log-outputs: [stderr]
            initial-cluster-token:
            """)
        #expect(s["name"] == "s1" && s["data-dir"] == "/var/lib/etcd")
        #expect(s["listen-client-urls"] == "https://10.0.0.1:2379")
        #expect(s["cert-file"] == "/etc/etcd/server.crt" && s["client-cert-auth"] == "true")
        #expect(s["peer-cert-file"] == "/etc/etcd/peer.crt" && s["peer-auto-tls"] == "false")
        // A list and an empty value set no flag.
        #expect(s["log-outputs"] == nil && s["initial-cluster-token"] == nil)
    }

    @Test func notYAMLOrNotAMappingGivesNothing() {
        #expect(MemberConfiguration.yaml("- a\n- b\n", origin: "x").isEmpty)
        #expect(MemberConfiguration.yaml("a: [unclosed\n", origin: "x").isEmpty)
        #expect(MemberConfiguration.yaml("", origin: "x").isEmpty)
    }
}
