import EtcdClient
import Exec
import Foundation
import Synchronization
import TestSupport
import Testing

/// Every call of the client against real members of each supported version (one 3-member cluster per version).
@Suite(.serialized) struct RealEtcdTests {
    @Test(arguments: [Releases.old, Releases.trixie, Releases.current])
    func endpointsKVLeaseLockMaintenance(version: String) async throws {
        try await LocalCluster.with(version: version, label: "client-\(version)") { c in
            let ep = c.endpoint(0)
            // /health, /version, /metrics
            #expect(try await ep.health().healthy)
            // A freshly formed 3.5.16 cluster says "3.0.0" for ~0.1 s after every member is healthy (measured), until
            // its leader has decided the cluster version.
            let decided = await eventually(timeout: .seconds(10)) { (try? await ep.version())?.cluster != "3.0.0" }
            #expect(decided, "the cluster version was never decided")
            let v = try await ep.version()
            #expect(v.server == version)
            #expect(v.cluster == String(version.prefix(3)) + ".0")
            let m = MemberMetrics(try await ep.metrics())
            #expect(m.serverVersion == version)
            #expect(m.clusterVersion == String(version.prefix(3)))
            #expect((m.dbSizeBytes ?? 0) > 0)
            #expect(m.hasLeader)
            #expect((m.leaderChangesSeen ?? 0) >= 1 && m.quotaBackendBytes == 2 << 30)  // etcd's default quota: 2 GiB
            let only = try await ep.metrics(only: MemberMetrics.names)
            #expect(
                Set(only.samples.map(\.name)).isSubset(of: MemberMetrics.names)
                    && MemberMetrics(only).serverVersion == version)

            // kv and put-if-absent txn
            try await ep.put("/t/a", Array("1".utf8))
            try await ep.put("/t/b", Array("2".utf8))
            let r = try await c.endpoint(1).range("/t/", prefix: true)
            #expect(r.kvs.map(\.keyString) == ["/t/a", "/t/b"])
            #expect(r.count == 2)
            #expect(try await ep.range("/nothing").kvs.isEmpty)
            let first = try await ep.txn(
                compare: [.absent("/t/owner")], success: [.put(key: "/t/owner", value: Array("d1".utf8))],
                failure: [.range(key: "/t/owner")])
            #expect(first.succeeded)
            let second = try await ep.txn(
                compare: [.absent("/t/owner")], success: [.put(key: "/t/owner", value: Array("d2".utf8))],
                failure: [.range(key: "/t/owner")])
            #expect(!second.succeeded)
            #expect(second.ranges.first?.kvs.first?.valueString == "d1")
            #expect(try await ep.delete("/t/", prefix: true) == 3)

            // leases
            let lease = try await ep.leaseGrant(ttl: 10)
            #expect(lease.ttl == 10)
            #expect(try await c.endpoint(2).leaseKeepAlive(lease.id).ttl == 10)
            #expect(try await ep.leaseTimeToLive(lease.id).granted == 10)
            try await ep.leaseRevoke(lease.id)
            #expect(try await ep.leaseKeepAlive(lease.id).ttl == 0)  // gone: TTL 0
            // Each keepalive is a gRPC stream of its own, closed by us: none stays open inside the member (a member's
            // SIGTERM waits for open streams).
            for _ in 0..<3 { _ = try await c.endpoint(2).leaseKeepAlive(lease.id) }
            let closed = await eventually(timeout: .seconds(5)) {
                guard
                    let m = try? await c.endpoint(2).metrics(only: [
                        "grpc_server_started_total", "grpc_server_handled_total",
                    ])
                else {
                    return false
                }
                func count(_ name: String) -> Double {
                    m.series(name).filter { $0.labels["grpc_method"] == "LeaseKeepAlive" }.map(\.value).reduce(0, +)
                }
                return count("grpc_server_started_total") == 4 && count("grpc_server_handled_total") == 4
            }
            #expect(closed, "every LeaseKeepAlive stream of ours is started and handled (closed) on the member")
            await #expect(throws: EtcdError.self) { try await ep.leaseRevoke(lease.id) }

            // lock: a second lease blocks until the first releases
            let la = try await ep.leaseGrant(ttl: 30), lb = try await ep.leaseGrant(ttl: 30)
            let held = try await ep.lock("/t/lock", lease: la.id, timeout: .seconds(5))
            #expect(held.key == "/t/lock/\(la.hex)")
            let waiter = Task { try await c.endpoint(1).lock("/t/lock", lease: lb.id, timeout: .seconds(20)) }
            // The waiter's key exists while it waits, with a later create revision.
            #expect(
                await eventually(timeout: .seconds(5)) {
                    ((try? await ep.range("/t/lock/", prefix: true))?.count ?? 0) == 2
                })
            try await ep.leaseRevoke(la.id)
            let got = try await waiter.value
            #expect(got.key == "/t/lock/\(lb.hex)")
            try await ep.unlock(got.key)
            #expect(try await ep.range("/t/lock/", prefix: true).count == 0)

