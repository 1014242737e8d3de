import Foundation
import Rollout

/// The crash-safe local journal (`<stateDir>/journal.json`): written atomically and fsynced before every destructive
/// step, so a restarted daemon knows whether it may have stopped its member and where to continue.
public struct LocalJournal: JournalStoring {
    public let path: String
    let clock: any ShepherdClock
    let bootID: String
    public init(stateDir: String, clock: any ShepherdClock = SystemClock(), bootID: String = SystemClock.bootID) {
        path = stateDir + "/journal.json"
        self.clock = clock
        self.bootID = bootID
    }

    public func read() throws -> JournalEntry? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var entry: JournalEntry
        do { entry = try JSONDecoder().decode(JournalEntry.self, from: data) } catch {
            throw ControllerError.file(
                path, "unreadable journal (\(error))", fix: "inspect it, then remove it to continue")
        }
        // Monotonic times of another boot mean nothing here: the deadline starts again from now.
        if entry.bootID != bootID {
            let now = clock.now()
            if entry.stoppedAt != nil { entry.stoppedAt = now }
            if entry.startedAt != nil { entry.startedAt = now }
            if entry.recordWrittenAt != nil { entry.recordWrittenAt = now }
            if entry.recoveryStartedAt != nil { entry.recoveryStartedAt = now }
            if entry.downAt != nil { entry.downAt = now }
            entry.bootID = bootID
        }
        return entry
    }

    public func write(_ entry: JournalEntry) throws {
        var entry = entry
        entry.bootID = bootID
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try FileIO.writeAtomically(try enc.encode(entry), to: path)
    }

    public func clear() throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw ControllerError.file(path, "remove: \(String(cString: strerror(errno)))")
        }
        FileIO.syncDirectory((path as NSString).deletingLastPathComponent)
    }
}
