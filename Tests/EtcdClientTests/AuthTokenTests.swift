import EtcdClient
import Exec
import Foundation
import TestSupport
import Testing

/// The client side of etcd auth against a real member: the token is bought once, bought again when a restarted
/// member has forgotten it, and every refusal says what to do.
@Suite(.serialized) struct AuthTokenTests {
    @Test(arguments: [Releases.old, Releases.current])
    func tokenBoughtOnceAndAgainAfterARestart(version: String) async throws {
        let creds = EtcdCredentials(user: "limited", password: "limited-pw")
        try await LocalCluster.with(size: 1, version: version, label: "auth-tok", credentials: creds) { c in
            let etcdctl = [try Repo.etcdBinary("etcdctl", version), "--endpoints", c.members[0].clientURL]
            for args in [
                ["user", "add", "root:root-pw"], ["role", "add", "prefix"],
                ["role", "grant-permission", "prefix", "--prefix=true", "readwrite", "/etcd-shepherd/"],
                ["user", "add", "limited:limited-pw"], ["user", "grant-role", "limited", "prefix"], ["auth", "enable"],
            ] {
                let r = try await Command.run(etcdctl + args, environment: ["ETCDCTL_API": "3"])
                try #require(r.succeeded, "etcdctl \(args.joined(separator: " ")): \(r.summary)")
            }
            let ep = c.endpoint(0)
            try await ep.put("/etcd-shepherd/a", Array("1".utf8))
            #expect(try await ep.range("/etcd-shepherd/a").kvs.first?.valueString == "1")
            _ = try await ep.memberList()
            #expect(creds.tokensBought == 1, "one token for every call")
            // Outside the role's prefix: refused by etcd, not retried as a token problem.
            await #expect(throws: EtcdError.self) { try await ep.put("/elsewhere", Array("x".utf8)) }
            #expect(creds.tokensBought == 1)
            // The restarted member has forgotten every simple token: the call buys a new one and succeeds.
            try await c.stop(0)
            try await c.start(0)
            try await ep.put("/etcd-shepherd/b", Array("2".utf8))
            #expect(creds.tokensBought == 2)
            // The snapshot needs the root role: refused with the reason, nothing left on disk.
            let path = c.temp.path + "/limited.db"
            do {
                _ = try await ep.snapshot(to: path, idleTimeout: .seconds(5))
                Issue.record("a user without the root role took a snapshot")
            } catch let e as EtcdError {
                #expect(e.description.contains("root role"), "\(e)")
            }
            #expect(!FileManager.default.fileExists(atPath: path))
            // A user with the root role takes it (over gRPC, with its token).
            let rootTransport = try Transport(credentials: EtcdCredentials(user: "root", password: "root-pw"))
            let info = try await EtcdEndpoint(url: c.members[0].clientURL, transport: rootTransport).snapshot(
                to: c.temp.path + "/root.db")
            #expect(info.size > 32)
            // A wrong password and no credentials at all: one line each, saying what to fix.
            let wrong = try Transport(credentials: EtcdCredentials(user: "limited", password: "nope"))
            let none = try Transport()
            for (t, hint) in [(wrong, "check cluster.auth.user"), (none, "set cluster.auth")] {
                do {
                    _ = try await EtcdEndpoint(url: c.members[0].clientURL, transport: t).range("/etcd-shepherd/a")
                    Issue.record("a call without a valid user was answered")
                } catch let e as EtcdError {
                    #expect(e.description.contains(hint) && !e.description.contains("nope"), "\(e)")
                }
            }
            for t in [rootTransport, wrong, none] { try await t.shutdown() }
        }
    }
}
