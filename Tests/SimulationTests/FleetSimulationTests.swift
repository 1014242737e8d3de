import Foundation
import Rollout
import Testing

/// The seeded exploration. A failing seed prints the one command that replays it with a trace.
@Suite struct FleetSimulationTests {
    static let sizes = [1, 3, 5, 7]

    static func replayCommand(seed: UInt64, n: Int, profile: String) -> String {
        "SWIFT_DETERMINISTIC_HASHING=1 SIM_SEED=\(seed) SIM_N=\(n) SIM_PROFILE=\(profile) swift test --filter FleetSimulationTests/replay"
    }

    /// The mix of the CI seeds: every profile on every size it makes sense for, each seed its own fleet.
    static func plan(_ k: Int) -> (n: Int, profile: String) {
        let profiles = FaultProfile.profiles
        let profile = profiles[k % profiles.count]
        let size = sizes[(k / profiles.count) % sizes.count]
        switch profile {
        case "smallRefused": return (2, profile)
        case "refusedStep", "unstaged", "authWatch", "membership", "crashAfterVerify": return (max(3, size), profile)
        default: return (size, profile)
        }
    }

    static func run(seed: UInt64, n: Int, profile: String, verbose: Bool = false) async -> Fleet {
        let fleet = Fleet(seed: seed, n: n, faults: FaultProfile.named(profile), verbose: verbose)
        await fleet.run(faultSeconds: 150)
        return fleet
    }

    static var seedCount: Int { Int(ProcessInfo.processInfo.environment["SIM_SEEDS"] ?? "") ?? 5000 }
    /// The first k (scripts/simulate.sh runs long ranges in slices).
    static var firstSeed: Int { Int(ProcessInfo.processInfo.environment["SIM_FIRST"] ?? "") ?? 0 }

    /// Every profile on every size, every invariant after every step, liveness once faults end.
    @Test func seeds() async {
        let count = Self.seedCount, first = Self.firstSeed
        let started = ContinuousClock.now
        // Each seed is one deterministic fleet of its own; the seeds run on every core, their results sorted by seed.
        let results = await withTaskGroup(of: (Int, Outcome).self) { group in
            var next = first, out: [(Int, Outcome)] = []
            func add(_ group: inout TaskGroup<(Int, Outcome)>) {
                let k = next
                next += 1
                group.addTask { (k, await Self.outcome(k)) }
            }
            for _ in 0..<min(count, max(2, ProcessInfo.processInfo.activeProcessorCount)) { add(&group) }
            for await r in group {
                out.append(r)
                if next < first + count { add(&group) }
            }
            return out.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let seconds = (ContinuousClock.now - started).components.seconds
        let failures = results.compactMap(\.failure)
        let steps = results.map(\.steps).reduce(0, +)
        let completed = results.filter { $0.state == .completed }.count,
            halted = results.filter { $0.state == .halted }.count
        print(
            "simulation: \(count) seeds (k \(first)..<\(first + count)), \(steps) steps, \(completed) completed, \(halted) halted, "
                + "\(count - completed - halted) left active on purpose (nothing may start), \(failures.count) failing, \(seconds) s "
                + "(\(seconds > 0 ? count / Int(seconds) : count) seeds/s)")
        if ProcessInfo.processInfo.environment["SIM_STATS"] != nil {
            // Outcomes by profile, and the halt reasons (for tuning the profiles).
            for p in FaultProfile.profiles {
                let mine = results.filter { $0.profile == p }
                let c = mine.filter { $0.state == .completed }.count, h = mine.filter { $0.state == .halted }.count
                print(
                    "  \(p): \(mine.count) seeds, \(c) completed, \(h) halted, steps/seed \(mine.isEmpty ? 0 : mine.map(\.steps).reduce(0, +) / mine.count)"
                )
                for r in mine.compactMap(\.reason).prefix(3) { print("      halted: \(r.prefix(140))") }
            }
        }
        let noneFailed = failures.isEmpty  // not the array itself: the expectation would print every failure
        #expect(
            noneFailed,
            Comment(rawValue: "\(failures.count) failing seeds:\n" + failures.prefix(10).joined(separator: "\n")))
        // 7 of the 19 profiles must never complete (bad, sick or crashing targets, refused steps, hand edits, a
        // crash after verification); the other 12 complete unless a fault halts them.
        #expect(completed * 10 > count * 3, "too few runs complete: \(completed) of \(count)")
    }

