import Foundation
import Rollout
import TestSupport
import Testing

@testable import Shepherd

@Suite struct ConfigTests {
    /// Metrics on by default on loopback; null turns them (or only the listener) off.
    @Test func metricsDefaultsAndOff() throws {
        #expect(
            try Config.parse(Data(Self.base.utf8)).metrics == Config.Metrics(listen: "127.0.0.1:9798", textfile: nil))
        func with(_ m: String) throws -> Config.Metrics? {
            try Config.parse(
                Data(
                    Self.base.replacingOccurrences(of: #""controller""#, with: #""metrics": \#(m), "controller""#).utf8)
            ).metrics
        }
        #expect(try with("null") == nil)
        #expect(
            try with(#"{"listen": null, "textfile": "/var/lib/node/shepherd.prom"}"#)
                == Config.Metrics(listen: nil, textfile: "/var/lib/node/shepherd.prom"))
        #expect(try with(#"{"listen": "[::1]:9798"}"#)?.listen == "[::1]:9798")
        #expect(try Config.parse(Data(Self.base.utf8)).backupRetention == 3)
    }

    /// The package's config is refused until edited, with what to edit.
    /// With nothing to act on the daemon observes every `idleTickSeconds` (5 by default), never more often than its
    /// tick; the loop rests that long only when resting, and not at all after a step that changed something.
    @Test func idleTickIsNeverBelowTheTick() throws {
        let plain = try Config.parse(Data(Self.base.utf8))
        #expect(plain.timing.idleTickSeconds == 5)
        #expect(plain.timing.lastLookSeconds == 1)
        let slow = Self.base.replacingOccurrences(
            of: #""controller""#, with: #""timing": {"tickSeconds": 2, "idleTickSeconds": 1}, "controller""#)
        #expect(try Config.parse(Data(slow.utf8)).timing.idleTickSeconds == 2)
        let wait = Action.wait(.noLock)
        #expect(Daemon.pause(after: wait, tick: 1, idleTick: 5, closeness: .resting) == 5)
        #expect(Daemon.pause(after: wait, tick: 1, idleTick: 5, closeness: .idle) == 1)
        #expect(Daemon.pause(after: wait, tick: 1, idleTick: 5, closeness: .inSequence) == 0.2)
        #expect(Daemon.pause(after: .release, tick: 1, idleTick: 5, closeness: .resting) == 0)
    }

    @Test func packagedPlaceholderIsRefused() throws {
        do {
            _ = try Config.load(path: Repo.root + "/packaging/default-config.json")
            Issue.record("the placeholder config was accepted")
        } catch let e as Config.Invalid {
            #expect(
                e.key == "placeholder" && "\(e)".contains("member")
                    && "\(e)".contains("systemctl start etcd-shepherd"), "\(e)")
        }
        // Edited (the line removed), the same file loads.
        let edited = try String(contentsOfFile: Repo.root + "/packaging/default-config.json", encoding: .utf8)
            .split(separator: "\n").filter { !$0.contains("\"placeholder\"") }.joined(separator: "\n")
        #expect(try Config.parse(Data(edited.utf8)).member.name == "s1")
    }

    @Test func exampleConfigLoads() throws {
        let c = try Config.load(path: Repo.root + "/config.example.json")
        #expect(c.member.name == "s1")
        #expect(c.member.binaryPath(EtcdVersion(3, 5, 1)) == "/opt/etcd/3.5.1/etcd")
        #expect(c.cluster.keyPrefix == "/etcd-shepherd")
        #expect(c.cluster.tls.isEmpty)
        #expect(
            c.controller
                == .command(
                    stop: ["systemctl", "stop", "etcd"], start: ["systemctl", "start", "etcd"],
                    status: ["systemctl", "is-active", "--quiet", "etcd"]))
        #expect(c.timing == Timing())
    }

    static let base = """
        {"member": {"name": "s1", "clientURL": "http://127.0.0.1:2379", "dataDir": "/d", "binaryLink": "/l", "binaryPathTemplate": "/o/{version}/etcd"},
         "cluster": {"endpoints": ["http://127.0.0.1:2379"]}, "controller": {"kind": "systemd", "unit": "etcd.service"}}
        """

