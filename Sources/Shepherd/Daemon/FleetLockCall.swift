/// One FleetLock request, validated by `FleetLockServer`, and its answer. The daemon loop hands each call to the
/// supervisor between ticks (`FleetLockInbox`), so a reboot's lock and writes never interleave with a tick's.
public struct FleetLockCall: Sendable, Equatable {
    public enum Operation: String, Sendable { case preReboot = "pre-reboot", steadyState = "steady-state" }
    public var operation: Operation
    /// `client_params.id`: who holds (or releases) the reboot lock.
    public var clientID: String
    public var group: String

    public init(operation: Operation, clientID: String, group: String) {
        self.operation = operation
        self.clientID = clientID
        self.group = group
    }
}

/// FleetLock's answer: 200 (with `kind` "ok"), or an error status with `kind` and `value` as its JSON body.
public struct FleetLockAnswer: Error, Sendable, Equatable, Codable {
    public var status: Int
    public var kind: String
    public var value: String

    public static func ok(_ value: String) -> FleetLockAnswer { .init(status: 200, kind: "ok", value: value) }
    /// Refused now, may work later (the lock is not available): 409 Conflict.
    public static func refused(_ kind: String, _ value: String) -> FleetLockAnswer {
        .init(status: 409, kind: kind, value: value)
    }
    /// The request itself is wrong.
    public static func bad(_ status: Int, _ kind: String, _ value: String) -> FleetLockAnswer {
        .init(status: status, kind: kind, value: value)
    }

    private enum CodingKeys: String, CodingKey { case kind, value }
    public init(status: Int, kind: String, value: String) {
        self.status = status
        self.kind = kind
        self.value = value
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            status: 0, kind: try c.decode(String.self, forKey: .kind), value: try c.decode(String.self, forKey: .value))
    }
}
