import Foundation
import Shepherd
import TestSupport
import Testing

/// The request file is read without a race, every check made on what was opened (real files; the tests run as root,
/// so a foreign owner is made with chown).
@Suite struct RequestFileTests {
    static let good = #"{"version":"3.5.1","allowKnownBad":true}"#

    func withDir(_ body: (String) throws -> Void) throws {
        let dir = try TempDir("reqfile")
        defer { dir.remove() }
        try body(dir.path)
    }

    func refusal(_ path: String) -> String {
        do {
            _ = try UpgradeRequest.read(path: path)
            return "accepted"
        } catch { return "\(error)" }
    }

    @Test func aPlainFileInAPrivateFolderIsRead() throws {
        try withDir { dir in
            try Self.good.write(toFile: dir + "/req.json", atomically: false, encoding: .utf8)
            chmod(dir + "/req.json", 0o600)
            #expect(try UpgradeRequest.read(path: dir + "/req.json").version == "3.5.1")
        }
    }

    /// Settling renames the file aside and leaves both outcomes beside it: the line for people, the JSON for scripts
    /// (what `request --wait` reads: the rollout's id as a field, not parsed out of prose).
    @Test func aSettledRequestLeavesItsOutcomeAsALineAndAsJSON() throws {
        try withDir { dir in
            let path = dir + "/req.json"
            try Self.good.write(toFile: path, atomically: false, encoding: .utf8)
            #expect(RequestOutcome.read(requestFile: path) == nil)
            UpgradeRequest.settle(
                path: path,
                outcome: .init(state: .accepted, reason: "rollout r1-ab 3.4.23 → 3.5.30", rolloutID: "r1-ab"))
            #expect(
                !FileManager.default.fileExists(atPath: path)
                    && FileManager.default.fileExists(atPath: path + ".accepted"))
            let accepted = try #require(RequestOutcome.read(requestFile: path))
            #expect(
                accepted.state == .accepted && accepted.rolloutID == "r1-ab"
                    && accepted.follow == "etcd-shepherd status")
            let line = try String(contentsOfFile: path + ".status", encoding: .utf8)
            #expect(
                line == accepted.message + "\n" && line.hasPrefix("accepted at ")
                    && line.contains("r1-ab 3.4.23 → 3.5.30"))
            // Every key a script may read, and the line itself, in the JSON.
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path + ".status.json")))
                    as? [String: String])
            #expect(Set(object.keys) == ["state", "at", "reason", "rolloutID", "follow", "message"])
            #expect(object["message"] == accepted.message)

            try Self.good.write(toFile: path, atomically: false, encoding: .utf8)
            UpgradeRequest.settle(path: path, outcome: .init(state: .rejected, reason: "unknown key \"force\""))
            let rejected = try #require(RequestOutcome.read(requestFile: path))
            #expect(rejected.state == .rejected && rejected.rolloutID == nil && rejected.follow == nil)
            #expect(FileManager.default.fileExists(atPath: path + ".rejected"))
            #expect(try String(contentsOfFile: path + ".status", encoding: .utf8).hasPrefix("rejected at "))
        }
    }

    @Test func aSymlinkIsRefusedEvenToAGoodFile() throws {
        try withDir { dir in
            try Self.good.write(toFile: dir + "/real.json", atomically: false, encoding: .utf8)
            try FileManager.default.createSymbolicLink(
                atPath: dir + "/req.json", withDestinationPath: dir + "/real.json")
            #expect(refusal(dir + "/req.json").contains("is a symlink"))
        }
    }

    @Test func aFileSwappedForAHardLinkToAForeignFileIsRefused() throws {
        try withDir { dir in
            // Someone else's file, linked in where the request was: the owner is checked on what was opened.
            try Self.good.write(toFile: dir + "/theirs.json", atomically: false, encoding: .utf8)
            chown(dir + "/theirs.json", 65534, 65534)
            #expect(link(dir + "/theirs.json", dir + "/req.json") == 0)
            #expect(refusal(dir + "/req.json").contains("owned by uid 65534"))
        }
    }

    @Test func aFileOfAnotherOwnerIsRefused() throws {
        try withDir { dir in
            try Self.good.write(toFile: dir + "/req.json", atomically: false, encoding: .utf8)
            chown(dir + "/req.json", 65534, 65534)
            #expect(refusal(dir + "/req.json").contains("owned by uid 65534"))
        }
    }

    @Test func aHugeFileIsRefusedWithoutReadingIt() throws {
        try withDir { dir in
            #expect(FileManager.default.createFile(atPath: dir + "/req.json", contents: Data(count: 10 << 20)))
            #expect(refusal(dir + "/req.json").contains("a request is under"))
        }
    }

    @Test func aFolderOthersCanWriteIsRefused() throws {
        try withDir { dir in
            try Self.good.write(toFile: dir + "/req.json", atomically: false, encoding: .utf8)
            chmod(dir, 0o777)
            #expect(refusal(dir + "/req.json").contains("folder"))
            chmod(dir, 0o755)
            #expect(refusal(dir + "/req.json") == "accepted")
        }
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        try withDir { dir in
            #expect(mkfifo(dir + "/req.json", 0o600) == 0)
            #expect(refusal(dir + "/req.json").contains("not a regular file"))
        }
    }
}
