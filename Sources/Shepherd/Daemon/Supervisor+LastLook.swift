import Rollout

extension Supervisor {
    /// The last look before a hop ends or the rollout completes: every member listed now is done in this hop and
    /// runs, now, the process its record was verified on. The decision rests on an observation up to
    /// `maxObservationAgeSeconds` old; a member whose target crashed and was restarted by systemd within that time
    /// was completed over (found by the simulator, seed 4543359952: a crash 2.3 s before the write, the member back on
    /// a new process at the write). The look runs inside the store's CAS loop, after the read the write rests on and
    /// right before the write, and it must itself be quick: an answer that took longer than `timing.lastLookSeconds` may
    /// have been made before a crash it does not show (seed 5218050833: a slow `/metrics` answer, a crash and a
    /// restart inside it, completed 1.8 s after the restart). What is left is the time of one write after this look.
    /// Throws otherwise: nothing is written, and the next tick decides on what it sees (a member added meanwhile is
    /// verified by its daemon; one on another process is rolled back or halts its rollout).
    func lookAtVerifiedProcesses(_ o: Observation) async throws {
        guard let r = o.rollout else { return }
        let asked = ports.clock.now()
        let view = try await ports.cluster.observe(metrics: .all)
        let took = ports.clock.now() - asked
        let bound = config.timing.lastLookSeconds
        guard took <= bound else {
            throw ControllerError(
                thing: "the last look at every member",
                cause: "took \((took * 10).rounded() / 10) s (more than timing.lastLookSeconds, \(bound) s): "
                    + "not completed on answers that old",
                fix: "raise timing.lastLookSeconds if /metrics answers are this slow")
        }
        for m in view.members {
            // A member listed now that the decision did not see done in this hop (added meanwhile, on the target):
            // its daemon verifies it first (found by the simulator, seeds 4875791653, 4937631124).
            guard let record = o.record(m.name), record.isDone(in: r) else {
                throw ControllerError(
                    thing: "\(m.name)",
                    cause: "is in the member list without a record done on \(r.to): not completed without it")
            }
            guard let noted = record.processStartTime else { continue }
            let seen = view.metrics[m.clientURL]?.processStartTime
            guard let seen, ProcessStart.same(seen, noted) else {
                throw ControllerError(
                    thing: "\(m.name)",
                    cause: "is not seen now on the process that was verified "
                        + "(\(seen.map { "started at \($0)" } ?? "no answer")): not completed on an older look")
            }
        }
    }
}
