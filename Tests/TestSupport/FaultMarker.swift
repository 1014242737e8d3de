import Foundation

/// The two member names a fault writes to its marker file when it fires (the one it hit first, then its peer), read
/// once both are in it: the fault writes the file while the test polls, and an early read sees it empty or half
/// written. Nil when it never fired within `timeout`.
public func firedNames(marker path: String, timeout: Duration = .seconds(60)) async -> (first: String, second: String)?
{
    var names: [String] = []
    let fired = await eventually(timeout: timeout) {
        names = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: " ")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        return names.count >= 2
    }
    return fired ? (names[0], names[1]) : nil
}
