/// A name that arrives as text — from a request, etcd, a flag — and is then used as a key, a file name, a journal
/// field: a rollout's id, a member's name. One type per noun (`RolloutID`, `MemberName`), so one is never passed where
/// the other is meant; on the wire the plain string it always was. Anyone who can write etcd chooses the names records
/// carry, so they are checked where they are read (`problem`: `Identifier`'s rules) and used as this type after.
public struct Name<Noun: NamedNoun>: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral, Codable, CodingKeyRepresentable
{
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    /// A name given by a person (a flag, the config), checked as one read from etcd is: nil when it is not a safe
    /// identifier.
    public init?(validating text: String) {
        guard Identifier.problem(text) == nil else { return nil }
        rawValue = text
    }

    /// Nil when the name is safe to use in a key, a file name, a journal field or a terminal; else what is wrong.
    public var problem: String? { Identifier.problem(rawValue) }

    public var description: String { rawValue }

    public static func < (a: Name, b: Name) -> Bool { a.rawValue < b.rawValue }

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    /// As a dictionary key, an object's key (as a `String` key is), not an array of pairs.
    public var codingKey: any CodingKey { rawValue.codingKey }
    public init?<T: CodingKey>(codingKey: T) { rawValue = codingKey.stringValue }
}

/// What a `Name` names (a type with no values: only its identity matters).
public protocol NamedNoun: Sendable {}

public enum RolloutNoun: NamedNoun {}
public enum MemberNoun: NamedNoun {}

/// A rollout's id: made by the request intake (`r<unix seconds>-<4 hex digits>`), carried by the rollout record, every
/// member record, the journal, the history and the backup of that rollout.
public typealias RolloutID = Name<RolloutNoun>

/// A member's name: its etcd `--name`, this node's `member.name`, the key of its member record and reboot hold.
public typealias MemberName = Name<MemberNoun>

extension Name where Noun == RolloutNoun {
    /// The id a request accepted at `unixSeconds` gets; `suffix` tells two requests of one second apart.
    public static func new(unixSeconds: Int, suffix: UInt16) -> RolloutID {
        RolloutID("r\(unixSeconds)-\(String(suffix, radix: 16))")
    }
}

extension Sequence {
    /// Names in a sentence, as strings would be: `s1, s2`.
    public func joined<Noun>(separator: String) -> String where Element == Name<Noun> {
        map(\.rawValue).joined(separator: separator)
    }
}
