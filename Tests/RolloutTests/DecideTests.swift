import Testing

@testable import Rollout

@Suite struct DecideTests {
    @Test func noRolloutIsIdle() {
        #expect(Decide.next(observation(rollout: nil)) == .idle("no rollout"))
        #expect(Decide.next(observation(rollout: nil, lock: heldLock)) == .release)
    }

    /// Lock, backup, then the sequence begins (journal + record); the stop itself only on the next observation.
    @Test func followerAsksForTheLockThenBacksUpThenBeginsThenStops() {
        #expect(Decide.next(observation()) == .acquireLock)
        #expect(Decide.next(observation(lock: heldLock)) == .takeBackup(leaderURL: "http://s1:2379"))
        #expect(Decide.next(observation(lock: heldLock, backup: backup)) == .beginStop(begun(written: nil)))
        let o = observation(lock: heldLock, backup: backup, journal: begun(written: 990), age: 0.5)
        #expect(Decide.next(o) == .stopMember(issueBy: 999.5 + 3, minLease: 10))
    }

    /// Issue 18, the class behind issue 8's scenario: a stop rests only on health asked for after the write that
    /// precedes it. The same gates on an observation older than the record write: no stop.
    @Test func aStopNeverRestsOnHealthSeenBeforeItsOwnWrite() {
        let stale = observation(lock: heldLock, backup: backup, journal: begun(written: 999.95), age: 0.1)
        guard case let .wait(why) = Decide.next(stale) else {
            Issue.record("stopped on an observation older than its write")
            return
        }
        #expect(why.description.contains("after the record write"))
        // The record write did not complete (failed over, crashed): written again, never a stop.
        #expect(
            Decide.next(observation(lock: heldLock, backup: backup, journal: begun(written: nil)))
                == .beginStop(begun(written: nil)))
        // A peer that died after the write: the next observation sees it, no stop.
        let peerDown = [member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3, healthy: false)]
        guard
            case let .wait(g) = Decide.next(
                observation(members: peerDown, lock: heldLock, backup: backup, journal: begun()))
        else {
            Issue.record("stopped while a peer is down")
            return
        }
        #expect(g.description.hasPrefix("gate 2 "))
    }

    @Test func leaderGoesLastThenHandsOverLeadershipToAVoter() {
        let a = Decide.next(observation(local: "s1"))
        guard case let .wait(why) = a else {
            Issue.record("\(a)")
            return
        }
        #expect(why.description.contains("leader goes last"))
        var learner = member("s3", id: 3, version: v351, raft: 99)
        learner.isLearner = true
        let upgraded = [
            member("s1", id: 1, leader: true), member("s2", id: 2, version: v351, raft: 90), learner,
            member("s4", id: 4, version: v351, raft: 95),
        ]
        let done: [MemberName: MemberRecord] = [
            "s2": record(.done, id: 0x2), "s3": record(.done, id: 0x3), "s4": record(.done, id: 0x4),
        ]
        // The learner has the highest index but cannot lead: the most caught-up voter gets it.
        #expect(
            Decide.next(observation(local: "s1", members: upgraded, records: done, lock: heldLock, backup: backup))
                == .transferLeadership(leaderURL: "http://s1:2379", target: 4))
        #expect(Decide.next(observation(local: "s1", lock: heldLock)) == .release)
    }

    /// Each gate, failing alone, keeps the member up (the lock stays held while waiting).
    @Test(arguments: [
        (
            2,
            observation(
                members: [member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3, healthy: false)],
                lock: heldLock, backup: backup)
        ),
        // A peer that answers healthy but lags the leader's raft index (restarted, still catching up).
        (
            2,
            observation(
                members: [
                    member("s1", id: 1, leader: true, raft: 500), member("s2", id: 2, raft: 500),
                    member("s3", id: 3, raft: 100),
                ],
                lock: heldLock, backup: backup)
        ),
        (4, observation(records: ["s3": record(.stopping)], lock: heldLock, backup: backup)),
        (4, observation(records: ["s3": record(.verifying)], lock: heldLock, backup: backup)),
        // A known-bad target the record no longer allows.
        (
            5,
            observation(
                rollout: {
                    var r = rollout
                    r.allowKnownBad = false
                    return r
                }(), lock: heldLock, backup: backup)
        ),
    ])
    func failingGateWaits(gate: Int, o: Observation) {
        let a = Decide.next(o)
        guard case let .wait(why) = a else {
            Issue.record("expected wait, got \(a)")
            return
        }
        #expect(why.description.hasPrefix("gate \(gate) "), "\(why)")
    }

    /// A member answering with a release the rollout does not name never resolves by waiting (gate 5 held the
    /// rollout active for ever): halt with who runs what. One that does not answer is only waited on.
    @Test func aMemberOnNeitherReleaseHaltsTheRollout() {
        let odd = [
            member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3, version: EtcdVersion(3, 4, 22)),
        ]
        guard case let .halt(why, _, _) = Decide.next(observation(members: odd)) else {
            Issue.record("\(Decide.next(observation(members: odd)))")
            return
        }
        #expect(why.contains("s3 runs 3.4.22") && why.contains("neither 3.4.23 nor 3.5.1"), "\(why)")
        var silent = odd
        silent[2].version = nil
        silent[2].reachable = false
        silent[2].healthy = false
        guard case .wait = Decide.next(observation(members: silent, lock: heldLock, backup: backup)) else {
            Issue.record("silent")
            return
        }
    }

    @Test func destructiveRecordBlocksWhateverItsLease() {
        var stale = record(.stopping)
        stale.leaseID = "dead"
        stale.updatedAt = -1_000_000
        let r = Gates.evaluate(observation(records: ["s3": stale], lock: heldLock))
        #expect(r.first { $0.number == 4 }?.passed == false)
        #expect(
            Gates.evaluate(observation(records: ["s3": record(.interrupted)])).allSatisfy {
                $0.number != 4 || $0.passed
            })
    }

    /// A cluster of 1–2 voters the config does not allow cannot go on: halted with the reason (nothing stopped).
    @Test func smallClusterOnlyWhenAllowed() {
        var o = observation(members: [member("s1", id: 1, leader: true), member("s2", id: 2)], lock: heldLock)
        #expect(Gates.evaluate(o).first { $0.number == 3 }?.passed == false)
        guard case let .halt(why, _, keep) = Decide.next(o) else {
            Issue.record("\(Decide.next(o))")
            return
        }
        #expect(why.contains("allowSmallCluster") && !keep)
        o.allowSmallCluster = true
        #expect(Gates.evaluate(o).first { $0.number == 3 }?.passed == true)
        // A learner counts for no quorum: two voters and a learner are a 2-member cluster.
        var learner = member("s3", id: 3)
        learner.isLearner = true
        let two = observation(
            members: [member("s1", id: 1, leader: true), member("s2", id: 2), learner], lock: heldLock)
        #expect(Gates.evaluate(two).first { $0.number == 3 }?.passed == false)
    }

    @Test func preflightBlocksBeforeTheLock() {
        #expect(
            Decide.next(observation(preflight: ["binary missing"])) == .wait(.preflight(problems: ["binary missing"])))
    }

    @Test func pausedAndTerminalRollouts() {
        var p = rollout
        p.state = .paused
        #expect(Decide.next(observation(rollout: p)) == .wait(.rolloutPaused))
        #expect(Decide.next(observation(rollout: p, lock: heldLock)) == .release)
        var h = rollout
        h.state = .halted
        #expect(Decide.next(observation(rollout: h, lock: heldLock)) == .release)
    }

    @Test func staleObservationOrShortLeaseReobserveBeforeStopping() {
        guard case .wait = Decide.next(observation(lock: heldLock, backup: backup, age: 3.5)) else {
            Issue.record("stale")
            return
        }
        var short = heldLock
        short.leaseRemaining = 5
        guard case .wait = Decide.next(observation(lock: short, backup: backup)) else {
            Issue.record("short lease")
            return
        }
        guard case .wait = Decide.next(observation(lock: short, backup: backup, journal: begun())) else {
            Issue.record("short lease, begun")
            return
        }
    }

    /// Seen answering on the old release after its stop landed (a recovery's start taken for a landed stop, systemd):
    /// its binary is not switched under it, nor started — the stop is decided anew, through the gate. Seen before the
    /// landing (the observation the stop itself rested on), or answering on the target, the sequence goes on.
    @Test func aMemberSeenRunningTheOldReleaseAfterItsStopIsStoppedAgainNotSwitched() {
        for step in [JournalEntry.Step.stopped, .switched] {
            var j = JournalEntry(
                rolloutID: "r1", step: step, target: v351, stoppedAt: 990, previousBinary: "/old", from: v3423)
            j.downAt = 995
            j.recordWrittenAt = 980
            j.stopTicket = "t"
            guard case let .beginStop(again) = Decide.next(observation(lock: heldLock, journal: j)) else {
                Issue.record("\(step): \(Decide.next(observation(lock: heldLock, journal: j)))")
                continue
            }
            #expect(again.step == .stopping && again.stoppedAt == nil && again.recordWrittenAt == nil)
            #expect(again.downAt == nil && again.stopTicket == nil && again.target == v351)
            // The observation is older than the landing: the step goes on.
            if case .beginStop = Decide.next(observation(lock: heldLock, journal: j, age: 10)) {
                Issue.record("\(step): stopped again on an observation older than the landing")
            }
        }
    }

    @Test func sequenceContinuesUnderTheLock() {
        let j = JournalEntry(
            rolloutID: "r1", step: .stopped, target: v351, stoppedAt: 995, previousBinary: "/old", from: v3423)
        #expect(
            Decide.next(observation(lock: heldLock, journal: j, processUp: false))
                == .switchBinary(path: "/opt/etcd/3.5.1/etcd"))
        var s = j
        s.step = .switched
        #expect(
            Decide.next(observation(lock: heldLock, journal: s, processUp: false)) == .startMember(phase: .verifying))
        // A stop issued earlier whose member is down now — not answering for crashGraceSeconds, not a missed
        // answer: it landed, go on (no stop call).
        var landed = observation(lock: heldLock, journal: begun(issued: 995), processUp: false)
        guard case .wait = Decide.next(landed) else {
            Issue.record("down for 0 s: \(Decide.next(landed))")
            return
        }
        landed.localUnreachableFor = landed.timing.crashGraceSeconds
        #expect(Decide.next(landed) == .markStopped)
        // The member still runs: the stop is re-gated like a first one.
        #expect(
            Decide.next(observation(lock: heldLock, backup: backup, journal: begun(issued: 995)))
                == .stopMember(issueBy: 1002.9, minLease: 10))
    }

    /// Issue 18: a process state that is unknown or wrong never stands in for a gate. A member that answers is up,
    /// whatever the controller says; a stop is retried only through the gate, which waits on a down peer.
    @Test func unknownOrWrongProcessStateNeverSkipsTheGate() {
        let peerDown = [member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3, healthy: false)]
        for state in [ProcessState.unknown, .stopped] {
            var o = observation(members: peerDown, lock: heldLock, backup: backup, journal: begun(issued: 995))
            o.localProcess = state  // the member answers: it runs, whatever the controller says
            guard case let .wait(why) = Decide.next(o) else {
                Issue.record("\(state): \(Decide.next(o))")
                return
            }
            #expect(why.description.hasPrefix("gate 2 "), "\(why)")
        }
        // Unknown and not answering: taken as down for what is harmless (start it), never for a stop.
        var gone = observation(lock: heldLock, journal: begun(issued: 995), processUp: false)
        gone.localProcess = .unknown
        gone.localUnreachableFor = gone.timing.crashGraceSeconds
        #expect(Decide.next(gone) == .markStopped)
        // A lying "stopped" beside one missed health answer (an election): not down yet.
        var missed = observation(lock: heldLock, journal: begun(issued: 995), processUp: false)
        missed.localUnreachableFor = 1
        #expect(Decide.next(missed) != .markStopped)
    }

    @Test func ownerClearsWithoutTheLock() {
        let j = JournalEntry(rolloutID: "r1", step: .stopped, target: v351, stoppedAt: 995, from: v3423)
        #expect(Decide.next(observation(journal: j, processUp: false)) == .recoverStart(binary: nil))
        var withPrevious = j
        withPrevious.previousBinary = "/opt/etcd-3.4.23"
        #expect(
            Decide.next(observation(journal: withPrevious, processUp: false))
                == .recoverStart(binary: "/opt/etcd-3.4.23"))
        var started = withPrevious
        started.step = .started
        #expect(Decide.next(observation(journal: started, processUp: false)) == .recoverStart(binary: nil))
        guard case .leaveSequence = Decide.next(observation(journal: j, processUp: true)) else {
            Issue.record("clear")
            return
        }
        // Started once by the recovery: given time to answer before another start.
        var recovering = withPrevious
        recovering.recoveryStartedAt = 995
        guard case .wait = Decide.next(observation(journal: recovering, processUp: false)) else {
            Issue.record("start once")
            return
        }
        #expect(
            Decide.next(observation(journal: recovering, processUp: false, now: 1011))
                == .recoverStart(binary: "/opt/etcd-3.4.23"))
    }

    /// The journal — what brings the member back — is let go only on an answer asked recently: an observation that
    /// took 7 s (a peer slow to answer) holds an answer from before the member died (seed 1972512035).
    @Test func aSequenceIsNotLeftOnAStaleAnswer() {
        let j = JournalEntry(
            rolloutID: "r1", step: .started, target: v351, stoppedAt: 900, startedAt: 905,
            previousBinary: "/opt/etcd/3.4.23/etcd", from: v3423)
        let stale = observation(journal: j, age: 7)
        guard case let .wait(why) = Decide.recover(j, stale, why: "lost") else {
            Issue.record("left on a 7 s old answer: \(Decide.recover(j, stale, why: "lost"))")
            return
        }
        #expect(why.description.contains("observing s2 again"))
        guard case .halt(_, _, keepJournal: true) = Decide.halt("failed", stale) else {
            Issue.record("a halt dropped the journal on a stale answer")
            return
        }
        guard case .leaveSequence = Decide.recover(j, observation(journal: j, age: 0.5), why: "lost") else {
            Issue.record("not left on a fresh answer")
            return
        }
    }

    /// A rollback decided but not yet stopped whose lock was lost: its member runs the failing target this sequence
    /// started, so the journal stays — the rollout halts, then the rollback is finished under the lock (seed
    /// 2135429622: let go, the target died a moment later with nobody to bring it back).
    @Test func aRollbackThatLostItsLockIsFinishedNotLeft() {
        var j = JournalEntry(
            rolloutID: "r1", step: .started, target: v351, stoppedAt: 900, startedAt: 905,
            previousBinary: "/opt/etcd/3.4.23/etcd", from: v3423)
        j = j.rollback(to: v3423, reason: "s2 not verified", down: false, now: 950)
        let onTarget = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351), member("s3", id: 3)]
        let active = observation(members: onTarget, journal: j)
        #expect(Decide.next(active) == .halt(reason: "s2 not verified", recordPhase: .rollingBack, keepJournal: true))
        var halted = rollout
        halted.state = .halted
        #expect(Decide.next(observation(members: onTarget, rollout: halted, journal: j)) == .acquireLock)
        // Past the flip of a minor step, no binary rollback: the recovery's way, as before.
        let minor = observation(members: onTarget, rollout: halted, journal: j, clusterVersion: "3.5")
        #expect(Decide.next(minor) != .acquireLock)
    }

    /// A sequence is not left, nor its journal dropped by a halt, while the link names the binary that does not run.
    @Test func linkPointsAtWhatRunsBeforeTheSequenceIsLeft() {
        // Switched to 3.5.1, but the member came back on 3.4.23 (restarted by systemd before the switch).
        var j = JournalEntry(
            rolloutID: "r1", step: .started, target: v351, stoppedAt: 900, startedAt: 905,
            previousBinary: "/opt/etcd/3.4.23/etcd", from: v3423)
        var o = observation(journal: j)
        o.linkTarget = "/opt/etcd/3.5.1/etcd"
        #expect(Decide.recover(j, o, why: "lost") == .restoreLink(path: "/opt/etcd/3.4.23/etcd"))
        #expect(Decide.halt("failed", o) == .restoreLink(path: "/opt/etcd/3.4.23/etcd"))
        // The link back at what runs: left; and a member on the target with the link on it is left as it is.
        o.linkTarget = "/opt/etcd/3.4.23/etcd"
        guard case .leaveSequence = Decide.recover(j, o, why: "lost") else {
            Issue.record("\(Decide.recover(j, o, why: "lost"))")
            return
        }
        o.members[1].version = v351
        o.linkTarget = "/opt/etcd/3.5.1/etcd"
        guard case .leaveSequence = Decide.recover(j, o, why: "lost") else {
            Issue.record("on the target")
            return
        }
        // A link an operator pointed elsewhere is not ours to move.
        o.members[1].version = v3423
        o.linkTarget = "/usr/local/bin/etcd"
        guard case .leaveSequence = Decide.recover(j, o, why: "lost") else {
            Issue.record("foreign link")
            return
        }
        // Rolling back: the older binary is the journal's previous one, the newer the version it rolls back from.
        j = j.rollback(to: v3423, reason: "bad", down: false, now: 950)
        j.step = .started
        o.members[1].version = v351
        o.linkTarget = "/opt/etcd/3.4.23/etcd"
        #expect(Decide.linkToRestore(j, o) == "/opt/etcd/3.5.1/etcd")
        o.members[1].version = v3423
        #expect(Decide.linkToRestore(j, o) == nil)
    }

    /// A failed sequence is judged on a fresh observation, and a member the sequence stopped and never started is
    /// rolled back as down unless it answers (seed 953788118: a 28 s old "running" turned into a rollback's stop).
    @Test func aFailureIsJudgedFreshAndRemembersItsOwnStop() {
        let j = JournalEntry(
            rolloutID: "r1", step: .switched, target: v351, stoppedAt: 900, previousBinary: "/old", from: v3423)
        var o = observation(lock: heldLock, journal: j, processUp: false, age: 28)
        o.localProcess = .running  // late: it ran when asked
        guard case let .wait(why) = Decide.failed(j, o, why: "not started"), why.description.contains("28 s old") else {
            Issue.record("stale: \(Decide.failed(j, o, why: "not started"))")
            return
        }
        o.observedAt = o.now - 0.1
        guard case let .rollBackWhileDown(entry) = Decide.failed(j, o, why: "not started") else {
            Issue.record("fresh: \(Decide.failed(j, o, why: "not started"))")
            return
        }
        #expect(entry.rollingBack && entry.step == .stopped && entry.stoppedAt != nil)
    }

    /// A rollback of a running member is a stop: in a cluster left with 2 voters (an operator shrank it mid-rollout)
    /// it halts with the member up instead (seed 1753488333); with allowSmallCluster it goes on.
    @Test func aRollbackDoesNotStopOneOfTwoVoters() {
        let j = JournalEntry(
            rolloutID: "r1", step: .started, target: v351, stoppedAt: 900, startedAt: 905, previousBinary: "/old",
            from: v3423)
        let two = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351)]
        var o = observation(members: two, lock: heldLock, journal: j)
        guard case let .halt(why, _, keep) = Decide.failed(j, o, why: "restarted") else {
            Issue.record("\(Decide.failed(j, o, why: "restarted"))")
            return
        }
        #expect(why.contains("not rolled back") && why.contains("2-member cluster") && !keep)
        o.allowSmallCluster = true
        guard case .beginStop = Decide.failed(j, o, why: "restarted") else {
            Issue.record("allowed")
            return
        }
    }

    /// Issue 17 (the benchmark): the last member of a minor step, verified, takes leadership back once so the new
    /// leader checks the cluster version at once instead of at its next 4 s check; never twice, never rolling back,
    /// never on a patch step or while another member is not done on the target.
    @Test func theLastMemberOfAMinorStepTakesLeadershipBackOnce() {
        let up = [
            member("s1", id: 1, leader: true, version: v351, raft: 200), member("s2", id: 2, version: v351, raft: 195),
            member("s3", id: 3, version: v351, raft: 199),
        ]
        var j = JournalEntry(rolloutID: "r1", step: .started, target: v351, startedAt: 990)
        j.processStartTime = 1_800_000_000
        let done: [MemberName: MemberRecord] = [
            "s1": record(.done, id: 1), "s2": record(.verifying, id: 2), "s3": record(.done, id: 3),
        ]
        func last(_ j: JournalEntry, records: [MemberName: MemberRecord] = done, version: String = "3.4") -> Action {
            var o = observation(
                members: up, records: records, lock: heldLock, journal: j, verifiedFor: 30.1, clusterVersion: version)
            o.localStartTime = 1_800_000_000
            return Decide.next(o)
        }
        #expect(last(j) == .takeLeadership(leaderURL: "http://s1:2379"))
        var asked = j
        asked.leadershipAsked = true
        #expect(last(asked) == .markDone(processStartTime: 1_800_000_000))
        // A patch step: the cluster version is already the target's.
        #expect(last(j, version: "3.5") == .markDone(processStartTime: 1_800_000_000))
        // Another member not done yet: it is not the last.
        var notDone = done
        notDone["s3"] = record(.verifying, id: 3)
        #expect(last(j, records: notDone) == .markDone(processStartTime: 1_800_000_000))
    }

    @Test func verificationSettlesWithOneProcessThenMarksDone() {
        let up = [
            member("s1", id: 1, leader: true, raft: 200), member("s2", id: 2, version: v351, raft: 195),
            member("s3", id: 3),
        ]
        var j = JournalEntry(rolloutID: "r1", step: .started, target: v351, startedAt: 990)
        j.processStartTime = 1_800_000_000
        let mine: [MemberName: MemberRecord] = ["s2": record(.verifying, id: 0x2)]
        var o = observation(members: up, records: mine, lock: heldLock, journal: j, verifiedFor: 30.1)
        o.localStartTime = 1_800_000_000
        #expect(Decide.next(o) == .markDone(processStartTime: 1_800_000_000))
        guard
            case .wait = Decide.next(
                observation(members: up, records: mine, lock: heldLock, journal: j, verifiedFor: 10))
        else {
            Issue.record("must settle")
            return
        }
        let behind = [
            member("s1", id: 1, leader: true, raft: 500), member("s2", id: 2, version: v351, raft: 100),
            member("s3", id: 3),
        ]
        #expect(Gates.verification(observation(members: behind, records: mine), target: v351) == "raft 100/500")
        #expect(
            Gates.verification(observation(members: up, records: ["s2": record(.verifying, id: 0x99)]), target: v351)?
                .contains("member ID") == true)
    }

    /// Issue 18: settle is watched — a process that restarts while it is verified fails the sequence at once (rolled
    /// back while the cluster is mixed), it does not pass on a healthy answer from its next incarnation.
    @Test func aRestartWhileVerifiedFailsTheSequence() {
        let up = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351), member("s3", id: 3)]
        let j = JournalEntry(
            rolloutID: "r1", step: .started, target: v351, stoppedAt: 980, startedAt: 985, previousBinary: "/old",
            from: v3423)
        var o = observation(
            members: up, records: ["s2": record(.verifying, id: 0x2)], lock: heldLock, journal: j, verifiedFor: 40)
        o.localStartTime = 100
        // The process is noted first (journalled: the evidence survives a daemon that dies or loses its lock).
        #expect(Decide.next(o) == .noteProcess(startTime: 100))
        var noted = j
        noted.processStartTime = 100
        o.journal = noted
        o.localStartTime = 150
        guard case let .beginStop(rb) = Decide.next(o) else {
            Issue.record("\(Decide.next(o))")
            return
        }
        #expect(rb.rollingBack && rb.target == v3423 && rb.reason?.contains("restarted while it was verified") == true)
        // Its lock lost meanwhile: the rollout halts all the same.
        o.lock = nil
        guard case let .halt(why, _, _) = Decide.next(o) else {
            Issue.record("\(Decide.next(o))")
            return
        }
        #expect(why.contains("restarted while it was verified"))
        // The memory starts settling again on a new process.
        var mem = SupervisorMemory()
        var a = o
        a.lock = heldLock
        a.localStartTime = 100
        a.now = 990
        a.journal = noted
        _ = mem.advance(&a)
        var b = a
        b.now = 991
        _ = mem.advance(&b)
        #expect(b.verifiedFor == 1)
        var c = b
        c.localStartTime = 150
        c.now = 992
        let events = mem.advance(&c)
        #expect(c.verifiedFor == 0 && events.contains(.localRestarted))
    }

    @Test func verifyTimeoutRollsBackWhileMixedAndHaltsAfterTheFlip() {
        let sick = [
            member("s1", id: 1, leader: true), member("s2", id: 2, version: v351, healthy: false), member("s3", id: 3),
        ]
        let j = JournalEntry(rolloutID: "r1", step: .started, target: v351, stoppedAt: 900, startedAt: 905, from: v3423)
        guard case let .beginStop(rb) = Decide.next(observation(members: sick, lock: heldLock, journal: j, now: 1000)),
            rb.rollingBack
        else {
            Issue.record("expected a rollback's stop")
            return
        }
        var flipped = observation(members: sick, lock: heldLock, journal: j, clusterVersion: "3.5", now: 1000)
        flipped.linkTarget = "/opt/etcd/3.5.1/etcd"  // switched and started: the link names the target
        guard case let .halt(why, _, _) = Decide.next(flipped) else {
            Issue.record("expected halt: \(Decide.next(flipped))")
            return
        }
        #expect(why.contains("restore the snapshot"))
        var done = j.rollback(to: v3423, reason: "boom", down: false, now: 900)
        done.step = .started
        done.startedAt = 901
        done.processStartTime = 901
        let back = [member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3)]
        var settled = observation(members: back, lock: heldLock, journal: done, verifiedFor: 31, now: 905)
        // Settle is proven on the process start time read on this tick: without it nothing is final.
        #expect(Decide.next(settled) == .wait(.verifying(problem: "s2's process start time not read")))
        settled.localStartTime = 901
        #expect(Decide.next(settled) == .halt(reason: "boom", recordPhase: .rolledBack, keepJournal: false))
    }

    /// Issue 18: a /version that fails leaves the cluster version unknown: a member that ran the target is not
    /// rolled back to the older minor on a guess; one that never ran it kept the cluster version down and may go back.
    @Test func anUnknownClusterVersionRollsNothingBackOnAGuess() {
        let sick = [
            member("s1", id: 1, leader: true), member("s2", id: 2, version: v351, healthy: false), member("s3", id: 3),
        ]
        let ran = JournalEntry(
            rolloutID: "r1", step: .started, target: v351, stoppedAt: 900, startedAt: 905, from: v3423)
        guard
            case let .wait(why) = Decide.next(
                observation(members: sick, lock: heldLock, journal: ran, clusterVersion: nil, now: 1000))
        else {
            Issue.record("rolled back on an unknown cluster version")
            return
        }
        #expect(why.description.contains("cluster version is unknown"))
        var never = JournalEntry(
            rolloutID: "r1", step: .switched, target: v351, stoppedAt: 900, previousBinary: "/old", from: v3423)
        never.startFailures = Decide.maxStartFailures
        guard
            case .rollBackWhileDown = Decide.next(
                observation(lock: heldLock, journal: never, processUp: false, clusterVersion: nil, now: 1000))
        else {
            Issue.record("a member that never ran the target may go back")
            return
        }
    }

    @Test func completionWaitsForTheClusterVersion() {
        let all = [
            member("s1", id: 1, leader: true, version: v351), member("s2", id: 2, version: v351),
            member("s3", id: 3, version: v351),
        ]
        let done: [MemberName: MemberRecord] = [
            "s1": record(.done, id: 0x1), "s2": record(.done, id: 0x2), "s3": record(.done, id: 0x3),
        ]
        guard case .waitForClusterVersion = Decide.next(observation(members: all, records: done)) else {
            Issue.record("wait for flip")
            return
        }
        // Completed under the lock, fenced on it (simulator seed 12092314: a daemon frozen 17 s between its decision
        // and its write completed over a member that crashed and restarted meanwhile): asked for first, and written
        // only while its lease keeps the window.
        #expect(Decide.next(observation(members: all, records: done, clusterVersion: "3.5")) == .acquireLock)
        #expect(
            Decide.next(observation(members: all, records: done, lock: heldLock, clusterVersion: "3.5"))
                == .markCompleted)
        var short = heldLock
        short.leaseRemaining = 2
        guard
            case let .wait(why) = Decide.next(
                observation(members: all, records: done, lock: short, clusterVersion: "3.5"))
        else {
            Issue.record("completed on a lease about to expire")
            return
        }
        #expect(why.description.hasPrefix("before completing: "))
        // Waiting for the cluster version, the lock is not kept.
        #expect(Decide.next(observation(members: all, records: done, lock: heldLock)) == .release)
    }

    @Test func retriedStopIsReGated() {
        let peerDown = [member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3, healthy: false)]
        let a = Decide.next(observation(members: peerDown, lock: heldLock, backup: backup, journal: begun(issued: 995)))
        guard case let .wait(why) = a else {
            Issue.record("expected a wait, got \(a)")
            return
        }
        #expect(why.description.hasPrefix("gate 2 "))
        guard case .wait = Decide.next(observation(lock: heldLock, backup: backup, journal: begun(), age: 5)) else {
            Issue.record("stale")
            return
        }
        // Paused meanwhile: the sequence is left (record cleared by its owner), not continued.
        var p = rollout
        p.state = .paused
        guard
            case .leaveSequence = Decide.next(observation(rollout: p, lock: heldLock, backup: backup, journal: begun()))
        else {
            Issue.record("paused")
            return
        }
    }

    @Test func startThatKeepsFailingRollsBackWhileDown() {
        var j = JournalEntry(
            rolloutID: "r1", step: .switched, target: v351, stoppedAt: 990, previousBinary: "/old", from: v3423)
        j.startFailures = 1
        #expect(
            Decide.next(observation(lock: heldLock, journal: j, processUp: false)) == .startMember(phase: .verifying))
        j.startFailures = Decide.maxStartFailures
        guard case let .rollBackWhileDown(rb) = Decide.next(observation(lock: heldLock, journal: j, processUp: false))
        else {
            Issue.record("rollback")
            return
        }
        #expect(rb.step == .stopped && rb.target == v3423 && rb.stoppedAt == 1000)
        #expect(
            Decide.next(observation(lock: heldLock, journal: rb, processUp: false, now: 1001))
                == .switchBinary(path: "/old"))
        let stuck = JournalEntry(rolloutID: "r1", step: .stopped, target: v351, stoppedAt: 900, from: v3423)
        guard
            case .rollBackWhileDown = Decide.next(
                observation(lock: heldLock, journal: stuck, processUp: false, now: 1000))
        else {
            Issue.record("deadline")
            return
        }
    }

    /// Issue 18: a halt never leaves our own member down — a rollback that fails while the member is down halts the
    /// rollout but keeps the journal, so the recovery starts the member once the lock is gone.
    @Test func aHaltKeepsTheLocalMemberUp() {
        var rb = JournalEntry(
            rolloutID: "r1", step: .stopped, target: v351, stoppedAt: 900, previousBinary: "/old", from: v3423
        )
        .rollback(to: v3423, reason: "bad target", down: true, now: 900)
        rb.startFailures = Decide.maxStartFailures
        guard
            case let .halt(why, phase, keep) = Decide.next(
                observation(lock: heldLock, journal: rb, processUp: false, now: 1000))
        else {
            Issue.record("halt")
            return
        }
        #expect(why.hasPrefix("rollback failed") && phase == .rolledBack && keep)
        var h = rollout
        h.state = .halted
        // The old binary failed its starts (the cluster version may have moved): the recovery tries the newer one,
        // then alternates.
        #expect(
            Decide.next(observation(rollout: h, journal: rb, processUp: false, now: 1001))
                == .recoverStart(binary: "/opt/etcd/3.5.1/etcd"))
        var again = rb
        again.recoveryStarts = 1
        again.recoveryStartedAt = 900  // and it never answered since
        var noShow = observation(rollout: h, journal: again, processUp: false, now: 1001)
        noShow.localUnreachableFor = 120
        #expect(Decide.next(noShow) == .recoverStart(binary: "/old", noShow: true))
        // The newer one came up and crashed later: started again, not swapped for the old one that already failed.
        noShow.localUnreachableFor = 30
        #expect(Decide.next(noShow) == .recoverStart(binary: "/opt/etcd/3.5.1/etcd", noShow: false))
    }

    @Test func rollbackStopWaitsForHealthyPeers() {
        let sick = [
            member("s1", id: 1, leader: true), member("s2", id: 2, version: v351, healthy: false),
            member("s3", id: 3, healthy: false),
        ]
        let j = JournalEntry(rolloutID: "r1", step: .started, target: v351, stoppedAt: 900, startedAt: 905, from: v3423)
        let a = Decide.next(observation(members: sick, lock: heldLock, journal: j, now: 1000))
        guard case let .wait(why) = a else {
            Issue.record("expected a wait, got \(a)")
            return
        }
        #expect(why.description.contains("s3"))
    }

    /// Issue 18: the lock holder's member removed from the cluster (a node replaced): it is never stopped, started or
    /// rolled back again; its daemon leaves the sequence at once (record cleared, lock released).
    @Test func aRemovedMemberIsNeverTouchedAgain() {
        let gone = [member("s1", id: 1, leader: true), member("s3", id: 3)]
        for step in [JournalEntry.Step.stopping, .stopped, .switched, .started] {
            var j = begun(issued: 995)
            j.step = step
            j.startedAt = step == .started ? 996 : nil
            let a = Decide.next(observation(members: gone, lock: heldLock, journal: j, processUp: false, now: 1200))
            guard case let .leaveSequence(why) = a else {
                Issue.record("\(step): \(a)")
                continue
            }
            #expect(why.contains("removed from the cluster"))
        }
        #expect(Decide.next(observation(members: gone, lock: heldLock)) == .release)
        guard case .idle = Decide.next(observation(members: gone)) else {
            Issue.record("idle")
            return
        }
    }

    /// Issue 18: the rollout record missing, unreadable or rewritten mid-sequence: our own part is finished safely
    /// (member up on what it ran, record cleared, lock released), never left holding the lock.
    @Test func aSequenceWhoseRolloutIsGoneFinishesSafely() {
        let stopped = JournalEntry(
            rolloutID: "r1", step: .switched, target: v351, stoppedAt: 995, previousBinary: "/old", from: v3423)
        var other = rollout
        other.id = "r9"
        var retargeted = rollout
        retargeted.to = EtcdVersion(3, 5, 2)
        for r in [nil, other, retargeted] as [RolloutRecord?] {
            #expect(
                Decide.next(observation(rollout: r, lock: heldLock, journal: stopped, processUp: false))
                    == .recoverStart(binary: "/old"))
            guard case let .leaveSequence(why) = Decide.next(observation(rollout: r, lock: heldLock, journal: stopped))
            else {
                Issue.record("\(String(describing: r))")
                continue
            }
            #expect(why.contains("missing") || why.contains("replaced") || why.contains("now says"), "\(why)")
        }
        // Never stopped: nothing to start, leave at once.
        guard case .leaveSequence = Decide.next(observation(rollout: nil, lock: heldLock, journal: begun())) else {
            Issue.record("unissued")
            return
        }
    }

    /// Issue 18: a verified member is watched while the rollout runs: a restart or a member that stays down rolls it
    /// back (with the lock) and halts while the cluster version allows; after the flip it halts with the way forward.
    @Test func aTargetThatCrashesAfterItsVerificationIsCaught() {
        let onTarget = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351), member("s3", id: 3)]
        var done = record(.done, id: 0x2)
        done.processStartTime = 100
        var restarted = observation(members: onTarget, records: ["s2": done])
        restarted.localStartTime = 160
        // Halted first (no lock needed: nobody else stops anything from now on), then rolled back under the lock.
        guard case let .halt(first, _, _) = Decide.next(restarted) else {
            Issue.record("\(Decide.next(restarted))")
            return
        }
        #expect(first.contains("restarted after its verification") && first.contains("rolling it back to 3.4.23"))
        var halted = rollout
        halted.state = .halted
        restarted.rollout = halted
        #expect(Decide.next(restarted) == .acquireLock)
        restarted.lock = heldLock
        guard case let .beginStop(rb) = Decide.next(restarted) else {
            Issue.record("\(Decide.next(restarted))")
            return
        }
        #expect(
            rb.rollingBack && rb.target == v3423 && rb.previousBinary == "/opt/etcd/3.4.23/etcd"
                && rb.reason?.contains("restarted after its verification") == true)
        var down = observation(
            members: onTarget, rollout: halted, records: ["s2": done], lock: heldLock, processUp: false)
        down.localUnreachableFor = 6
        guard case .rollBackWhileDown = Decide.next(down) else {
            Issue.record("\(Decide.next(down))")
            return
        }
        down.localUnreachableFor = 1
        down.lock = nil
        down.rollout = rollout
        guard case .wait = Decide.next(down) else {
            Issue.record("a short blip is not a crash")
            return
        }
        var flipped = restarted
        flipped.clusterVersion = "3.5"
        flipped.lock = nil
        flipped.rollout = rollout
        guard case let .halt(why, _, _) = Decide.next(flipped) else {
            Issue.record("\(Decide.next(flipped))")
            return
        }
        #expect(why.contains("binary rollback is impossible") && why.contains("backups --restore r1"))
    }

    /// A target that keeps restarting on our node after its sequence was lost (no journal): the rollout halts, with
    /// no lock needed, once `maxStartFailures` restarts are seen within the window (seed 111269870).
    @Test func aTargetThatCrashLoopsOutsideASequenceHaltsTheRollout() {
        let onTarget = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351), member("s3", id: 3)]
        var o = observation(members: onTarget, records: ["s2": record(.interrupted, id: 0x2)])
        o.localRestarts = Decide.maxStartFailures - 1
        #expect(Decide.next(o) == .acquireLock)
        o.localRestarts = Decide.maxStartFailures
        guard case let .halt(why, phase, _) = Decide.next(o) else {
            Issue.record("\(Decide.next(o))")
            return
        }
        #expect(why.contains("restarted 3 times") && why.contains("3.4.23's binary") && phase == .interrupted)
        o.clusterVersion = "3.5"
        guard case let .halt(flipped, _, _) = Decide.next(o) else {
            Issue.record("\(Decide.next(o))")
            return
        }
        #expect(flipped.contains("backups --restore r1"))
        // Restarts of a member still on the old release are the gates' business, not a bad target.
        var old = observation()
        old.localRestarts = 5
        #expect(Decide.next(old) == .acquireLock)
    }

    /// Once the rollout has ended, a rollback that cannot be any more takes no lock (seed 67556990: the lock taken
    /// again and again); the recovery goes on starting the member.
    @Test func aHaltedRolloutTakesNoLockForARollbackThatCannotBe() {
        var halted = rollout
        halted.state = .halted
        var j = JournalEntry(
            rolloutID: "r1", step: .started, target: v351, stoppedAt: 900, startedAt: 905,
            previousBinary: "/opt/etcd/3.4.23/etcd", from: v3423)
        j.processStartTime = 100
        var o = observation(rollout: halted, journal: j, processUp: false, clusterVersion: "3.5")
        o.localUnreachableFor = 10
        #expect(Decide.next(o) == .recoverStart(binary: nil))
        o.clusterVersion = "3.4"
        #expect(Decide.next(o) == .acquireLock)
        o.clusterVersion = nil
        #expect(Decide.next(o) == .acquireLock)
    }

    @Test func unreadableOrForeignDestructiveRecordsBlockGate4() {
        var o = observation(lock: heldLock, backup: backup)
        o.undecodableRecords = ["s3"]
        #expect(Gates.evaluate(o).first { $0.number == 4 }?.passed == false)
        var other = record(.stopping)
        other.rolloutID = "r0"
        #expect(
            Gates.evaluate(observation(records: ["gone": other], lock: heldLock)).first { $0.number == 4 }?.passed
                == false)
    }

    @Test func offlineBringsOwnMemberBackWithoutEtcd() {
        let t = Timing()
        let j = JournalEntry(
            rolloutID: "r1", step: .stopped, target: v351, stoppedAt: 990, previousBinary: "/old", from: v3423)
        #expect(
            Decide.offline(
                journal: j, lockHeld: true, process: .stopped, binaryPathTemplate: template, now: 1000, timing: t)
                == .switchBinary(path: "/opt/etcd/3.5.1/etcd"))
        #expect(
            Decide.offline(
                journal: j, lockHeld: false, process: .stopped, binaryPathTemplate: template, now: 1000, timing: t)
                == .recoverStart(binary: "/old"))
        guard
            case .rollBackWhileDown = Decide.offline(
                journal: j, lockHeld: true, process: .stopped, binaryPathTemplate: template, now: 2000, timing: t)
        else {
            Issue.record("deadline offline")
            return
        }
        #expect(
            Decide.offline(
                journal: nil, lockHeld: true, process: .stopped, binaryPathTemplate: template, now: 1000, timing: t)
                == nil)
        // Seed 5289893 (n=1): the stop landed but reported failure, and nothing answers: go on from the stop.
        var stopping = j
        stopping.step = .stopping
        #expect(
            Decide.offline(
                journal: stopping, lockHeld: true, process: .stopped, binaryPathTemplate: template, now: 1000, timing: t
            ) == .markStopped)
        #expect(
            Decide.offline(
                journal: stopping, lockHeld: true, process: .running, binaryPathTemplate: template, now: 1000, timing: t
            ) == nil)
    }

    @Test func memoryCountsVerificationOnTheMonotonicClock() {
        var mem = SupervisorMemory()
        let up = [member("s1", id: 1, leader: true), member("s2", id: 2, version: v351), member("s3", id: 3)]
        let j = JournalEntry(rolloutID: "r1", step: .started, target: v351, stoppedAt: 95)
        var o1 = observation(
            members: up, records: ["s2": record(.verifying, id: 0x2)], lock: heldLock, journal: j, now: 100)
        // Not before the process start time was read (a settle that began earlier could span an unseen restart).
        _ = mem.advance(&o1)
        #expect(o1.verifiedFor == 0)
        o1.localStartTime = 96
        o1.now = 100
        _ = mem.advance(&o1)
        var o2 = o1
        o2.now = 102.5
        _ = mem.advance(&o2)
        #expect(o2.verifiedFor == 2.5)
        #expect(mem.downtime == 5)
        var o3 = o2
        o3.members[1].healthy = false
        o3.now = 103
        _ = mem.advance(&o3)
        #expect(o3.verifiedFor == 0)
    }

    /// A forward sequence's member that does not come up on the target after two recovery starts is started on the
    /// previous binary every other time (etcd itself refuses a binary below the cluster version; seed 337365239).
    @Test func aRecoveryThatDoesNotComeUpAlternatesBinaries() {
        var j = JournalEntry(
            rolloutID: "r1", step: .started, target: v351, stoppedAt: 900, startedAt: 905, previousBinary: "/old",
            from: v3423)
        let picks = (0..<5).map { n -> String? in
            j.recoveryNoShows = n
            return j.recoveryBinary(template: template, clusterVersion: nil)
        }
        #expect(picks == [nil, nil, "/old", "/opt/etcd/3.5.1/etcd", "/old"])
        j.recoveryNoShows = 2  // the cluster version known to be the target's minor: the old binary would be refused
        #expect(j.recoveryBinary(template: template, clusterVersion: "3.5") == "/opt/etcd/3.5.1/etcd")
        #expect(j.recoveryBinary(template: template, clusterVersion: "3.4") == "/old")
        j.step = .switched  // never started forward: the previous binary first, then the two in turn (seed 476787153)
        let unstarted = (0..<5).map { n -> String? in
            j.recoveryNoShows = n
            return j.recoveryBinary(template: template, clusterVersion: nil)
        }
        #expect(unstarted == ["/old", "/old", "/opt/etcd/3.5.1/etcd", "/old", "/opt/etcd/3.5.1/etcd"])
        j.recoveryNoShows = 0  // the cluster version on the target's minor (a node replaced on the target): the target
        #expect(j.recoveryBinary(template: template, clusterVersion: "3.5") == "/opt/etcd/3.5.1/etcd")
        // Counted only for starts that never answered: one that came up and crashed later resets the count, and the
        // old binary is started again, not the unverified target (seed 1181879075).
        j.recoveryNoShows = 1
        j.recoveryStarts = 2
        j.recoveryStartedAt = 960
        var o = observation(journal: j, processUp: false)
        o.localUnreachableFor = 40  // not answered since the start 40 s ago: a no-show, the second
        #expect(Decide.recover(j, o, why: "lost") == .recoverStart(binary: "/opt/etcd/3.5.1/etcd", noShow: true))
        o.localUnreachableFor = 10  // it answered 30 s after that start, then went down
        #expect(Decide.recover(j, o, why: "lost") == .recoverStart(binary: "/old", noShow: false))
    }

    /// Restarts count outside our own sequences only, per release, within the window: our stop and start is no
    /// crash, and the crashes of the release it ran before say nothing of the one it runs now.
    @Test func memoryCountsRestartsOfTheRunningReleaseOutsideSequences() {
        var mem = SupervisorMemory()
        func seen(_ start: Double, version: EtcdVersion, at now: Double, journal: JournalEntry? = nil) -> Int {
            let ms = [member("s1", id: 1, leader: true), member("s2", id: 2, version: version), member("s3", id: 3)]
            var o = observation(members: ms, journal: journal, now: now)
            o.localStartTime = start
            _ = mem.advance(&o)
            return o.localRestarts
        }
        #expect(seen(10, version: v3423, at: 100) == 0)
        #expect(seen(20, version: v3423, at: 110) == 1)
        // Our own sequence stops and starts it: not counted.
        let j = JournalEntry(rolloutID: "r1", step: .started, target: v351, stoppedAt: 115, startedAt: 116)
        #expect(seen(30, version: v351, at: 120, journal: j) == 0)
        #expect(seen(40, version: v351, at: 130) == 1)
        #expect(seen(40, version: v351, at: 131) == 1)
        #expect(seen(50, version: v351, at: 140) == 2)
        // Out of the window (300 s by default), forgotten.
        #expect(seen(50, version: v351, at: 500) == 0)
    }

    /// Owner-clears waits while a stop issued by the crashed incarnation is still pending — asked of the controller
    /// with the journalled ticket; only without one does it wait the blanket `stopPendingSeconds`.
    @Test func ownerClearsWaitsForAPendingStop() {
        var o = observation(journal: begun(issued: 995), processUp: true, now: 1000)
        o.stopPending = true
        guard case let .wait(why) = Decide.next(o) else {
            Issue.record("must wait")
            return
        }
        #expect(why.description.contains("still pending"))
        o.stopPending = false  // the ticket says it is over: no blind wait, the stop is journalled as landed
        #expect(Decide.next(o) == .markStopped)
        o.stopPending = nil  // no ticket: the blanket wait
        guard case .wait = Decide.next(o) else {
            Issue.record("blanket wait")
            return
        }
        #expect(
            Decide.next(observation(journal: begun(issued: 995), processUp: false, now: 1000))
                == .recoverStart(binary: "/opt/etcd/3.4.23/etcd"))
        o.now = 1100
        #expect(Decide.next(o) == .markStopped)
        // Once journalled as landed, health asked after it decides: up and answering is cleared, down is started.
        var landed = begun(issued: 995)
        landed.step = .stopped
        guard case .leaveSequence = Decide.next(observation(journal: landed, processUp: true, now: 1100)) else {
            Issue.record("clear after")
            return
        }
        #expect(
            Decide.next(observation(journal: landed, processUp: false, now: 1100))
                == .recoverStart(binary: "/opt/etcd/3.4.23/etcd"))
        guard case .leaveSequence = Decide.next(observation(journal: begun(written: nil), processUp: true)) else {
            Issue.record("clear")
            return
        }
    }

    @Test func aSickMemberOnTheTargetIsVerifiedUnderTheDeadlineNotWaitedOn() {
        let sick = [
            member("s1", id: 1, leader: true), member("s2", id: 2, version: v351, healthy: false), member("s3", id: 3),
        ]
        let a = Decide.next(
            observation(members: sick, records: ["s2": record(.interrupted, id: 0x2)], lock: heldLock, backup: backup))
        guard case let .adoptVerification(j) = a else {
            Issue.record("\(a)")
            return
        }
        #expect(j.step == .started && j.target == v351 && j.startedAt == 1000)
        let late = Decide.next(
            observation(
                members: sick, lock: heldLock, backup: backup, journal: j, now: 1000 + Timing().verifyTimeoutSeconds))
        guard case let .beginStop(rb) = late, rb.rollingBack else {
            Issue.record("\(late)")
            return
        }
        #expect(
            rb.reason == "s2 not verified on 3.5.1 within \(Int(Timing().verifyTimeoutSeconds)) s: s2 not healthy yet")
    }

    @Test func aPeerStepsAsideForASickMemberOnTheTarget() {
        let sick = [
            member("s1", id: 1, leader: true), member("s2", id: 2), member("s3", id: 3, version: v351, healthy: false),
        ]
        let records: [MemberName: MemberRecord] = ["s3": record(.interrupted)]
        #expect(Decide.next(observation(members: sick, records: records, lock: heldLock, backup: backup)) == .release)
        #expect(
            Decide.next(observation(members: sick, records: records))
                == .wait(.unverifiedGoFirst(members: ["s3"], target: EtcdVersion("3.5.1")!)))
        #expect(Decide.next(observation(members: sick, records: ["s3": record(.rolledBack)])) == .acquireLock)
    }

    @Test func loneMemberDoesNotWaitForAHandover() {
        var o = observation(local: "s1", members: [member("s1", id: 1, leader: true)], lock: heldLock, backup: backup)
        o.allowSmallCluster = true
        guard case .beginStop = Decide.next(o) else {
            Issue.record("\(Decide.next(o))")
            return
        }
    }

    @Test func recoveryMidRollbackRestoresThePreviousBinary() {
        let j = JournalEntry(
            rolloutID: "r1", step: .switched, target: v351, stoppedAt: 990, previousBinary: "/old", from: v3423
        )
        .rollback(to: v3423, reason: "bad", down: true, now: 995)
        #expect(Decide.next(observation(journal: j, processUp: false, now: 1000)) == .recoverStart(binary: "/old"))
        var started = j
        started.step = .started
        #expect(
            Decide.next(observation(journal: started, processUp: false, now: 1000)) == .recoverStart(binary: "/old"))
    }
}

