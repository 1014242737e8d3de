import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import Synchronization

/// What a verified snapshot file holds.
public struct SnapshotInfo: Sendable, Equatable {
    public let path: String
    /// Size of the file: the bbolt db plus the 32-byte sha256 trailer, as `etcdctl snapshot save` writes it.
    public let size: Int64
    /// sha256 of the db bytes, hex: equal to the trailer etcd sent.
    public let sha256: String
}

extension EtcdEndpoint {
    /// Streams `/maintenance/snapshot` to `path` and verifies the sha256 trailer etcd appends after the db bytes.
    ///
    /// The deadline follows progress: the call fails when no bytes arrive for `idleTimeout` (before the response head
    /// or in the body), however long the whole stream takes — a multi-GB db is slow but moving, a hung member is
    /// not. `progress` is called with the bytes written so far after every chunk (the daemon feeds its watchdog from
    /// it). Memory stays bounded by one gateway line (~45 KB) whatever the db size. The data goes to a fresh file
    /// beside `path` (O_EXCL|O_NOFOLLOW, mode 0600), is fsynced and renamed onto `path`; nothing is left on failure.
    public func snapshot(to path: String, idleTimeout: Duration = .seconds(30),
                         progress: (@Sendable (Int64) -> Void)? = nil) async throws -> SnapshotInfo {
        let file = try SnapshotFile(path: path, endpoint: url)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // A deadline far away on the request itself: the idle watch below is the one that counts.
                    _ = try await transport.stream(endpoint: url, path: apiPrefix + "/maintenance/snapshot", call: "snapshot",
                                                   body: Data("{}".utf8), timeout: .seconds(86_400)) { chunk in
                        try file.consume(chunk)
                        progress?(file.written)
                    }
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: .milliseconds(250))
                        if ContinuousClock.now - file.lastProgress > idleTimeout {
                            throw EtcdError.timeout(endpoint: url, call: "snapshot (no data for \(idleTimeout.seconds) s)", seconds: idleTimeout.seconds)
                        }
                    }
                }
                // Whichever ends first: the stream (done or failed) or the idle watch (stalled).
                defer { group.cancelAll() }
                try await group.next()
            }
            return try file.finish()
        } catch {
            file.discard()
            throw error
        }
    }
}

/// The file side of a snapshot: NDJSON lines in, db bytes out, the sha256 of everything but the last blob (the
/// trailer). Used by one task at a time (the stream), hence `@unchecked Sendable`.
final class SnapshotFile: @unchecked Sendable {
    let path: String
    let temp: String
    let endpoint: String
    private var fd: Int32
    private var hasher = SHA256()
    /// The latest blob: the trailer if the stream ends after it.
    private var pending: [UInt8]?
    private var lineBuffer = ByteBuffer()
    private(set) var written: Int64 = 0
    /// When the stream last delivered data (read by the idle watch, another task).
    private let progressAt = Mutex(ContinuousClock.now)
    var lastProgress: ContinuousClock.Instant { progressAt.withLock { $0 } }
    private let decoder = JSONDecoder()

