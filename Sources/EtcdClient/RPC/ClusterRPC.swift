/// `etcdserverpb.Cluster` and `etcdserverpb.Maintenance` (the snapshot stream is `SnapshotRPC.swift`).
extension EtcdEndpoint {
    public func memberList(timeout: Duration? = nil) async throws -> [Member] {
        let answer: Etcdserverpb_MemberListResponse = try await unary(
            "etcdserverpb.Cluster", "MemberList", Etcdserverpb_MemberListRequest(), call: "member list",
            timeout: timeout)
        return answer.members.map(Member.init)
    }

    public func status(timeout: Duration? = nil) async throws -> MemberStatus {
        let answer: Etcdserverpb_StatusResponse = try await unary(
            "etcdserverpb.Maintenance", "Status", Etcdserverpb_StatusRequest(), call: "status", timeout: timeout)
        return MemberStatus(answer)
    }

    /// Moves leadership to `target`. Must be sent to the current leader (a follower answers "not leader").
    public func moveLeader(to target: UInt64, timeout: Duration? = nil) async throws {
        var request = Etcdserverpb_MoveLeaderRequest()
        request.targetID = target
        let _: Etcdserverpb_MoveLeaderResponse = try await unary(
            "etcdserverpb.Maintenance", "MoveLeader", request, call: "move leader", timeout: timeout)
    }
}
