import Foundation
import TestSupport
import Testing

@testable import Shepherd

/// The textfile is rewritten only when its text changed (an idle daemon leaves it alone), and a failed write is
/// retried on the next tick even with the same text.
@Suite struct MetricsTextfileTests {
    func inode(_ path: String) -> ino_t? {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_ino : nil
    }

    @Test func writtenOnlyWhenItsTextChanged() throws {
        let dir = try TempDir("textfile")
        defer { dir.remove() }
        let path = dir.path + "/shepherd.prom"
        let file = MetricsTextfile(path: path)
        var warnings: [String] = []
        #expect(file.update("a 1\n") { warnings.append($0) })
        let first = inode(path)  // every write is a new file renamed over: a new inode
        #expect(!file.update("a 1\n") { warnings.append($0) })
        #expect(inode(path) == first)
        #expect(file.update("a 2\n") { warnings.append($0) })
        #expect(try inode(path) != first && String(contentsOfFile: path, encoding: .utf8) == "a 2\n")
        #expect(warnings.isEmpty)
    }

    @Test func aFailedWriteIsSaidOnceAndRetried() throws {
        let dir = try TempDir("textfile")
        defer { dir.remove() }
        let path = dir.path + "/gone/shepherd.prom"  // the folder does not exist yet
        let file = MetricsTextfile(path: path)
        var warnings: [String] = []
        #expect(!file.update("a 1\n") { warnings.append($0) })
        #expect(!file.update("a 1\n") { warnings.append($0) })
        #expect(warnings.count == 1 && warnings[0].contains(path), "\(warnings)")
        try FileManager.default.createDirectory(atPath: dir.path + "/gone", withIntermediateDirectories: false)
        #expect(file.update("a 1\n") { warnings.append($0) })
        #expect((try String(contentsOfFile: path, encoding: .utf8)) == "a 1\n")
    }
}
