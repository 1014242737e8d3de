import Foundation
import Rollout

/// What became of a request file, for scripts and `request --wait`: written as `<file>.status.json` beside the
/// `<file>.status` line kept for people (`cat`), both before the request is renamed `.accepted` / `.rejected`.
///
///     {"at": "2026-12-05T03:40:12Z", "follow": "etcd-shepherd status", "message": "accepted at …: rollout …",
///      "reason": "rollout r1796961612-3f2a 3.4.23 → 3.5.30", "rolloutID": "r1796961612-3f2a", "state": "accepted"}
public struct RequestOutcome: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case accepted, rejected }

    public var state: State
    /// When the daemon settled the request (ISO 8601, UTC).
    public var at: String
    /// Why: the rollout it created, or what was wrong with the request and what to do.
    public var reason: String
    /// The rollout the request created (accepted only).
    public var rolloutID: RolloutID?
    /// The command that follows what happens next (accepted only: a rejected request is over).
    public var follow: String?

    public init(state: State, at: Date = Date(), reason: String, rolloutID: RolloutID? = nil) {
        self.state = state
        self.at = ISO8601DateFormatter().string(from: at)
        self.reason = reason
        self.rolloutID = rolloutID
        self.follow = state == .accepted ? "etcd-shepherd status" : nil
    }

    /// The line for people, as `<file>.status` holds it.
    public var message: String { "\(state.rawValue) at \(at): \(reason)" }

    enum CodingKeys: String, CodingKey { case state, at, reason, rolloutID, follow, message }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        state = try c.decode(State.self, forKey: .state)
        at = try c.decode(String.self, forKey: .at)
        reason = try c.decode(String.self, forKey: .reason)
        rolloutID = try c.decodeIfPresent(RolloutID.self, forKey: .rolloutID)
        follow = try c.decodeIfPresent(String.self, forKey: .follow)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state, forKey: .state)
        try c.encode(at, forKey: .at)
        try c.encode(reason, forKey: .reason)
        try c.encodeIfPresent(rolloutID, forKey: .rolloutID)
        try c.encodeIfPresent(follow, forKey: .follow)
        try c.encode(message, forKey: .message)
    }

    /// Reads `<requestFile>.status.json`; nil while there is none (or it is being replaced).
    public static func read(requestFile: String) -> RequestOutcome? {
        guard let data = FileManager.default.contents(atPath: requestFile + ".status.json") else { return nil }
        return try? JSONDecoder().decode(RequestOutcome.self, from: data)
    }

    /// Writes both files atomically (mode 0644): the JSON, then the line.
    func write(requestFile: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try FileIO.writeAtomically(
            try enc.encode(self) + Data("\n".utf8), to: requestFile + ".status.json", mode: 0o644)
        try FileIO.writeAtomically(Data((message + "\n").utf8), to: requestFile + ".status", mode: 0o644)
    }
}
