import EtcdClient
import Exec
import Foundation
import Rollout
import TestSupport
import Testing

@testable import Shepherd

/// The bars from a member's marks, with no cluster: each phase from its mark to the next, the backup's end closing
/// its bar, a kind this release does not know (a newer daemon's) and the markers leaving the bars as they are.
@Test func timelineBarsFromMarks() {
    let marks: [(String, Double)] = [
        ("backupStarted", 100), ("backup", 102), ("stopping", 103), ("started", 105), ("aNewerDaemonsMark", 106),
        ("verified", 108), ("completed", 109),
    ]
    let history = MemberHistory(member: "s1", marks: marks.map { .init(kind: $0.0, at: $0.1, text: $0.0) })
    let t = Timeline.make(id: "r1", rollout: nil, histories: [history], records: [:], now: 500)
    let bars = t.rows.first?.bars.map { "\($0.phase.rawValue) \($0.start)-\($0.end)" }
    #expect(bars == ["backingUp 100.0-102.0", "down 103.0-105.0", "verifying 105.0-108.0", "done 108.0-109.0"])
    #expect(t.rows.first?.markers.map(\.kind) == ["completed"])
    #expect(t.svg().contains(#"data-phase="down""#) && t.svg().contains("#cc0000"))
}

/// Issue 21 item 4 on real parts: a real rollout's history as the daemons kept it in etcd, drawn by `history --html`
/// and `--svg`, loaded in a real headless browser (Debian's chromium): every member has a row, each member's down bar
/// is where its stop's timestamp says, and the screenshot is not blank.
@Suite(.serialized) struct TimelineTests {
    static func chromium() throws -> String {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw ClusterError(detail: "chromium is missing: run `sudo scripts/install-deps.sh` (or `make deps`) first")
    }

    @Test func aRealRolloutDrawnAndLoadedInAHeadlessBrowser() async throws {
        let browser = try Self.chromium()
        try await LocalCluster.with(size: 3, version: Releases.trixie, label: "timeline") { cluster in
            try await ShepherdFleet.with(cluster) { fleet in
                let monitor = SafetyMonitor(cluster: cluster)
                let end = try await RolloutEnd.afterRequest(Releases.current, in: fleet, monitor: monitor)
                #expect(end.state == .completed, "\(end.summary)")
                let rollout = try #require(end.snap.rollout)
                // Every member's marks reach etcd (written from a queue of their own).
                var histories: [MemberHistory] = []
                let complete = await eventually(timeout: .seconds(15)) {
                    histories =
                        (try? await MemberHistory.read(
                            cluster: cluster.clusterClient(), keyPrefix: fleet.keyPrefix, rolloutID: rollout.id)) ?? []
                    return histories.count == 3
                        && histories.allSatisfy { h in
                            ["stopping", "started", "verified"].allSatisfy { k in h.marks.contains { $0.kind == k } }
                        }
                        && histories.contains { $0.marks.contains { $0.kind == "completed" } }
                }
                #expect(complete, "\(histories)")

                let table = try await fleet.cli(["history", "--config", fleet.configPath("s2")])
                #expect(table.succeeded && table.stdout.contains("rollout \(rollout.id)"), "\(table.summary)")
                print("history as an operator reads it:\n\(table.stdout)")
                for m in cluster.members {
                    #expect(
                        table.stdout.split(separator: "\n").contains {
                            $0.hasPrefix(m.name + " ") && $0.contains("done")
                        })
                }
                let dir = cluster.members[0].dir + "/.."
                let page = dir + "/timeline.html", image = dir + "/timeline.svg"
                let drawn = try await fleet.cli([
                    "history", rollout.id.rawValue, "--html", page, "--svg", image, "--config", fleet.configPath("s3"),
                ])
                #expect(drawn.succeeded, "\(drawn.summary)")
                #expect(try String(contentsOfFile: image, encoding: .utf8).hasPrefix("<svg"))

                // Loaded in a real browser: the DOM it built.
                let dom = try await Command.run(
                    [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://" + page],
                    timeout: .seconds(60))
                #expect(dom.succeeded && dom.stdout.contains("id=\"timeline\""), "\(dom.summary)")
                // Where each member's down bar must start, from the marks in etcd (not from the page).
                let marks = histories.flatMap(\.marks).map(\.at)
                let t0 = min(rollout.requestedAt, marks.min()!), t1 = max(marks.max()!, t0 + 1)
                let scale = (1000.0 - 90 - 20) / (t1 - t0)
                for h in histories {
                    let row = try #require(
                        dom.stdout.range(of: "data-member=\"\(h.member)\"").map {
                            String(dom.stdout[$0.upperBound...])
                        },
                        "no row for \(h.member)")
                    let group = row.components(separatedBy: "</g>").first ?? ""
                    let stop = try #require(h.marks.first { $0.kind == "stopping" }).at
                    let expected = 90 + (stop - t0) * scale
                    let bar = try #require(
                        group.components(separatedBy: "<rect").first { $0.contains("data-phase=\"down\"") },
                        "no down bar for \(h.member)")
                    let x = try #require(
                        bar.components(separatedBy: " x=\"").dropFirst().first?.split(separator: "\"").first
                            .flatMap { Double($0) })
                    #expect(abs(x - expected) < 0.6, "\(h.member)'s down bar at x=\(x), its stop says \(expected)")
                }
                // And drawn: a screenshot with the bars' colours in it.
                let png = dir + "/timeline.png"
                let shot = try await Command.run(
                    [
                        browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1100,320", "--screenshot=" + png, "file://" + page,
                    ], timeout: .seconds(60))
                #expect(shot.succeeded && FileManager.default.fileExists(atPath: png), "\(shot.summary)")
                let colours = try await Command.run(["python3", Repo.scripts + "/png-colours.py", png])
                let count =
                    Int(
                        colours.stdout.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                    ) ?? 0
                #expect(count >= 6, "the screenshot looks blank: \(colours.stdout) \(colours.stderr)")
                #expect(await fleet.stopAll() == [])
            }
        }
    }
}
