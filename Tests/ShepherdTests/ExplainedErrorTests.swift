import EtcdClient
import Explained
import Foundation
import Rollout
import Testing

@testable import Exec
@testable import Shepherd
@testable import Systemd

/// One error type per layer, each read the same way: what it is about, what is wrong, what to do.
@Suite struct ExplainedErrorTests {
    /// One error of each layer, as the code throws it.
    static let samples: [any ExplainedError] = [
        Config.Invalid(key: "timing.tickSeconds", problem: "0.01 is outside 0.05...10"),
        PolicyOverlay.Problem(origin: "/etc/p/10-x.json", row: "floors[0]", problem: "minimum is below the floor"),
        UpgradeRequest.Refused(reason: "3.5.1 is known bad"),
        EtcdError.rpc(endpoint: "https://a:2379", call: "range", code: 7, message: "etcdserver: permission denied"),
        ControllerError(thing: "stop member", cause: "`systemctl stop etcd` exited 1", fix: "check controller.stop"),
        StoreError.fenceLost("/shepherd/lock/7", "it is no longer ours"),
        Command.Failure(argv: ["etcd", "--version"], detail: "no answer within 60 s"),
        UnitManager.Failure(unit: "etcd.service", detail: "job failed"),
    ]

    @Test func everyLayerRendersThingCauseAndFixOneWay() {
        for e in Self.samples {
            #expect(!e.cause.isEmpty, "\(type(of: e)) has no cause")
            #expect(e.thing.isEmpty == (e is UpgradeRequest.Refused), "\(type(of: e)): \(e)")
            let head = e.thing.isEmpty ? e.cause : "\(e.thing): \(e.cause)"
            #expect(e.description == (e.fix.isEmpty ? head : "\(head) — fix: \(e.fix)"), "\(type(of: e))")
        }
        #expect(Set(Self.samples.map { String(reflecting: type(of: $0)) }).count == Self.samples.count)
    }

    @Test func aFindingReadsAsAnErrorDoes() {
        let f = Finding(severity: .blocking, what: "backupDir /b has 1 MiB free", fix: "free space there")
        #expect(f.text == Explanation.render(thing: "", cause: f.what, fix: f.fix))
        #expect(Finding(severity: .warning, what: "w", fix: "").text == "w")
    }

    /// Only a refusal the operator can mend carries a fix, and a cluster-wide failure says it once.
    @Test func etcdSaysWhatToMendOnlyWhenTheOperatorCan() {
        let denied = EtcdError.rpc(endpoint: "https://a:2379", call: "range", code: 7, message: "permission denied")
        #expect(denied.fix.contains("cluster.auth"))
        let down = EtcdError.unreachable(endpoint: "https://b:2379", call: "range", detail: "connection refused")
        #expect(down.fix.isEmpty && down.description == "range on https://b:2379: unreachable (connection refused)")
        let all = EtcdError.allEndpointsFailed(call: "range", errors: [denied, denied])
        #expect(all.description.components(separatedBy: "cluster.auth").count == 2, "\(all)")
        #expect(EtcdError.allEndpointsFailed(call: "range", errors: [denied, down]).fix.isEmpty)
    }

    /// Every error type in the sources is one of the layers' `ExplainedError`s, but for the two that are answers, not
    /// errors an operator reads: the CLI's exit carrier (its message is already rendered) and FleetLock's answer
    /// (a protocol reply to Zincati). A new `: Error` type fails here, naming the file: make it its layer's error.
    @Test func noOtherErrorTypeIsDeclared() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") && !$0.hasSuffix(".pb.swift") }
        #expect(files.count > 100, "Sources not found at \(sources.path)")
        let declaration = try NSRegularExpression(pattern: #"(?:struct|enum|class) (\w+)[^{\n]*:[^{\n]*\bError\b"#)
        var found: [String] = []
        for file in files {
            let text = try String(contentsOfFile: sources.appendingPathComponent(file).path, encoding: .utf8)
            for m in declaration.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                found.append("\(file): \(text[Range(m.range(at: 1), in: text)!])")
            }
        }
        #expect(
            found.sorted() == [
                "Shepherd/Daemon/FleetLockCall.swift: FleetLockAnswer", "etcd-shepherd/EtcdShepherd.swift: Failure",
            ],
            "\(found.sorted())")
    }
}
