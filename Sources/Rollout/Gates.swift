/// The safety gates of DESIGN.md, evaluated on one observation. Each result says whether it passes and why not.
public struct GateResult: Sendable, Equatable {
    public let number: Int
    public let name: String
    public let passed: Bool
    public let detail: String
}

public enum Gates {
    /// Quorum of a cluster of `n` voting members.
    public static func quorum(_ n: Int) -> Int { n / 2 + 1 }

    /// Gates 1–6 and 8 for stopping the local member now (gate 7, leader last, is decided separately because it has
    /// an action of its own: the leadership transfer).
    public static func evaluate(_ o: Observation) -> [GateResult] {
        var out: [GateResult] = []
        func gate(_ n: Int, _ name: String, _ failure: String?) {
            out.append(GateResult(number: n, name: name, passed: failure == nil, detail: failure ?? "ok"))
        }
        let r = o.rollout
        gate(
            1, "rollout active",
            r == nil ? "no rollout" : (r!.state == .active ? nil : "rollout is \(r!.state.rawValue)"))

        // (Not for a rollback's stop: the restarted peer's own rollback may wait for the lock that one holds.)
        let sick = o.members.compactMap { m in (problem(m, o) ?? restartedSinceVerified(m, o)).map { "\(m.name)\($0)" }
        }
        gate(2, "all members healthy", sick.isEmpty ? nil : "not healthy: " + sick.joined(separator: ", "))

        // Quorum counts voters: a learner neither votes nor counts.
        let voters = o.members.filter { !$0.isLearner }
        let n = voters.count, healthy = voters.filter { problem($0, o) == nil }.count
        let marginFailure: String?
        if let small = smallClusterForStop(o) {
            marginFailure = small
        } else if healthy - 1 < quorum(n) && !(n < 3 && o.allowSmallCluster) {
            marginFailure =
                "stopping one of \(healthy) healthy voting members leaves \(healthy - 1) < quorum \(quorum(n))"
        } else {
            marginFailure = nil
        }
        gate(3, "quorum margin", marginFailure)

        gate(4, "no other member mid-upgrade", otherDestructive(o))

        var versionFailure: String? = nil
        if let r {
            let odd = o.members.filter { $0.version != r.from && $0.version != r.to }
            if !odd.isEmpty {
                versionFailure =
                    "members on neither \(r.from) nor \(r.to): "
                    + odd.map { "\($0.name)=\($0.version.map(\.description) ?? "?")" }.joined(separator: ", ")
            } else if case let .refused(why) = o.policy.evaluate(
                from: r.from, to: r.to, clusterVersion: o.clusterVersion,
                allowKnownBad: r.allowKnownBad, auth: authContext(o))
            {
                versionFailure = why
            } else {
                versionFailure = authChange(o)
            }
        } else {
            versionFailure = "no rollout"
        }
        gate(5, "versions allowed", versionFailure)

        gate(6, "local preflight", o.preflightBlocking.isEmpty ? nil : o.preflightBlocking.joined(separator: "; "))
        gate(8, "maintenance window", maintenance(o))
        return out
    }

    /// A stop — a rollback's too — in a cluster of fewer than 3 voting members loses quorum, unless the config
    /// accepts it (found by the simulator, seed 1753488333: an operator left 2 voters mid-rollout, a rollback's stop
    /// went ahead).
    public static func smallClusterForStop(_ o: Observation) -> String? {
        let voters = o.members.filter { !$0.isLearner }.count
        return voters < 3 && !o.allowSmallCluster ? smallCluster(voters) : nil
    }

    /// Why a 1–2 voter cluster is refused (gate 3), and the way to accept it.
    public static func smallCluster(_ n: Int) -> String {
        "a \(n)-member cluster loses quorum while one member is down (allowSmallCluster to accept)"
    }

    /// Why `m` does not count as healthy for a stop (nil: it does): it answers, is healthy, has a leader, and is
    /// caught up with the leader's raft index (a member that just restarted may answer healthy while it still lags).
    public static func problem(_ m: MemberView, _ o: Observation) -> String? {
        if !m.reachable { return " (unreachable)" }
        if !m.healthy || !m.hasLeader { return "" }
        // Against the highest index any member reported: the leader's answer may be older than another's (answers
        // arrive at different moments; found by the simulator, seed 13755304: a restarted member compared with a stale
        // leader answer passed a rollback's peer check while it still lagged).
        let head = max(o.leader?.raftIndex ?? 0, o.members.filter(\.reachable).map(\.raftIndex).max() ?? 0)
        if m.raftIndex + o.timing.raftSlack < head { return " (behind: raft \(m.raftIndex)/\(head))" }
        return nil
    }

