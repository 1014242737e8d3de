import Crypto
import Foundation
import Synchronization
import SystemPackage

/// What a verified snapshot file holds.
public struct SnapshotInfo: Sendable, Equatable {
    public let path: String
    /// Size of the file: the bbolt db plus the 32-byte sha256 trailer, as `etcdctl snapshot save` writes it.
    public let size: Int64
    /// sha256 of the db bytes, hex: equal to the trailer etcd sent.
    public let sha256: String
}

/// The file side of a snapshot: blobs in, db bytes out, the sha256 of everything but the last blob (the trailer).
/// Used by one task at a time (the stream), hence `@unchecked Sendable`.
final class SnapshotFile: @unchecked Sendable {
    let path: String
    let temp: String
    let endpoint: String
    private var fd: FileDescriptor?
    private var hasher = SHA256()
    /// The latest blob: the trailer if the stream ends after it.
    private var pending: Data?
    private(set) var written: Int64 = 0
    /// When the stream last delivered data (read by the idle watch, another task).
    private let progressAt = Mutex(ContinuousClock.now)
    var lastProgress: ContinuousClock.Instant { progressAt.withLock { $0 } }

    init(path: String, endpoint: String) throws {
        self.path = path
        self.endpoint = endpoint
        temp = path + ".partial-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        do {
            fd = try FileDescriptor.open(
                temp, .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                permissions: [.ownerReadWrite])
        } catch {
            throw EtcdError.snapshotIntegrity(endpoint: endpoint, detail: "cannot create \(temp): \(error)")
        }
    }

    /// Any message of the stream, with or without a blob: it is progress either way.
    func append(blob: Data) throws {
        progressAt.withLock { $0 = .now }
        guard !blob.isEmpty else { return }
        if let prev = pending { hasher.update(data: prev) }
        try writeAll(blob)
        pending = blob
    }

    private func writeAll(_ bytes: Data) throws {
        do { _ = try fd?.writeAll(bytes) } catch {
            throw EtcdError.snapshotIntegrity(endpoint: endpoint, detail: "write \(temp): \(error)")
        }
        written += Int64(bytes.count)
    }

    /// Verifies the trailer, fsyncs, and renames the file onto `path`.
    func finish() throws -> SnapshotInfo {
        guard let trailer = pending, trailer.count == 32, written > 32 else {
            throw EtcdError.snapshotIntegrity(
                endpoint: endpoint, detail: "stream ended without a sha256 trailer (\(written) bytes)")
        }
        let digest = Array(hasher.finalize())
        guard digest == Array(trailer) else {
            throw EtcdError.snapshotIntegrity(endpoint: endpoint, detail: "sha256 trailer does not match the db bytes")
        }
        do {
            try fd?.sync()
            // Closed once, whatever close says: a descriptor number is not ours after the first close.
            let open = fd
            fd = nil
            try open?.close()
        } catch {
            throw EtcdError.snapshotIntegrity(endpoint: endpoint, detail: "fsync \(temp): \(error)")
        }
        guard rename(temp, path) == 0 else {
            throw EtcdError.snapshotIntegrity(
                endpoint: endpoint, detail: "rename \(temp) → \(path): \(String(cString: strerror(errno)))")
        }
        return SnapshotInfo(path: path, size: written, sha256: digest.map { String(format: "%02x", $0) }.joined())
    }

    func discard() {
        let open = fd
        fd = nil
        try? open?.close()
        unlink(temp)
    }
}
