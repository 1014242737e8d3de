import Exec
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// The bad-input matrix (README "Bad input"): every kind gets one clear message naming the thing and the fix, and
/// touches nothing. The request file and config parsers are tested here as tables; the file-level checks in
/// RequestFileTests, the etcd-level ones (records, rollout ids) and the binaries against real daemons in
/// RequestRefusalTests, ForgetCommandTests and PreflightTests.
@Suite(.serialized) struct BadInputTests {
    @Test(arguments: [
        ("", "the request is empty"),
        (#"{"version": "3.5.1""#, "not valid JSON"),
        ("\u{0}\u{1}\u{FF}binary", "not valid JSON"),
        (#"["3.5.1"]"#, "must be a JSON object"),
        (#"{"version":"3.5.1","version":"3.6.0"}"#, "request key version appears twice"),
        (#"{"version":"3.5.1","force":true}"#, "unknown key"),
        (#"{"version":351}"#, "version"),
        (#"{"version":"3.5"}"#, "names no patch release"),
        (#"{"version":"v3.5.1"}"#, "starts with 'v'"),
        (#"{"version":"3.5.1-rc.0"}"#, "is a pre-release"),
        (#"{"version":"3.5.1 "}"#, "has spaces around it"),
        (#"{"version":"../3.5.1"}"#, "is not an etcd version"),
        (#"{"version":"3.5.1","sha256":"xyz"}"#, "sha256 must be 64 hex digits"),
        (#"{"version":"3.5.1","binary":"etcd"}"#, "binary"),
        (#"{"version":"3.5.1","allowKnownBad":"yes"}"#, "allowKnownBad"),
    ])
    func requestFile(_ text: String, _ expected: String) {
        do {
            let r = try UpgradeRequest.parse(Data(text.utf8))
            Issue.record("accepted \(text.debugDescription) as \(r)")
        } catch {
            #expect("\(error)".contains(expected), "\(text.debugDescription): \(error)")
        }
    }

    @Test func configWithADuplicateKeyNamesIt() {
        let text = #"{"member": {"name": "s1", "name": "s2"}}"#
        do {
            _ = try Config.parse(Data(text.utf8))
            Issue.record("accepted")
        } catch let e as Config.Invalid {
            #expect(e.key == "member.name" && e.problem.contains("twice"), "\(e)")
        } catch { Issue.record("\(error)") }
    }

    @Test func aTargetBinaryThatIsNotExecutableIsRefused() async throws {
        let dir = try TempDir("noexec")
        defer { dir.remove() }
        let path = dir.path + "/etcd-3.5.1"
        #expect(
            FileManager.default.createFile(
                atPath: path, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o644]))
        let findings = await Preflight.binary(path, version: EtcdVersion(3, 5, 1), sha256: nil)
        #expect(
            findings.first?.what == "target binary \(path) is not executable"
                && findings.first?.fix == "chmod 755 \(path)", "\(findings)")
    }

    @Test func downgradeAfterTheFlipIsRefused() {
        #expect(
            !VersionPolicy.evaluate(
                from: EtcdVersion(3, 5, 1), to: EtcdVersion(3, 4, 23), clusterVersion: "3.5", allowKnownBad: false
            ).isAllowed)
        #expect(
            VersionPolicy.evaluate(
                from: EtcdVersion(3, 5, 1), to: EtcdVersion(3, 4, 23), clusterVersion: "3.4", allowKnownBad: false
            ).isAllowed)
    }

    /// Whatever answers on an etcd port — garbage, an HTML error page, a 2 GB body, or nothing at all — `status`
    /// exits 3 with one line naming the endpoint, quickly and in bounded memory.
    @Test(arguments: ["garbage", "html", "huge", "silent"])
    func etcdAnsweringBadly(mode: String) async throws {
        let dir = try TempDir("bad-etcd")
        defer { dir.remove() }
        let port = FreePort.next()
        let pid = dir.path + "/server.pid"
        let started = try await Command.run([
            Repo.scripts + "/bg.sh", "start", pid, dir.path + "/server.log",
            "python3", Repo.scripts + "/bad-etcd.py", "\(port)", mode,
        ])
        try #require(started.succeeded, "\(started.summary)")
        do {
            let up = await eventually(timeout: .seconds(10)) { !SafetyMonitor.refusesConnections(port: port) }
            try #require(up, "the fake etcd never listened")
            let r = try await Command.run(
                [try Repo.shepherdBinary(), "status", "--endpoints", "http://127.0.0.1:\(port)"], timeout: .seconds(60))
            #expect(r.exitCode == 3, "\(mode): \(r.summary)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains("127.0.0.1:\(port)"), "\(mode): \(r.stderr)")
        } catch {
            _ = try? await Command.run([Repo.scripts + "/bg.sh", "stop", pid, "5"])
            throw error
        }
        _ = try? await Command.run([Repo.scripts + "/bg.sh", "stop", pid, "5"])
    }
}
