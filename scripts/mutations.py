#!/usr/bin/env python3
"""Disables one safety gate or model-checked rule of the core (Sources/Rollout) in place; run in a scratch clone.

    scripts/mutations.py --list          the names
    scripts/mutations.py NAME[+NAME…]    apply one (or several) (git checkout Sources/Rollout undoes it)

scripts/mutation-check.sh runs the simulator's CI seeds against each in turn: every one must be caught.
"""
import sys

G, D = 'Sources/Rollout/Gates.swift', 'Sources/Rollout/Decide.swift'
MUTATIONS = {
    'gate1-rollout-active': [
        (G, 'gate(1, "rollout active", r == nil ? "no rollout" : (r!.state == .active ? nil', 'gate(1, "rollout active", r == nil ? "no rollout" : (true ? nil'),
        (D, '        case .paused:\n            return o.lock != nil ? .release : .wait("rollout paused")\n', '        case .paused:\n            break\n'),
    ],
    'gate2-all-healthy': [(G, 'gate(2, "all members healthy", sick.isEmpty ? nil', 'gate(2, "all members healthy", true ? nil')],
    'gate3-quorum-margin': [(G, 'gate(3, "quorum margin", marginFailure)', 'gate(3, "quorum margin", nil)')],
    'gate4-destructive-records': [(G, 'gate(4, "no other member mid-upgrade", otherDestructive(o))', 'gate(4, "no other member mid-upgrade", nil)')],
    'gate4-unreadable-records': [(G, 'let unreadable = o.undecodableRecords.sorted()', 'let unreadable = [String]()')],
    'gate5-versions': [(G, 'gate(5, "versions allowed", versionFailure)', 'gate(5, "versions allowed", nil)')],
    'gate6-preflight': [
        (G, 'gate(6, "local preflight", o.preflightBlocking.isEmpty ? nil', 'gate(6, "local preflight", true ? nil'),
        (D, '        if !o.preflightBlocking.isEmpty {', '        if false {'),
    ],
    'gate7-leader-last': [(D, 'if local.isLeader && !othersPending.isEmpty {', 'if false {')],
    'gate7-transfer': [(D, 'if local.isLeader && o.members.count > 1 {', 'if false {')],
    'window-observation-age': [(G, 'if observationAge > timing.maxObservationAgeSeconds {', 'if false {')],
    'window-lease-margin': [(G, 'if leaseRemaining < timing.minLeaseRemainingSeconds {', 'if false {')],
    'owner-clears': [(D, '            return .clearInterrupted(reason: j.rollingBack', '            return .wait(j.rollingBack ? "" : ""); _ = Action.clearInterrupted(reason: j.rollingBack')],
    'owner-clears-waits-for-pending-stop': [(D, 'if j.step == .stopping, let issued = j.stoppedAt, o.now - issued < o.timing.stopPendingSeconds {', 'if false, let issued = j.stoppedAt, o.now - issued < o.timing.stopPendingSeconds {')],
    'regate-retried-stop': [(D, 'if j.step == .stopping, o.localProcessUp, o.lock != nil {', 'if false, j.step == .stopping, o.localProcessUp, o.lock != nil {')],
    'rollback-regates-peers': [
        (D, 'if let why = Gates.peersForRollback(o) { return .wait("rollback of \\(o.localName) waits: \\(why)") }', ''),
        (D, 'if let peers = Gates.peersForRollback(o) { return .wait("rollback of \\(o.localName) waits: \\(peers)") }', ''),
    ],
    'deadline-stop-to-verified': [(D, 'if expired || j.startFailures >= maxStartFailures {', 'if false {')],
    'auth-watch': [
        (G, '        return seen == want ? nil : "etcd users, roles or permissions changed during a rollout that accepted the auth risk"',
            '        return nil; _ = seen == want'),
        (D, 'if r.watchesAuth, let seen = o.auth?.fingerprint, seen != r.authFingerprint,', 'if false, let seen = o.auth?.fingerprint, seen != r.authFingerprint,'),
    ],
    'recovery-restores-previous-binary': [(D, 'return .recoverStart(restorePreviousBinary: j.recoveryRestoresPreviousBinary)', 'return .recoverStart(restorePreviousBinary: false)')],
}

if __name__ == '__main__':
    if sys.argv[1:] == ['--list']:
        print('\n'.join(MUTATIONS)); sys.exit(0)
    # NAME may join several with '+' (e.g. a defence-in-depth rule together with the rule it backs up).
    for path, old, new in [edit for name in sys.argv[1].split('+') for edit in MUTATIONS[name]]:
        text = open(path).read()
        if old not in text:
            sys.exit(f'{sys.argv[1]}: {path} no longer contains {old!r}: update scripts/mutations.py')
        open(path, 'w').write(text.replace(old, new))