    init(path: String, endpoint: String) throws {
        self.path = path; self.endpoint = endpoint
        temp = path + ".partial-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw EtcdError.snapshotIntegrity(endpoint: endpoint, detail: "cannot create \(temp): \(String(cString: strerror(errno)))")
        }
    }

    func consume(_ chunk: ByteBuffer) throws {
        progressAt.withLock { $0 = .now }
        lineBuffer.writeImmutableBuffer(chunk)
        // memchr, not a Collection scan: a line is ~45 KB and this runs for every one of them.
        while let length = lineBuffer.withUnsafeReadableBytes({ raw in
            raw.baseAddress.flatMap { memchr($0, Int32(UInt8(ascii: "\n")), raw.count) }.map { raw.baseAddress!.distance(to: UnsafeRawPointer($0)) }
        }) {
            let line = lineBuffer.readSlice(length: length)!
            lineBuffer.moveReaderIndex(forwardBy: 1)
            try handle(line: line)
        }
        lineBuffer.discardReadBytes()
    }

    private static let blobKey = Array("\"blob\":\"".utf8)

    /// The blob of a `{"result":{…,"blob":"<base64>"}}` line, decoded without a JSON parser (the hot path: one line
    /// per ~32 KiB of db); nil for any other line, which then goes through the decoder.
    static func fastBlob(_ line: ByteBuffer) -> [UInt8]? {
        line.withUnsafeReadableBytes { raw -> [UInt8]? in
            guard let base = raw.baseAddress, raw.count > 64 else { return nil }
            // The key sits near the start (`{"result":{"blob":"…`); look in the first 64 bytes only.
            var keyAt = -1
            blobKey.withUnsafeBytes { key in
                for i in 0..<(64 - key.count) where memcmp(base + i, key.baseAddress!, key.count) == 0 { keyAt = i; break }
            }
            guard keyAt >= 0 else { return nil }
            let start = keyAt + blobKey.count
            guard let quote = memchr(base + start, Int32(UInt8(ascii: "\"")), raw.count - start) else { return nil }
            let length = base.distance(to: UnsafeRawPointer(quote)) - start
            return Data(base64Encoded: Data(bytes: base + start, count: length)).map { [UInt8]($0) }
        }
    }

    private func handle(line: ByteBuffer) throws {
        guard line.readableBytes > 0 else { return }
        if let blob = Self.fastBlob(line) {
            if let prev = pending { hasher.update(data: prev) }
            try writeAll(blob)
            pending = blob
            return
        }
        let msg: SnapshotMessage
        do { msg = try decoder.decode(SnapshotMessage.self, from: line) } catch {
            throw EtcdError.decoding(endpoint: endpoint, call: "snapshot", detail: "\(error)")
        }
        if let err = msg.error { throw EtcdError.http(endpoint: endpoint, call: "snapshot", status: 200, code: err.code, message: err.message ?? "") }
        guard let blob = msg.result?.blob else { return }
        if let prev = pending { hasher.update(data: prev) }
        try writeAll(blob)
        pending = blob
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw EtcdError.snapshotIntegrity(endpoint: endpoint, detail: "write \(temp): \(String(cString: strerror(errno)))") }
            off += n
        }
        written += Int64(bytes.count)
    }

    /// Verifies the trailer, fsyncs, and renames the file onto `path`.
    func finish() throws -> SnapshotInfo {
        try handle(line: lineBuffer)
        guard let trailer = pending, trailer.count == 32, written > 32 else {
            throw EtcdError.snapshotIntegrity(endpoint: endpoint, detail: "stream ended without a sha256 trailer (\(written) bytes)")
        }
        let digest = Array(hasher.finalize())
        guard digest == trailer else {
            throw EtcdError.snapshotIntegrity(endpoint: endpoint, detail: "sha256 trailer does not match the db bytes")
        }
        guard fsync(fd) == 0 else { throw EtcdError.snapshotIntegrity(endpoint: endpoint, detail: "fsync \(temp): \(String(cString: strerror(errno)))") }
        close(fd); fd = -1
        guard rename(temp, path) == 0 else {
            throw EtcdError.snapshotIntegrity(endpoint: endpoint, detail: "rename \(temp) → \(path): \(String(cString: strerror(errno)))")
        }
        return SnapshotInfo(path: path, size: written, sha256: digest.map { String(format: "%02x", $0) }.joined())
    }

    func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temp)
    }
}

struct SnapshotMessage: Decodable {
    struct Result: Decodable {
        let blob: [UInt8]
        enum K: String, CodingKey { case blob }
        init(from d: Decoder) throws { blob = try d.container(keyedBy: K.self).bytes(.blob) }
    }
    struct Err: Decodable { let code: Int?; let message: String? }
    let result: Result?
    let error: Err?
}
