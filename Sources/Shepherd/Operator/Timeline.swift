import EtcdClient
import Foundation
import Rollout

/// `etcd-shepherd history`: one rollout as members × time — each member's phases as bars (backing up, down, verifying,
/// done, rolling back), events as markers (leadership, the cluster-version flip, the halt) — from the marks the
/// daemons keep in etcd (`MemberHistory`) and the records (downtime). Rendered as a table, or as a self-contained
/// HTML page or SVG (no network, no script).
public struct Timeline: Codable, Sendable {
    /// A member's phase as a bar shows it, opened by a daemon's mark (`MemberHistory`) and closed by the next.
    public enum Phase: String, Codable, Sendable, CaseIterable {
        case backingUp, down, verifying, done, rollingBack

        /// What a mark of `kind` does to a member's bars: `.some(phase)` opens that phase, `.some(nil)` closes the
        /// open one and opens none (the backup's end), `nil` leaves the bars as they are (a marker, or a kind this
        /// release does not know: a newer daemon's).
        static func opened(by kind: String) -> Phase?? {
            switch kind {
            case "backupStarted": return .some(.backingUp)
            case "backup": return .some(nil)
            case "stopping": return .some(.down)
            case "started": return .some(.verifying)
            case "verified": return .some(.done)
            case "rollback": return .some(.rollingBack)
            default: return nil
            }
        }

        var colour: String {
            switch self {
            case .backingUp: "#8e7cc3"
            case .down: "#cc0000"
            case .verifying: "#f1c232"
            case .done: "#6aa84f"
            case .rollingBack: "#e69138"
            }
        }
    }

    public struct Bar: Codable, Sendable, Equatable {
        public var phase: Phase
        public var start: Double
        public var end: Double
        public var label: String
    }
    public struct Marker: Codable, Sendable, Equatable {
        public var kind: String
        public var at: Double
        public var text: String
    }
    public struct Row: Codable, Sendable {
        public var member: MemberName
        public var bars: [Bar]
        public var markers: [Marker]
        public var downtimeSeconds: Double?
        public var result: String
    }
    public var rolloutID: RolloutID
    public var from: String
    public var to: String
    public var state: String
    public var reason: String?
    public var start: Double
    public var end: Double
    public var rows: [Row]

    public static func gather(cluster: EtcdCluster, keyPrefix: String, rolloutID: RolloutID?) async throws -> Timeline?
    {
        let snap = try await RolloutStore(prefix: keyPrefix, cluster: cluster).read()
        guard let id = rolloutID ?? snap.rollout?.id else { return nil }
        let histories = try await MemberHistory.read(cluster: cluster, keyPrefix: keyPrefix, rolloutID: id)
        let r = snap.rollout?.id == id ? snap.rollout : nil
        guard r != nil || !histories.isEmpty else { return nil }
        return make(
            id: id, rollout: r, histories: histories,
            records: snap.records.filter { $0.value.rolloutID == id }, now: Date().timeIntervalSince1970)
    }

    /// The bars and markers from the marks: a phase runs from its mark to the next phase's mark (the last to `now`
    /// while the rollout runs, else to the rollout's last mark).
    public static func make(
        id: RolloutID, rollout r: RolloutRecord?, histories: [MemberHistory], records: [MemberName: MemberRecord],
        now: Double
    ) -> Timeline {
        let all = histories.flatMap(\.marks).map(\.at)
        let start = min(r?.requestedAt ?? .infinity, all.min() ?? now)
        let running = r.map { !$0.state.isTerminal } ?? false
        let end = max(running ? now : (all.max() ?? now), start + 1)
        let markerKinds: Set<String> = ["leadershipTransferred", "leaderChanged", "completed", "hop", "halted"]
        let rows = histories.map { h -> Row in
            var bars: [Bar] = []
            var open: (phase: Phase, at: Double)?
            func close(_ at: Double) {
                if let o = open, at > o.at || o.phase == .done {
                    bars.append(Bar(phase: o.phase, start: o.at, end: max(at, o.at), label: o.phase.rawValue))
                }
                open = nil
            }
            for m in h.marks.sorted(by: { $0.at < $1.at }) {
                guard let entry = Phase.opened(by: m.kind) else { continue }
                close(m.at)
                if let phase = entry { open = (phase, m.at) }
            }
            close(end)
            let downtime = records[h.member]?.downtimeSeconds
            if let d = downtime, let i = bars.firstIndex(where: { $0.phase == .down }) {
                bars[i].label = String(format: "down %.2f s", d)
            }
            let markers = h.marks.filter { markerKinds.contains($0.kind) }.map {
                Marker(kind: $0.kind, at: $0.at, text: $0.text)
            }
            return Row(
                member: h.member, bars: bars, markers: markers, downtimeSeconds: downtime,
                result: records[h.member]?.phase.rawValue ?? "-")
        }
        return Timeline(
            rolloutID: id, from: r?.from.description ?? "?", to: r?.to.description ?? "?",
            state: r?.state.rawValue ?? "?", reason: r?.reason, start: start, end: end, rows: rows)
    }

    // MARK: text

