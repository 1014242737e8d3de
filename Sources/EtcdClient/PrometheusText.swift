/// A parser for the Prometheus text exposition format (version 0.0.4), enough for etcd's `/metrics`:
/// `# HELP`/`# TYPE` comments, labels with `\\`, `\"` and `\n` escapes, exponent floats, `+Inf`/`-Inf`/`NaN`,
/// optional timestamps, and several series per metric name.
public struct PrometheusSample: Sendable, Equatable {
    public let name: String
    public let labels: [String: String]
    public let value: Double
    public init(name: String, labels: [String: String] = [:], value: Double) {
        self.name = name
        self.labels = labels
        self.value = value
    }
}

public struct PrometheusText: Sendable {
    public let samples: [PrometheusSample]

    public init(samples: [PrometheusSample]) { self.samples = samples }

    /// Parses `text`; with `only`, series of other names are skipped without parsing their labels (a daemon that reads
    /// a handful of etcd's ~1500 series each tick needs no more).
    public init(parsing text: String, only names: Set<String>? = nil) throws {
        var out: [PrometheusSample] = []
        let bytes = Array(text.utf8)
        var lineNo = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            lineNo += 1
            var s = start
            while s < end, bytes[s] == UInt8(ascii: " ") || bytes[s] == UInt8(ascii: "\t") { s += 1 }
            if s < end, bytes[s] != UInt8(ascii: "#"), Self.wanted(bytes[s..<end], names) {
                out.append(try Self.parseSample(bytes[s..<end], line: lineNo))
            }
            start = end + 1
        }
        samples = out
    }

    private static func wanted(_ line: ArraySlice<UInt8>, _ names: Set<String>?) -> Bool {
        guard let names else { return true }
        let end = line.firstIndex { !isNameByte($0) } ?? line.endIndex
        return names.contains(String(decoding: line[line.startIndex..<end], as: UTF8.self))
    }

    /// All series with this name.
    public func series(_ name: String) -> [PrometheusSample] { samples.filter { $0.name == name } }

    /// The value of the single unlabelled (or first) series with this name.
    public func value(_ name: String) -> Double? { samples.first { $0.name == name }?.value }

    private static func parseSample(_ b: ArraySlice<UInt8>, line: Int) throws -> PrometheusSample {
        var i = b.startIndex
        func fail(_ d: String) -> EtcdError { .decoding(endpoint: "", call: "metrics", detail: "line \(line): \(d)") }
        let nameStart = i
        while i < b.endIndex, isNameByte(b[i]) { i += 1 }
        guard i > nameStart else { throw fail("expected a metric name") }
        let name = String(decoding: b[nameStart..<i], as: UTF8.self)
        var labels: [String: String] = [:]
        if i < b.endIndex, b[i] == UInt8(ascii: "{") {
            i += 1
            while true {
                skipSpaces(b, &i)
                if i < b.endIndex, b[i] == UInt8(ascii: "}") {
                    i += 1
                    break
                }
                let ls = i
                while i < b.endIndex, isNameByte(b[i]) { i += 1 }
                guard i > ls else { throw fail("expected a label name") }
                let label = String(decoding: b[ls..<i], as: UTF8.self)
                skipSpaces(b, &i)
                guard i < b.endIndex, b[i] == UInt8(ascii: "=") else { throw fail("expected '=' after label \(label)") }
                i += 1
                skipSpaces(b, &i)
                guard i < b.endIndex, b[i] == UInt8(ascii: "\"") else { throw fail("expected '\"' for label \(label)") }
                i += 1
                var value: [UInt8] = []
                var closed = false
                while i < b.endIndex {
                    let c = b[i]
                    if c == UInt8(ascii: "\\"), i + 1 < b.endIndex {
                        let n = b[i + 1]
                        value.append(n == UInt8(ascii: "n") ? UInt8(ascii: "\n") : n)
                        i += 2
                    } else if c == UInt8(ascii: "\"") {
                        i += 1
                        closed = true
                        break
                    } else {
                        value.append(c)
                        i += 1
                    }
                }
                guard closed else { throw fail("unterminated value of label \(label)") }
                labels[label] = String(decoding: value, as: UTF8.self)
                skipSpaces(b, &i)
                if i < b.endIndex, b[i] == UInt8(ascii: ",") { i += 1 }
            }
        }
        skipSpaces(b, &i)
        let vs = i
        while i < b.endIndex, b[i] != UInt8(ascii: " "), b[i] != UInt8(ascii: "\t") { i += 1 }
        let text = String(decoding: b[vs..<i], as: UTF8.self)
        guard let value = parseValue(text) else { throw fail("bad value '\(text)' for \(name)") }
        return PrometheusSample(name: name, labels: labels, value: value)  // a trailing timestamp is ignored
    }

    private static func parseValue(_ s: String) -> Double? {
        switch s {
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return Double(s)
        }
    }

    private static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x3A
    }

    private static func skipSpaces(_ b: ArraySlice<UInt8>, _ i: inout Int) {
        while i < b.endIndex, b[i] == UInt8(ascii: " ") || b[i] == UInt8(ascii: "\t") { i += 1 }
    }
}
