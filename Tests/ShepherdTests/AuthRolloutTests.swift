import EtcdClient
import Exec
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// Real 3.4.23 clusters with etcd auth enabled (and client TLS with client certificates that carry a CommonName): the daemons act as a user
/// with the root role (etcd allows snapshots to root only), from a root-only password file.
@Suite(.serialized) struct AuthRolloutTests {
    static let user = "shepherd", password = "sh3pherd-pw"

    /// Creates root and the daemon's user (granted the root role), then enables auth, with etcdctl 3.4.23.
    static func enableAuth(_ cluster: LocalCluster, certs: String?) async throws {
        var base = [try Repo.etcdBinary("etcdctl", "3.4.23"), "--endpoints", cluster.members[0].clientURL]
        if let certs {
            base += ["--cacert", certs + "/ca.crt", "--cert", certs + "/client.crt", "--key", certs + "/client.key"]
        }
        for args in [
            ["user", "add", "root:root-pw"], ["user", "add", "\(user):\(password)"],
            ["user", "grant-role", user, "root"],
            ["auth", "enable"],
        ] {
            let r = try await Command.run(base + args, environment: ["ETCDCTL_API": "3"])
            try #require(r.succeeded, "etcdctl \(args.joined(separator: " ")): \(r.summary)")
        }
    }

