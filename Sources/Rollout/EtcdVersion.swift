/// An etcd release version, `major.minor.patch` (a leading "v" and a "-suffix" are accepted and dropped).
public struct EtcdVersion: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let major: Int
    public let minor: Int
    public let patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses "3.5.1", "v3.5.1", "3.5.1-rc.0"; also "3.5" (patch 0, as `/version`'s cluster field and metrics say it).
    public init?(_ text: String) {
        // One pass over the bytes (it reads every member's version every tick): digits separated by dots, an
        // optional leading "v", anything from "-" on ignored.
        var parts = [0, 0, 0], count = 0, digits = 0
        var first = true
        for b in text.utf8 {
            if first && b == UInt8(ascii: "v") {
                first = false
                continue
            }
            first = false
            if b == UInt8(ascii: "-") { break }
            if b == UInt8(ascii: ".") {
                guard digits > 0, count < 2 else { return nil }
                count += 1
                digits = 0
                continue
            }
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9"), digits < 9 else { return nil }
            parts[count] = parts[count] * 10 + Int(b - UInt8(ascii: "0"))
            digits += 1
        }
        guard digits > 0, count >= 1 else { return nil }
        self.init(parts[0], parts[1], parts[2])
    }

    /// A version an operator asks for: exactly `MAJOR.MINOR.PATCH`, digits only. The lenient parser above reads
    /// what etcd reports; a request must say precisely what it means. Nil when `text` is one, else what is wrong.
    public static func problemAsRequested(_ text: String) -> String? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 3,
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy { $0 >= "0" && $0 <= "9" } })
        {
            return nil
        }
        if text != text.trimmingSpaces { return "'\(text)' has spaces around it; write the bare version, like 3.5.1" }
        if text.hasPrefix("v") { return "'\(text)' starts with 'v'; write it without, like \(text.dropFirst())" }
        if text.contains("-") { return "'\(text)' is a pre-release; roll out releases only (like 3.5.1)" }
        if parts.count == 2, EtcdVersion(text) != nil {
            return "'\(text)' names no patch release; write all three parts (\(text).0 is not implied)"
        }
        return "'\(text)' is not an etcd version (like 3.5.1)"
    }

    public var description: String { "\(major).\(minor).\(patch)" }
    /// "3.5": what the cluster version is made of.
    public var minorVersion: String { "\(major).\(minor)" }

    public static func < (a: EtcdVersion, b: EtcdVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let v = EtcdVersion(s) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not an etcd version: \(s)"))
        }
        self = v
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

extension String {
    var trimmingSpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return self[start...end]
    }
}