    struct Outcome: Sendable {
        var steps: Int
        var state: RolloutState?
        var failure: String?
        var profile = ""
        var reason: String?
    }

    static func outcome(_ k: Int) async -> Outcome {
        let seed = UInt64(k) &* 7919 &+ 1
        let (n, profile) = plan(k)
        let stats = ProcessInfo.processInfo.environment["SIM_STATS"] != nil
        if stats {
            print("start k=\(k) seed \(seed) n=\(n) \(profile)")
            fflush(nil)
        }
        let fleet = await run(seed: seed, n: n, profile: profile)
        if stats {
            print("end k=\(k)")
            fflush(nil)
        }
        let failure = fleet.violations.first.map {
            "seed \(seed) n=\(n) \(profile): \($0)\n  replay: \(replayCommand(seed: seed, n: n, profile: profile))"
        }
        return Outcome(
            steps: fleet.steps, state: fleet.rollout?.state, failure: failure, profile: profile,
            reason: fleet.rollout?.state == .halted ? fleet.rollout?.reason : nil)
    }

    /// The same seed twice in one process: the same trace, step for step (a replay is exact).
    @Test func aSeedReplaysExactly() async {
        for (seed, n, profile) in [
            (UInt64(11), 3, "ops"), (UInt64(12), 5, "unkindNode"), (UInt64(13), 3, "membership"),
        ] {
            let a = await Self.run(seed: seed, n: n, profile: profile),
                b = await Self.run(seed: seed, n: n, profile: profile)
            #expect(a.steps == b.steps && a.trace == b.trace, "seed \(seed) \(profile) diverged")
        }
    }

