import Logging
import Rollout
@testable import Shepherd

/// A whole fleet in one process: a simulated etcd (linearizable kv with revisions and CAS, leases that expire in
/// simulated time, the v3 lock queue, a leader and quorum), simulated members, and N production `Supervisor`s wired
/// to in-memory ports (SimPorts.swift). One seeded scheduler, one simulated clock; invariants after every step.
///
/// Determinism: the scheduler awaits one supervisor tick at a time and no port suspends on anything but the
/// simulator itself, so every interleaving comes from the seed. Thin parts that are not the production code: the
/// ports (they hold no decision) and the lease keepalive, which the simulator applies for every live, unpaused
/// incarnation each step — the production keepalive is a background task.
final class Fleet: @unchecked Sendable {
    let seed: UInt64
    let n: Int
    var rng: SeededRandom
    /// A second stream for the faults added after seeds were pinned, so a pinned seed keeps its path.
    var opsRng: SeededRandom
    var faults: FaultProfile
    var faultsActive = true
    let timing = Timing(tickSeconds: 0.5, lockTTLSeconds: 15, verifyTimeoutSeconds: 30, settleSeconds: 1,
                        maxObservationAgeSeconds: 3, minLeaseRemainingSeconds: 5, raftSlack: 16)
    let prefix = "/etcd-shepherd"
    let from = EtcdVersion(3, 4, 23)
    /// The final target; `via`, when the rollout runs in two hops, the first one.
    let to: EtcdVersion
    let via: EtcdVersion?
    let allowSmallCluster: Bool

    var now = 0.0
    var wallOffset = 1_800_000_000.0
    var members: [SimMember] = []
    var daemons: [SimDaemon] = []
    var leader: Int? = 0 { didSet { if leader != oldValue { leaderSince = now } } }
    var leaderSince = 0.0
    /// Whether node i has its target binary (the `unstagedNode` fault takes it away from one node until faults end).
    var staged: [Bool] = []
    /// Since when the rollout has not been `active` (nil while it is).
    var notActiveSince: Double?
    var operatorResumeAt: Double?
    var daemonStops = 0
    /// The node whose daemon is newer (`newerDaemon`), and stop commands still on their way, by node.
    var newerNode: Int?
    var pendingStops: [Int: Double] = [:]
    var clusterVersion = "3.4"
    var allUpSince: Double?
    var kv: [String: KV] = [:]
    var revision: Int64 = 1
    var leases: [Int64: (ttl: Double, expiresAt: Double, owner: (node: Int, incarnation: Int))] = [:]
    var nextLease: Int64 = 0x100
    var nested = false
    var violations: [String] = []
    var trace: [String] = []
    let verbose: Bool
    var steps = 0
    /// When each daemon last passed its window re-check before a stop (seen as the journal write that stamps
    /// `stoppedAt`, which the shell makes right after it): a member that crashed after that instant is the residual
    /// risk no protocol removes (model trail T5), one that was down before it is a violation.
    var lastWindowCheck: [Int: Double] = [:]
    /// etcd's users and roles, as a digest (`authWatch`): changed once by the operator fault; when, and whether the
    /// cluster was mixed then.
    var authDigest = "users-0"
    var authChangedAt: Double?
    var authChangedWhileMixed = false

    init(seed: UInt64, n: Int, faults: FaultProfile, verbose: Bool = false) {
        self.seed = seed; self.n = n; self.faults = faults; self.verbose = verbose
        rng = SeededRandom(seed: seed)
        opsRng = SeededRandom(seed: seed ^ 0x5EED_0F_0A75)
        to = faults.refusedStep ? EtcdVersion(3, 5, 0) : EtcdVersion(3, 5, 1)
        via = faults.twoHop ? EtcdVersion(3, 5, 0) : nil
        allowSmallCluster = n < 3 && !faults.smallClusterRefused
        staged = Array(repeating: true, count: n)
        if faults.newerDaemon { newerNode = Int.random(in: 0..<n, using: &opsRng) }
        if faults.unstagedNode { staged[Int.random(in: 0..<n, using: &opsRng)] = false }
        for i in 0..<n {
            members.append(SimMember(name: "s\(i + 1)", id: UInt64(0x1000 + i), version: from, link: binary(from)))
            daemons.append(SimDaemon(node: i))
        }
        leader = Int.random(in: 0..<n, using: &rng)
        let r = RolloutRecord(id: "r1", from: from, to: via ?? to, requestedBy: "s1", requestedAt: wall, allowKnownBad: !faults.refusedStep,
                              authFingerprint: faults.authWatch ? authDigest : nil, then: via.map { _ in [to] }, stage: via.map { _ in 0 })
        put(prefix + "/rollout", .rollout(r))
        for d in daemons { restart(d) }
    }

