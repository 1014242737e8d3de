import Foundation
import Rollout

@testable import Shepherd

/// The invariants, counted from the simulated world (never from what a daemon believes): at every stop, at every
/// stop that lands, at every record marked done, after every step, and at the end of a run.
extension Fleet {
    func violate(_ s: String) {
        violations.append(String(format: "t=%.2f ", now) + s)
        log("VIOLATION \(s)")
    }

    /// At the instant daemon `node` issues a stop of its member `i` (a first stop, a retried one, a rollback's).
    func stopIssued(_ i: Int, by node: Int) {
        touch()
        let name = members[i].name
        let rollingBack = daemons[node].journal?.rollingBack == true
        if !members[i].inList { violate("\(name) stopped after it was removed from the cluster") }
        // A reboot hold (FleetLock) blocks every stop, a rollback's too (gate 4).
        if let hold = kv.keys.first(where: { $0.hasPrefix(prefix + "/reboots/") }) {
            violate("\(name) stopped while \(hold) exists")
        }
        // Gate 8 by the node's own clock at the instant of the stop (a rollback's stop repairs: not held back).
        if let windows = maintenance, !rollingBack,
            let closed = Gates.maintenance(windowCache.view(windows, at: wall), timing: timing)
        {
            violate("\(name) stopped outside a maintenance window: \(closed)")
        }
        // The stop rests on health asked of every other member after the daemon's last write, within the window; a
        // member not sound now failed after its answer (the residual risk no protocol removes), never before it.
        let written = lastWrite[node] ?? -1
        var oldest = now
        for j in listed where j != i {
            let m = members[j]
            guard let asked = probes[node]?[m.id] else {
                // A member that joined (or whose node was replaced) inside the window is the residual no gate sees.
                if m.idSince < now - timing.maxObservationAgeSeconds - 1e-9 {
                    violate("\(name) stopped without a health answer from \(m.name)")
                }
                continue
            }
            oldest = min(oldest, asked)
            if asked <= written {
                violate(
                    "\(name) stopped on \(m.name)'s health asked at t=\(fmt(asked)), before its own last write at t=\(fmt(written))"
                )
            }
            if now - asked > timing.maxObservationAgeSeconds + 1e-6 {
                violate(
                    "\(name) stopped on \(m.name)'s health asked \(fmt(now - asked)) s before (window \(timing.maxObservationAgeSeconds) s)"
                )
            }
            if !isSound(j), let since = m.unsoundSince, since <= asked {
                violate(
                    "\(name) stopped while \(m.name) has not been healthy and caught up since t=\(fmt(since)) (asked at t=\(fmt(asked)))"
                )
            }
            if m.down == .byDaemon || pendingStops[j] != nil {
                violate("\(name) stopped while \(m.name) is being stopped by its daemon")
            }
            if m.down == .rebooting { violate("\(name) stopped while \(m.name) reboots") }
            // Gate 2's process check (not for a rollback's stop): a member verified in this hop that restarted since
            // — its target died and systemd brought it back — holds every further stop until its daemon has acted,
            // when both the done record and the restart came before the daemon looked at it.
            if !rollingBack, let r = rollout, m.up, m.processStartedAt < asked,
                let stored = kv[prefix + "/members/\(m.name)"],
                stored.writtenAt < asked,
                let rec = try? JSONDecoder().decode(MemberRecord.self, from: Data(stored.value)),
                rec.rolloutID == r.id, rec.to == r.to, rec.phase == .done, let noted = rec.processStartTime,
                abs(noted - m.processStartWall) > 0.5
            {
                violate(
                    "\(name) stopped while \(m.name), verified on \(rec.to), has run another process since t=\(fmt(m.processStartedAt)) "
                        + "(asked at t=\(fmt(asked)))")
            }
        }
        // A rollback's stop too (seed 1753488333). A voter removed after the daemon's member list or its probes is the residual no gate sees (seeds 26235648,
        // 779332548: the list read before the removal, the peers still listed probed after it).
        let basis = min(oldest, memberListRead[node] ?? oldest)
        if voters.count < 3 && !allowSmallCluster && !(voterRemovedAt.map { $0 > basis + 1e-9 } ?? false) {
            violate("\(name) stopped in a small cluster the config does not allow")
        }
        guard !rollingBack else { return }
        let r = rollout
        // The other gates, for what the daemon must have seen in its last observation.
        if let since = notActiveSince, since < oldest - 1e-9 {
            violate("\(name) stopped while the rollout has not been active since t=\(fmt(since))")
        }
        if let r,
            case let .refused(why) = VersionPolicy.evaluate(
                from: r.from, to: r.to, clusterVersion: clusterVersion, allowKnownBad: r.allowKnownBad)
        {
            violate("\(name) stopped for a refused step: \(why)")
        }
        if !staged[i] { violate("\(name) stopped without \(to) staged on its node") }
        if voters.count > 1, leader == i, leaderSince < oldest - 1e-9 {
            violate("\(name) stopped while it has been the leader since t=\(fmt(leaderSince))")
        }
        if let at = authChangedAt, at > (rolloutCreatedAt ?? .infinity), r?.watchesAuth == true, at < oldest - 1e-9 {
            violate("\(name) stopped after etcd users/roles changed at t=\(fmt(at)) during an auth-watched rollout")
        }
    }

