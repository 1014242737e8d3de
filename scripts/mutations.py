#!/usr/bin/env python3
"""Disables one safety gate or rule in place (the decision core, or the shell where the rule lives); run in a scratch
clone.

    scripts/mutations.py --list            the names
    scripts/mutations.py --real NAME       the real-cluster tests (a swift test filter) that must catch it, or nothing
    scripts/mutations.py --check           every edit still applies to this tree (run by the mutation-check script)
    scripts/mutations.py NAME[+NAME...]    apply one (or several); `git checkout Sources` undoes it

scripts/mutation-check.sh runs the simulator's seeds and the named real-cluster tests against each in turn: every one
must be caught. `real` is None where no real cluster can be driven into the schedule deterministically (a frozen
daemon, a stale answer in a 3 s window); `sim` is False where the rule lives outside the simulated process.
"""
import sys

G, D, S = 'Sources/Rollout/Gates.swift', 'Sources/Rollout/Decide.swift', 'Sources/Rollout/Decide+Sequence.swift'
J, FX = 'Sources/Rollout/JournalEntry.swift', 'Sources/Shepherd/Daemon/Supervisor+Effects.swift'
CMD, SUP = 'Sources/etcd-shepherd/RunCommand.swift', 'Sources/Shepherd/Daemon/Supervisor.swift'

