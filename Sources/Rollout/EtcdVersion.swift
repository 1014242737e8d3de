/// An etcd release version, `major.minor.patch` (a leading "v" and a "-suffix" are accepted and dropped).
public struct EtcdVersion: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let major: Int
    public let minor: Int
    public let patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int) { self.major = major; self.minor = minor; self.patch = patch }

    /// Parses "3.5.1", "v3.5.1", "3.5.1-rc.0"; also "3.5" (patch 0, as `/version`'s cluster field and metrics say it).
    public init?(_ text: String) {
        var t = Substring(text)
        if t.first == "v" { t = t.dropFirst() }
        if let dash = t.firstIndex(of: "-") { t = t[..<dash] }
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3,
              let ma = Int(parts[0]), let mi = Int(parts[1]), ma >= 0, mi >= 0 else { return nil }
        let pa = parts.count == 3 ? Int(parts[2]) : 0
        guard let pa, pa >= 0 else { return nil }
        self.init(ma, mi, pa)
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
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an etcd version: \(s)"))
        }
        self = v
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
