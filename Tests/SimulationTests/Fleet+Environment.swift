import Foundation
import Rollout

@testable import Shepherd

/// The world between ticks: leases expiring, members restarting and dying, stops landing, the cluster version moving,
/// and the faults the seed injects (members, network, clocks, operators' hands).
extension Fleet {
    func environment() {
        // Leases expire only while there is a leader (quorum).
        if quorum {
            for id in leases.keys.sorted() where leases[id]!.expiresAt <= now {
                revoke(id)
                log("lease \(String(id, radix: 16)) expired")
            }
        }
        for i in members.indices where members[i].cutOffUntil.map({ $0 <= now }) == true {
            members[i].cutOffUntil = nil
            log("\(members[i].name) reconnected")
        }
        for i in members.indices where !members[i].up && members[i].restartAt.map({ $0 <= now }) == true {
            members[i].restartAt = nil
            bootMember(i, by: "systemd")
        }
        for i in members.indices where members[i].up && members[i].dieAt.map({ $0 <= now }) == true {
            let restart =
                faults.crashInSettle ? (crashInSettleRestarts ? now + rng.between(1, 2) : nil) : now + rng.between(1, 3)
            takeDown(i, .crashed, restartAt: restart)
            log(
                "\(members[i].name) on \(members[i].version) died by itself\(restart == nil ? "" : " (restarted by systemd)")"
            )
        }
        for i in pendingStops.keys.sorted() where pendingStops[i]!.at <= now {
            pendingStops[i] = nil
            if members[i].up {
                takeDown(i, .byDaemon)
                daemonStops += 1
                log("\(members[i].name) stopped by its daemon's stop")
                checkStopLanded(i)
            }
        }
        for i in members.indices {
            processHistory[i, default: []].append((now, members[i].up))
            if processHistory[i]!.count > 40 { processHistory[i]!.removeFirst(20) }
        }
        for d in daemons where d.supervisor == nil && !d.lost && d.restartAt.map({ $0 <= now }) == true { restart(d) }
        if leader.map({
            !members[$0].up || !members[$0].inList || members[$0].cutOffUntil != nil || members[$0].isLearner
        }) ?? true {
            leader = quorum ? voters.filter { members[$0].up && members[$0].cutOffUntil == nil }.min() : nil
        }
        // The cluster version moves (never back) when the leader checks every member's version, as etcd's
        // `monitorVersions` does: at once when a leader is new, else every 4 s; a member that does not answer then
        // leaves it where it is.
        if leader != versionCheckLeader {
            versionCheckLeader = leader
            nextVersionCheck = now
        }
        if leader != nil, quorum, now >= nextVersionCheck {
            nextVersionCheck = now + 4
            let inList = members.filter(\.inList)
            let minV = inList.map(\.version).min()!
            if inList.allSatisfy(\.up), minV.minorVersion > clusterVersion {
                clusterVersion = minV.minorVersion
                log("cluster version → \(clusterVersion)")
            }
        }
        // An operator drops a refused (or unanswered) request again a little later, on a node whose daemon runs (a
        // person retries) until one is accepted.
        if requestPending, rollout != nil { requestPending = false }
        if requestPending {
            let refused = daemons.contains { $0.settled?.accepted == false }
            if requestRetryAt == nil, refused || now - requestDroppedAt > 20 {
                requestRetryAt = now + opsRng.between(2, 8)
            }
            let live = daemons.filter { $0.supervisor != nil && !$0.lost && members[$0.node].inList }
            if let at = requestRetryAt, at <= now, !live.isEmpty {
                requestRetryAt = nil
                for d in daemons {
                    d.settled = nil
                    d.request = nil
                }
                let d = live[Int.random(in: 0..<live.count, using: &opsRng)]
                d.request = UpgradeRequest(
                    version: to.description, allowAuthRisk: faults.authWatch ? true : nil, via: via?.description)
                requestDroppedAt = now
            }
        }
        // Stepped far from every window (before 07:00 or after 11:00): the hours until the next one pass in one step
        // of the wall clock, as they would pass with nothing to do (the simulator cannot tick through a night).
        if let windows = maintenance, steps % 50 == 0 {
            let view = windowCache.view(windows, at: wall)
            if view.current == nil, view.next.seconds > 900 {
                wallOffset += view.next.seconds - 60
                log("the wall clock moves on to a minute before the window \(view.next.label)")
            }
        }
        // Zincati on a node with an update staged asks for a reboot slot (retrying until it gets one).
        if faultsActive, faults.reboots > 0, opsRng.chance(faults.reboots) {
            let i = Int.random(in: 0..<n, using: &opsRng)
            if zincati[i] == nil, !daemons[i].lost, members[i].inList {
                zincati[i] = (FleetLockCall(operation: .preReboot, clientID: "zincati-\(i)", group: "default"), now)
                log("ZINCATI on \(members[i].name) asks to reboot")
            }
        }
        // A rollout record deleted by hand is written back (by hand, under a new id) a little later.
        if let (at, r) = restoreRollout, at <= now {
            restoreRollout = nil
            if rollout == nil {
                // A completed record written back by hand is the operator's word, not a daemon's completion (seed
                // 209766392: judged as one, it "completed" over a member that had restarted since).
                handWriting = true
                put(prefix + "/rollout", RolloutStore.encode(r))
                handWriting = false
                log("OPERATOR wrote the rollout record back as \(r.id)")
            }
        }
    }