    public func table() -> String {
        func rel(_ t: Double?) -> String { t.map { String(format: "+%.1fs", $0 - start) } ?? "-" }
        let header = ["MEMBER", "BACKUP", "STOPPED", "DOWN", "STARTED", "DONE", "RESULT"]
        let lines = rows.map { row -> [String] in
            func first(_ p: Phase) -> Bar? { row.bars.first { $0.phase == p } }
            return [
                row.member.rawValue, rel(first(.backingUp)?.start), rel(first(.down)?.start),
                row.downtimeSeconds.map { String(format: "%.2fs", $0) } ?? "-", rel(first(.verifying)?.start),
                rel(first(.done)?.start), row.result,
            ]
        }
        let widths = header.indices.map { i in ([header[i]] + lines.map { $0[i] }).map(\.count).max()! }
        func line(_ c: [String]) -> String {
            c.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        var out = ["rollout \(rolloutID)  \(from) → \(to)  \(state)\(reason.map { "  (\($0))" } ?? "")"]
        out += [line(header)] + lines.map(line)
        // Events of every member, in the order they happened.
        let events = rows.flatMap { row in row.markers.map { (row.member, $0) } }.sorted { $0.1.at < $1.1.at }
        for (member, m) in events { out.append("  \(rel(m.at)) \(member): \(m.text)") }
        return out.joined(separator: "\n")
    }

    // MARK: SVG and HTML

    static let left = 90.0, width = 1000.0, rowHeight = 44.0, top = 30.0

    /// Where `t` falls on the x axis.
    public func x(_ t: Double) -> Double { Self.left + (t - start) * scale }
    public var scale: Double { (Self.width - Self.left - 20) / max(1, end - start) }

    public func svg() -> String {
        let height = Self.top + Double(rows.count) * Self.rowHeight + 40
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        func n(_ v: Double) -> String { String(format: "%.2f", v) }
        var out = [
            #"<svg xmlns="http://www.w3.org/2000/svg" id="timeline" width="\#(Int(Self.width))" height="\#(Int(height))" "#
                + #"data-start="\#(start)" data-end="\#(end)" data-left="\#(Self.left)" data-scale="\#(scale)" font-family="sans-serif" font-size="12">"#,
            #"<text x="\#(Int(Self.left))" y="16">rollout \#(esc(rolloutID.rawValue)) \#(esc(from)) → \#(esc(to)): \#(esc(state))\#(reason.map { " — " + esc($0) } ?? "")</text>"#,
        ]
        for (i, row) in rows.enumerated() {
            let y = Self.top + Double(i) * Self.rowHeight
            out.append(#"<g class="member" data-member="\#(esc(row.member.rawValue))">"#)
            out.append(#"<text x="4" y="\#(n(y + 22))">\#(esc(row.member.rawValue))</text>"#)
            for b in row.bars {
                let w = max(1, (b.end - b.start) * scale)
                out.append(
                    #"<rect class="bar" data-phase="\#(b.phase.rawValue)" data-start="\#(b.start)" data-end="\#(b.end)" x="\#(n(x(b.start)))" y="\#(n(y + 6))" width="\#(n(w))" height="24" fill="\#(b.phase.colour)"><title>\#(esc(b.label))</title></rect>"#
                )
                if b.phase == .down {
                    out.append(#"<text x="\#(n(x(b.start)))" y="\#(n(y + 42))" font-size="10">\#(esc(b.label))</text>"#)
                }
            }
            for m in row.markers {
                out.append(
                    #"<line class="marker" data-kind="\#(m.kind)" data-at="\#(m.at)" x1="\#(n(x(m.at)))" x2="\#(n(x(m.at)))" y1="\#(n(y + 2))" y2="\#(n(y + 34))" stroke="black" stroke-dasharray="3,2"><title>\#(esc(m.text))</title></line>"#
                )
            }
            out.append("</g>")
        }
        let axisY = Self.top + Double(rows.count) * Self.rowHeight + 14
        out.append(#"<text x="\#(Int(Self.left))" y="\#(n(axisY))">0 s</text>"#)
        out.append(
            #"<text x="\#(Int(Self.width - 20))" y="\#(n(axisY))" text-anchor="end">\#(String(format: "%.0f s", end - start))</text>"#
        )
        var lx = Self.left
        for phase in Phase.allCases.sorted(by: { $0.rawValue < $1.rawValue }) {
            out.append(#"<rect x="\#(n(lx))" y="\#(n(axisY + 8))" width="12" height="12" fill="\#(phase.colour)"/>"#)
            out.append(#"<text x="\#(n(lx + 16))" y="\#(n(axisY + 18))">\#(phase.rawValue)</text>"#)
            lx += 110
        }
        out.append("</svg>")
        return out.joined(separator: "\n")
    }

    public func html() -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>etcd-shepherd rollout \(rolloutID)</title>
        <style>body{font-family:sans-serif;margin:16px} svg{border:1px solid #ddd}</style></head>
        <body><h1>rollout \(rolloutID): \(from) → \(to)</h1>
        \(svg())
        </body></html>
        """
    }
}
