import Foundation

/// A parsed JSON value that keeps booleans and numbers apart.
enum JSONValue: Codable, Equatable, Sendable {
    case object([String: JSONValue]), array([JSONValue]), string(String), number(Double), bool(Bool), null
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .object(o): try c.encode(o)
        case let .array(a): try c.encode(a)
        case let .string(s): try c.encode(s)
        case let .number(n):
            // Whole numbers as integers (a TTL of 30, not 30.0), as the files say them.
            if n == n.rounded(), abs(n) < 1e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case let .bool(b): try c.encode(b)
        case .null: try c.encodeNil()
        }
    }

    /// The top-level object of a JSON document; nil when the document is valid JSON but not an object.
    static func object(from data: Data) throws -> [String: JSONValue]? {
        guard case let .object(o) = try JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
        return o
    }
}

extension Config {
    /// Whether `s` is an http(s) URL with a host, as every endpoint must be.
    public static func isEndpointURL(_ s: String) -> Bool { Reader.isURL(s) }
}

/// Reads one JSON object level, naming keys by their dotted path in every error.
struct Reader {
    let o: [String: JSONValue]
    let path: String
    init(_ o: [String: JSONValue], path: String) {
        self.o = o
        self.path = path
    }

    func key(_ k: String) -> String { path.isEmpty ? k : "\(path).\(k)" }
    func has(_ k: String) -> Bool { o[k] != nil && o[k] != .null }
    /// The key is present with the value null (an explicit "off").
    func isNull(_ k: String) -> Bool { o[k] == .null }

    func allow(_ keys: Set<String>) throws {
        for k in o.keys.sorted() where !keys.contains(k) {
            throw Config.Invalid(key: key(k), problem: "unknown key (known: \(keys.sorted().joined(separator: ", ")))")
        }
    }
    func object(_ k: String) throws -> Reader {
        guard let v = o[k] else { throw Config.Invalid(key: key(k), problem: "missing") }
        guard case let .object(d) = v else { throw Config.Invalid(key: key(k), problem: "must be an object") }
        return Reader(d, path: key(k))
    }
    func string(_ k: String) throws -> String {
        guard let v = o[k] else { throw Config.Invalid(key: key(k), problem: "missing") }
        guard case let .string(s) = v, !s.isEmpty else {
            throw Config.Invalid(key: key(k), problem: "must be a non-empty string")
        }
        return s
    }
    func optionalString(_ k: String) throws -> String? { has(k) ? try string(k) : nil }
    func absPath(_ k: String) throws -> String {
        let s = try string(k)
        guard s.hasPrefix("/") else { throw Config.Invalid(key: key(k), problem: "'\(s)' must be an absolute path") }
        return s
    }
    func optionalAbsPath(_ k: String) throws -> String? { has(k) ? try absPath(k) : nil }
    func optionalPath(_ k: String) throws -> String? { has(k) ? try absPath(k) : nil }
    func url(_ k: String) throws -> String {
        let s = try string(k)
        guard Reader.isURL(s) else { throw Config.Invalid(key: key(k), problem: "'\(s)' is not an http(s) URL") }
        return s
    }
    static func isURL(_ s: String) -> Bool {
        guard let u = URL(string: s), let scheme = u.scheme, ["http", "https"].contains(scheme), u.host != nil else {
            return false
        }
        return true
    }
    func stringArray(_ k: String) throws -> [String] {
        guard let v = o[k] else { throw Config.Invalid(key: key(k), problem: "missing") }
        guard case let .array(a) = v else { throw Config.Invalid(key: key(k), problem: "must be an array of strings") }
        return try a.map {
            guard case let .string(s) = $0 else {
                throw Config.Invalid(key: key(k), problem: "must be an array of strings")
            }
            return s
        }
    }
    func optionalBool(_ k: String) throws -> Bool? {
        guard has(k) else { return nil }
        guard case let .bool(b) = o[k]! else { throw Config.Invalid(key: key(k), problem: "must be true or false") }
        return b
    }
    func number(_ k: String, default d: Double, range: ClosedRange<Double>) throws -> Double {
        guard has(k) else { return d }
        guard case let .number(v) = o[k]! else { throw Config.Invalid(key: key(k), problem: "must be a number") }
        guard range.contains(v) else {
            throw Config.Invalid(key: key(k), problem: "\(v) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }
}