    /// A stop landed (member `i` went down by its daemon's stop): never two at once, nor beside a reboot.
    func checkStopLanded(_ i: Int) {
        for j in listed where j != i && (members[j].down == .byDaemon || members[j].down == .rebooting) {
            violate(
                "\(members[i].name) stopped by its daemon while \(members[j].name) is down by its daemon or a reboot")
        }
        if let hold = kv.keys.first(where: { $0.hasPrefix(prefix + "/reboots/") }) {
            violate("\(members[i].name) stopped by its daemon while \(hold) exists")
        }
    }

    /// A reboot granted (FleetLock): nothing else down on purpose, nothing mid-upgrade, no rollout under way, no
    /// other reboot hold — and no member down for any reason longer than an answer's observation may be old (a crash
    /// inside that window is the residual no check closes; one before it was there to be seen).
    func checkRebootGranted(_ i: Int) {
        let name = members[i].name
        for j in listed where j != i {
            if members[j].down == .byDaemon || members[j].down == .rebooting || pendingStops[j] != nil {
                violate("reboot of \(name) granted while \(members[j].name) is down by its daemon or a reboot")
            }
            if !members[j].up, now - members[j].downSince > timing.maxObservationAgeSeconds + 1e-6 {
                violate(
                    "reboot of \(name) granted while \(members[j].name) has been down since t=\(fmt(members[j].downSince))"
                )
            }
        }
        for (key, kv) in kv where key.hasPrefix(prefix + "/members/") {
            if let rec = try? JSONDecoder().decode(MemberRecord.self, from: Data(kv.value)), rec.phase.isDestructive {
                violate("reboot of \(name) granted while \(key) is \(rec.phase.rawValue)")
            }
        }
        // A rollout requested after the hold was written is the hold's to stop (gate 4); one before it is a violation.
        if let r = rollout, !r.state.isTerminal, let created = rolloutCreatedAt,
            created < (kv[prefix + "/reboots/" + name]?.writtenAt ?? now)
        {
            violate("reboot of \(name) granted during rollout \(r.id)")
        }
        if kv.keys.contains(where: { $0.hasPrefix(prefix + "/reboots/") && !$0.hasSuffix("/" + name) }) {
            violate("reboot of \(name) granted while another node holds a reboot")
        }
    }

    /// Daemon `node` wrote member `i`'s record `done`: verification must have been what it says — healthy, caught up,
    /// the target, the same member ID, and one process for the whole settle period (unless it failed after the
    /// daemon's last look at it).
    func checkDone(_ i: Int, _ rec: MemberRecord, by node: Int) {
        let m = members[i]
        let looked = probes[node]?[m.id] ?? -1
        if !isSound(i), let since = m.unsoundSince, since <= looked {
            violate("\(m.name) marked done while not healthy and caught up since t=\(fmt(since))")
        }
        if m.up, m.version != rec.to { violate("\(m.name) marked done on \(rec.to) while it runs \(m.version)") }
        if rec.memberID != MemberID(m.id) {
            violate("\(m.name) marked done with member ID \(rec.memberID), the member is \(MemberID(m.id))")
        }
        if m.up, m.processStartedAt <= looked, now - m.processStartedAt < timing.settleSeconds - 1e-6 {
            violate(
                "\(m.name) marked done \(fmt(now - m.processStartedAt)) s after its process started (settle \(timing.settleSeconds) s)"
            )
        }
    }

    /// Whether `node`'s daemon holds a lock key (its lease's owner).
    func holdsLock(_ node: Int) -> Bool {
        kv.contains { k, v in k.hasPrefix(prefix + "/lock/") && leases[v.lease]?.owner.node == node }
    }

    /// Every listed member's record says done on the target of the active rollout: the completion is next.
    var everyListedDone: Bool {
        guard rollout?.state == .active else { return false }
        return listed.allSatisfy { i in
            guard let v = kv[prefix + "/members/\(members[i].name)"]?.value,
                let rec = try? JSONDecoder().decode(MemberRecord.self, from: Data(v))
            else { return false }
            return rec.phase == .done && rec.to == to
        }
    }

    /// The rollout was marked completed: every member runs the target, on the very process its record was verified on
    /// (a target that died and came back unseen is not a completed upgrade).
    func checkCompletion(_ r: RolloutRecord) {
        for i in listed {
            let m = members[i]
            // Added on the target after the completing daemon's last look at the member list (seeds 434856048,
            // 1207433688: a learner added 1 s before the completion, its daemon already adopting it): not a member
            // it could have waited for — the residual race no txn closes (etcd compares keys it names).
            let seen = writer.flatMap { memberListRead[$0] }.map { m.idSince <= $0 } ?? true
            if !seen && m.version == r.to { continue }
            guard let v = kv[prefix + "/members/\(m.name)"]?.value,
                let rec = try? JSONDecoder().decode(MemberRecord.self, from: Data(v))
            else {
                violate("completed without a record of \(m.name)")
                continue
            }
            if rec.phase != .done { violate("completed with \(m.name) \(rec.phase.rawValue)") }
            // A restart after the completing daemon's last look at the member (its look right before the write), when
            // that answer was made at most `lastLookSeconds` before the write left the daemon: the residual race no
            // look closes (a freeze or a slow network between sending the write and etcd applying it).
            let looked = writer.flatMap { processRead[$0]?[m.id] }
            let bound = timing.lastLookSeconds + 1e-6
            let unseeable = looked.map { m.processStartedAt > $0 && (writeSentAt ?? now) - $0 <= bound } ?? false
            if let t = rec.processStartTime, m.up, abs(t - m.processStartWall) > 0.5, !unseeable {
                violate(
                    "completed while \(m.name) runs another process than the one verified (it restarted after its verification)"
                )
            }
        }
    }

