import Testing

@testable import EtcdClient

@Suite struct PrometheusTextTests {
    @Test func parsesLabelsEscapesExponentsAndSeveralSeries() throws {
        let text = """
            # HELP etcd_cluster_version Which version is running. 1 for 'cluster_version' label with current cluster version
            # TYPE etcd_cluster_version gauge
            etcd_cluster_version{cluster_version="3.4"} 0
            etcd_cluster_version{cluster_version="3.5"} 1
            etcd_server_quota_backend_bytes 2.147483648e+09
            weird{a="x\\"y",b="line\\nbreak",c="back\\\\slash"} -Inf 1700000000000
            etcd_server_id{server_id="5485ed9a2f08260c"} 1
            h_bucket{le="+Inf"} 3
            """
        let p = try PrometheusText(parsing: text)
        #expect(p.series("etcd_cluster_version").count == 2)
        #expect(p.value("etcd_server_quota_backend_bytes") == 2_147_483_648)
        let w = try #require(p.series("weird").first)
        #expect(w.labels["a"] == "x\"y")
        #expect(w.labels["b"] == "line\nbreak")
        #expect(w.labels["c"] == "back\\slash")
        #expect(w.value == -.infinity)
        #expect(p.series("h_bucket").first?.labels["le"] == "+Inf")
        let m = MemberMetrics(p)
        #expect(m.clusterVersion == "3.5")  // the series at 1, not the stale 3.4 at 0
        #expect(m.serverIDHex == "5485ed9a2f08260c")
    }

    @Test func onlyKeepsTheNamedSeriesAndSkipsTheRestUnparsed() throws {
        let text = "a_total 1\nb{x=\"1\"} 2\nb{x=\"2\"} 3\nnot{even=valid 4\n"
        let p = try PrometheusText(parsing: text, only: ["b"])
        #expect(p.samples.map(\.value) == [2, 3])
        #expect(throws: EtcdError.self) { try PrometheusText(parsing: text) }
    }

    @Test func dbSizeFallsBackToThe34DebuggingName() throws {
        let m = MemberMetrics(try PrometheusText(parsing: "etcd_debugging_mvcc_db_total_size_in_bytes 20480\n"))
        #expect(m.dbSizeBytes == 20480)
    }

    @Test func rejectsGarbageWithTheLineNumber() {
        #expect(throws: EtcdError.self) { try PrometheusText(parsing: "ok 1\nbad{x=\"1\" 2\n") }
        do {
            _ = try PrometheusText(parsing: "ok 1\nnovalue abc\n")
            Issue.record("should throw")
        } catch let EtcdError.decoding(_, call, detail) {
            #expect(call == "metrics" && detail.hasPrefix("line 2: "))
        } catch { Issue.record("\(error)") }
    }
}
