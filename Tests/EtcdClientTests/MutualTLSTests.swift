import EtcdClient
import Exec
import Foundation
import TestSupport
import Testing

/// A real member started with `--client-cert-auth`, certificates made by openssl in the test.
@Suite(.serialized) struct MutualTLSTests {
    @Test(arguments: [Releases.old, Releases.current])
    func mutualTLS(version: String) async throws {
        let certs = try TempDir("certs")
        defer { certs.remove() }
        try await TestCertificates.make(in: certs.path)
        let p = certs.path
        let flags = [
            "--client-cert-auth", "--trusted-ca-file", p + "/ca.crt", "--cert-file", p + "/server.crt", "--key-file",
            p + "/server.key",
        ]
        let tls = TLSOptions(caFile: p + "/ca.crt", certFile: p + "/client.crt", keyFile: p + "/client.key")
        try await LocalCluster.with(size: 1, version: version, label: "mtls", extraFlags: flags, tls: tls, https: true)
        { c in
            let ep = c.endpoint(0)
            #expect(try await ep.health().healthy)
            #expect(try await ep.version().server == version)
            try await ep.put("/tls", Array("ok".utf8))
            #expect(try await ep.range("/tls").kvs.first?.valueString == "ok")
            #expect(try await ep.status().version == version)
            // The snapshot is gRPC on its own connection: the same files, the same checks.
            let snap = try await ep.snapshot(to: certs.path + "/s.db")
            #expect(snap.size > 32)
            // Without the client certificate the handshake is refused, and the error names the endpoint.
            let caOnly = try Transport(tls: TLSOptions(caFile: p + "/ca.crt"))
            do {
                _ = try await EtcdEndpoint(url: c.members[0].clientURL, transport: caOnly).health()
                Issue.record("a client without a certificate was let in")
            } catch let e as EtcdError {
                #expect(e.description.contains(c.members[0].clientURL))
            }
            do {
                _ = try await EtcdEndpoint(url: c.members[0].clientURL, transport: caOnly).snapshot(
                    to: certs.path + "/no.db", idleTimeout: .seconds(5))
                Issue.record("a snapshot without a client certificate was let in")
            } catch let e as EtcdError {
                #expect(e.description.contains(c.members[0].clientURL))
            }
            #expect(!FileManager.default.fileExists(atPath: certs.path + "/no.db"))
            try await caOnly.shutdown()
        }
    }

    /// The way kubeadm and most installers set etcd up: client certificates with a CommonName, `--client-cert-auth`
    /// and auth on. Over gRPC a token wins over the certificate's CN (the daemon's user acts, root role: snapshots
    /// too), and with no token etcd takes the CN as the user — whose role then limits what it may do. (etcd's JSON
    /// gateway, which the daemon used before, answered HTTP 400 to any certificate with a CN once auth was on.)
    @Test(arguments: [Releases.old, Releases.current])
    func clientCertificateWithACommonNameUnderAuth(version: String) async throws {
        let certs = try TempDir("cn-auth")
        defer { certs.remove() }
        try await TestCertificates.make(in: certs.path)
        let p = certs.path
        let files = TLSOptions(caFile: p + "/ca.crt", certFile: p + "/client.crt", keyFile: p + "/client.key")
        try await LocalCluster.with(
            size: 1, version: version, label: "cn-auth", extraFlags: TestCertificates.mutualTLSFlags(p), tls: files,
            https: true
        ) { c in
            let url = c.members[0].clientURL
            let etcdctl = [
                try Repo.etcdBinary("etcdctl", version), "--endpoints", url, "--cacert", p + "/ca.crt", "--cert",
                p + "/client.crt", "--key", p + "/client.key",
            ]
            // The certificate's CN is etcd-shepherd: a user of that name may touch /cn/ only.
            for args in [
                ["user", "add", "root:root-pw"], ["user", "add", "shepherd:sh3pherd-pw"],
                ["user", "grant-role", "shepherd", "root"], ["role", "add", "cn"],
                ["role", "grant-permission", "cn", "--prefix=true", "readwrite", "/cn/"],
                ["user", "add", "etcd-shepherd:unused-pw"], ["user", "grant-role", "etcd-shepherd", "cn"],
                ["auth", "enable"],
            ] {
                let r = try await Command.run(etcdctl + args, environment: ["ETCDCTL_API": "3"])
                try #require(r.succeeded, "etcdctl \(args.joined(separator: " ")): \(r.summary)")
            }
            // The certificate with a CN, and the daemon's user: every call the daemon makes.
            let asUser = try Transport(
                tls: files, credentials: EtcdCredentials(user: "shepherd", password: "sh3pherd-pw"))
            let ep = EtcdEndpoint(url: url, transport: asUser)
            try await ep.put("/elsewhere/k", Array("v".utf8))
            #expect(try await ep.range("/elsewhere/k").kvs.first?.valueString == "v")
            #expect(try await ep.memberList().count == 1)
            #expect(try await ep.status().version == version)
            #expect(try await ep.authFingerprint().count == 64)
            let lease = try await ep.leaseGrant(ttl: 10)
            #expect(try await ep.leaseKeepAlive(lease.id).ttl > 0)
            #expect(try await ep.snapshot(to: p + "/cn.db").size > 32)
            // The certificate alone: etcd acts as its CN, inside that user's role and not outside it.
            let asCN = try Transport(tls: files)
            let cn = EtcdEndpoint(url: url, transport: asCN)
            try await cn.put("/cn/k", Array("by-cn".utf8))
            #expect(try await cn.range("/cn/k").kvs.first?.valueString == "by-cn")
            do {
                try await cn.put("/elsewhere/k", Array("x".utf8))
                Issue.record("the CN's user wrote outside its role")
            } catch let e as EtcdError {
                #expect(e.isRefusal && e.description.contains("permission denied"), "\(e)")
            }
            try await asUser.shutdown()
            try await asCN.shutdown()
        }
    }

