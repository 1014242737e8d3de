/// A rollout's id: made by the request intake (`r<unix seconds>-<4 hex digits>`), carried by the rollout record, every
/// member record, the journal and the backup of that rollout. It names a backup file and history keys, and anyone who
/// can write etcd chooses the one a record carries, so it is checked where it is read (`problem`, `Identifier`'s
/// rules) and used as this type after.
public struct RolloutID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral, Codable
{
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    /// The id a request accepted at `unixSeconds` gets; `suffix` tells two requests of one second apart.
    public static func new(unixSeconds: Int, suffix: UInt16) -> RolloutID {
        RolloutID("r\(unixSeconds)-\(String(suffix, radix: 16))")
    }

    /// An id given by a person (a CLI flag), checked as one read from etcd is: nil when it is not a safe identifier.
    public init?(validating text: String) {
        guard Identifier.problem(text) == nil else { return nil }
        rawValue = text
    }

    /// Nil when the id is safe to use in a file name, a journal field or a terminal; else what is wrong with it.
    public var problem: String? { Identifier.problem(rawValue) }

    public var description: String { rawValue }

    public static func < (a: RolloutID, b: RolloutID) -> Bool { a.rawValue < b.rawValue }

    /// Encoded as the plain string records have always carried.
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