    /// Seeds that found bugs, kept as regression tests (each failed before its fix).
    @Test(arguments: [
        (UInt64(0), 3, "default"),
        (UInt64(649359), 3, "twoHop"),  // completed on start times read before a crash
        (UInt64(3413090), 1, "crashInSettle"),  // settled on a tick without the process start time
        (UInt64(19662878), 3, "twoHopOps"),  // a rollback held the lock waiting on a verifying peer
        (UInt64(997795), 3, "unstaged"),  // gate 2's restart check must not block a rollback
        (UInt64(26235648), 3, "membership"),  // a voter removed after the gate's observation
        (UInt64(24319250), 1, "crashInSettle"),  // a lease nothing can revoke without quorum
        (UInt64(13755304), 7, "crashAfterVerify"),  // a lagging peer against a stale leader answer
        (UInt64(28951865), 7, "crashInSettle"),  // a recovery start that died a moment later
        (UInt64(5788790), 1, "crashInSettle"),  // a member that never stays up halts the rollout
        (UInt64(67556990), 1, "crashInSettle"),  // halted: a member that never stays up is let go
        (UInt64(111269870), 1, "crashInSettle"),  // a crash loop after the sequence was lost halts
        (UInt64(334577751), 1, "unkindNode"),  // settle counted from before the start time was read
        (UInt64(209766392), 3, "handEdits"),  // a completed record written back by hand
        (UInt64(305095314), 1, "twoHop"),  // a rollback refused below the cluster version, offline
        (UInt64(337365239), 1, "badTarget"),  // a recovery on a bad target, for ever
        (UInt64(37195544), 3, "badTarget"),  // a rollback binary taken from a link left on the target
        (UInt64(38866453), 7, "sickTarget"),  // a halt that dropped the journal of a member down
        (UInt64(493211159), 1, "badTarget"),  // a sequence left with the link on a binary not running
        (UInt64(476787153), 3, "membership"),  // a recovery on an old binary the cluster left behind
        (UInt64(434856048), 3, "membership"),  // a learner added a moment before the completion
        (UInt64(544106572), 3, "authWatch"),  // users changed while the last member was down, seen once it was up
        (UInt64(736181917), 3, "authWatch"),  // (simulator) a change before a new rollout is not that rollout's
        (UInt64(779332548), 3, "membership"),  // (simulator) a voter removed after the daemon's member list
        (UInt64(923284130), 1, "crashInSettle"),  // a sequence left 0.4 s after its own start, then the member died
        (UInt64(892400030), 1, "crashInSettle"),  // (simulator) a crash-looping target up at the end's instant
        (UInt64(953788118), 3, "twoHopOps"),  // a rollback decided on a 28 s old observation left the member down
        (UInt64(1107163310), 1, "crashInSettle"),  // a recovery start that took 17 s, let go at once
        (UInt64(1181879075), 3, "crashInSettle"),  // an old member that came up, crashed, restarted on the target
        (UInt64(1207433688), 3, "membership"),  // (simulator) a learner adopted a moment before the completion
        (UInt64(1753488333), 3, "membership"),  // a rollback's stop in a cluster shrunk to 2 voters
        (UInt64(1972512035), 3, "crashInSettle"),  // a sequence left on an answer asked before its member died
        (UInt64(2135429622), 3, "crashInSettle"),  // a rollback not yet stopped let go with its lock, the target died
        (UInt64(2347817202), 7, "reboots"),  // a reboot answered 23 s after its checks (the daemon held up)
        (UInt64(2636290534), 5, "membership"),  // two pending rollbacks waiting on each other, each taking the lock
        (UInt64(2637929767), 5, "reboots"),  // (simulator) a lost node's reboot hold, forgotten by the operator
        (UInt64(12092314), 1, "windows"),  // completed 18 s after its decision, over a member restarted meanwhile
        (UInt64(261328), 3, "windows"),  // a recovery's start taken for a landed stop: link switched under it
        (UInt64(2986642932), 3, "membership"),  // failed in the long slice before the rule above; passes since
        (UInt64(3123546604), 3, "sickTarget"),  // rollback switch under a member restarted without quorum
        (UInt64(3064455026), 5, "crashInSettle"),  // a recovery pointed the link back under a crash-looping target
        (UInt64(3083983280), 7, "crashInSettle"),  // the same, the member up but too slow to answer: process state
        (UInt64(3206276397), 3, "unkindNode"),  // the link pointed back under a target systemd had restarted
        (UInt64(3091838928), 5, "membership"),  // a lagging learner judged against a leader index 1.5 s older
        (UInt64(3233525676), 3, "membership"),  // restoreLink on an observation older than a node's replacement
        (UInt64(3317482914), 3, "membership"),  // the same (each failed with the status check the next commit removed)
        (UInt64(3355684170), 3, "membership"),  // the same
        (UInt64(4194789329), 1, "twoHopOps"),  // hop 1's done record under a member restarted on hop 2's target
        (UInt64(4245526362), 1, "twoHop"),  // the same: the completion waited for ever on a process never verified
        (UInt64(4543359952), 3, "windows"),  // completed over a member that crashed and restarted after the decision
        (UInt64(4875791653), 3, "membership"),  // the last look saw a member added on the target, without a record
        (UInt64(4937631124), 3, "membership"),  // the same
        (UInt64(4858924183), 3, "crashInSettle"),  // a start let go on an answer asked before the grace: left down
        (UInt64(5218050833), 1, "twoHopOps"),  // the last look on a slow /metrics answer made before a crash it hid
    ])
    func pinnedSeed(seed: UInt64, n: Int, profile: String) async {
        let fleet = await Self.run(seed: seed, n: n, profile: profile)
        #expect(
            fleet.violations.isEmpty,
            Comment(rawValue: "\(fleet.violations)\n" + fleet.trace.suffix(40).joined(separator: "\n")))
    }

    /// A member that crashes and is restarted by systemd while the completion's last look reads it, with slow answers
    /// half the time (profile `slowLook`, not in the CI mix): never completed over (mutation `last-look-bound`: a
    /// look of any length trusted).
    @Test func aRestartInsideTheLastLookIsNeverCompletedOver() async {
        var failures: [String] = []
        for seed in UInt64(1)...300 {
            let fleet = await Self.run(seed: seed, n: 3, profile: "slowLook")
            if let v = fleet.violations.first {
                failures.append("\(v) — \(Self.replayCommand(seed: seed, n: 3, profile: "slowLook"))")
            }
        }
        let failing = failures.count
        #expect(
            failing == 0, Comment(rawValue: "of 300 seeds; the first: " + failures.prefix(3).joined(separator: "\n")))
    }

    /// Replays one seed with its trace (SIM_SEED, SIM_N, SIM_PROFILE); without them, replays the first seed.
    @Test func replay() async {
        let env = ProcessInfo.processInfo.environment
        let seed = UInt64(env["SIM_SEED"] ?? "") ?? 1
        let n = Int(env["SIM_N"] ?? "") ?? 3
        let fleet = await Self.run(
            seed: seed, n: n, profile: env["SIM_PROFILE"] ?? "default", verbose: env["SIM_SEED"] != nil)
        #expect(
            fleet.violations.isEmpty,
            Comment(rawValue: "\(fleet.violations)\n" + fleet.trace.suffix(80).joined(separator: "\n")))
    }
}