    /// The client checks the server: a certificate from a CA it was not told to trust is refused, and so is one
    /// from the right CA for another host name.
    @Test func serverCertificateFromAnotherCAOrForAnotherNameIsRefused() async throws {
        let certs = try TempDir("certs-bad")
        defer { certs.remove() }
        try await TestCertificates.make(in: certs.path)
        let p = certs.path
        let more = """
            set -e; cd '\(p)'
            openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.crt -days 2 -subj /CN=other-ca 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout wrong.key -out wrong.csr -subj /CN=wrong.example 2>/dev/null
            printf 'subjectAltName=DNS:wrong.example\\nextendedKeyUsage=serverAuth\\nkeyUsage=digitalSignature,keyEncipherment\\n' > wrong.ext
            openssl x509 -req -in wrong.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out wrong.crt -days 2 -extfile wrong.ext 2>/dev/null
            """
        let made = try await Command.run(["bash", "-c", more])
        try #require(made.succeeded, "\(made.summary)")
        /// Refused by the TLS handshake (not by a port that is not listening yet: that is waited out).
        func refused(_ c: LocalCluster, ca: String, _ what: String) async throws {
            let t = try Transport(tls: TLSOptions(caFile: ca))
            let ep = EtcdEndpoint(url: c.members[0].clientURL, transport: t)
            var last = ""
            let listening = await eventually(timeout: .seconds(20)) {
                do {
                    _ = try await ep.health(timeout: .seconds(2))
                    last = "accepted"
                    return true
                } catch {
                    last = "\(error)"
                    return !last.lowercased().contains("connection refused")
                }
            }
            // The gRPC snapshot client makes its own TLS connection: it must refuse the same certificates.
            var snapshotError = ""
            do {
                _ = try await ep.snapshot(to: p + "/refused.db", idleTimeout: .seconds(5))
                snapshotError = "accepted"
            } catch {
                snapshotError = "\(error)"
            }
            try await t.shutdown()
            #expect(snapshotError != "accepted", "\(what) was accepted by the snapshot client")
            #expect(snapshotError.contains(c.members[0].clientURL), "\(what), snapshot: \(snapshotError)")
            #expect(listening, "the member never listened: \(last)")
            #expect(last != "accepted", "\(what) was accepted")
            #expect(
                last.contains(c.members[0].clientURL) && last.lowercased().contains("certificate"), "\(what): \(last)")
        }
        // The right name, signed by the test CA: trusted with that CA, refused with another.
        let good = ["--cert-file", p + "/server.crt", "--key-file", p + "/server.key"]
        try await LocalCluster.with(
            size: 1, version: Releases.current, label: "tls-ca", extraFlags: good,
            tls: TLSOptions(caFile: p + "/ca.crt"),
            https: true
        ) { c in
            let t = try Transport(tls: TLSOptions(caFile: p + "/ca.crt"))
            #expect(try await EtcdEndpoint(url: c.members[0].clientURL, transport: t).health().healthy)
            try await t.shutdown()
            try await refused(c, ca: p + "/other-ca.crt", "a server certificate from an untrusted CA")
        }
        // The trusted CA, but a certificate for wrong.example while the client dialled 127.0.0.1.
        let wrong = ["--cert-file", p + "/wrong.crt", "--key-file", p + "/wrong.key"]
        let c = try LocalCluster(size: 1, version: Releases.current, label: "tls-name", extraFlags: wrong, https: true)
        do {
            try await c.start(0, waitHealthy: false)
            try await refused(c, ca: p + "/ca.crt", "a server certificate for another host name")
        } catch {
            await c.tearDown()
            throw error
        }
        await c.tearDown()
    }

    @Test func unreadableCertificateFileIsNamed() throws {
        let e = #expect(throws: EtcdError.self) { try Transport(tls: TLSOptions(caFile: "/nonexistent/ca.pem")) }
        #expect(
            e?.description
                == "TLS file /nonexistent/ca.pem: does not exist (ENOENT) — fix: check the paths in cluster.tls, and their owner and mode"
        )
    }
}