    func binary(_ v: EtcdVersion) -> String { "/opt/etcd/\(v)/etcd" }
    var wall: Double { now + wallOffset }
    var quorum: Bool { members.filter { $0.inList && $0.up && $0.cutOffUntil == nil }.count >= members.filter(\.inList).count / 2 + 1 }
    func log(_ s: @autoclosure () -> String) {
        let line = String(format: "%8.2f ", now) + s()
        trace.append(line)
        if trace.count > 400 { trace.removeFirst(100) }
        if verbose { print(line) }
    }

    // MARK: etcd

    func put(_ key: String, _ v: Stored, lease: Int64 = 0) {
        revision += 1
        if key == prefix + "/rollout", case let .rollout(r) = v {
            if r.state != .active { notActiveSince = notActiveSince ?? now } else { notActiveSince = nil }
        }
        let create = kv[key]?.createRevision ?? revision
        kv[key] = KV(value: v, createRevision: create, modRevision: revision, lease: lease)
    }

    func grant(ttl: Double, owner: (Int, Int)) -> Int64 {
        nextLease += 1
        leases[nextLease] = (ttl, now + ttl, owner)
        return nextLease
    }

    func revoke(_ id: Int64) {
        leases[id] = nil
        for (k, v) in kv where v.lease == id { kv[k] = nil; revision += 1 }
    }

    // MARK: the environment, each step

    func environment() {
        // Keepalive of every live, unpaused incarnation's lock lease (the production background task).
        for d in daemons where !d.paused && d.supervisor != nil {
            if let h = d.lock?.hold, var l = leases[h.leaseID], quorum { l.expiresAt = now + l.ttl; leases[h.leaseID] = l }
        }
        // Leases expire only while there is a leader (quorum).
        if quorum {
            for (id, l) in leases where l.expiresAt <= now { revoke(id); log("lease \(String(id, radix: 16)) expired") }
        }
        // No lock key outlives its holder's TTL: a lease whose incarnation is gone is not kept alive by anything.
        for (id, l) in leases where !alive(l.owner.node, l.owner.incarnation) && l.expiresAt < now - 1e-9 && quorum {
            violate("lease \(String(id, radix: 16)) of a gone daemon outlived its TTL")
        }
        for i in members.indices where members[i].cutOffUntil.map({ $0 <= now }) == true {
            members[i].cutOffUntil = nil; log("\(members[i].name) reconnected")
        }
        for i in members.indices where !members[i].up && members[i].restartAt.map({ $0 <= now }) == true {
            members[i].restartAt = nil
            bootMember(i, by: "systemd")
        }
        for (i, at) in pendingStops where at <= now {
            pendingStops[i] = nil
            if members[i].up {
                stopping(i, pending: true)
                members[i].up = false; members[i].down = .byDaemon; members[i].downSince = now; members[i].restartAt = nil
                log("\(members[i].name) stopped by the queued stop of a daemon gone since")
            }
        }
        for d in daemons where d.supervisor == nil && !d.lost && d.restartAt.map({ $0 <= now }) == true { restart(d) }
        if leader.map({ !members[$0].up || !members[$0].inList || members[$0].cutOffUntil != nil }) ?? true {
            leader = quorum ? members.indices.filter { members[$0].up && members[$0].inList && members[$0].cutOffUntil == nil }.min() : nil
        }
        // The cluster version moves (never back) once every member runs a newer minor and answers.
        let listed = members.filter(\.inList)
        if quorum, listed.allSatisfy(\.up) {
            if allUpSince == nil { allUpSince = now }
            let minV = listed.map(\.version).min()!
            if minV.minorVersion > clusterVersion, now - allUpSince! >= 2 { clusterVersion = minV.minorVersion; log("cluster version → \(clusterVersion)") }
        } else { allUpSince = nil }
    }

    /// Starts member `i` on whatever its link points at; refused when that binary is bad or older than the cluster.
    @discardableResult
    func bootMember(_ i: Int, by who: String) -> String? {
        let link = members[i].link
        if faults.badTarget && link == binary(to) { log("\(members[i].name) failed to start (bad target, by \(who))"); return "bad target binary" }
        guard let v = [from, via, to].compactMap({ $0 }).first(where: { binary($0) == link }), v == from || staged[i] else { return "no binary at \(link)" }
        if v.minorVersion < clusterVersion { log("\(members[i].name) refuses \(v): cluster is \(clusterVersion)"); return "older than the cluster version" }
        members[i].up = true; members[i].down = nil; members[i].version = v
        log("\(members[i].name) up on \(v) (by \(who))")
        return nil
    }