/// The break-glass rule of `etcd-shepherd forget`.
@Suite struct ForgetRuleTests {
    static func member(healthy: Bool, id: MemberID = 0xa) -> MemberView {
        MemberView(
            name: "s2", id: id, clientURL: "http://s2:2379", reachable: healthy, healthy: healthy, hasLeader: healthy,
            isLeader: false, version: EtcdVersion(3, 4, 23), raftIndex: 1)
    }
    static func record(_ phase: MemberPhase) -> ForgetRule.Stored {
        .record(
            MemberRecord(
                rolloutID: "r1", memberID: 0xa, phase: phase, from: EtcdVersion(3, 4, 23), to: EtcdVersion(3, 5, 1),
                leaseID: "694d", updatedAt: 0))
    }

    @Test func aRemovedMembersDestructiveRecordMayBeForgotten() {
        #expect(ForgetRule.refusal(name: "s2", stored: Self.record(.stopping), member: nil, leaseAlive: false) == nil)
        #expect(ForgetRule.refusal(name: "s2", stored: .unreadable, member: nil, leaseAlive: false) == nil)
    }

    @Test func aMemberThatIsUpAgainMayBeForgotten() {
        #expect(
            ForgetRule.refusal(
                name: "s2", stored: Self.record(.verifying), member: Self.member(healthy: true), leaseAlive: false)
                == nil)
    }

    @Test func aMemberThatIsDownIsNotForgotten() {
        let why = ForgetRule.refusal(
            name: "s2", stored: Self.record(.stopping), member: Self.member(healthy: false), leaseAlive: false)
        #expect(why?.contains("not healthy") == true)
        #expect(
            ForgetRule.refusal(name: "s2", stored: .unreadable, member: Self.member(healthy: false), leaseAlive: false)
                != nil)
    }

    @Test func aRecordWhoseDaemonHoldsTheLockIsNotForgotten() {
        let why = ForgetRule.refusal(
            name: "s2", stored: Self.record(.stopping), member: Self.member(healthy: true), leaseAlive: true)
        #expect(why?.contains("still holds the upgrade lock") == true)
    }

    @Test func nothingToForget() {
        #expect(
            ForgetRule.refusal(name: "s2", stored: .none, member: nil, leaseAlive: false)?.contains("no record") == true
        )
        #expect(
            ForgetRule.refusal(name: "s2", stored: Self.record(.done), member: nil, leaseAlive: false)?.contains(
                "nothing to forget") == true)
    }

    @Test func aNameReusedByANewMemberCountsOnlyWhileThatMemberIsHealthy() {
        #expect(
            ForgetRule.refusal(
                name: "s2", stored: Self.record(.stopping), member: Self.member(healthy: false, id: 0xb),
                leaseAlive: false) != nil)
        #expect(
            ForgetRule.refusal(
                name: "s2", stored: Self.record(.stopping), member: Self.member(healthy: true, id: 0xb),
                leaseAlive: false) == nil)
    }
}