    /// Each edit of the base config, and the key its error must name.
    @Test(arguments: [
        (
            #""cluster": {"endpoints": ["http://127.0.0.1:2379"]}"#,
            #""cluster": {"endpoints": ["http://127.0.0.1:2379"], "tsl": {}}"#, "cluster.tsl"
        ),
        (#""name": "s1""#, #""name": """#, "member.name"),
        (#""name": "s1""#, #""name": "etcd@host:1""#, "member.name"),
        (#""dataDir": "/d""#, #""dataDir": "relative/d""#, "member.dataDir"),
        (#""/o/{version}/etcd""#, #""/o/etcd""#, "member.binaryPathTemplate"),
        (#""endpoints": ["http://127.0.0.1:2379"]"#, #""endpoints": ["127.0.0.1:2379"]"#, "cluster.endpoints[0]"),
        (#""endpoints": ["http://127.0.0.1:2379"]"#, #""endpoints": []"#, "cluster.endpoints"),
        (#""kind": "systemd""#, #""kind": "ssh""#, "controller.kind"),
        (#""unit": "etcd.service""#, #""unit": "etcd""#, "controller.unit"),
        (
            #""endpoints": ["http://127.0.0.1:2379"]}"#,
            #""endpoints": ["http://127.0.0.1:2379"], "tls": {"certFile": "/c"}}"#, "cluster.tls"
        ),
        (
            #""endpoints": ["http://127.0.0.1:2379"]}"#,
            #""endpoints": ["http://127.0.0.1:2379"], "tls": {"caFile": "/ca.pem"}}"#, "cluster.endpoints[0]"
        ),
        (
            #""endpoints": ["http://127.0.0.1:2379"]}"#,
            #""endpoints": ["https://127.0.0.1:2379"], "tls": {"caFile": "/ca.pem"}}"#, "member.clientURL"
        ),
        (
            #""endpoints": ["http://127.0.0.1:2379"]}"#,
            #""endpoints": ["http://127.0.0.1:2379"], "allowSmallCluster": "yes"}"#, "cluster.allowSmallCluster"
        ),
        (#""controller""#, #""timing": {"tickSeconds": 0}, "controller""#, "timing.tickSeconds"),
        (#""controller""#, #""metrics": {"listen": "9798"}, "controller""#, "metrics.listen"),
        (#""controller""#, #""metrics": {"listen": "127.0.0.1:99999"}, "controller""#, "metrics.listen"),
        (#""controller""#, #""metrics": {"textfile": "rel.prom"}, "controller""#, "metrics.textfile"),
        (#""controller""#, #""metrics": {"port": 1}, "controller""#, "metrics.port"),
        (#""controller""#, #""backupRetention": 0, "controller""#, "backupRetention"),
        (#""controller""#, #""timing": {"lockTTLSeconds": true}, "controller""#, "timing.lockTTLSeconds"),
        (#""controller""#, #""timing": {"stopPendingSeconds": 0}, "controller""#, "timing.stopPendingSeconds"),
        (#""controller""#, #""timing": {"startGraceSeconds": 0}, "controller""#, "timing.startGraceSeconds"),
        (#""controller""#, #""timing": {"crashGraceSeconds": 0.5}, "controller""#, "timing.crashGraceSeconds"),
        (#""controller""#, #""timing": {"lockWaitSeconds": 601}, "controller""#, "timing.lockWaitSeconds"),
        (#""controller""#, #""timing": {"settleSeconds": 60}, "controller""#, "timing.settleSeconds"),
        (#""controller""#, #""timing": {"idleTickSeconds": 30}, "controller""#, "timing.idleTickSeconds"),
        (#""controller""#, #""timing": {"lastLookSeconds": 0.1}, "controller""#, "timing.lastLookSeconds"),
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
            .replacingOccurrences(
                of: #""clientURL": "http://127.0.0.1:2379""#, with: #""clientURL": "https://127.0.0.1:2379""#
            )
            .replacingOccurrences(
                of: #""endpoints": ["http://127.0.0.1:2379"]}"#,
                with:
                    #""endpoints": ["https://127.0.0.1:2379"], "tls": {"certFile": "\#(dir.path)/c.crt", "keyFile": "\#(key)"}}"#
            )
        chmod(key, 0o640)
        do {
            _ = try Config.parse(Data(text.utf8))
            Issue.record("a group-readable key was accepted")
        } catch let e as Config.Invalid {
            #expect(
                e.key == "cluster.tls.keyFile" && e.fix == "chmod 600 \(key)" && e.problem.contains("640"),
                "\(e)")
        }
        chmod(key, 0o600)
        #expect(throws: Never.self) { _ = try Config.parse(Data(text.utf8)) }
    }

    @Test func notJSONAtAll() {
        #expect(throws: Config.Invalid.self) { try Config.parse(Data("member: s1".utf8)) }
    }
}

/// `cluster.auth.passwordFile`: read through O_NOFOLLOW, checked on the descriptor, never echoed.
@Suite struct PasswordFileTests {
    static func withFile(_ body: (String) throws -> Void) throws {
        let dir = try TempDir("pw")
        defer { dir.remove() }
        try body(dir.path)
    }

    @Test func readsOneLineWithoutItsNewline() throws {
        try Self.withFile { d in
            let f = d + "/pw"
            try "s3cr3t pass\n".write(toFile: f, atomically: false, encoding: .utf8)
            chmod(f, 0o600)
            #expect(try PasswordFile.read(f) == "s3cr3t pass")
        }
    }

    /// Each unsafe or unusable file: the error names the file and the fix, and never contains the password.
    @Test(arguments: [
        ("mode", "chmod 600"), ("symlink", "is a symlink"), ("missing", "does not exist"), ("empty", "is empty"),
        ("huge", "bytes"), ("twoLines", "one line"), ("directory", "not a regular file"),
    ])
    func refused(_ kind: String, _ expected: String) throws {
        try Self.withFile { d in
            let f = d + "/pw"
            switch kind {
            case "mode":
                try "hunter2\n".write(toFile: f, atomically: false, encoding: .utf8)
                chmod(f, 0o640)
            case "symlink":
                try "hunter2\n".write(toFile: d + "/real", atomically: false, encoding: .utf8)
                chmod(d + "/real", 0o600)
                symlink(d + "/real", f)
            case "missing": break
            case "empty":
                try #require(
                    FileManager.default.createFile(atPath: f, contents: Data(), attributes: [.posixPermissions: 0o600]))
            case "huge":
                try #require(
                    FileManager.default.createFile(
                        atPath: f, contents: Data(repeating: 0x61, count: 5000), attributes: [.posixPermissions: 0o600])
                )
            case "twoLines":
                try #require(
                    FileManager.default.createFile(
                        atPath: f, contents: Data("hunter2\nmore\n".utf8), attributes: [.posixPermissions: 0o600]))
            default: mkdir(f, 0o700)
            }
            do {
                _ = try PasswordFile.read(f)
                Issue.record("\(kind) was accepted")
            } catch let e as Config.Invalid {
                #expect(e.key == "cluster.auth.passwordFile")
                #expect("\(e)".contains(f) && "\(e)".contains(expected), "\(e)")
                #expect(!e.description.contains("hunter2"))
            }
        }
    }

    @Test func configWithAuthLoadsAndNamesTheUser() throws {
        try Self.withFile { d in
            try "pw\n".write(toFile: d + "/pw", atomically: false, encoding: .utf8)
            chmod(d + "/pw", 0o600)
            let text = ConfigTests.base.replacingOccurrences(
                of: #""cluster": {"endpoints": ["http://127.0.0.1:2379"]}"#,
                with:
                    #""cluster": {"endpoints": ["http://127.0.0.1:2379"], "auth": {"user": "shepherd", "passwordFile": "\#(d)/pw"}}"#
            )
            try text.write(toFile: d + "/c.json", atomically: false, encoding: .utf8)
            let c = try Config.load(path: d + "/c.json")
            #expect(c.cluster.auth == Config.Auth(user: "shepherd", passwordFile: d + "/pw"))
            let creds = try c.cluster.credentials()
            #expect(creds?.user == "shepherd" && creds?.description == "etcd user shepherd")
            // A bad password file refuses the config, naming the key.
            chmod(d + "/pw", 0o644)
            #expect(throws: Config.Invalid.self) { try Config.load(path: d + "/c.json") }
        }
    }
}