CRASH = 'CrashingTargetTests'
MUTATIONS = {
    # The gates of DESIGN.md, on the first stop.
    'gate1-rollout-active': dict(real='RolloutEndToEndTests/planPauseResume', edits=[
        (G, 'r == nil ? "no rollout" : (r!.state == .active ? nil : "rollout is', 'r == nil ? "no rollout" : (true ? nil : "rollout is'),
        (D, '        case .paused:\n            return o.lock != nil ? .release : .wait(.rolloutPaused)\n', '        case .paused:\n            break\n'),
    ]),
    'gate2-all-healthy': dict(real='PeerDownTests', edits=[
        (G, 'gate(2, "all members healthy", sick.isEmpty ? nil', 'gate(2, "all members healthy", true ? nil')]),
    'gate3-quorum-margin': dict(real=None, edits=[(G, 'gate(3, "quorum margin", marginFailure)', 'gate(3, "quorum margin", nil)')]),
    'gate4-destructive-records': dict(real=None, edits=[
        (G, 'gate(4, "no other member mid-upgrade", otherDestructive(o))', 'gate(4, "no other member mid-upgrade", nil)')]),
    'gate4-unreadable-records': dict(real=None, edits=[(G, 'let unreadable = o.undecodableRecords.sorted()', 'let unreadable = [String]()')]),
    'gate5-versions': dict(real=None, edits=[(G, 'gate(5, "versions allowed", versionFailure)', 'gate(5, "versions allowed", nil)')]),
    'gate6-preflight': dict(real='RolloutEndToEndTests/preflightBlocks', edits=[
        (G, 'gate(6, "local preflight", o.preflightBlocking.isEmpty ? nil', 'gate(6, "local preflight", true ? nil'),
        (D, '        if !o.preflightBlocking.isEmpty {', '        if false {'),
    ]),
    'gate7-leader-last': dict(real=None, edits=[(D, 'if local.isLeader && !othersPending.isEmpty {', 'if false {')]),
    'gate7-transfer': dict(real=None, edits=[(D, 'if local.isLeader && o.members.count > 1 {', 'if false {')]),
    'caught-up-at-stop': dict(real=None, edits=[
        (G, 'if m.raftIndex + o.timing.raftSlack < head { return " (behind: raft \\(m.raftIndex)/\\(head))" }', '')]),
    # The window (model-checked), in the core and re-checked by the shell right before the call.
    'window-observation-age': dict(real=None, edits=[(G, 'if observationAge > timing.maxObservationAgeSeconds {', 'if false {')]),
    'window-lease-margin': dict(real=None, edits=[(G, 'if leaseRemaining < timing.minLeaseRemainingSeconds {', 'if false {')]),
    'window-shell-recheck': dict(real=None, edits=[(FX, 'guard now <= issueBy, lease >= minLease else {', 'guard true else {')]),
    # Safety round two: one gate decision before every stop.
    'regate-retried-stop': dict(real='WrongProcessStateTests/aFailedStopRetried', edits=[
        (S, '                if o.stopPending == true { return .wait(.stopPending(member: o.localName)) }',
            '                if o.stopPending == true { return .wait(.stopPending(member: o.localName)) }\n'
            '                if o.localProcess != .running { return .stopMember(issueBy: o.now + 3, minLease: 0) }')]),
    'gate-after-last-write': dict(real='FaultProxyTests', edits=[
        (S, '                if o.observedAt <= written { return .wait(.observingAfterRecordWrite) }\n', ''),
        (S, '            if o.observedAt <= written { return .wait(.observingAfterRecordWrite) }\n', ''),
    ]),
    'rollback-regates-peers': dict(real=None, edits=[
        (S, '            if let peers = Gates.peersForRollback(o) {\n                // Not held for long', '            if false, let peers = Gates.peersForRollback(o) {\n                // Not held for long'),
    ]),
    'lock-wait-bounded': dict(real=None, edits=[(D, '            if o.now - lock.heldSince > o.timing.lockWaitSeconds {\n', '            if false {\n')]),
    'rollback-lets-lock-go': dict(real=None, edits=[
        (D, 'if o.now - lock.heldSince > o.timing.lockWaitSeconds { return .release }', 'if false { return .release }')]),
    'gate2-verified-process': dict(real=CRASH + '/aVerifiedMemberRestartedUnderAFrozenDaemon', edits=[
        (G, '(problem(m, o) ?? restartedSinceVerified(m, o))', 'problem(m, o)')]),
    # A sequence whose ground moved: record gone or rewritten, member removed, a release nobody named.
    'orphaned-sequence': dict(real='RolloutRecordEditTests', edits=[
        (S, 'if let why = orphaned(j, o) ?? (o.lock == nil', 'if let why = (o.lock == nil')]),
    'removed-member-untouched': dict(real='MemberRemovalTests', edits=[(S, '        guard o.local != nil else {', '        guard true else {')]),
    'odd-release-halts': dict(real='RolloutRecordEditTests/aRolloutRecordEditedMidSequenceEndsItSafely', edits=[
        (D, 'if !odd.isEmpty, myRecord?.phase.isDestructive != true {', 'if false {')]),
    'owner-clears': dict(real='RolloutRecordEditTests', edits=[
        (S, '        return .leaveSequence(reason: why)\n    }\n\n    /// Where the binary link', '        return .wait(.window(why))\n    }\n\n    /// Where the binary link')]),
    # Settle watched, a verified member watched, no binary rollback after the flip.
    'settle-watched': dict(real=CRASH + '/aTargetThatDiesWhileItSettles', edits=[
        (S, 'if failure == nil && o.verifiedFor >= o.timing.settleSeconds {', 'if failure == nil {')]),
    'target-exit-seen': dict(real=CRASH + '/aTargetThatDiesWhileItSettles', edits=[
        (S, '        if o.localProcess == .stopped, o.localUnreachableFor >= o.timing.crashGraceSeconds {\n            return\n                "\\(o.localName) exited after its start',
            '        if false {\n            return\n                "\\(o.localName) exited after its start')]),
    'watch-after-verification': dict(real=CRASH + '/aTargetThatDiesAfterItsVerification', edits=[
        (D, 'local.version == r.to || local.version == nil, let crash = crashedAfterDone(o, mine)\n',
            'local.version == r.to || local.version == nil, let crash = Optional<String>.none\n')]),
    'restart-after-verification-seen': dict(real=CRASH + '/aTargetThatDiesAfterItsVerification', edits=[
        (D, 'if let was = rec.processStartTime, let now = o.localStartTime, !ProcessStart.same(now, was) {', 'if false {')]),
    'completion-on-verified-processes': dict(real=None, edits=[(D, '            if !unproven.isEmpty {', '            if false {')]),
    'watched-until-rolled-back': dict(real=CRASH + '/aTargetThatDiesAfterItsVerification', edits=[
        (SUP, 'return r.state == .active\n                    || Decide.binaryRollbackAllowed(from: r.from, to: r.to, clusterVersion: view.clusterVersion) == true',
              'return r.state == .active')]),
    'completion-last-look': dict(real=None, edits=[
        (FX, '                    lastLook: { try await self.lookAtVerifiedProcesses(o) })\n            }\n            guard let done',
             '                    lastLook: nil)\n            }\n            guard let done')]),
    # Not caught by the CI seeds: FleetSimulationTests/aRestartInsideTheLastLook (profile slowLook) catches it.
    'last-look-bound': dict(real=None, edits=[
        ('Sources/Shepherd/Daemon/Supervisor+LastLook.swift', 'guard took <= bound else',
         'guard took <= 1e9 else')]),
    # A pre-reboot asked again by the holder is granted on the old check (this stop).
    'reboot-retry-judged': dict(real='FleetLockTests/oneRebootAtATime', edits=[
        ('Sources/Rollout/RebootRules.swift', 'if let (kind, why) = refusal(aside) {',
         'if false, let (kind, why) = refusal(aside) {')]),
    'done-in-this-hop': dict(real=None, edits=[
        ('Sources/Rollout/Records.swift', 'rolloutID == rollout.id && phase == .done && to == rollout.to',
         'rolloutID == rollout.id && phase == .done')]),
    'completion-on-a-fresh-observation': dict(real=None, edits=[
        (D, '            if o.observationAge > o.timing.maxObservationAgeSeconds {\n                return .wait(.completionObservationOld',
            '            if false {\n                return .wait(.completionObservationOld')]),
    'settle-needs-start-time': dict(real=None, edits=[
        (S, '?? (o.localStartTime == nil ? "\\(o.localName)\'s process start time not read" : nil)', '?? nil')]),
    'no-binary-rollback-after-flip': dict(real=CRASH + '/aTargetThatDiesAfterTheFlip', edits=[
        (S, '            if cv != from.minorVersion {\n                return halt(\n                    why\n                        + "; the cluster version already moved',
            '            if false {\n                return halt(\n                    why\n                        + "; the cluster version already moved'),
        (D, 'let canRollBack = binaryRollbackAllowed(from: r.from, to: r.to, clusterVersion: o.clusterVersion) == true',
            'let canRollBack = true'),
    ]),
    'halt-keeps-member-up': dict(real=None, edits=[
        (D, '.halt(reason: reason, recordPhase: phase, keepJournal: o.journal != nil && !answersNow(o))',
            '.halt(reason: reason, recordPhase: phase, keepJournal: false)')]),
    # A target that does not stay up, after its sequence was lost or once the rollout ended.
    'crash-loop-halts': dict(real=None, edits=[(D, '        if let why = crashLooping(r, o) { return halt(why, o) }\n', '')]),
    'no-lock-for-impossible-rollback': dict(real=None, edits=[
        (S, 'if rollbackPossible(j, r, o) { return .acquireLock }', 'return .acquireLock')]),
    # Recovery after a daemon crash.
    'stop-pending-ticket': dict(real='DaemonRestartTests/killedInItsStop', edits=[
        (S, '            case true?:\n                return .wait(.stopStillPending', '            case true? where false:\n                return .wait(.stopStillPending')]),
    'recovery-starts-once': dict(real=None, edits=[
        (S, 'if let started = j.recoveryStartedAt, o.now - started < o.timing.startGraceSeconds {',
            'if false, let started = j.recoveryStartedAt {')]),
    'recovery-restores-previous-binary': dict(real=None, edits=[
        (J, 'let base = recoveryRestoresPreviousBinary ? previousBinary : nil', 'let base: String? = nil')]),
    'deadline-stop-to-verified': dict(real='RolloutEndToEndTests/aStartThatFailsEveryTime', edits=[
        (S, 'if expired || j.startFailures >= maxStartFailures {', 'if false {'),
        (S, 'if j.startFailures >= maxStartFailures {\n            return "\\(o.localName) exited after its start', 'if false {\n            return "\\(o.localName) exited after its start'),
    ]),
    'auth-watch': dict(real='AuthRolloutTests/usersChangingMidRolloutHaltIt', edits=[
        (G, '        return seen == want\n            ? nil : "etcd users, roles or permissions changed during a rollout that accepted the auth risk"',
            '        _ = seen == want\n        return nil'),
        (D, 'if r.watchesAuth, let seen = o.auth?.fingerprint, seen != r.authFingerprint {', 'if false, let seen = o.auth?.fingerprint, seen != r.authFingerprint {'),
    ]),
    # Never built on a running member: no binary switched under it (after a stop that stopped nothing, a restart by
    # systemd, a target too busy to answer), in the shell right before the link and after the stop.
    'no-switch-under-running-member': dict(real='WrongProcessStateTests/aStopThatStopsNothingIsIssuedAgainNotBuiltOn', edits=[
        (FX, '        if await ports.cluster.responds(localURL) {\n            throw ControllerError(\n                thing: "\\(me)",\n                cause: "responds',
             '        if false {\n            throw ControllerError(\n                thing: "\\(me)",\n                cause: "responds'),
        (FX, '        if await ports.cluster.responds(localURL) {\n            throw ControllerError(\n                thing: "\\(me)",\n                cause: "the stop command returned',
             '        if false {\n            throw ControllerError(\n                thing: "\\(me)",\n                cause: "the stop command returned'),
    ]),
    'restore-link-on-what-runs': dict(real=None, edits=[
        (FX, '            guard let runs, o.binaryPath(runs) == path else {', '            guard true else {')]),
    # The head of the log asked after every member answered (a member is judged against an index no older than its own).
    'leader-index-asked-last': dict(real=None, edits=[
        ('Sources/Shepherd/Store/ClusterObserver.swift', 'if let l = details.firstIndex(where: \\.isLeader) { await askHeadAgain(&details[l]) }', '')]),
    # One daemon per member (the shell, before anything runs: outside the simulated process).
    'instance-lock': dict(real='RunRefusalTests/aSecondDaemonOnTheSameStateDirIsRefused', sim=False, edits=[
        (CMD, 'do { instance = try InstanceLock(stateDir: config.stateDir) } catch {\n            throw Failure(code: Exit.usage, message: "\\(error)")\n        }',
              'instance = try! InstanceLock(stateDir: config.stateDir + "/\\(getpid())")')]),
}


