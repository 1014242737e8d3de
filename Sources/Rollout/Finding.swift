import Explained

/// One thing a preflight check found: blocking findings keep the member from being touched (gate 6).
public struct Finding: Sendable, Equatable, Codable {
    public enum Severity: String, Sendable, Codable { case blocking, warning }
    public let severity: Severity
    public let what: String
    public let fix: String
    public init(severity: Severity, what: String, fix: String) {
        self.severity = severity
        self.what = what
        self.fix = fix
    }
    /// The finding as a sentence: what is wrong, then what to do. Every place that shows one says it this way (the
    /// gate's wait, a refusal, an error); `line` adds the severity for lists.
    public var text: String { Explanation.render(thing: "", cause: what, fix: fix) }
    public var line: String { "\(severity == .blocking ? "BLOCKING" : "warning"): \(text)" }
}