@Suite struct PreflightMemoryTests {
    @Test func cleanHoldsForTheRolloutBlockingIsRecheckedAndReportedOnceWhenNew() {
        var m = PreflightMemory()
        #expect(m.cached(for: rollout, now: 0) == nil)
        let first = m.record(["binary missing"], for: rollout, now: 0)
        #expect(first)  // new: report it
        #expect(m.cached(for: rollout, now: 10) == ["binary missing"])
        #expect(m.cached(for: rollout, now: PreflightMemory.recheckSeconds) == nil)  // re-check
        let again = m.record(["binary missing"], for: rollout, now: 15)
        #expect(!again)  // same finding: not again
        let clean = m.record([], for: rollout, now: 30)
        #expect(!clean)
        #expect(m.cached(for: rollout, now: 10_000) == [])  // clean holds
        var other = rollout
        other.id = "r2"
        #expect(m.cached(for: other, now: 10_000) == nil)  // a new rollout checks again
        m.forget()
        #expect(m.cached(for: rollout, now: 10_000) == nil)
    }

    /// A rollout in hops: when every member is on this hop's target and the cluster version caught up, the record
    /// moves to the next hop (not completed); the last hop completes. Each hop has its own backup key.
    @Test func hopsAdvanceThenComplete() {
        var r = rollout
        r.to = EtcdVersion(3, 5, 0)
        r.then = [v351]
        r.stage = 0
        let onHop = [
            member("s1", id: 1, leader: true, version: EtcdVersion(3, 5, 0)),
            member("s2", id: 2, version: EtcdVersion(3, 5, 0)),
            member("s3", id: 3, version: EtcdVersion(3, 5, 0)),
        ]
        let doneOnHop2: [MemberName: MemberRecord] = [
            "s1": record(.done, id: 0x1), "s2": record(.done, id: 0x2), "s3": record(.done, id: 0x3),
        ]
        let done = doneOnHop2.mapValues {
            var rec = $0
            rec.to = EtcdVersion(3, 5, 0)
            return rec
        }
        #expect(
            Decide.next(observation(members: onHop, rollout: r, records: done, clusterVersion: "3.5")) == .acquireLock)
        #expect(
            Decide.next(observation(members: onHop, rollout: r, records: done, lock: heldLock, clusterVersion: "3.5"))
                == .advanceHop)
        let next = r.advanced()!
        #expect(
            next.from == EtcdVersion(3, 5, 0) && next.to == v351 && next.then == nil && next.stage == 1
                && next.nextHop == nil)
        #expect(r.backupKey == "r1" && next.backupKey == "r1.h1" && r.finalTarget == v351)
        // On the next hop the same members (records still done from hop 1) go again, one at a time.
        #expect(
            Decide.next(observation(members: onHop, rollout: next, records: done, clusterVersion: "3.5"))
                == .acquireLock)
        let final = onHop.map {
            var m = $0
            m.version = v351
            return m
        }
        // Hop 1's records are not done in hop 2, though every member runs its target: each is verified again.
        let unverified = observation(
            members: final, rollout: next, records: done, lock: heldLock, clusterVersion: "3.5")
        #expect(Decide.next(unverified) != .markCompleted)
        let last = observation(
            members: final, rollout: next, records: doneOnHop2, lock: heldLock, clusterVersion: "3.5")
        #expect(Decide.next(last) == .markCompleted)
    }
}
