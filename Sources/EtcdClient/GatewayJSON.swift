import Foundation

// The v3 gateway's JSON quirks (reference/etcd-facts.md §0): every uint64/int64 arrives as a string, and any field
// whose value is zero, false or empty is left out. These helpers decode both forms and treat absence as zero.
extension KeyedDecodingContainer {
    func int64(_ key: Key) throws -> Int64 {
        if let s = try? decodeIfPresent(String.self, forKey: key) {
            guard let v = Int64(s) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not an integer: \(s)")
            }
            return v
        }
        return try decodeIfPresent(Int64.self, forKey: key) ?? 0
    }

    func uint64(_ key: Key) throws -> UInt64 {
        if let s = try? decodeIfPresent(String.self, forKey: key) {
            guard let v = UInt64(s) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not an integer: \(s)")
            }
            return v
        }
        return try decodeIfPresent(UInt64.self, forKey: key) ?? 0
    }

    func bytes(_ key: Key) throws -> [UInt8] {
        guard let s = try decodeIfPresent(String.self, forKey: key) else { return [] }
        guard let d = Data(base64Encoded: s) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not base64")
        }
        return [UInt8](d)
    }

    func flag(_ key: Key) throws -> Bool { try decodeIfPresent(Bool.self, forKey: key) ?? false }
}

extension Array where Element == UInt8 {
    var base64: String { Data(self).base64EncodedString() }
}

/// A JSON object built by hand: the gateway accepts strings for every integer, which keeps uint64 exact.
struct JSONBody {
    var fields: [String: Any] = [:]
    subscript(key: String) -> Any? {
        get { fields[key] }
        set { fields[key] = newValue }
    }
    func data() -> Data {
        // Only strings, numbers, bools, arrays and dictionaries are ever put in.
        (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}