def edits(name):
    return [e for part in name.split('+') for e in MUTATIONS[part]['edits']]


if __name__ == '__main__':
    args = sys.argv[1:]
    if args == ['--list']:
        print('\n'.join(MUTATIONS)); sys.exit(0)
    if len(args) == 2 and args[0] == '--real':
        print(MUTATIONS[args[1]].get('real') or ''); sys.exit(0)
    if len(args) == 2 and args[0] == '--sim':
        print('yes' if MUTATIONS[args[1]].get('sim', True) else 'no'); sys.exit(0)
    if args == ['--check']:
        bad = []
        for n in MUTATIONS:
            texts = {}
            for p, o, new in edits(n):   # in order, as applying them would
                t = texts.setdefault(p, open(p).read())
                if t.count(o) != 1:
                    bad.append(f'{n}: {p} no longer contains {o!r} exactly once')
                texts[p] = t.replace(o, new)
        print('\n'.join(bad) or f'{len(MUTATIONS)} mutations apply'); sys.exit(1 if bad else 0)
    # NAME may join several with '+' (e.g. a defence-in-depth rule together with the rule it backs up).
    for path, old, new in edits(args[0]):
        text = open(path).read()
        if text.count(old) != 1:
            sys.exit(f'{args[0]}: {path} no longer contains {old!r} exactly once: update scripts/mutations.py')
        open(path, 'w').write(text.replace(old, new))
