import Foundation
import Rollout
import Testing
import TestSupport
@testable import Shepherd

@Suite struct ConfigTests {
    @Test func exampleConfigLoads() throws {
        let c = try Config.load(path: Repo.root + "/config.example.json")
        #expect(c.member.name == "s1")
        #expect(c.member.binaryPath(EtcdVersion(3, 5, 1)) == "/opt/etcd/3.5.1/etcd")
        #expect(c.cluster.keyPrefix == "/etcd-shepherd")
        #expect(c.cluster.tls.isEmpty)
        #expect(c.controller == .command(stop: ["systemctl", "stop", "etcd"], start: ["systemctl", "start", "etcd"],
                                         status: ["systemctl", "is-active", "--quiet", "etcd"]))
        #expect(c.timing == Timing())
    }

    static let base = """
    {"member": {"name": "s1", "clientURL": "http://127.0.0.1:2379", "dataDir": "/d", "binaryLink": "/l", "binaryPathTemplate": "/o/{version}/etcd"},
     "cluster": {"endpoints": ["http://127.0.0.1:2379"]}, "controller": {"kind": "systemd", "unit": "etcd.service"}}
    """

    /// Each edit of the base config, and the key its error must name.
    @Test(arguments: [
        (#""cluster": {"endpoints": ["http://127.0.0.1:2379"]}"#, #""cluster": {"endpoints": ["http://127.0.0.1:2379"], "tsl": {}}"#, "cluster.tsl"),
        (#""name": "s1""#, #""name": """#, "member.name"),
        (#""name": "s1""#, #""name": "etcd@host:1""#, "member.name"),
        (#""dataDir": "/d""#, #""dataDir": "relative/d""#, "member.dataDir"),
        (#""/o/{version}/etcd""#, #""/o/etcd""#, "member.binaryPathTemplate"),
        (#""endpoints": ["http://127.0.0.1:2379"]"#, #""endpoints": ["127.0.0.1:2379"]"#, "cluster.endpoints[0]"),
        (#""endpoints": ["http://127.0.0.1:2379"]"#, #""endpoints": []"#, "cluster.endpoints"),
        (#""kind": "systemd""#, #""kind": "ssh""#, "controller.kind"),
        (#""unit": "etcd.service""#, #""unit": "etcd""#, "controller.unit"),
        (#""endpoints": ["http://127.0.0.1:2379"]}"#, #""endpoints": ["http://127.0.0.1:2379"], "tls": {"certFile": "/c"}}"#, "cluster.tls"),
        (#""endpoints": ["http://127.0.0.1:2379"]}"#, #""endpoints": ["http://127.0.0.1:2379"], "tls": {"caFile": "/ca.pem"}}"#, "cluster.endpoints[0]"),
        (#""endpoints": ["http://127.0.0.1:2379"]}"#, #""endpoints": ["https://127.0.0.1:2379"], "tls": {"caFile": "/ca.pem"}}"#, "member.clientURL"),
        (#""endpoints": ["http://127.0.0.1:2379"]}"#, #""endpoints": ["http://127.0.0.1:2379"], "allowSmallCluster": "yes"}"#, "cluster.allowSmallCluster"),
        (#""controller""#, #""timing": {"tickSeconds": 0}, "controller""#, "timing.tickSeconds"),
        (#""controller""#, #""timing": {"lockTTLSeconds": true}, "controller""#, "timing.lockTTLSeconds"),
        (#""controller""#, #""timing": {"stopPendingSeconds": 0}, "controller""#, "timing.stopPendingSeconds"),
    ])
    func badConfigNamesTheKey(find: String, replace: String, key: String) {
        let text = Self.base.replacingOccurrences(of: find, with: replace)
        #expect(text != Self.base, "the edit did not apply")
        do {
            _ = try Config.parse(Data(text.utf8))
            Issue.record("accepted a bad config (\(key))")
        } catch let e as Config.Invalid {
            #expect(e.key == key, "\(e)")
        } catch { Issue.record("\(error)") }
    }

    /// The client key is a credential: a key file group or others can read is refused, naming the file and the fix.
    @Test func clientKeyReadableByOthersIsRefused() throws {
        let dir = try TempDir("tlskey")
        defer { dir.remove() }
        let key = dir.path + "/client.key"
        #expect(FileManager.default.createFile(atPath: key, contents: Data("-----BEGIN PRIVATE KEY-----\n".utf8)))
        let text = Self.base
            .replacingOccurrences(of: #""clientURL": "http://127.0.0.1:2379""#, with: #""clientURL": "https://127.0.0.1:2379""#)
            .replacingOccurrences(of: #""endpoints": ["http://127.0.0.1:2379"]}"#,
                                  with: #""endpoints": ["https://127.0.0.1:2379"], "tls": {"certFile": "\#(dir.path)/c.crt", "keyFile": "\#(key)"}}"#)
        chmod(key, 0o640)
        do {
            _ = try Config.parse(Data(text.utf8))
            Issue.record("a group-readable key was accepted")
        } catch let e as Config.Invalid {
            #expect(e.key == "cluster.tls.keyFile" && e.problem.contains("chmod 600 \(key)") && e.problem.contains("640"), "\(e)")
        }
        chmod(key, 0o600)
        #expect(throws: Never.self) { _ = try Config.parse(Data(text.utf8)) }
    }

    @Test func notJSONAtAll() {
        #expect(throws: Config.Invalid.self) { try Config.parse(Data("member: s1".utf8)) }
    }
}