            // member list and status, leader move
            let members = try await ep.memberList()
            #expect(Set(members.map(\.name)) == ["s1", "s2", "s3"])
            #expect(Set(members.flatMap(\.clientURLs)) == Set(c.clientURLs))
            var statuses: [MemberStatus] = []
            for i in 0..<3 { statuses.append(try await c.endpoint(i).status()) }
            #expect(statuses.allSatisfy { $0.version == version })
            let leaderIdx = try #require(statuses.firstIndex { $0.isLeader })
            let target = statuses[(leaderIdx + 1) % 3].header!.memberID
            await #expect(throws: EtcdError.self) { try await c.endpoint((leaderIdx + 1) % 3).moveLeader(to: target) }
            try await c.endpoint(leaderIdx).moveLeader(to: target)
            #expect(await eventually(timeout: .seconds(5)) { (try? await c.endpoint(0).status())?.leader == target })

            // Membership: a learner added (never started: it holds no vote, quorum is unchanged), its promotion
            // refused while it is not in sync with the leader (etcd's answer, not a failover), then removed. etcd
            // refuses any change ("unhealthy cluster") until its leader has been in touch with every member for 5 s:
            // the leader moved just above.
            var answer: (added: Member, members: [Member])?
            let accepted = await eventually(timeout: .seconds(20)) {
                answer = try? await ep.memberAdd(peerURLs: ["http://127.0.0.1:1"], isLearner: true)
                return answer != nil
            }
            let (added, four) = try #require(answer, "member add never accepted (\(accepted))")
            #expect(added.isLearner && added.name.isEmpty && added.peerURLs == ["http://127.0.0.1:1"], "\(added)")
            #expect(four.count == 4 && four.contains { $0.id == added.id && $0.isLearner }, "\(four)")
            do {
                _ = try await ep.memberPromote(added.id)
                Issue.record("a learner that never started was promoted")
            } catch let e as EtcdError {
                #expect(e.isRefusal && "\(e)".contains("in sync"), "\(e)")
            }
            let three = try await ep.memberRemove(added.id)
            #expect(three.count == 3 && !three.contains { $0.id == added.id }, "\(three)")
            #expect(
                try await ep.memberList().map(\.id).sorted() == statuses.compactMap { $0.header?.memberID }.sorted())
        }
    }

    @Test(arguments: [Releases.old, Releases.current])
    func snapshotRoundTripCheckedByEtcdTools(version: String) async throws {
        try await LocalCluster.with(size: 1, version: version, label: "snap-\(version)") { c in
            let ep = c.endpoint(0)
            for i in 0..<200 { try await ep.put("/k/\(i)", Array(repeating: UInt8(ascii: "x"), count: 1000)) }
            let path = c.temp.path + "/snap.db"
            let info = try await ep.snapshot(to: path)
            #expect(info.size > 200_000)
            #expect(info.sha256.count == 64)
            // etcd's own tools accept it; restore verifies the sha256 trailer.
            let tool =
                version.hasPrefix("3.4")
                ? try Repo.etcdBinary("etcdctl", version) : try Repo.etcdBinary("etcdutl", version)
            let st = try await Command.run(
                [tool, "snapshot", "status", path, "-w", "json"], environment: ["ETCDCTL_API": "3"])
            #expect(st.succeeded, "\(st.summary)")
            #expect(st.stdout.contains("\"totalKey\""))
            let restore = try await Command.run(
                [tool, "snapshot", "restore", path, "--data-dir", c.temp.path + "/restored"],
                environment: ["ETCDCTL_API": "3"])
            #expect(restore.succeeded, "\(restore.summary)")
            #expect(FileManager.default.fileExists(atPath: c.temp.path + "/restored/member/snap/db"))
        }
    }

    /// A member that stops sending mid-snapshot (SIGSTOP) fails the backup once no data arrived for the idle timeout,
    /// however long the stream had been running, and leaves no file behind; one that sends finishes (progress seen).
    @Test func snapshotDeadlineFollowsProgress() async throws {
        try await LocalCluster.with(size: 1, version: Releases.current, label: "snap-stall") { c in
            let ep = c.endpoint(0)
            // ~40 MB: more than the loopback socket buffers hold, so a stopped sender stalls the reader.
            let value = Array(repeating: UInt8(ascii: "y"), count: 100_000)
            for i in 0..<400 { try await ep.put("/big/\(i)", value) }
            let dir = c.temp.path + "/backups"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)

            let seen = Mutex<Int64>(0)
            let ok = try await ep.snapshot(to: dir + "/ok.db", idleTimeout: .seconds(2)) { n in seen.withLock { $0 = n }
            }
            #expect(ok.size > 40_000_000 && seen.withLock { $0 } == ok.size)

            let pid = try #require(c.pid(0))
            let stopped = Mutex(false)
            do {
                _ = try await ep.snapshot(to: dir + "/stalled.db", idleTimeout: .seconds(2)) { _ in
                    stopped.withLock {
                        if !$0 {
                            kill(pid, SIGSTOP)
                            $0 = true
                        }
                    }
                }
                Issue.record("a snapshot from a stopped member succeeded")
            } catch let e as EtcdError {
                guard case .timeout = e else {
                    Issue.record("expected a timeout, got \(e)")
                    kill(pid, SIGCONT)
                    return
                }
            }
            kill(pid, SIGCONT)
            #expect(stopped.withLock { $0 })
            let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
            #expect(left == ["ok.db"], "only the finished snapshot stays: \(left)")
        }
    }

    @Test func failoverWithOneMemberStoppedAndUnhealthyBodiesDecoded() async throws {
        try await LocalCluster.with(version: Releases.current, label: "failover") { c in
            let cluster = EtcdCluster(urls: c.clientURLs, transport: c.transport, timeout: .seconds(3))
            try await c.stop(0)
            // The first endpoint refuses connections: the call moves on and succeeds.
            _ = try await cluster.put("/f/x", Array("1".utf8))
            #expect(try await cluster.range("/f/x").kvs.first?.valueString == "1")
            do {
                _ = try await c.endpoint(0).health()
                Issue.record("a stopped member answered")
            } catch let e as EtcdError {
                guard case let .unreachable(endpoint, call, _) = e else {
                    Issue.record("\(e)")
                    return
                }
                #expect(endpoint == c.members[0].clientURL && call == "health")
            }
            // Lose quorum: the survivor's /health answers 503 and the body is decoded, not thrown.
            try await c.stop(1)
            let unhealthy = await eventually(timeout: .seconds(20)) {
                (try? await c.endpoint(2).health(timeout: .seconds(2)))?.healthy == false
            }
            #expect(unhealthy)
            let h = try? await c.endpoint(2).health(timeout: .seconds(8))
            #expect(h?.reason.isEmpty == false, "3.5 explains an unhealthy answer")
            let all = try? await cluster.withFailover("only-dead", avoiding: []) { ep -> Int in
                if ep.url != c.members[2].clientURL { _ = try await ep.health() }
                throw EtcdError.timeout(endpoint: ep.url, call: "only-dead", seconds: 0)
            }
            #expect(all == nil)
        }
    }
}
