/// Which faults a run may inject, and how often (per call, per step, or for the whole run). Every profile is as
/// unkind as a real node by default: process states that are unknown, wrong or late, health answers that are slow
/// or stale, stops that take their time, starts that fail once, members that lag after a restart.
struct FaultProfile: Sendable {
    /// `timing.settleSeconds` of every daemon.
    var settleSeconds = 4.0
    // Calls and daemons (a tick makes a dozen calls or more: these are per call).
    var callFails = 0.003
    var callAmbiguous = 0.002
    var crashAtCall = 0.0004
    var pauseAtCall = 0.0002
    // Members and the network (per step).
    var memberCrash = 0.005
    /// A member cut off from its peers: its process runs and answers, but unhealthy and without a leader.
    var memberCutOff = 0.004
    var nodeLost = 0.0005
    var quorumLoss = 0.001
    var clockStep = 0.003
    /// How far a wall-clock step may go, either way.
    var clockStepSeconds = 3600.0
    var corruptRecord = 0.001
    var diskFull = 0.005
    // A node as unkind as a real one (per call).
    /// The controller cannot tell whether the process runs (no status command, a status call that failed).
    var processUnknown = 0.03
    /// The controller says the opposite of the truth (a status command that lies, a systemd state read late).
    var processWrong = 0.01
    /// The controller reports the state of a few seconds ago.
    var processLate = 0.05
    /// A health or status answer that takes its time (possibly past the caller's deadline): the observation goes
    /// stale while it is made, and members disagree.
    var slowAnswer = 0.03
    /// `/version` fails (the cluster version is then unknown).
    var versionFails = 0.05
    /// A stop that takes a while — sometimes longer than the lock's TTL — while the daemon waits for it.
    var slowStop = 0.1
    /// A stop or start command that fails without effect (once: the next try works).
    var stopFails = 0.03
    var startFails = 0.05
    /// A stop command that returns success and stops nothing (a wrong unit, an ExecStop that ignores its job, a stop
    /// job merged into a restart): the member keeps running, its daemon told it stopped.
    var stopIgnored = 0.0
    /// A start that returns before the process dies of something (it exits a moment later).
    var startThenDie = 0.02
    // Targets.
    /// The target binary exits at once (the whole run): the rollout must roll back and halt.
    var badTarget = false
    /// The target starts but its member never becomes healthy.
    var sickTarget = false
    /// Every target process dies within the settle period of its start (restarted by "systemd" on half the seeds):
    /// caught while verified, rolled back, halted; never completed.
    var crashInSettle = false
    /// The first target process that passed verification dies a few seconds later, while the cluster is mixed:
    /// its daemon (which watches it) rolls it back and halts; nothing completes over a process that was not verified.
    var crashAfterVerify = false
    /// Once every listed member's record is done on the target (the rollout about to complete), the first member whose
    /// `/metrics` is read crashes right after its answer is made, and systemd restarts it 1–3 s later: with slow
    /// answers, a restart hidden inside the completion's last look (seed 5218050833's race, made common).
    var crashAtTheEnd = false
    // Operators.
    var operatorPause = 0.0
    /// Pauses of a daemon shorter than its lease TTL as well: the lease survives, the observation goes stale.
    var shortPauses = false
    var smallClusterRefused = false
    /// The rollout record (written straight into etcd, not through a request) names a step the version policy refuses.
    var refusedStep = false
    var unstagedNode = false
    var newerDaemon = false
    /// A daemon freezes right at its stop call, past its TTL (the model's trail T1).
    var pauseAtStop = 0.0
    /// A daemon freezes briefly at the record write right before its stop (trail T5).
    var pauseBeforeStop = 0.0
    /// A daemon dies at a stop that then lands on its own (a queued systemd job, a stop command outliving it).
    var crashAtStop = 0.0
    /// A daemon dies at the start call after it switched the binary link.
    var crashAtStart = 0.0
    /// Zincati on a node asks for a reboot (FleetLock, per step); granted, the node reboots and asks steady-state
    /// until it is released.
    var reboots = 0.0
    /// Every node has maintenance windows (`Fleet.maintenanceWindows`): no forward stop outside one by its clock.
    var windows = false
    var authWatch = false
    var authChange = 0.0
    var twoHop = false
    // Membership and hand edits (per step).
    /// An operator removes a member (its etcd exits; its daemon stays).
    var memberRemoval = 0.0
    /// An operator adds a member as a learner (with its daemon) and promotes it later.
    var learnerAdded = 0.0
    /// An operator replaces a member's node: same name, a new member ID, running the target.
    var memberReplaced = 0.0
    /// The rollout record deleted, or rewritten (another id, another target), by hand.
    var rolloutDeleted = 0.0
    var rolloutRewritten = 0.0
    /// The lock key deleted by hand, or the holder's lease revoked.
    var lockDeleted = 0.0
    var leaseRevoked = 0.0

