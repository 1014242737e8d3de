import EtcdClient
import Exec
import Foundation
import Rollout
import TestSupport
import Testing

/// The way out of a record whose daemon is gone for good, against a real 3-member cluster: `status` shows every
/// record (another rollout's, a removed member's, an unreadable one), `plan` fails gate 4 on them, and `forget`
/// clears them only where that cannot let a second member go down.
@Suite(.serialized) struct ForgetCommandTests {
    static func record(_ phase: MemberPhase, rollout: String = "r1", lease: String? = nil) throws -> [UInt8] {
        Array(
            try JSONEncoder().encode(
                MemberRecord(
                    rolloutID: RolloutID(rollout), memberID: 1, phase: phase, from: EtcdVersion(3, 4, 23),
                    to: EtcdVersion(3, 5, 1), leaseID: lease, updatedAt: 0, error: "node lost")))
    }

    @Test func statusPlanAndForget() async throws {
        try await LocalCluster.with(version: "3.4.23", label: "forget") { cluster in
            let fleet = try ShepherdFleet(cluster: cluster)
            let config = fleet.configPath("s1")
            let ep = cluster.endpoint(0)
            // s9: a node lost for good mid-stop (not in the member list); s8: a value no daemon of this version reads;
            // s3: in the list, its record destructive.
            _ = try await ep.put("/etcd-shepherd/members/s9", try Self.record(.stopping, rollout: "r0"))
            _ = try await ep.put("/etcd-shepherd/members/s8", Array("{\"phase\":\"draining\"}".utf8))
            _ = try await ep.put("/etcd-shepherd/members/s3", try Self.record(.verifying))

            let status = try await fleet.cli(["status", "--config", config])
            #expect(
                status.stdout.contains("record s9: stopping (not in the member list: node lost)  BLOCKS every stop"),
                "\(status.stdout)")
            #expect(status.stdout.contains("record s8: unreadable"), "\(status.stdout)")
            #expect(status.stdout.contains("etcd-shepherd forget s9 --yes"))

            let plan = try await fleet.cli(["plan", Releases.current, "--config", config])
            #expect(plan.exitCode == 1)
            #expect(
                plan.stdout.contains(
                    "FAIL 4 no other member mid-upgrade: s3 is verifying, s9 is stopping, s8 is unreadable"),
                "\(plan.stdout)")

            // Unconfirmed: nothing changes.
            let unconfirmed = try await fleet.cli(["forget", "s9", "--config", config])
            #expect(unconfirmed.exitCode == 2 && unconfirmed.stderr.contains("--yes"), "\(unconfirmed.summary)")

            // s3 is down: forgetting its record could let another member stop; refused, record untouched.
            try await cluster.stop(2)
            let down = try await fleet.cli(["forget", "s3", "--yes", "--config", config])
            #expect(down.exitCode == 1 && down.stderr.contains("not healthy"), "\(down.summary)")
            #expect(try await Self.phase(ep, "s3") == "verifying")
            try await cluster.start(2)

            // A lock held under the record's lease: its daemon is alive and clears its own record.
            let lease = try await ep.leaseGrant(ttl: 30)
            let hex = String(UInt64(bitPattern: lease.id), radix: 16)
            _ = try await ep.lock("/etcd-shepherd/lock", lease: lease.id, timeout: .seconds(5))
            _ = try await ep.put("/etcd-shepherd/members/s3", try Self.record(.verifying, lease: hex))
            let held = try await fleet.cli(["forget", "s3", "--yes", "--config", config])
            #expect(held.exitCode == 1 && held.stderr.contains("still holds the upgrade lock"), "\(held.summary)")
            try await ep.leaseRevoke(lease.id)

            for name in ["s3", "s9"] {
                let r = try await fleet.cli(["forget", name, "--yes", "--config", config])
                #expect(r.exitCode == 0, "\(r.summary)")
            }
            // -w json, as every subcommand takes it.
            let json = try await fleet.cli(["forget", "s8", "--yes", "--config", config, "-w", "json"])
            let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: String]
            #expect(json.exitCode == 0 && object?["member"] == "s8" && object?["forgotten"] != nil, "\(json.summary)")
            #expect(try await Self.phase(ep, "s3") == "interrupted")
            #expect(try await Self.phase(ep, "s9") == "interrupted")
            #expect(try await ep.range("/etcd-shepherd/members/s8").kvs.isEmpty)
            let again = try await fleet.cli(["forget", "s9", "--yes", "--config", config])
            #expect(again.exitCode == 1 && again.stderr.contains("nothing to forget"), "\(again.summary)")

            let after = try await fleet.cli(["plan", Releases.current, "--config", config])
            #expect(after.stdout.contains("pass 4 no other member mid-upgrade"), "\(after.stdout)")
        }
    }

    static func phase(_ ep: EtcdEndpoint, _ name: String) async throws -> String? {
        let kv = try await ep.range("/etcd-shepherd/members/" + name).kvs.first
        return kv.flatMap { try? JSONDecoder().decode(MemberRecord.self, from: Data($0.value)) }?.phase.rawValue
    }
}