    func injectEnvironmentFault() {
        guard faultsActive else { return }
        if authChangedAt == nil, faults.authChange > 0, opsRng.chance(faults.authChange) {
            authDigest = "users-1"
            authChangedAt = now
            authChangedWhileMixed =
                members.contains { $0.inList && $0.version != to } && members.contains { $0.inList && $0.version == to }
            log("OPERATOR changed etcd users/roles (cluster \(authChangedWhileMixed ? "mixed" : "not mixed"))")
        }
        if rng.chance(faults.memberCrash) {
            let i = Int.random(in: 0..<members.count, using: &rng)
            // Mostly peers still on the old release (a verified target that crashes is a profile of its own).
            let spared = members[i].version == to && rng.chance(0.8)
            if members[i].up && members[i].inList && !spared {
                takeDown(i, .crashed, restartAt: now + rng.between(1, 10))
                log("FAULT \(members[i].name) crashed")
            }
        }
        if rng.chance(faults.memberCutOff) {
            let i = Int.random(in: 0..<members.count, using: &rng)
            if members[i].up && members[i].inList && members[i].cutOffUntil == nil {
                members[i].cutOffUntil = now + rng.between(1, 10)
                members[i].cutOffSince = now
                log("FAULT \(members[i].name) cut off from its peers")
            }
        }
        if rng.chance(faults.quorumLoss) {
            for i in members.indices.shuffled(using: &rng).prefix(members.count / 2 + 1) where members[i].up {
                takeDown(i, .crashed, restartAt: now + rng.between(2, 8))
            }
            log("FAULT quorum lost")
        }
        if rng.chance(faults.nodeLost), n >= 5, !daemons.contains(where: \.lost) {
            let i = Int.random(in: 0..<n, using: &rng)
            takeDown(i, .lost)
            members[i].up = false
            members[i].down = .lost
            members[i].restartAt = nil
            members[i].cutOffUntil = nil
            members[i].dieAt = nil
            daemons[i].lost = true
            kill(daemons[i])
            log("FAULT node \(members[i].name) lost for good")
        }
        if rng.chance(faults.clockStep) {
            wallOffset += rng.between(-faults.clockStepSeconds, faults.clockStepSeconds)
            log("FAULT wall clock stepped")
        }
        if opsRng.chance(faults.operatorPause), let r = rollout, r.state == .active {
            var paused = r
            paused.state = .paused
            put(prefix + "/rollout", RolloutStore.encode(paused))
            operatorResumeAt = now + opsRng.between(2, 30)
            log("OPERATOR paused the rollout")
        }
        if let at = operatorResumeAt, at <= now { resume() }
        if rng.chance(faults.corruptRecord) {
            put(prefix + "/members/ghost", Array("{garbage".utf8))
            log("FAULT unreadable record members/ghost")
        }
        injectMembershipFault()
        injectHandEdit()
    }

    /// An operator changes the membership while the rollout runs: removes a member (its etcd exits), adds a learner
    /// (with a daemon) and promotes it later, or replaces a node (same name, a new member ID, already on the target).
    func injectMembershipFault() {
        guard rollout?.state == .active else { return }
        if opsRng.chance(faults.memberRemoval), listed.count > 3 || (listed.count == 3 && opsRng.chance(0.5)) {
            let i = listed[Int.random(in: 0..<listed.count, using: &opsRng)]
            members[i].inList = false
            if !members[i].isLearner { voterRemovedAt = now }
            takeDown(i, .removed)
            if leader == i { leader = nil }
            log("OPERATOR removed \(members[i].name) from the cluster")
        }
        if opsRng.chance(faults.learnerAdded), members.count < 9 {
            let i = members.count
            var m = SimMember(
                name: "s\(i + 1)", id: nextMemberID, version: listed.map { members[$0].version }.min() ?? from,
                link: binary(listed.map { members[$0].version }.min() ?? from))
            nextMemberID += 1
            m.isLearner = true
            m.processStartWall = wall
            m.processStartedAt = now
            m.lagUntil = now + 2
            m.incarnations = 1
            m.idSince = now
            members.append(m)
            staged.append(true)
            daemons.append(SimDaemon(node: i))
            restart(daemons[i])
            log("OPERATOR added \(m.name) as a learner on \(m.version)")
        }
        for i in members.indices
        where members[i].isLearner && members[i].inList && now - members[i].processStartedAt > 8 && opsRng.chance(0.05)
        {
            members[i].isLearner = false
            log("OPERATOR promoted \(members[i].name)")
        }
        if opsRng.chance(faults.memberReplaced),
            let i = listed.filter({ members[$0].version != to && !daemons[$0].lost }).first
        {
            // The member is rebuilt under its running daemon: same name, a new member ID, already on the target.
            members[i].id = nextMemberID
            nextMemberID += 1
            members[i].idSince = now
            members[i].version = to
            members[i].link = binary(to)
            members[i].up = true
            members[i].down = nil
            members[i].processStartWall = wall
            members[i].processStartedAt = now
            members[i].lagUntil = now + 2
            members[i].incarnations += 1
            touch()
            log(
                "OPERATOR replaced \(members[i].name)'s node: new member ID \(MemberID(members[i].id)) on \(to)"
            )
        }
    }