    /// Runs whose correct outcome is that nothing is stopped.
    var expectsNoStop: Bool { smallClusterRefused || refusedStep }
    /// Runs that must never complete.
    var expectsNoCompletion: Bool { expectsNoStop || badTarget || sickTarget || crashInSettle }

    static func named(_ name: String) -> FaultProfile {
        var p = FaultProfile()
        switch name {
        case "quickSettle":
            // A lab's settle, shorter than etcd's 4 s version check: the last member takes leadership back.
            p.settleSeconds = 1
        case "badTarget":
            p.badTarget = true
            p.crashAtStart = 0.25
        case "badTargetNoStartCrash": p.badTarget = true
        case "sickTarget": p.sickTarget = true
        case "ops":
            p.operatorPause = 0.003
            p.shortPauses = true
            p.pauseAtCall = 0.0005
            p.newerDaemon = true
            p.crashAtStop = 0.15
            p.pauseAtStop = 0.1
            p.pauseBeforeStop = 0.15
        case "smallRefused": p.smallClusterRefused = true
        case "refusedStep": p.refusedStep = true
        case "unstaged":
            p.unstagedNode = true
            p.shortPauses = true
        case "twoHop": p.twoHop = true
        case "authWatch":
            p.authWatch = true
            p.authChange = 0.004
        case "twoHopOps":
            p.twoHop = true
            p.operatorPause = 0.003
            p.shortPauses = true
            p.pauseAtCall = 0.0005
            p.pauseAtStop = 0.1
        case "deafStop":
            p.stopIgnored = 0.3
            p.processLate = 0.2
        case "unkindNode":
            p.processUnknown = 0.3
            p.processWrong = 0.1
            p.processLate = 0.3
            p.slowAnswer = 0.15
            p.versionFails = 0.2
            p.slowStop = 0.4
            p.stopFails = 0.15
            p.startFails = 0.15
            p.startThenDie = 0.1
            p.crashAtStop = 0.1
        case "windows":
            p.windows = true
            p.clockStep = 0.01
            p.clockStepSeconds = 300
            p.pauseBeforeStop = 0.1
        case "reboots":
            p.reboots = 0.02
            p.pauseAtCall = 0.0005
        case "crashInSettle": p.crashInSettle = true
        case "crashAfterVerify": p.crashAfterVerify = true
        case "slowLook":  // not in the CI mix: `FleetSimulationTests.aRestartInsideTheLastLookIsNeverCompletedOver`
            p.crashAtTheEnd = true
            p.slowAnswer = 0.5
        case "membership":
            p.memberRemoval = 0.003
            p.learnerAdded = 0.003
            p.memberReplaced = 0.003
        case "handEdits":
            p.rolloutDeleted = 0.003
            p.rolloutRewritten = 0.003
            p.lockDeleted = 0.004
            p.leaseRevoked = 0.004
        default: break
        }
        return p
    }

    static let profiles = [
        "default", "ops", "badTarget", "sickTarget", "smallRefused", "refusedStep", "unstaged", "twoHop",
        "twoHopOps", "authWatch", "unkindNode", "crashInSettle", "crashAfterVerify", "membership", "handEdits",
        "windows", "reboots", "quickSettle", "deafStop",
    ]
}
