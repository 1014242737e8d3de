import Rollout

extension Supervisor {
    /// The last look before a hop ends or the rollout completes: every member listed now is done in this hop and
    /// runs, now, the process its record was verified on. The decision rests on an observation up to
    /// `maxObservationAgeSeconds` old; a member whose target crashed and was restarted by systemd within that time
    /// was completed over (found by the simulator, seed 4543359952: a crash 2.3 s before the write, the member back on
    /// a new process at the write). What is left is the time of one write after this look. Throws otherwise: nothing
    /// is written, and the next tick decides on what it sees (a member added meanwhile is verified by its daemon; one
    /// on another process is rolled back or halts its rollout).
    func lookAtVerifiedProcesses(_ o: Observation) async throws {
        guard let r = o.rollout else { return }
        let view = try await ports.cluster.observe(metrics: .all)
        for m in view.members {
            // A member listed now that the decision did not see done in this hop (added meanwhile, on the target):
            // its daemon verifies it first (found by the simulator, seeds 4875791653, 4937631124).
            guard let record = o.record(m.name), record.isDone(in: r) else {
                throw ControllerError(
                    detail: "\(m.name) is in the member list without a record done on \(r.to): not completed without it"
                )
            }
            guard let noted = record.processStartTime else { continue }
            let seen = view.metrics[m.clientURL]?.processStartTime
            guard let seen, ProcessStart.same(seen, noted) else {
                throw ControllerError(
                    detail:
                        "\(m.name) is not seen now on the process that was verified (\(seen.map { "started at \($0)" } ?? "no answer")): not completed on an older look"
                )
            }
        }
    }
}
