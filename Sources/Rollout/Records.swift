/// The values the daemons keep in etcd under the key prefix (DESIGN.md, "The protocol between daemons").
/// Encoded as JSON by the shell; the core only reads them.

public enum RolloutState: String, Codable, Sendable, CaseIterable {
    case active, paused, halted, completed, aborted
    /// A terminal rollout may be replaced by a new request.
    public var isTerminal: Bool { self == .halted || self == .completed || self == .aborted }
}

/// `<prefix>/rollout`
public struct RolloutRecord: Codable, Sendable, Equatable {
    public var id: RolloutID
    public var from: EtcdVersion
    public var to: EtcdVersion
    public var state: RolloutState
    public var requestedBy: MemberName
    public var requestedAt: Double
    public var reason: String?
    /// Optional sha256 of the target binary; every daemon checks its own.
    public var sha256: String?
    /// Optional path of the target binary; a daemon without a file there uses its own binaryPathTemplate.
    public var binary: String?
    public var allowKnownBad: Bool
    /// Set when the request accepted a step etcd does not support with auth enabled (`allowAuthRisk`): the digest of
    /// the users, roles and permissions at the request. Every daemon compares it with what it reads; a change halts
    /// the rollout, an unreadable digest blocks every stop (gate 5).
    public var authFingerprint: String?
    /// A rollout in hops (`request 3.6.4 --via 3.5.26`): the targets still to come after `to`, in order. When every
    /// member is on `to` and the cluster version caught up, the record moves to the next hop (`from` = `to`); each
    /// hop is a rollout of its own for every rule (backup, gates, rollback, halt). nil or empty: `to` is the last.
    public var then: [EtcdVersion]?
    /// Which hop this is (0 for the first); it keys the hop's backup.
    public var stage: Int?

    public init(
        id: RolloutID, from: EtcdVersion, to: EtcdVersion, state: RolloutState = .active, requestedBy: MemberName,
        requestedAt: Double, reason: String? = nil, sha256: String? = nil, binary: String? = nil,
        allowKnownBad: Bool = false,
        authFingerprint: String? = nil, then: [EtcdVersion]? = nil, stage: Int? = nil
    ) {
        self.id = id
        self.from = from
        self.to = to
        self.state = state
        self.requestedBy = requestedBy
        self.requestedAt = requestedAt
        self.reason = reason
        self.sha256 = sha256
        self.binary = binary
        self.allowKnownBad = allowKnownBad
        self.authFingerprint = authFingerprint
        self.then = then
        self.stage = stage
    }

    /// The hop after this one, if any.
    public var nextHop: EtcdVersion? { then?.first }
    /// The version the whole rollout ends on.
    public var finalTarget: EtcdVersion { then?.last ?? to }
    /// The key of this hop's backup: each hop takes its own snapshot before its first stop.
    public var backupKey: String { (stage ?? 0) == 0 ? id.rawValue : "\(id).h\(stage!)" }

    /// Whether this hop must see etcd's users and roles unchanged: the request accepted the auth risk and this hop is
    /// one of `VersionPolicy.authNotes` (a 3.5.0 → 3.5.1 hop after a 3.4 → 3.5.0 one is not).
    public var watchesAuth: Bool { authFingerprint != nil && VersionPolicy.authNote(from: from, to: to) != nil }

    /// The record of the next hop: `to` becomes `from`.
    public func advanced() -> RolloutRecord? {
        guard let next = nextHop else { return nil }
        var r = self
        r.from = to
        r.to = next
        let rest = Array((then ?? []).dropFirst())
        r.then = rest.isEmpty ? nil : rest
        r.stage = (stage ?? 0) + 1
        return r
    }
}

public enum MemberPhase: String, Codable, Sendable, CaseIterable {
    case pending, stopping, switching, starting, verifying, rollingBack, done, interrupted, rolledBack
    /// While a record is in one of these phases its member may be down: gate 4 blocks every other member on it,
    /// whatever the state of its lease, until its owner rewrites it (model-checked rule).
    public var isDestructive: Bool {
        switch self {
        case .stopping, .switching, .starting, .verifying, .rollingBack: return true
        case .pending, .done, .interrupted, .rolledBack: return false
        }
    }
}

/// `<prefix>/members/<name>`, written only by that member's daemon.
public struct MemberRecord: Codable, Sendable, Equatable {
    public var rolloutID: RolloutID
    public var memberID: MemberID
    public var phase: MemberPhase
    public var from: EtcdVersion
    public var to: EtcdVersion
    public var leaseID: String?
    public var lockRevision: Int64?
    public var updatedAt: Double
    public var error: String?
    /// Seconds the member was down in its last stop → healthy cycle.
    public var downtimeSeconds: Double?
    /// The member's `process_start_time_seconds` when it was verified: its daemon keeps watching it while the rollout
    /// runs, and a process that restarted (or stays down) after its verification rolls back and halts the rollout.
    public var processStartTime: Double?

    /// Verified in `rollout`'s current hop: done, and on the hop's target. A record done in an earlier hop of a
    /// multi-hop rollout (or one its member's next stop failed to rewrite) says nothing about the running one (found
    /// by the simulator, seed 4194789329: a record done on 3.5.16 under a member restarted on 3.5.30, unverified,
    /// held the completion waiting for ever).
    public func isDone(in rollout: RolloutRecord) -> Bool {
        rolloutID == rollout.id && phase == .done && to == rollout.to
    }

    public init(
        rolloutID: RolloutID, memberID: MemberID, phase: MemberPhase, from: EtcdVersion, to: EtcdVersion,
        leaseID: String? = nil, lockRevision: Int64? = nil, updatedAt: Double, error: String? = nil,
        downtimeSeconds: Double? = nil, processStartTime: Double? = nil
    ) {
        self.rolloutID = rolloutID
        self.memberID = memberID
        self.phase = phase
        self.from = from
        self.to = to
        self.leaseID = leaseID
        self.lockRevision = lockRevision
        self.updatedAt = updatedAt
        self.error = error
        self.downtimeSeconds = downtimeSeconds
        self.processStartTime = processStartTime
    }
}

/// `<prefix>/backups/<rollout id>`
public struct BackupRecord: Codable, Sendable, Equatable {
    public var leaderID: String
    public var revision: Int64
    public var size: Int64
    public var sha256: String
    public var node: MemberName
    public var path: String
    public init(leaderID: String, revision: Int64, size: Int64, sha256: String, node: MemberName, path: String) {
        self.leaderID = leaderID
        self.revision = revision
        self.size = size
        self.sha256 = sha256
        self.node = node
        self.path = path
    }
}
