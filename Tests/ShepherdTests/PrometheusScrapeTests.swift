import EtcdClient
import Exec
import Foundation
import Rollout
import Shepherd
import TestSupport
import Testing

/// A real Prometheus server (Debian's package) scrapes every daemon's `/metrics` every second through a real rollout;
/// afterwards its query API must show what an SRE would alert on: each daemon up, the rollout completed, the lock
/// taken, three members verified, a backup with a size, no member down for long.
@Suite(.serialized) struct PrometheusScrapeTests {
    @Test func prometheusSeesTheRollout() async throws {
        let prometheus = try Repo.prometheus()
        try await LocalCluster.with(size: 3, version: Releases.trixie, label: "prom") { cluster in
            let listen = cluster.members.map { _ in "127.0.0.1:\(FreePort.next())" }
            let work = cluster.temp.path + "/prometheus"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            try """
            global: { scrape_interval: 1s, scrape_timeout: 1s }
            scrape_configs:
              - job_name: etcd-shepherd
                static_configs: [{ targets: [\(listen.map { "'\($0)'" }.joined(separator: ", "))] }]
            """.write(toFile: work + "/prometheus.yml", atomically: true, encoding: .utf8)
            let api = "http://127.0.0.1:\(FreePort.next())"
            let started = try await Command.run([
                Repo.scripts + "/bg.sh", "start", work + "/pid", work + "/log", prometheus,
                "--config.file", work + "/prometheus.yml", "--storage.tsdb.path", work + "/data",
                "--web.listen-address", String(api.dropFirst("http://".count)),
            ])
            try #require(started.succeeded, "\(started.summary)")
            defer { _ = try? FileManager.default.removeItem(atPath: work + "/data") }
            do {
                try await ShepherdFleet.with(cluster, metricsListen: listen) { fleet in
                    func query(_ q: String) async throws -> [(instance: String, value: Double)] {
                        let r = try await Command.run([
                            "curl", "-sf", "--max-time", "5", "-G", api + "/api/v1/query", "--data-urlencode",
                            "query=" + q,
                        ])
                        guard r.succeeded else {
                            throw Repo.MissingDependency(what: "an answer from prometheus (\(r.summary))")
                        }
                        let body = Data(r.stdout.utf8)
                        struct Answer: Decodable {
                            struct Data: Decodable { let result: [Sample] }
                            struct Sample: Decodable {
                                let metric: [String: String]
                                let value: [ValuePart]
                            }
                            enum ValuePart: Decodable {
                                case time(Double), text(String)
                                init(from d: Decoder) throws {
                                    let c = try d.singleValueContainer()
                                    if let t = try? c.decode(Double.self) {
                                        self = .time(t)
                                    } else {
                                        self = .text(try c.decode(String.self))
                                    }
                                }
                            }
                            let data: Data
                        }
                        let a = try JSONDecoder().decode(Answer.self, from: body)
                        return a.data.result.map { s in
                            let v: Double
                            if case let .text(t)? = s.value.last { v = Double(t) ?? .nan } else { v = .nan }
                            return (s.metric["instance"] ?? "", v)
                        }
                    }
                    // Every daemon is scraped before the request.
                    let up = await eventually(timeout: .seconds(30)) {
                        (try? await query("up{job=\"etcd-shepherd\"} == 1"))?.count == 3
                    }
                    #expect(
                        up,
                        "prometheus never scraped all three daemons: \((try? String(contentsOfFile: work + "/log", encoding: .utf8))?.suffix(800) ?? "")"
                    )
                    let req = try await fleet.cli(["request", Releases.current, "--config", fleet.configPath("s1")])
                    #expect(req.succeeded, "\(req.summary)")
                    let store = RolloutStore(prefix: fleet.keyPrefix, cluster: cluster.clusterClient())
                    let monitor = SafetyMonitor(cluster: cluster)
                    monitor.start()
                    let end = try await RolloutEnd.wait(store, monitor: monitor)
                    #expect(end.state == .completed, "\(end.summary)")
                    // What Prometheus stored, as an alert rule would read it.
                    let completed = await eventually(timeout: .seconds(20)) {
                        (try? await query("etcd_shepherd_rollout_state{state=\"completed\"} == 1"))?.count == 3
                    }
                    #expect(completed, "not every daemon reported the completed rollout")
                    let verified = try await query(
                        "sum(max_over_time(etcd_shepherd_events_total{event=\"memberVerified\"}[10m]))")
                    #expect(verified.first?.value == 3, "\(verified)")
                    let locked = try await query("max(max_over_time(etcd_shepherd_lock_held[10m]))")
                    #expect(locked.first?.value == 1, "no scrape saw a daemon holding the lock: \(locked)")
                    let backup = try await query("max(etcd_shepherd_last_backup_size_bytes)")
                    #expect((backup.first?.value ?? 0) > 0, "\(backup)")
                    let downtime = try await query("max(etcd_shepherd_member_downtime_seconds)")
                    #expect((downtime.first?.value ?? 0) > 0 && (downtime.first?.value ?? 99) < 30, "\(downtime)")
                    #expect(monitor.maxDown <= 1)
                    // Which build each daemon runs, as `--version` says.
                    let version = try await fleet.cli(["--version"]).stdout.trimmingCharacters(
                        in: .whitespacesAndNewlines)
                    let builds = try await query("count(etcd_shepherd_build_info{version=\"\(version)\"} == 1)")
                    #expect(!version.isEmpty && builds.first?.value == 3, "build_info for \(version): \(builds)")
                    // The same text goes to each node's textfile (node-exporter's collector), rewritten when it changed.
                    let files = await eventually(timeout: .seconds(10)) {
                        cluster.members.allSatisfy { m in
                            ((try? String(contentsOfFile: m.dir + "/state/shepherd.prom", encoding: .utf8)) ?? "")
                                .contains(#"etcd_shepherd_rollout_state{state="completed"} 1"#)
                        }
                    }
                    #expect(files, "a textfile does not show the completed rollout")
                    // The live scrape itself, every family populated by the rollout, passes promtool's lint.
                    let scrape = try await Command.run([
                        "curl", "-sf", "--max-time", "5", "http://\(listen[0])/metrics",
                    ])
                    try #require(scrape.succeeded, "\(scrape.summary)")
                    let lint = try await Command.run(
                        [try Repo.prometheus("promtool"), "check", "metrics"], input: scrape.stdout)
                    #expect(
                        lint.succeeded && lint.stdout.isEmpty && lint.stderr.isEmpty,
                        "promtool check metrics on a live scrape: \(lint.summary)")
                    #expect(await fleet.stopAll() == [], "a daemon ignored SIGTERM")
                }
            } catch {
                _ = try? await Command.run([Repo.scripts + "/bg.sh", "stop", work + "/pid", "10"])
                throw error
            }
            let stopped = try await Command.run([Repo.scripts + "/bg.sh", "stop", work + "/pid", "10"])
            #expect(stopped.exitCode == 0, "prometheus ignored SIGTERM")
        }
    }

    /// The example alert rules in packaging/ are valid, and fire (or not) as their promtool unit tests say.
    @Test func exampleAlertRulesPassPromtool() async throws {
        let promtool = try Repo.prometheus("promtool")
        let dir = Repo.root + "/packaging/prometheus"
        let check = try await Command.run([promtool, "check", "rules", dir + "/etcd-shepherd.rules.yml"])
        #expect(check.succeeded && check.stdout.contains("SUCCESS: 6 rules found"), "\(check.summary)")
        let test = try await Command.run([
            "bash", "-c", "cd '\(dir)' && '\(promtool)' test rules etcd-shepherd.rules.test.yml",
        ])
        #expect(test.succeeded, "\(test.summary)")
        // Every alert has a runbook: its runbook_url names a section of the README that exists.
        let rules = try String(contentsOfFile: dir + "/etcd-shepherd.rules.yml", encoding: .utf8)
        let readme = try String(contentsOfFile: Repo.root + "/README.md", encoding: .utf8)
        let alerts = rules.split(separator: "\n").compactMap {
            $0.split(separator: "- alert: ", maxSplits: 1).dropFirst().first.map(String.init)
        }
        #expect(alerts.count == 6)
        for alert in alerts {
            #expect(
                rules.contains("runbook_url: file:///usr/share/doc/etcd-shepherd/README.md#\(alert.lowercased())"),
                "\(alert): no runbook_url")
            #expect(readme.contains("\n#### \(alert)\n"), "\(alert): no runbook section in the README")
        }
    }
}
