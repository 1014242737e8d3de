/// Names that arrive through etcd — rollout ids, member names in record keys — and can end up in a file name (the
/// backup), a journal field or a terminal. Anyone who can write etcd chooses them, so they are checked where they
/// are read: letters, digits, `.`, `_`, `-`; 1 to 64 characters; not starting with `.` (no `..`, no hidden file).
public enum Identifier {
    public static let maxLength = 64

    /// Nil when `s` is a safe identifier, else what is wrong with it.
    public static func problem(_ s: String) -> String? {
        if s.isEmpty { return "is empty" }
        if s.utf8.count > maxLength { return "is longer than \(maxLength) bytes" }
        if s.hasPrefix(".") { return "starts with '.'" }
        if let bad = s.unicodeScalars.first(where: { !allowed($0) }) {
            return
                "contains \(bad.isASCII && bad.value >= 0x20 && bad.value < 0x7f ? "'\(bad)'" : "U+\(String(bad.value, radix: 16, uppercase: true))")"
        }
        return nil
    }

    /// `s` with every character outside the safe set shown as `%XX` (for reporting a name that failed the check).
    public static func shown(_ s: String) -> String {
        String(
            s.utf8.prefix(maxLength * 2).flatMap { b -> [Character] in
                let u = Unicode.Scalar(b)
                let hex = String(b, radix: 16, uppercase: true)
                return allowed(u) ? [Character(u)] : Array("%" + (b < 16 ? "0" : "") + hex)
            })
    }

    static func allowed(_ u: Unicode.Scalar) -> Bool {
        (u >= "a" && u <= "z") || (u >= "A" && u <= "Z") || (u >= "0" && u <= "9") || u == "." || u == "_" || u == "-"
    }
}
