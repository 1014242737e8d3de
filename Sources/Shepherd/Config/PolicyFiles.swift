import Foundation
import Rollout

/// The operator's policy files: every `*.json` in `policyDir` (default `/etc/etcd-shepherd/policy.d`), applied in
/// name order on top of the built-in policy, each only making it stricter (`VersionPolicy.applying`). Read with the
/// config, at start and on SIGHUP; a bad file stops the load like bad config does (exit 5), and a running daemon
/// keeps the policy it had.
///
/// ```json
/// { "knownBad":   [{"from": "3.5.30", "to": "3.5.30", "reference": "etcd-io/etcd#99999", "why": "...", "source":
/// "https://..."}],
///   "floors":     [{"from": "3.5", "to": "3.6", "minimum": "3.5.33", "why": "...", "source": "https://..."}],
///   "advisories": [{"id": "CVE-2027-0001", "fixedIn": ["3.5.35", "3.6.16"], "summary": "...", "source":
/// "https://..."}] }
/// ```
public enum PolicyFiles {
    public static let defaultDir = "/etc/etcd-shepherd/policy.d"
    static let maxSize = 256 * 1024

    /// The built-in policy with every file of `dir` applied; a missing folder is no files.
    public static func load(dir: String) throws -> VersionPolicy {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else { return .builtIn }
        guard isDir.boolValue else {
            throw PolicyOverlay.Problem(
                origin: dir, problem: "is not a folder (policyDir names a folder of *.json files)")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter {
            $0.hasSuffix(".json") && !$0.hasPrefix(".")
        }.sorted()
        var policy = VersionPolicy.builtIn
        for name in names {
            let path = dir + "/" + name
            let overlay = try read(path)
            policy = try policy.applying(overlay)
        }
        return policy
    }

    /// One file: owned by root or the daemon's user and writable by nobody else (it can block every upgrade), strict
    /// JSON, known keys only, every row with its source.
    static func read(_ path: String) throws -> PolicyOverlay {
        do {
            try UpgradeRequest.checkOwnership(path, what: "policy file", stat: { lstat($0, &$1) })
        } catch let e as UpgradeRequest.Refused {
            throw PolicyOverlay.Problem(origin: path, problem: e.reason, fix: e.fix)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PolicyOverlay.Problem(origin: path, problem: "cannot read it: \(String(cString: strerror(errno)))")
        }
        guard data.count <= maxSize else {
            throw PolicyOverlay.Problem(
                origin: path, problem: "is \(data.count) bytes; a policy file is under \(maxSize)")
        }
        if let dup = JSONDuplicateKeys.first(in: data) {
            throw PolicyOverlay.Problem(origin: path, problem: "key \(dup) appears twice; keep one")
        }
        let root: [String: JSONValue]
        do {
            guard let o = try JSONValue.object(from: data) else {
                throw PolicyOverlay.Problem(origin: path, problem: "must be a JSON object")
            }
            root = o
        } catch let e as PolicyOverlay.Problem { throw e } catch {
            throw PolicyOverlay.Problem(origin: path, problem: "not valid JSON: \(JSONProblem.describe(data))")
        }
        do { return try overlay(Reader(root, path: ""), origin: path) } catch let e as Config.Invalid {
            throw PolicyOverlay.Problem(origin: path, row: e.key, problem: e.problem)
        }
    }

    static func overlay(_ r: Reader, origin: String) throws -> PolicyOverlay {
        let known: Set<String> = ["knownBad", "floors", "advisories"]
        for k in r.o.keys.sorted() where !known.contains(k) {
            throw Config.Invalid(
                key: k,
                problem: "unknown key (known: \(known.sorted().joined(separator: ", "))): a policy file can only "
                    + "add known-bad ranges and advisories and add or raise floors, never remove or lower anything")
        }
        var o = PolicyOverlay(origin: origin)
        for (i, row) in try r.objects("knownBad").enumerated() {
            try row.allow(["from", "to", "reference", "why", "source"])
            let from = try row.version("from"), to = try row.version("to")
            guard from <= to else {
                throw Config.Invalid(key: "knownBad[\(i)]", problem: "from \(from) is above to \(to)")
            }
            o.knownBad.append(
                .init(
                    range: from...to, reference: try row.string("reference"), why: try row.string("why"),
                    source: try row.source("source")))
        }
        for row in try r.objects("floors") {
            try row.allow(["from", "to", "minimum", "why", "source"])
            let from = try row.minor("from"), to = try row.minor("to")
            o.floors.append(
                .init(
                    from: from, to: to, minimum: try row.version("minimum"), source: try row.source("source"),
                    why: try row.string("why")))
        }
        for row in try r.objects("advisories") {
            try row.allow(["id", "fixedIn", "summary", "source"])
            let fixed = try row.stringArray("fixedIn").enumerated().map { i, s in
                guard EtcdVersion.problemAsRequested(s) == nil, let v = EtcdVersion(s) else {
                    throw Config.Invalid(
                        key: row.key("fixedIn[\(i)]"), problem: "'\(s)' is not an etcd release (like 3.5.30)")
                }
                return v
            }
            guard !fixed.isEmpty else {
                throw Config.Invalid(key: row.key("fixedIn"), problem: "needs at least one fixed release")
            }
            o.advisories.append(
                .init(
                    id: try row.string("id"), fixedIn: fixed, summary: try row.string("summary"),
                    source: try row.source("source")))
        }
        return o
    }
}

extension Reader {
    /// An array of objects (absent: none).
    func objects(_ k: String) throws -> [Reader] {
        guard has(k) else { return [] }
        guard case let .array(a) = o[k]! else {
            throw Config.Invalid(key: key(k), problem: "must be an array of objects")
        }
        return try a.enumerated().map { i, v in
            guard case let .object(d) = v else {
                throw Config.Invalid(key: key("\(k)[\(i)]"), problem: "must be an object")
            }
            return Reader(d, path: key("\(k)[\(i)]"))
        }
    }

    func version(_ k: String) throws -> EtcdVersion {
        let s = try string(k)
        if let why = EtcdVersion.problemAsRequested(s) { throw Config.Invalid(key: key(k), problem: why) }
        return EtcdVersion(s)!
    }

    /// "3.5": a minor line.
    func minor(_ k: String) throws -> String {
        let s = try string(k)
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else {
            throw Config.Invalid(key: key(k), problem: "'\(s)' is not a minor line (like 3.5)")
        }
        return s
    }

    /// Every row says where it comes from: a URL.
    func source(_ k: String) throws -> String {
        let s = try string(k)
        guard s.hasPrefix("https://") || s.hasPrefix("http://") else {
            throw Config.Invalid(key: key(k), problem: "'\(s)' is not a URL: every row names the page it comes from")
        }
        return s
    }
}
