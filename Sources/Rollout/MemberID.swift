/// An etcd member ID. A 64-bit number on the wire (gRPC, the gateway's JSON); in hex wherever people or records see
/// it, as etcdctl prints it (`8e9e05c52164694d`). Parsed and formatted here, nowhere else.
public struct MemberID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, Codable
{
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { rawValue = value }

    /// From its hex form (as records, etcdctl and the journal write it): 1–16 hex digits, either case.
    public init?(hex: String) {
        guard (1...16).contains(hex.count), let value = UInt64(hex, radix: 16) else { return nil }
        rawValue = value
    }

    public var description: String { String(rawValue, radix: 16) }

    public static func < (a: MemberID, b: MemberID) -> Bool { a.rawValue < b.rawValue }

    /// Encoded as its hex string: the form a member record has always carried.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = MemberID(hex: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a member ID (1–16 hex digits): \(text)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