    /// A peer verified in this hop whose process is not the one that was verified (restarted, perhaps by systemd's
    /// Restart=, after a crash its own daemon has not acted on yet), or — at the stop's gate, where every member's
    /// process is read — whose process was not observed: it answers healthy, but nothing else is stopped until its
    /// daemon has looked at it. (Before the record write the peers' processes are not read on every tick.)
    static func restartedSinceVerified(_ m: MemberView, _ o: Observation) -> String? {
        guard m.name != o.localName, let r = o.rollout, let rec = o.record(m.name), rec.isDone(in: r),
            let noted = rec.processStartTime
        else { return nil }
        guard let seen = o.startTimes[m.name] else {
            return o.journal == nil ? nil : " (its verified process not observed)"
        }
        return ProcessStart.same(seen, noted) ? nil : " (restarted since its verification)"
    }

    /// Auth for gate 5: enabled when the daemon talks to etcd as a user; the risk accepted when the record carries
    /// the digest taken at the request.
    static func authContext(_ o: Observation) -> VersionPolicy.Auth {
        VersionPolicy.Auth(enabled: o.auth != nil, riskAccepted: o.rollout?.authFingerprint != nil)
    }

    /// A rollout that accepted an auth-sensitive step stops nothing unless the users, roles and permissions read now
    /// are the ones of the request: changed, or unknown (not read), both block.
    public static func authChange(_ o: Observation) -> String? {
        guard let r = o.rollout, r.watchesAuth, let want = r.authFingerprint else { return nil }
        guard let seen = o.auth?.fingerprint else {
            return "etcd users, roles and permissions could not be read; this rollout must see them unchanged"
        }
        return seen == want
            ? nil : "etcd users, roles or permissions changed during a rollout that accepted the auth risk"
    }

    /// Gate 4: any other record in a destructive phase — of this rollout or an older one, for a member in the list or
    /// not — or any record this daemon cannot read blocks, whatever the state of its lease, until its owner rewrites
    /// it (model-checked rule; an unreadable record may be a newer daemon's destructive phase: fail closed). A reboot
    /// hold (FleetLock) is such a record, whichever node holds it.
    public static func otherDestructive(_ o: Observation) -> String? {
        let busy = o.records.filter { $0.key != o.localName && $0.value.phase.isDestructive }
            .sorted { $0.key < $1.key }.map { "\($0.key) is \($0.value.phase.rawValue)" }
        let unreadable = o.undecodableRecords.sorted().map { "\($0) is unreadable" }
        // A node rebooting (FleetLock) — ours too: its member is, or is about to be, down.
        let rebooting = o.reboots.keys.sorted().map { "\($0) is rebooting (FleetLock)" }
        let all = busy + unreadable + rebooting
        return all.isEmpty ? nil : all.joined(separator: ", ") + " (until its daemon rewrites it)"
    }

    /// Before a rollback's stop: the peers must be healthy with a leader and none may be mid-upgrade (a peer may have
    /// crashed since this member was started). The local member is failing verification, so it is not counted.
    public static func peersForRollback(_ o: Observation) -> String? {
        if let small = smallClusterForStop(o) { return small }
        let sick = o.members.filter { $0.name != o.localName }.compactMap { m in problem(m, o).map { "\(m.name)\($0)" }
        }
        if !sick.isEmpty { return "peers not healthy: " + sick.joined(separator: ", ") }
        return otherDestructive(o)
    }

    /// The window bound (model-checked rule): the stop may rely only on a fresh observation and a lease with margin.
    /// Checked by the core before it asks for the stop; the shell checks the deadline and the lease the action
    /// carries once more right before it issues it.
    public static func window(observationAge: Double, leaseRemaining: Double, timing: Timing) -> String? {
        if observationAge > timing.maxObservationAgeSeconds {
            return "observation is \(observationAge) s old; observing again before the stop"
        }
        if leaseRemaining < timing.minLeaseRemainingSeconds {
            return "lock lease has \(leaseRemaining) s left; renewing before the stop"
        }
        return nil
    }

    /// Whether `member` passes verification on `target`: reachable, healthy, reports the target, keeps its member
    /// ID (`expectedID`), and its raft index is within `slack` of the leader's.
    public static func verification(_ o: Observation, target: EtcdVersion) -> String? {
        guard let m = o.local else { return "\(o.localName) is not in the member list" }
        if !m.reachable { return "\(m.name) not answering" }
        if !m.healthy || !m.hasLeader { return "\(m.name) not healthy yet" }
        if m.version != target { return "\(m.name) reports \(m.version.map(\.description) ?? "?"), expected \(target)" }
        if let rec = o.localRecord, rec.memberID != m.id {
            return "\(m.name) came back with member ID \(m.id), expected \(rec.memberID)"
        }
        guard let leader = o.leader else { return "no leader" }
        if m.raftIndex + o.timing.raftSlack < leader.raftIndex {
            return "raft \(m.raftIndex)/\(leader.raftIndex)"
        }
        return nil
    }
}
