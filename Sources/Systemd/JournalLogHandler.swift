import CSystemd
import Foundation
import Logging

/// swift-log → journald through sd_journal_sendv: PRIORITY from the level, MESSAGE_ID from the `message_id` metadata,
/// CODE_FILE/CODE_LINE/CODE_FUNC, and every other metadata key as an UPPER_SNAKE field (`etcd_member` → ETCD_MEMBER).
/// When stderr is not connected to journald (JOURNAL_STREAM unset), it writes readable lines to stderr instead.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let useJournal: Bool

    public init(label: String, forceJournal: Bool? = nil) {
        self.label = label
        useJournal = forceJournal ?? (ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        if useJournal {
            var fields = [
                "MESSAGE=\(event.message)", "PRIORITY=\(Self.priority(event.level))", "SYSLOG_IDENTIFIER=\(label)",
                "CODE_FILE=\(event.file)", "CODE_LINE=\(event.line)", "CODE_FUNC=\(event.function)",
            ]
            for (k, v) in all.sorted(by: { $0.key < $1.key }) {
                if k == MessageID.metadataKey {
                    fields.append("MESSAGE_ID=\(v)")
                } else {
                    fields.append("\(Self.fieldName(k))=\(v)")
                }
            }
            Self.send(fields)
        } else {
            let meta = all.filter { $0.key != MessageID.metadataKey }.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let line =
                "\(Self.timestamp()) \(event.level) \(label): \(event.message)\(meta.isEmpty ? "" : " [\(meta)]")\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// syslog priorities: journald's PRIORITY field.
    static func priority(_ l: Logger.Level) -> Int {
        switch l {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// Journal field names: upper case letters, digits and underscores, not starting with an underscore or digit.
    static func fieldName(_ key: String) -> String {
        var out = String(key.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
        while out.first == "_" || (out.first?.isNumber ?? false) { out.removeFirst() }
        return out.isEmpty ? "FIELD" : out
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    /// Copies every field into one buffer and hands iovecs to sd_journal_sendv (no pointer escapes the call).
    static func send(_ fields: [String]) {
        let bytes = fields.map { Array($0.utf8) }
        let total = bytes.reduce(0) { $0 + $1.count }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 1)
        let iov = UnsafeMutableBufferPointer<iovec>.allocate(capacity: bytes.count)
        defer {
            buffer.deallocate()
            iov.deallocate()
        }
        var offset = 0
        for (i, b) in bytes.enumerated() {
            b.withUnsafeBytes { src in
                if let base = src.baseAddress {
                    (buffer.baseAddress! + offset).copyMemory(from: base, byteCount: b.count)
                }
            }
            iov[i] = iovec(iov_base: buffer.baseAddress! + offset, iov_len: b.count)
            offset += b.count
        }
        _ = sd_journal_sendv(iov.baseAddress, Int32(bytes.count))
    }
}
