import Explained
import Foundation
import Rollout
import SystemPackage

/// The operator's upgrade request file: `{"version": "3.5.1", "binary": "...", "sha256": "...", "allowKnownBad": false,
/// "allowAuthRisk": false}`.
public struct UpgradeRequest: Codable, Sendable, Equatable {
    public var version: String
    public var binary: String?
    public var sha256: String?
    public var allowKnownBad: Bool?
    /// Accept a step etcd does not support with auth enabled (3.4 ↔ 3.5); the daemons halt if users or roles change.
    public var allowAuthRisk: Bool?
    /// An intermediate version to roll to first, as one rollout in two hops (`request 3.6.4 --via 3.5.26`).
    public var via: String?

    public init(
        version: String, binary: String? = nil, sha256: String? = nil, allowKnownBad: Bool? = nil,
        allowAuthRisk: Bool? = nil,
        via: String? = nil
    ) {
        self.version = version
        self.binary = binary
        self.sha256 = sha256
        self.allowKnownBad = allowKnownBad
        self.allowAuthRisk = allowAuthRisk
        self.via = via
    }

    /// The request layer's one error: a request refused before anything is written. Its `thing` is left empty — it is
    /// always the request file, whose `.status` beside it carries this reason — so the reason reads as a sentence.
    public struct Refused: ExplainedError {
        public let reason: String
        public let fix: String

        public init(reason: String, fix: String = "") {
            self.reason = reason
            self.fix = fix
        }

        public var thing: String { "" }
        public var cause: String { reason }
    }

    static let maxSize = 64 * 1024

    /// Reads and checks the file without a race: the folder it is in must be owned by root (or the daemon's user)
    /// and writable by nobody else (or a file could be swapped in under us); the file is opened with O_NOFOLLOW (a
    /// symlink is refused) and every check — regular file, owner, mode, size — is made on the opened descriptor,
    /// from which at most the size limit is read. Then strict JSON with known keys, a version and a 64-hex sha256.
    public static func read(path: String) throws -> UpgradeRequest {
        let dir = (path as NSString).deletingLastPathComponent
        try checkOwnership(dir.isEmpty ? "." : dir, what: "the request file's folder", stat: { lstat($0, &$1) })
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, .readOnly, options: [.noFollow, .nonBlocking, .closeOnExec])
        } catch {
            if (error as? Errno) == .tooManySymbolicLinkLevels {
                throw Refused(
                    reason: "\(path) is a symlink",
                    fix: "write the request file itself there (etcd-shepherd request does)")
            }
            throw Refused(reason: "cannot open \(path): \(error)")
        }
        let bytes: [UInt8] = try fd.closeAfter {
            // Every check on the descriptor opened: the file read is the file checked.
            let st: stat
            do { st = try fd.stat().rawValue } catch { throw Refused(reason: "cannot stat \(path): \(error)") }
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw Refused(reason: "\(path) is not a regular file") }
            try checkOwnership(
                path, what: "the request file",
                stat: { _, s in
                    s = st
                    return 0
                })
            guard st.st_size <= maxSize else {
                throw Refused(reason: "\(path) is \(st.st_size) bytes; a request is under \(maxSize)")
            }
            do { return try fd.readUpTo(maxSize + 1) } catch { throw Refused(reason: "cannot read \(path): \(error)") }
        }
        guard bytes.count <= maxSize else {
            throw Refused(reason: "\(path) grew past \(maxSize) bytes while it was read")
        }
        return try parse(Data(bytes))
    }

    /// Owned by root or the daemon's user, writable by nobody else.
    static func checkOwnership(_ path: String, what: String, stat statCall: (String, inout stat) -> Int32) throws {
        var st = stat()
        guard statCall(path, &st) == 0 else {
            throw Refused(reason: "cannot stat \(what) \(path): \(String(cString: strerror(errno)))")
        }
        guard st.st_uid == 0 || st.st_uid == geteuid() else {
            throw Refused(
                reason: "\(what) \(path) is owned by uid \(st.st_uid), not root or the daemon's user",
                fix: "chown root \(path)")
        }
        guard st.st_mode & (S_IWGRP | S_IWOTH) == 0 else {
            throw Refused(
                reason: "\(what) \(path) is group- or world-writable (mode \(String(st.st_mode & 0o777, radix: 8)))",
                fix: "chmod go-w \(path)")
        }
    }

    public static func parse(_ data: Data) throws -> UpgradeRequest {
        let root: [String: JSONValue]
        if data.isEmpty {
            throw Refused(
                reason: "the request is empty", fix: "write {\"version\": \"3.5.30\"} (etcd-shepherd request does)")
        }
        if let dup = JSONDuplicateKeys.first(in: data) {
            throw Refused(reason: "request key \(dup) appears twice", fix: "write it once")
        }
        do {
            guard let o = try JSONValue.object(from: data) else {
                throw Refused(reason: "the request must be a JSON object")
            }
            root = o
        } catch let e as Refused { throw e } catch {
            throw Refused(reason: "the request is not valid JSON: \(JSONProblem.describe(data))")
        }
        let r = Reader(root, path: "")
        do {
            try r.allow(["version", "binary", "sha256", "allowKnownBad", "allowAuthRisk", "via"])
            let req = UpgradeRequest(
                version: try r.string("version"), binary: try r.optionalAbsPath("binary"),
                sha256: try r.optionalString("sha256"), allowKnownBad: try r.optionalBool("allowKnownBad"),
                allowAuthRisk: try r.optionalBool("allowAuthRisk"), via: try r.optionalString("via"))
            if let why = EtcdVersion.problemAsRequested(req.version) { throw Refused(reason: "version \(why)") }
            if let via = req.via {
                if let why = EtcdVersion.problemAsRequested(via) { throw Refused(reason: "via \(why)") }
                if EtcdVersion(via) == EtcdVersion(req.version) {
                    throw Refused(reason: "via \(via) is the target itself", fix: "drop via")
                }
            }
            if let s = req.sha256, s.count != 64 || !s.allSatisfy(\.isHexDigit) {
                throw Refused(reason: "sha256 must be 64 hex digits")
            }
            return req
        } catch let e as Config.Invalid {
            throw Refused(reason: "request key \(e.key): \(e.problem)", fix: e.fix)
        }
    }

    /// Writes a request atomically with mode 0600 (for `etcd-shepherd request`).
    public func write(to path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        try FileIO.ensureDirectory((path as NSString).deletingLastPathComponent, mode: 0o755)
        try FileIO.writeAtomically(try enc.encode(self), to: path, mode: 0o600)
    }

    /// Moves a handled request aside (`.accepted` / `.rejected`) and records the outcome beside it (`RequestOutcome`).
    public static func settle(path: String, outcome: RequestOutcome) {
        // The outcome first: whoever sees the renamed file finds the matching reason beside it.
        try? outcome.write(requestFile: path)
        let target = path + (outcome.state == .accepted ? ".accepted" : ".rejected")
        unlink(target)
        rename(path, target)
    }
}