    /// The daemons' `cluster` extras: the password file (mode 0600) and, with `certs`, the client TLS files.
    static func clusterExtra(dir: String, certs: String?) throws -> String {
        let file = dir + "/etcd-password"
        try #require(
            FileManager.default.createFile(
                atPath: file, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600]))
        var extra = #", "auth": {"user": "\#(user)", "passwordFile": "\#(file)"}"#
        if let certs {
            extra +=
                #", "tls": {"caFile": "\#(certs)/ca.crt", "certFile": "\#(certs)/client.crt", "keyFile": "\#(certs)/client.key"}"#
        }
        return extra
    }

    /// With auth enabled, 3.4 → 3.5 is refused unless the request accepts the risk (nothing is written to etcd);
    /// accepted, the rollout runs to the end under mTLS and auth, with the write load and the monitor beside it.
    @Test func authEnabledMutualTLSRolloutRefusedThenCompleted() async throws {
        let certs = try TempDir("auth-certs")
        defer { certs.remove() }
        try await TestCertificates.make(in: certs.path)
        // A client certificate with a CommonName (etcd-shepherd, no such user), as installers make them: the token
        // of the configured user is what etcd acts on.
        let tls = TLSOptions(
            caFile: certs.path + "/ca.crt", certFile: certs.path + "/client.crt",
            keyFile: certs.path + "/client.key")
        try await LocalCluster.with(
            size: 3, version: "3.4.23", label: "auth-mtls", extraFlags: TestCertificates.mutualTLSFlags(certs.path),
            tls: tls, https: true, credentials: EtcdCredentials(user: Self.user, password: Self.password)
        ) { cluster in
            try await Self.enableAuth(cluster, certs: certs.path)
            let extra = try Self.clusterExtra(dir: certs.path, certs: certs.path)
            try await ShepherdFleet.with(cluster, clusterExtra: extra) { fleet in
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                // Without --allow-auth-risk: refused by the daemon, with the reason and the way out.
                let refused = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                #expect(refused.succeeded, "\(refused.summary)")
                let status = fleet.requestPath("s1") + ".status"
                let settled = await eventually(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: status) }
                #expect(settled, "the request was never settled:\n\(fleet.logTails())")
                let why = (try? String(contentsOfFile: status, encoding: .utf8)) ?? ""
                #expect(
                    why.hasPrefix("rejected") && why.contains("allowAuthRisk") && why.contains("etcd-io/etcd#11943"),
                    "\(why)")
                #expect(try await store.read().rollout == nil, "a refused request wrote a rollout")
                try? FileManager.default.removeItem(atPath: status)

                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                let req = try await fleet.cli([
                    "request", Releases.current, "--allow-auth-risk", "--config", fleet.configPath("s1"),
                ])
                #expect(req.succeeded, "\(req.summary)")
                let end = try await RolloutEnd.wait(store, monitor: monitor)
                #expect(end.finished && end.state == .completed, "\(end.summary)\n\(fleet.logTails())")
                #expect(
                    end.snap.rollout?.authFingerprint?.count == 64, "the accepted risk carries the users/roles digest")
                #expect(monitor.maxDown <= 1, "members down at once: \(monitor.overlaps.prefix(5))")
                #expect(monitor.acknowledged > 50, "the write load made too little progress to mean anything")
                #expect(try await monitor.lostWrites() == [], "acknowledged writes lost")
                for i in cluster.members.indices {
                    #expect(try await cluster.endpoint(i).version().server == Releases.current)
                }
                // The backup was taken over gRPC with the user's token (root role), from the leader.
                let backup = try #require(end.snap.rollout.flatMap { end.snap.backups[$0.id.rawValue] })
                #expect(FileManager.default.fileExists(atPath: backup.path))
                // The password is in no log.
                #expect(!cluster.members.contains { fleet.log($0.name).contains(Self.password) })
                #expect(await fleet.stopAll() == [], "a daemon ignored SIGTERM")
            }
        }
    }

    /// A user added while the cluster is mixed: the rollout halts once the member in flight has finished, and no
    /// further member is stopped.
    @Test func usersChangingMidRolloutHaltIt() async throws {
        let dir = try TempDir("auth-change")
        defer { dir.remove() }
        try await LocalCluster.with(
            size: 3, version: "3.4.23", label: "auth-chg",
            credentials: EtcdCredentials(user: Self.user, password: Self.password)
        ) { cluster in
            try await Self.enableAuth(cluster, certs: nil)
            let extra = try Self.clusterExtra(dir: dir.path, certs: nil)
            try await ShepherdFleet.with(cluster, clusterExtra: extra) { fleet in
                let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                let monitor = SafetyMonitor(cluster: cluster)
                monitor.start()
                let req = try await fleet.cli([
                    "request", Releases.current, "--allow-auth-risk", "--config", fleet.configPath("s1"),
                ])
                #expect(req.succeeded, "\(req.summary)")
                // Once one member has been stopped (its record left pending), an operator adds a user.
                let started = await eventually(timeout: .seconds(60)) {
                    (try? await store.read())?.records.values.contains { $0.phase != .pending } == true
                }
                #expect(started, "no member started its sequence:\n\(fleet.logTails())")
                // Unchanged users and roles so far: the rollout runs (the digest is stable, not a spurious halt).
                #expect(try await store.read().rollout?.state == .active, "\(fleet.logTails())")
                // Each member in turn: the one being upgraded may be down right now.
                let etcdctl = try Repo.etcdBinary("etcdctl", "3.4.23")
                var outcome = ""
                let added = await eventually(timeout: .seconds(20)) {
                    for url in cluster.clientURLs {
                        let r = try? await Command.run(
                            [etcdctl, "--endpoints", url, "--user", "root:root-pw", "user", "add", "intruder:x"],
                            environment: ["ETCDCTL_API": "3"])
                        outcome = r?.summary ?? "etcdctl did not run"
                        if r?.succeeded == true { return true }
                        // An add that landed but reported failure (the member answering went down mid-call):
                        // the retry is told the user exists, which is the change this test makes.
                        if outcome.contains("user name already exists") { return true }
                    }
                    return false
                }
                try #require(added, "user add: \(outcome)")
                let end = try await RolloutEnd.wait(store, monitor: monitor, timeout: .seconds(90))
                #expect(end.state == .halted, "\(end.summary)\n\(fleet.logTails())")
                #expect(
                    end.snap.rollout?.reason?.contains("users, roles or permissions changed") == true, "\(end.summary)")
                #expect(monitor.maxDown <= 1, "members down at once: \(monitor.overlaps.prefix(5))")
                #expect(try await monitor.lostWrites() == [], "acknowledged writes lost")
                // Nothing is left down, and at most the members already in flight moved: never all three.
                // (Another daemon may halt while the member in flight is still starting: its sequence ends it.)
                for i in cluster.members.indices {
                    let up = await eventually(timeout: .seconds(30)) {
                        (try? await cluster.endpoint(i).health())?.healthy == true
                    }
                    #expect(up, "\(cluster.members[i].name) left down after the halt\n\(fleet.logTails())")
                }
                var upgraded = 0
                for i in cluster.members.indices
                where try await cluster.endpoint(i).version().server == Releases.current { upgraded += 1 }
                #expect(upgraded < 3, "the rollout went on after the change")
                #expect(await fleet.stopAll() == [], "a daemon ignored SIGTERM")
            }
        }
    }
}
