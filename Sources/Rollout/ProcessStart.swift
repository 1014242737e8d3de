/// A member's process, known by its `process_start_time_seconds` (from `/metrics`): two readings name the same
/// process when they differ by half a second or less — the one tolerance every check of a restart uses.
public enum ProcessStart {
    public static func same(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 0.5 }
}
