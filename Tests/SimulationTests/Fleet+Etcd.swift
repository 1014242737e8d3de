import Foundation
import Rollout

@testable import Shepherd

/// The simulated etcd's state and semantics: keys with revisions, leases, the members' processes and raft state.
/// Only the client (SimClient.swift) and the environment change it; nothing here decides anything for a daemon.
extension Fleet {
    // MARK: keys and leases

    func put(_ key: String, _ value: [UInt8], lease: Int64 = 0) {
        revision += 1
        let old = kv[key]
        kv[key] = KV(
            value: value, createRevision: old?.createRevision ?? revision, modRevision: revision,
            version: (old?.version ?? 0) + 1, lease: lease, writtenAt: now)
        if key == prefix + "/rollout" {
            // A new rollout (another id) starts its own watch: a change before it is one its request saw.
            if rolloutCreated?.id != rollout?.id { rolloutCreated = rollout.map { ($0.id, now) } }
            rolloutChanged()
        }
    }

    func delete(_ key: String) {
        guard kv.removeValue(forKey: key) != nil else { return }
        revision += 1
        if key == prefix + "/rollout" { rolloutChanged() }
    }

    func rolloutChanged() {
        let r = rollout
        if let r, r.state == .completed, terminalSince == nil, !handWriting { checkCompletion(r) }
        if r?.state != .active { notActiveSince = notActiveSince ?? now } else { notActiveSince = nil }
        if let r, r.state.isTerminal { terminalSince = terminalSince ?? now } else { terminalSince = nil }
    }

    func grant(ttl: Double, owner: (Int, Int)) -> Int64 {
        nextLease += 1
        leases[nextLease] = SimLease(ttl: ttl, expiresAt: now + ttl, owner: owner)
        return nextLease
    }

    func revoke(_ id: Int64) {
        leases[id] = nil
        for k in kv.keys.sorted() where kv[k]?.lease == id { delete(k) }
    }

    // MARK: members

    func index(url: String) -> Int? {
        // Client URLs are http://NAME:2379: the name is enough (and cheaper than building every member's URL).
        guard url.hasPrefix("http://"), let colon = url.lastIndex(of: ":") else { return nil }
        let name = url[url.index(url.startIndex, offsetBy: 7)..<colon]
        return members.firstIndex { $0.inList && $0.name == name }
    }

    /// The raft commit index: every write, plus a background load of ten entries a second.
    var commitIndex: UInt64 { UInt64(revision) + UInt64(now * 10) }

    /// What the member's status says of its raft index: the commit index, minus what it still lags after a restart.
    func raftIndex(_ i: Int) -> UInt64 {
        if leader == i { return commitIndex }
        let lag = max(0, members[i].lagUntil - now) * 200
        return commitIndex - min(commitIndex, UInt64(lag))
    }

    /// The truth the invariants count: the member runs, is in the list, is not cut off, has a leader (quorum), is
    /// caught up with the leader, and (a sick target) answers healthy.
    func isSound(_ i: Int) -> Bool {
        let m = members[i]
        return m.up && m.inList && m.cutOffUntil == nil && quorum && caughtUp(i)
            && !(faults.sickTarget && m.version == to)
    }

    /// Within the raft slack of the leader's index (what verification and gate 2 ask for).
    func caughtUp(_ i: Int) -> Bool { raftIndex(i) + timing.raftSlack >= commitIndex }

    /// Keeps `unsoundSince` of every member up to date (called whenever time passes or the world changes).
    func touch() {
        let q = quorum
        for i in members.indices {
            let m = members[i]
            let sound =
                m.up && m.inList && m.cutOffUntil == nil && q && caughtUp(i) && !(faults.sickTarget && m.version == to)
            if sound {
                members[i].unsoundSince = nil
            } else if members[i].unsoundSince == nil {
                members[i].unsoundSince = now
            }
        }
    }

    /// Starts member `i`'s process on whatever its link points at; refused when that binary is bad, not staged or
    /// older than the cluster version. Returns why it did not start.
    @discardableResult
    func bootMember(_ i: Int, by who: String) -> String? {
        guard members[i].inList else { return "removed from the cluster" }
        let link = members[i].link
        if faults.badTarget && link == binary(to) {
            log("\(members[i].name) failed to start (bad target, by \(who))")
            return "bad target binary"
        }
        guard let v = [from, via, to].compactMap({ $0 }).first(where: { binary($0) == link }), v == from || staged[i]
        else { return "no binary at \(link)" }
        if v.minorVersion < clusterVersion {
            log("\(members[i].name) refuses \(v): cluster is \(clusterVersion)")
            return "older than the cluster version"
        }
        members[i].up = true
        members[i].down = nil
        members[i].version = v
        members[i].incarnations += 1
        members[i].processStartWall = wall
        members[i].processStartedAt = now
        members[i].lagUntil = now + rng.between(0.3, 2.5)
        members[i].dieAt = nil
        if v == to {
            if faults.crashInSettle { members[i].dieAt = now + nodeRng.between(0.5, timing.settleSeconds - 0.5) }
            if faults.crashAfterVerify, doomed == nil { doomed = (i, members[i].incarnations) }
            if let d = doomed, d.member == i, d.incarnation == members[i].incarnations {
                members[i].dieAt = now + timing.settleSeconds + nodeRng.between(2, 6)
            }
        }
        log("\(members[i].name) up on \(v) (by \(who))")
        touch()
        return nil
    }

    /// Member `i`'s process exits.
    func takeDown(_ i: Int, _ why: SimMember.Down, restartAt: Double? = nil) {
        guard members[i].up else { return }
        members[i].up = false
        members[i].down = why
        members[i].downSince = now
        members[i].restartAt = restartAt
        members[i].dieAt = nil
        touch()
    }
}
