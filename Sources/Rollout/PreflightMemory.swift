/// When gate 6 runs again on this node: a clean result holds for the whole rollout (spawning the target's
/// `--version` every tick would be wasteful); a blocking one is re-checked every `recheckSeconds` so a fixed
/// configuration is noticed; a config reload forgets it. Pure: the supervisor runs the checks, this decides when.
public struct PreflightMemory: Sendable, Equatable {
    public static let recheckSeconds = 15.0

    private var key: String?
    private var blocking: [String] = []
    private var at = 0.0

    public init() {}

    /// The findings to use for `rollout` now, or nil when the preflight must run (again).
    public func cached(for rollout: RolloutRecord, now: Double) -> [String]? {
        guard key == Self.key(rollout) else { return nil }
        return blocking.isEmpty || now - at < Self.recheckSeconds ? blocking : nil
    }

    /// Records a fresh result; true when it blocks and says something new (worth a journal entry).
    public mutating func record(_ result: [String], for rollout: RolloutRecord, now: Double) -> Bool {
        let previous = key == Self.key(rollout) ? blocking : nil
        key = Self.key(rollout)
        blocking = result
        at = now
        return !result.isEmpty && result != previous
    }

    public mutating func forget() { self = PreflightMemory() }

    static func key(_ r: RolloutRecord) -> String { "\(r.id)|\(r.to)" }
}
