import Rollout

extension Supervisor {
    /// The last look before a hop ends or the rollout completes: every member runs, now, the process its record was
    /// verified on. The decision rests on an observation up to `maxObservationAgeSeconds` old; a member whose target
    /// crashed and was restarted by systemd within that time was completed over (found by the simulator, seed
    /// 4543359952: a crash 2.3 s before the write, the member back on a new process at the write). What is left is the
    /// time of one write after this look. Throws when a member is not seen on its verified process: nothing is
    /// written, and the next tick decides on what it sees (the member's own daemon rolls it back or halts).
    func lookAtVerifiedProcesses(_ o: Observation) async throws {
        let view = try await ports.cluster.observe(metrics: .all)
        for m in view.members {
            guard let noted = o.record(m.name)?.processStartTime else { continue }
            let seen = view.metrics[m.clientURL]?.processStartTime
            guard let seen, abs(seen - noted) <= 0.5 else {
                throw ControllerError(
                    detail:
                        "\(m.name) is not seen now on the process that was verified (\(seen.map { "started at \($0)" } ?? "no answer")): not completed on an older look"
                )
            }
        }
    }
}
