import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat

/// What a verified snapshot file holds.
public struct SnapshotInfo: Sendable, Equatable {
    public let path: String
    /// Size of the file: the bbolt db plus the 32-byte sha256 trailer, as `etcdctl snapshot save` writes it.
    public let size: Int64
    /// sha256 of the db bytes, hex: equal to the trailer etcd sent.
    public let sha256: String
}

extension EtcdEndpoint {
    /// Streams `/maintenance/snapshot` to `path` (created with mode 0600, fsynced) and verifies the sha256 trailer etcd
    /// appends after the db bytes. The file is removed when anything goes wrong.
    public func snapshot(to path: String, timeout: Duration = .seconds(300)) async throws -> SnapshotInfo {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw EtcdError.snapshotIntegrity(endpoint: url, detail: "cannot create \(path): errno \(errno)")
        }
        var closed = false
        defer { if !closed { close(fd); unlink(path) } }
        var hasher = SHA256()
        var pending: [UInt8]? = nil          // the latest blob: the trailer if the stream ends after it
        var lineBuffer = ByteBuffer()
        var written: Int64 = 0
        let decoder = JSONDecoder()

        func writeAll(_ bytes: [UInt8]) throws {
            var off = 0
            while off < bytes.count {
                let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { throw EtcdError.snapshotIntegrity(endpoint: url, detail: "write \(path): errno \(errno)") }
                off += n
            }
            written += Int64(bytes.count)
        }
        func handle(line: ByteBuffer) throws {
            guard line.readableBytes > 0 else { return }
            let msg: SnapshotMessage
            do { msg = try decoder.decode(SnapshotMessage.self, from: line) } catch {
                throw EtcdError.decoding(endpoint: url, call: "snapshot", detail: "\(error)")
            }
            if let err = msg.error { throw EtcdError.http(endpoint: url, call: "snapshot", status: 200, code: err.code, message: err.message ?? "") }
            guard let blob = msg.result?.blob else { return }
            if let prev = pending { hasher.update(data: prev) }
            try writeAll(blob)
            pending = blob
        }

        _ = try await transport.stream(endpoint: url, path: apiPrefix + "/maintenance/snapshot", call: "snapshot",
                                       body: Data("{}".utf8), timeout: timeout) { chunk in
            lineBuffer.writeImmutableBuffer(chunk)
            while let nl = lineBuffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let len = nl - lineBuffer.readerIndex
                let line = lineBuffer.readSlice(length: len)!
                lineBuffer.moveReaderIndex(forwardBy: 1)
                try handle(line: line)
            }
            lineBuffer.discardReadBytes()
        }
        try handle(line: lineBuffer)
        guard let trailer = pending, trailer.count == 32, written > 32 else {
            throw EtcdError.snapshotIntegrity(endpoint: url, detail: "stream ended without a sha256 trailer (\(written) bytes)")
        }
        let digest = Array(hasher.finalize())
        guard digest == trailer else {
            throw EtcdError.snapshotIntegrity(endpoint: url, detail: "sha256 trailer does not match the db bytes")
        }
        guard fsync(fd) == 0 else { throw EtcdError.snapshotIntegrity(endpoint: url, detail: "fsync \(path): errno \(errno)") }
        close(fd); closed = true
        return SnapshotInfo(path: path, size: written, sha256: digest.map { String(format: "%02x", $0) }.joined())
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