    func injectEnvironmentFault() {
        guard faultsActive else { return }
        if authChangedAt == nil, faults.authChange > 0, opsRng.chance(faults.authChange) {
            authDigest = "users-1"; authChangedAt = now
            authChangedWhileMixed = members.contains { $0.inList && $0.version != to } && members.contains { $0.inList && $0.version == to }
            log("OPERATOR changed etcd users/roles (cluster \(authChangedWhileMixed ? "mixed" : "not mixed"))")
        }
        if rng.chance(faults.memberCrash) {
            let i = Int.random(in: 0..<n, using: &rng)
            if members[i].up && members[i].inList {
                members[i].up = false; members[i].down = .crashed; members[i].downSince = now
                members[i].restartAt = now + Double.random(in: 1...10, using: &rng)
                log("FAULT \(members[i].name) crashed")
            }
        }
        if rng.chance(faults.memberCutOff) {
            let i = Int.random(in: 0..<n, using: &rng)
            if members[i].up && members[i].inList && members[i].cutOffUntil == nil {
                members[i].cutOffUntil = now + Double.random(in: 1...10, using: &rng); members[i].cutOffSince = now
                log("FAULT \(members[i].name) cut off from its peers")
            }
        }
        if rng.chance(faults.quorumLoss) {
            for i in members.indices.shuffled(using: &rng).prefix(n / 2 + 1) where members[i].up {
                members[i].up = false; members[i].down = .crashed; members[i].downSince = now
                members[i].restartAt = now + Double.random(in: 2...8, using: &rng)
            }
            log("FAULT quorum lost")
        }
        if rng.chance(faults.nodeLost), n >= 5, !daemons.contains(where: \.lost) {
            let i = Int.random(in: 0..<n, using: &rng)
            members[i].up = false; members[i].down = .lost; members[i].downSince = now; members[i].restartAt = nil; members[i].cutOffUntil = nil
            daemons[i].lost = true; kill(daemons[i])
            log("FAULT node \(members[i].name) lost for good")
        }
        if rng.chance(faults.clockStep) {
            wallOffset += Double.random(in: -3600...3600, using: &rng)
            log("FAULT wall clock stepped")
        }
        if opsRng.chance(faults.operatorPause), let r = rollout, r.state == .active {
            var paused = r; paused.state = .paused
            put(prefix + "/rollout", .rollout(paused))
            operatorResumeAt = now + Double.random(in: 2...30, using: &opsRng)
            log("OPERATOR paused the rollout")
        }
        if let at = operatorResumeAt, at <= now { resume() }
        if rng.chance(faults.corruptRecord) {
            put(prefix + "/members/ghost", .garbage)
            log("FAULT unreadable record members/ghost")
        }
    }

    /// The operator's side, once faults are over: a node lost for good is removed from the cluster and its record
    /// forgotten; an unreadable record is deleted.
    func operatorRepairs() {
        resume()
        for i in staged.indices where !staged[i] { staged[i] = true; log("OPERATOR staged \(to) on \(members[i].name)") }
        for i in members.indices where members[i].down == .lost && members[i].inList {
            members[i].inList = false
            kv[prefix + "/members/\(members[i].name)"] = nil
            log("OPERATOR removed \(members[i].name) and forgot its record")
        }
        if kv[prefix + "/members/ghost"] != nil { kv[prefix + "/members/ghost"] = nil; log("OPERATOR deleted members/ghost") }
    }

    func resume() {
        operatorResumeAt = nil
        guard var r = rollout, r.state == .paused else { return }
        r.state = .active
        put(prefix + "/rollout", .rollout(r))
        log("OPERATOR resumed the rollout")
    }

    // MARK: daemons

    func restart(_ d: SimDaemon) {
        d.incarnation += 1
        d.restartAt = nil
        d.paused = false
        let lock = SimLock(fleet: self, node: d.node, incarnation: d.incarnation)
        d.lock = lock
        let m = members[d.node]
        let config = Config(
            member: .init(name: m.name, clientURL: m.url, dataDir: "/var/lib/etcd", binaryLink: "/usr/bin/etcd",
                          binaryPathTemplate: "/opt/etcd/{version}/etcd"),
            cluster: .init(endpoints: [m.url], keyPrefix: prefix, tls: .init(),
                           auth: faults.authWatch ? .init(user: "shepherd", passwordFile: "/nonexistent") : nil, allowSmallCluster: allowSmallCluster),
            controller: .command(stop: ["stop"], start: ["start"], status: nil),
            requestFile: "/nonexistent", stateDir: "/state", backupDir: "/backups", timing: timing)
        let ports = SimPorts.make(fleet: self, node: d.node, incarnation: d.incarnation, lock: lock)
        d.supervisor = Supervisor(config: config, ports: ports, logger: Logger(label: "sim", factory: { _ in SwiftLogNoOpLogHandler() }))
        log("daemon \(m.name) #\(d.incarnation) starts")
    }

