/// A node's hold on a reboot, granted through FleetLock (Zincati's `pre-reboot`) and kept in etcd under
/// `<prefix>/reboots/<node>` — not in the daemon's lease, so it outlives the reboot. Written under the upgrade lock
/// (fenced) once every gate passed; while it exists gate 4 stops every upgrade stop and every other reboot, as a
/// destructive member record does. Cleared by its own node's `steady-state` once the member is healthy and caught up
/// again (owner clears, no lock), or by an operator (`etcd-shepherd forget NODE`).
public struct RebootHold: Codable, Sendable, Equatable {
    /// The node (member name) that may reboot.
    public var node: MemberName
    /// FleetLock's `client_params.id` (Zincati's node id): only the same id re-enters or releases it.
    public var clientID: String
    public var group: String
    /// The member's ID when the hold was granted.
    public var memberID: MemberID?
    /// Wall-clock seconds when it was granted (for `status`).
    public var since: Double

    public init(node: MemberName, clientID: String, group: String, memberID: MemberID?, since: Double) {
        self.node = node
        self.clientID = clientID
        self.group = group
        self.memberID = memberID
        self.since = since
    }
}
