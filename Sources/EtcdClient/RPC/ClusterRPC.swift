/// `etcdserverpb.Cluster` and `etcdserverpb.Maintenance` (the snapshot stream is `SnapshotRPC.swift`).
extension EtcdEndpoint {
    public func memberList(timeout: Duration? = nil) async throws -> [Member] {
        let answer: Etcdserverpb_MemberListResponse = try await unary(
            "etcdserverpb.Cluster", "MemberList", Etcdserverpb_MemberListRequest(), call: "member list",
            timeout: timeout)
        return answer.members.map(Member.init)
    }

    /// Adds a member (a learner with `isLearner`: it catches up without a vote until promoted) that will join at
    /// `peerURLs`. Returns the member as added (its name and client URLs empty until it starts) and the new list.
    public func memberAdd(
        peerURLs: [String], isLearner: Bool = false, timeout: Duration? = nil
    ) async throws -> (added: Member, members: [Member]) {
        var request = Etcdserverpb_MemberAddRequest()
        request.peerUrls = peerURLs
        request.isLearner = isLearner
        let answer: Etcdserverpb_MemberAddResponse = try await unary(
            "etcdserverpb.Cluster", "MemberAdd", request, call: "member add", timeout: timeout)
        return (Member(answer.member), answer.members.map(Member.init))
    }

    /// Removes member `id`; returns the list left.
    public func memberRemove(_ id: UInt64, timeout: Duration? = nil) async throws -> [Member] {
        var request = Etcdserverpb_MemberRemoveRequest()
        request.id = id
        let answer: Etcdserverpb_MemberRemoveResponse = try await unary(
            "etcdserverpb.Cluster", "MemberRemove", request, call: "member remove", timeout: timeout)
        return answer.members.map(Member.init)
    }

    /// Promotes learner `id` to a voting member (etcd refuses while it is not caught up with the leader); returns the
    /// new list.
    public func memberPromote(_ id: UInt64, timeout: Duration? = nil) async throws -> [Member] {
        var request = Etcdserverpb_MemberPromoteRequest()
        request.id = id
        let answer: Etcdserverpb_MemberPromoteResponse = try await unary(
            "etcdserverpb.Cluster", "MemberPromote", request, call: "member promote", timeout: timeout)
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
