import Foundation
import Rollout

/// The crash-safe local journal (`<stateDir>/journal.json`): written atomically and fsynced before every destructive
/// step, so a restarted daemon knows whether it may have stopped its member and where to continue.
public struct LocalJournal: JournalStoring {
    public let path: String
    public init(stateDir: String) { path = stateDir + "/journal.json" }

    public func read() throws -> JournalEntry? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var entry: JournalEntry
        do { entry = try JSONDecoder().decode(JournalEntry.self, from: data) } catch {
            throw FileIO.Failure(path: path, detail: "unreadable journal (\(error)); inspect it, then remove it to continue")
        }
        // Monotonic times of another boot mean nothing here: the deadline starts again from now.
        if entry.bootID != SystemClock.bootID {
            let now = SystemClock.boottime()
            if entry.stoppedAt != nil { entry.stoppedAt = now }
            if entry.startedAt != nil { entry.startedAt = now }
            entry.bootID = SystemClock.bootID
        }
        return entry
    }

    public func write(_ entry: JournalEntry) throws {
        var entry = entry
        entry.bootID = SystemClock.bootID
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try FileIO.writeAtomically(try enc.encode(entry), to: path)
    }

    public func clear() throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw FileIO.Failure(path: path, detail: "remove: \(String(cString: strerror(errno)))")
        }
        FileIO.syncDirectory((path as NSString).deletingLastPathComponent)
    }
}
