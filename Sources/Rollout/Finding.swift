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
    public var line: String { "\(severity == .blocking ? "BLOCKING" : "warning"): \(what) — fix: \(fix)" }
}