    func kill(_ d: SimDaemon) {
        guard d.supervisor != nil else { return }
        d.supervisor = nil; d.lock = nil; d.paused = false
        d.restartAt = d.lost ? nil : now + Double.random(in: 0.5...5, using: &rng)
        log("daemon \(members[d.node].name) #\(d.incarnation) crashed")
    }

    func alive(_ node: Int, _ incarnation: Int) -> Bool {
        daemons[node].incarnation == incarnation && daemons[node].supervisor != nil
    }

    /// The fault point of every port call: a crashed incarnation does nothing; the seed may fail the call, crash the
    /// daemon or pause it (others run meanwhile). Returns true when the call must throw after applying its effect.
    func enter(_ call: String, node: Int, incarnation: Int, needsQuorum: Bool = true, pauseChance: Double? = nil,
               shortForced: Bool = false) async throws -> Bool {
        guard alive(node, incarnation) else { throw SimError.crashed }
        if faultsActive {
            if rng.chance(faults.crashAtCall) { log("FAULT crash of \(members[node].name) at \(call)"); kill(daemons[node]); throw SimError.crashed }
            let forced = !nested && (pauseChance.map { opsRng.chance($0) } ?? false)
            if !nested, rng.chance(faults.pauseAtCall) || forced {
                let d = daemons[node]
                var length = Double(timing.lockTTLSeconds) + Double.random(in: 1...10, using: &rng)
                if faults.shortPauses, forced ? shortForced : opsRng.chance(0.5) { length = Double.random(in: 1...(Double(timing.lockTTLSeconds) - 6), using: &opsRng) }
                log("FAULT \(members[node].name) paused at \(call) for \(Int(length)) s")
                d.paused = true
                await runOthers(for: length, except: node)
                d.paused = false
                guard alive(node, incarnation) else { throw SimError.crashed }
            }
            if rng.chance(faults.callFails) { throw SimError.unavailable(call) }
        }
        if needsQuorum && !quorum { throw SimError.unavailable(call + " (no quorum)") }
        return faultsActive && rng.chance(faults.callAmbiguous)
    }

    func diskFull() -> Bool { faultsActive && rng.chance(faults.diskFull) }

    // MARK: scheduling

    func step(except: Int? = nil) async {
        steps += 1
        now += Double.random(in: 0.05...0.5, using: &rng)
        environment()
        injectEnvironmentFault()
        let ready = daemons.filter { $0.supervisor != nil && !$0.paused && $0.node != except }
        guard !ready.isEmpty, let d = ready.randomElement(using: &rng), let sup = d.supervisor else { return }
        let action = await sup.tick()
        if verbose { log("\(members[d.node].name): \(action)") }
        checkInvariants()
    }

    func runOthers(for seconds: Double, except node: Int) async {
        nested = true
        let end = now + seconds
        while now < end { await step(except: node) }
        nested = false
    }

    /// Faults for `faultSteps`, then none until the rollout ends (or `drainSeconds` pass).
    func run(faultSteps: Int, drainSeconds: Double = 900) async {
        for _ in 0..<faultSteps where !finished { await step() }
        faultsActive = false
        operatorRepairs()
        for d in daemons where d.paused { d.paused = false }
        // Where nothing may happen, a minute without faults shows that nothing does.
        let end = now + (faults.expectsNoStop ? 60 : drainSeconds)
        while now < end && !finished { await step() }
        checkEnd()
    }

    var rollout: RolloutRecord? { if case let .rollout(r)? = kv[prefix + "/rollout"]?.value { return r } else { return nil } }

    /// Terminal, every member back, no journal and no lock key left.
    var finished: Bool {
        guard let r = rollout, r.state.isTerminal else { return false }
        return members.filter(\.inList).allSatisfy(\.up) && daemons.allSatisfy { $0.journal == nil || $0.lost }
            && !kv.keys.contains { $0.hasPrefix(prefix + "/lock/") }
    }

    // MARK: invariants

    func violate(_ s: String) { violations.append(String(format: "t=%.2f ", now) + s); log("VIOLATION \(s)") }