    /// After every step: nobody left down beyond a bound, a halted rollout brings everyone back, no lease of a gone
    /// daemon outlives its TTL.
    func checkInvariants() {
        let bound = timing.verifyTimeoutSeconds + Double(timing.lockTTLSeconds) + 75
        for i in listed where members[i].down == .byDaemon && !daemons[i].lost {
            let down = now - members[i].downSince
            if let t = terminalSince, now - max(t, members[i].downSince) > bound {
                violate(
                    "\(members[i].name) still down \(fmt(now - t)) s after the rollout ended (\(rollout?.state.rawValue ?? "?"))"
                )
            } else if down > 2 * bound {
                violate("\(members[i].name) left down by its daemon for \(fmt(down)) s")
            }
        }
        // etcd expires leases all the time (while it has a leader).
        if quorum {
            for id in leases.keys.sorted() where leases[id]!.expiresAt <= now {
                revoke(id)
                log("lease \(String(id, radix: 16)) expired")
            }
        }
        for id in leases.keys.sorted() {
            let l = leases[id]!
            if !alive(l.owner.node, l.owner.incarnation), l.expiresAt < now - 1e-9, quorum {
                violate("lease \(String(id, radix: 16)) of a gone daemon outlived its TTL")
            }
        }
    }

    func checkEnd() {
        log("end: keys \(kv.keys.sorted()) leases \(leases.keys.sorted().map { String($0, radix: 16) })")
        guard let r = rollout else {
            violate("no rollout record at the end")
            return
        }
        // A target that crash-loops after the cluster version moved cannot be brought back by any binary swap (its
        // daemon may keep its journal, to go on starting it).
        // Down from a crash, or up on a process already doomed to die (its daemon just started it again: seeds
        // 892400030, 928985810).
        func hopeless(_ i: Int) -> Bool {
            let crashing = members[i].up ? members[i].dieAt != nil : members[i].down == .crashed
            return crashing && (faults.crashInSettle || faults.crashAfterVerify) && clusterVersion == to.minorVersion
        }
        for i in listed where !members[i].up && !hopeless(i) {
            violate("\(members[i].name) left down at the end (rollout \(r.state.rawValue))")
        }
        // A finished rollout leaves no lock key and no lease (one that waits at a gate may hold the lock) — unless the
        // cluster ends without quorum (a hopeless target above): then nothing can revoke a lease, nor expire it.
        let quorate = listed.filter { members[$0].up }.count >= listed.count / 2 + 1
        if r.state.isTerminal, quorate, kv.keys.contains(where: { $0.hasPrefix(prefix + "/lock/") }) {
            violate("a lock key is left at the end")
        }
        if r.state.isTerminal, quorate, !leases.isEmpty { violate("\(leases.count) lease(s) left at the end") }
        for key in kv.keys.sorted() where key.hasPrefix(prefix + "/reboots/") {
            let node = String(key.dropFirst((prefix + "/reboots/").count))
            if let i = members.firstIndex(where: { $0.name == node }), !daemons[i].lost {
                violate("the reboot hold of \(node) is left at the end")
            }
        }
        for d in daemons where d.journal != nil && !d.lost && members[d.node].inList && !hopeless(d.node) {
            violate("\(members[d.node].name)'s journal is left at the end")
        }
        if faults.expectsNoStop {
            if daemonStops > 0 { violate("\(daemonStops) stops where none is allowed") }
            if r.state == .completed { violate("rollout completed where it must not start") }
            return
        }
        guard r.state == .completed || r.state == .halted else {
            violate("rollout ended \(r.state.rawValue), not completed or halted (faults over for 900 s)")
            return
        }
        if r.state == .halted && (r.reason ?? "").isEmpty { violate("halted without a reason") }
        if r.state == .completed {
            if faults.expectsNoCompletion { violate("completed although every target fails") }
            for i in listed where members[i].version != to {
                violate("\(members[i].name) on \(members[i].version) after completion")
            }
            if authChangedWhileMixed, let at = authChangedAt, at > (rolloutCreatedAt ?? .infinity) {
                violate("completed although etcd users/roles changed while mixed")
            }
            if r.nextHop != nil { violate("completed with hop \(r.nextHop!) still to come") }
        }
    }

    func fmt(_ x: Double) -> String { String(format: "%.2f", x) }
}
