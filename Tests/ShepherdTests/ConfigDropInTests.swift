import Exec
import Foundation
import TestSupport
import Testing

@testable import Shepherd

/// `config.d/*.json` beside the config, merged over it in name order; `config show` prints the result and each key's
/// origin.
@Suite struct ConfigDropInTests {
    func write(_ text: String, _ path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func withConfig(_ body: (String) async throws -> Void) async throws {
        let dir = try TempDir("dropin")
        defer { dir.remove() }
        try write(ConfigTests.base, dir.path + "/config.json")
        try FileManager.default.createDirectory(atPath: dir.path + "/config.d", withIntermediateDirectories: false)
        try await body(dir.path)
    }

    @Test func dropInsMergeInNameOrderAndSayWhereEachKeyCameFrom() async throws {
        try await withConfig { dir in
            try write(
                #"{"timing": {"tickSeconds": 2, "settleSeconds": 10}, "metrics": null}"#, dir + "/config.d/20-b.json")
            try write(
                #"{"timing": {"tickSeconds": 5}, "cluster": {"endpoints": ["http://10.0.0.1:2379"]}}"#,
                dir + "/config.d/10-a.json")
            try write("not JSON, and not a drop-in", dir + "/config.d/README")
            try write(#"{"timing": {"tickSeconds": 9}}"#, dir + "/config.d/.30-hidden.json")
            let config = try Config.load(path: dir + "/config.json")
            #expect(config.timing.tickSeconds == 2 && config.timing.settleSeconds == 10)
            #expect(config.cluster.endpoints == ["http://10.0.0.1:2379"] && config.metrics == nil)
            #expect(config.member.name == "s1")  // untouched keys keep the main file's values
            let sources = try Config.sources(path: dir + "/config.json")
            #expect(sources.files == [dir + "/config.json", dir + "/config.d/10-a.json", dir + "/config.d/20-b.json"])
            #expect(sources.origins["timing.tickSeconds"] == dir + "/config.d/20-b.json")
            #expect(sources.origins["cluster.endpoints"] == dir + "/config.d/10-a.json")
            #expect(sources.origins["member.name"] == dir + "/config.json")
            #expect(sources.origins["metrics"] == dir + "/config.d/20-b.json")
        }
    }

    @Test func aBadDropInIsNamedAndNothingLoads() async throws {
        try await withConfig { dir in
            try write(#"{"timing": {"tickSeconds": 2"#, dir + "/config.d/50-bad.json")
            #expect(throws: Config.Invalid.self) { try Config.load(path: dir + "/config.json") }
            do { _ = try Config.load(path: dir + "/config.json") } catch {
                #expect("\(error)".contains(dir + "/config.d/50-bad.json"), "\(error)")
            }
            try write(#"{"timing": {"tickSeconds": 2, "tickSeconds": 3}}"#, dir + "/config.d/50-bad.json")
            #expect(throws: Config.Invalid.self) { try Config.load(path: dir + "/config.json") }
            // Valid JSON, invalid result: the merged config is judged like one file.
            try write(#"{"timing": {"tickSeconds": 0}}"#, dir + "/config.d/50-bad.json")
            do {
                _ = try Config.load(path: dir + "/config.json")
                Issue.record("a tick of 0 loaded")
            } catch { #expect("\(error)".contains("timing.tickSeconds"), "\(error)") }
        }
    }

    @Test func configShowPrintsTheMergedConfigAndJudgesIt() async throws {
        let bin = try Repo.shepherdBinary()
        try await withConfig { dir in
            try write(#"{"timing": {"tickSeconds": 2}}"#, dir + "/config.d/10-tick.json")
            let shown = try await Command.run([bin, "config", "show", "--config", dir + "/config.json", "-w", "json"])
            #expect(shown.exitCode == 0, "\(shown.summary)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
            #expect((object["origins"] as? [String: String])?["timing.tickSeconds"] == dir + "/config.d/10-tick.json")
            #expect(((object["config"] as? [String: Any])?["timing"] as? [String: Any])?["tickSeconds"] as? Int == 2)
            #expect(object["valid"] as? Bool == true)
            let text = try await Command.run([bin, "config", "show", "--config", dir + "/config.json"])
            #expect(text.exitCode == 0 && text.stdout.contains("timing.tickSeconds  \(dir)/config.d/10-tick.json"))
            try write(#"{"timing": {"tickSeconds": 0}}"#, dir + "/config.d/10-tick.json")
            let invalid = try await Command.run([bin, "config", "show", "--config", dir + "/config.json"])
            #expect(
                invalid.exitCode == 2 && invalid.stdout.contains("\"tickSeconds\" : 0")
                    && invalid.stderr.contains("timing.tickSeconds"), "\(invalid.summary)")
        }
    }
}