    /// Called by the member controller at the instant a daemon stops a running member.
    func stopping(_ i: Int, pending: Bool = false) {
        daemonStops += 1
        // A queued stop that lands late answers only to the first rule (its window was checked when it was issued).
        if pending {
            for m in members where m.name != members[i].name && m.inList && m.down == .byDaemon {
                violate("\(members[i].name) stopped by a queued stop while \(m.name) is stopped by its daemon")
            }
            return
        }
        let checked = (lastWindowCheck[i] ?? now) - timing.maxObservationAgeSeconds - 1e-9
        let rollingBack = daemons[i].journal?.rollingBack == true
        let name = members[i].name
        // The auth watch: no stop once users or roles changed (unless the change came inside the window).
        if let at = authChangedAt, rollout?.watchesAuth == true, at < checked, !rollingBack {
            violate("\(name) stopped after etcd users/roles changed at t=\(String(format: "%.2f", at)) during an auth-watched rollout")
        }
        if !rollingBack {
            // Gate 1: not while the rollout is paused/halted (unless that happened inside the window).
            if let since = notActiveSince, since < checked { violate("\(name) stopped while the rollout has not been active since t=\(String(format: "%.2f", since))") }
            // Gate 3: a cluster of 1–2 members only when the config allows it.
            if members.filter(\.inList).count < 3 && !allowSmallCluster { violate("\(name) stopped in a small cluster the config does not allow") }
            // Gate 5: only for a step the version policy allows.
            // (the hop the record names now: a rollout in hops is judged hop by hop)
            if case let .refused(why) = VersionPolicy.evaluate(from: rollout?.from ?? from, to: rollout?.to ?? to, clusterVersion: clusterVersion,
                                                               allowKnownBad: rollout?.allowKnownBad ?? false) {
                violate("\(name) stopped for a refused step: \(why)")
            }
            // Gate 6: only with its target binary staged.
            if !staged[i] { violate("\(name) stopped without \(to) staged on its node") }
            // Gate 7: never the leader (it hands leadership over first), unless it became leader inside the window.
            if members.filter(\.inList).count > 1, leader == i, leaderSince < checked { violate("\(name) stopped while it has been the leader since t=\(String(format: "%.2f", leaderSince))") }
        }
        for (j, m) in members.enumerated() where j != i && m.inList && !m.up {
            if m.down == .byDaemon { violate("\(members[i].name) stopped by its daemon while \(m.name) is stopped by its daemon") }
            else if m.downSince < (lastWindowCheck[i] ?? now) - timing.maxObservationAgeSeconds - 1e-9 {
                violate("\(members[i].name) stopped while \(m.name) has been down since t=\(String(format: "%.2f", m.downSince)), before its window check at t=\(String(format: "%.2f", lastWindowCheck[i] ?? now))")
            }
        }
        for (j, m) in members.enumerated() where j != i && m.inList && m.up && m.cutOffUntil != nil
            && m.cutOffSince < (lastWindowCheck[i] ?? now) - timing.maxObservationAgeSeconds - 1e-9 {
            violate("\(members[i].name) stopped while \(m.name) has been cut off from its peers since t=\(String(format: "%.2f", m.cutOffSince))")
        }
    }

    func checkInvariants() {
        if members.filter({ $0.inList && $0.down == .byDaemon }).count > 1 { violate("two members stopped by daemons") }
    }

    func checkEnd() {
        log("end: keys \(kv.keys.sorted()) leases \(leases.map { "\(String($0.key, radix: 16)) owner s\($0.value.owner.node + 1)#\($0.value.owner.incarnation) exp \($0.value.expiresAt)" })")
        guard let r = rollout else { violate("no rollout record at the end"); return }
        if faults.expectsNoStop {
            if daemonStops > 0 { violate("\(daemonStops) stops where none is allowed") }
            if r.state == .completed { violate("rollout completed where it must not start") }
            for m in members where m.inList && !m.up { violate("\(m.name) left down") }
            return
        }
        guard r.state == .completed || r.state == .halted else {
            violate("rollout ended \(r.state.rawValue), not completed or halted (faults over for \(Int(900)) s)"); return
        }
        if r.state == .halted && (r.reason ?? "").isEmpty { violate("halted without a reason") }
        for m in members where m.inList {
            if !m.up { violate("\(m.name) left down after the rollout \(r.state.rawValue)") }
            if r.state == .completed && m.version != to { violate("\(m.name) on \(m.version) after completion") }
            // Users changed while the cluster was mixed: the rollout must not have gone on to complete.
            if r.state == .completed && authChangedWhileMixed { violate("completed although etcd users/roles changed while mixed") }
            // A rollout in hops completes only from its last hop.
            if r.state == .completed && r.nextHop != nil { violate("completed with hop \(r.nextHop!) still to come") }
        }
    }
}
