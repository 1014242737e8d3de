/// The fixed MESSAGE_ID catalog: one random 128-bit id per event kind (`systemd-id128 new`, as sd-id128(3) asks),
/// so `journalctl MESSAGE_ID=…` finds every occurrence. Documented in the README and the journald catalog; never
/// change a value once released. (The sequential ids of earlier builds were never released: no aliases.)
public enum MessageID: String, Sendable, CaseIterable {
    case requestAccepted = "96dcd2a367f04c3fb88c87af2a3a88d9"
    case requestRefused = "f72b66d092da4e83b5e2598193099991"
    case lockAcquired = "0902637c33ff40b29e5f2bc1934ab558"
    case lockReleased = "7861b099086c4810bf1b8e1117771360"
    case backupTaken = "d781ec061b454652be93fd815af5e619"
    case memberStopping = "505230218408475aaedfb5d9c25c7c3c"
    case memberStarted = "cb533660a77144989835e46fa7d97dc8"
    case memberVerified = "bfa6204815ea4e6d8f9ebff5c4e87d81"
    case rollback = "4814900395a24b8f8580e56c6eebb08a"
    case rolloutHalted = "43f35f67be284e868c5aa4d6b1b40e5a"
    case rolloutCompleted = "368520c2fdaf440384b83277c08d8b96"
    case memberUnhealthy = "eae64a4f7808438ea9c532bbdc38f6d3"
    case memberRecovered = "eee7c78e0d2c4ea68d54cf194c0464ff"
    case leadershipTransferred = "b978216da3c94029aad6e655c0a98fa7"
    case preflightBlocked = "f617309b4c7744148ed4580c234a60ac"
    case leaderChanged = "1639cd2b09644d26be6f9c0c85a52e92"
    case dbNearQuota = "74f6dc2957ee4162aca7e4b4ef769608"
    /// A record under the key prefix this daemon cannot read: it blocks gate 4 until fixed or forgotten.
    case recordUnreadable = "88c38ca4d2f84129997ebb83be2e535b"
    /// An operator forgot a member's destructive record (`etcd-shepherd forget`, break-glass).
    case recordForgotten = "1ff24c2e394e4765915ddd6f1d512f74"
    /// Starting the member failed; after a few attempts (or the deadline) the sequence rolls back.
    case startFailed = "cdb23546ccd047479db377bb5287c8ab"
    /// A rollout in hops finished one hop and moved to the next.
    case hopCompleted = "c5a2551bdd8c459bb746692e2fada210"
    /// A daemon left its sequence without finishing it (its member removed, the rollout record gone or changed, its
    /// lock lost): its member is up, its record cleared, its lock released.
    case sequenceLeft = "50abd24082284dc39c22e0070935f8ad"
    /// A member's stop waits for a maintenance window (none open, or the open one closes too soon).
    case windowWait = "962c1570bcd5478e8eeef7df5b2fb778"

    /// FleetLock: this node may reboot (its reboot hold is written in etcd).
    case rebootGranted = "173813e3f1774191af15a008c9824a00"
    /// FleetLock: the node is healthy again after its reboot; its hold is gone.
    case rebootReleased = "84d87d0aa64144f69fb6a73a2544cff6"

    /// One daemon has held the upgrade lock longer than `notify.lockStuckMinutes` (seen by the leader's daemon).
    case lockStuck = "7b6587c76d6244c1a1d2f02201879e3e"
    /// After a halt, every member answers healthy again (seen by the leader's daemon).
    case clusterHealthy = "4290ae541df3453793cd0d69146c385c"

    /// The metadata key a log call uses to carry the message ID.
    public static let metadataKey = "message_id"
}
