import Foundation

/// The node-exporter textfile (`metrics.textfile`): rewritten — beside, then renamed over, as the collector reads
/// whole files — only when the text changed since the last write that succeeded, so an idle daemon does not rewrite
/// it every tick. A failed write is said once and tried again on the next tick, changed or not.
final class MetricsTextfile {
    let path: String
    private var written: String?
    private var failing = false

    init(path: String) { self.path = path }

    /// Writes `text` unless it is what the file already holds; returns whether it wrote. `warn` hears each new
    /// failure once.
    @discardableResult
    func update(_ text: String, warn: (String) -> Void) -> Bool {
        guard text != written else { return false }
        do {
            try FileIO.writeAtomically(Data(text.utf8), to: path, mode: 0o644)
            written = text
            failing = false
            return true
        } catch {
            if !failing { warn("metrics textfile \(path): \(error)") }
            failing = true
            return false
        }
    }
}
