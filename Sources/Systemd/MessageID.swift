/// The fixed MESSAGE_ID catalog: one UUID per event kind, so `journalctl MESSAGE_ID=…` finds every occurrence.
/// Documented in the README; never change a value once released.
public enum MessageID: String, Sendable, CaseIterable {
    case requestAccepted = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a01"
    case requestRefused = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a02"
    case lockAcquired = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a03"
    case lockReleased = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a04"
    case backupTaken = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a05"
    case memberStopping = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a06"
    case memberStarted = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a07"
    case memberVerified = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a08"
    case rollback = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a09"
    case rolloutHalted = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a0a"
    case rolloutCompleted = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a0b"
    case memberUnhealthy = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a0c"
    case memberRecovered = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a0d"
    case leadershipTransferred = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a0e"
    case preflightBlocked = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a0f"
    case leaderChanged = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a10"
    case dbNearQuota = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a11"
    /// A record under the key prefix this daemon cannot read: it blocks gate 4 until fixed or forgotten.
    case recordUnreadable = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a12"
    /// An operator forgot a member's destructive record (`etcd-shepherd forget`, break-glass).
    case recordForgotten = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a13"
    /// Starting the member failed; after a few attempts (or the deadline) the sequence rolls back.
    case startFailed = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a14"
    /// A rollout in hops finished one hop and moved to the next.
    case hopCompleted = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a15"
    /// A daemon left its sequence without finishing it (its member removed, the rollout record gone or changed, its
    /// lock lost): its member is up, its record cleared, its lock released.
    case sequenceLeft = "8d3c0a5e6f1b4f0e9a2d7c4b1e5f6a16"

    /// The metadata key a log call uses to carry the message ID.
    public static let metadataKey = "message_id"
}