    /// Hands in etcd: the rollout record deleted or rewritten, the lock key deleted, a lease revoked.
    func injectHandEdit() {
        if opsRng.chance(faults.rolloutDeleted), var r = rollout, restoreRollout == nil {
            delete(prefix + "/rollout")
            log("OPERATOR deleted the rollout record")
            r.id = RolloutID(r.id.rawValue + "b")
            restoreRollout = (now + opsRng.between(3, 20), r)
        }
        if opsRng.chance(faults.rolloutRewritten), var r = rollout, r.state == .active {
            r.id = RolloutID("r\(Int(now))x")
            put(prefix + "/rollout", RolloutStore.encode(r))
            log("OPERATOR rewrote the rollout record (new id \(r.id))")
        }
        if opsRng.chance(faults.lockDeleted), let k = kv.keys.sorted().first(where: { $0.hasPrefix(prefix + "/lock/") })
        {
            delete(k)
            log("OPERATOR deleted the lock key \(k)")
        }
        if opsRng.chance(faults.leaseRevoked), let id = leases.keys.sorted().first {
            revoke(id)
            log("OPERATOR revoked lease \(String(id, radix: 16))")
        }
    }

    /// The operator's side, once faults are over: a node lost for good is removed from the cluster and its record
    /// forgotten; an unreadable record is deleted; an unstaged binary staged; a learner promoted.
    func operatorRepairs() {
        resume()
        for i in staged.indices where !staged[i] {
            staged[i] = true
            log("OPERATOR staged \(to) on \(members[i].name)")
        }
        for i in members.indices where (members[i].down == .lost && members[i].inList) || !members[i].inList {
            if members[i].inList {
                members[i].inList = false
                if !members[i].isLearner { voterRemovedAt = now }
                log("OPERATOR removed \(members[i].name)")
            }
            // A lost node's reboot hold: `etcd-shepherd forget` releases it.
            if kv[prefix + "/reboots/\(members[i].name)"] != nil, daemons[i].lost || daemons[i].supervisor == nil {
                delete(prefix + "/reboots/\(members[i].name)")
                log("OPERATOR forgot \(members[i].name)'s reboot hold")
            }
            if let v = kv[prefix + "/members/\(members[i].name)"]?.value,
                let rec = try? JSONDecoder().decode(MemberRecord.self, from: Data(v)), rec.phase.isDestructive,
                daemons[i].lost || daemons[i].supervisor == nil
            {
                delete(prefix + "/members/\(members[i].name)")
                log("OPERATOR forgot \(members[i].name)'s record")
            }
        }
        for i in members.indices where members[i].isLearner {
            members[i].isLearner = false
            log("OPERATOR promoted \(members[i].name)")
        }
        if kv[prefix + "/members/ghost"] != nil {
            delete(prefix + "/members/ghost")
            log("OPERATOR deleted members/ghost")
        }
    }

    func resume() {
        operatorResumeAt = nil
        guard var r = rollout, r.state == .paused else { return }
        r.state = .active
        put(prefix + "/rollout", RolloutStore.encode(r))
        log("OPERATOR resumed the rollout")
    }

    /// Zincati acts on the answer: granted, the node reboots (member and daemon down, back by themselves) and asks
    /// steady-state until it is released; refused, it asks again a little later.
    func zincatiAnswered(_ i: Int, _ call: FleetLockCall, _ answer: FleetLockAnswer) {
        let name = members[i].name
        switch (call.operation, answer.status) {
        case (.preReboot, 200):
            rebootsGranted += 1
            log("ZINCATI on \(name) granted: rebooting")
            checkRebootGranted(i)
            takeDown(i, .rebooting, restartAt: now + opsRng.between(3, 25))
            kill(daemons[i])
            daemons[i].restartAt = now + opsRng.between(3, 30)
            zincati[i] = (FleetLockCall(operation: .steadyState, clientID: call.clientID, group: call.group), now)
        case (.preReboot, _):
            zincati[i] = (call, now + opsRng.between(3, 15))
            if verbose { log("ZINCATI on \(name) refused: \(answer.kind): \(answer.value)") }
        case (.steadyState, 200):
            zincati[i] = nil
            log("ZINCATI on \(name) released its reboot lock")
        case (.steadyState, _):
            zincati[i] = (call, now + opsRng.between(1, 5))
        }
    }
}
