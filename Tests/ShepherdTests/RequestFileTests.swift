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
