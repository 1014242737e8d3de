import Foundation

/// The config file and its drop-ins: `config.d/*.json` beside it (`/etc/etcd-shepherd/config.d/`), merged over it in
/// name order, as Zincati merges its `config.d` — objects key by key, anything else (a string, a number, an array,
/// `null`) replaced whole. A package or a configuration tool can then own one drop-in each without editing the main
/// file. Every file is checked on its own first (valid JSON, an object, no key twice), and a problem names the file.
public struct ConfigSources: Sendable {
    /// The files read, in the order they were merged: the main file first.
    public let files: [String]
    /// The merged document.
    let merged: [String: JSONValue]
    /// Which file set each leaf, by its dotted key (`cluster.endpoints`, `timing.tickSeconds`).
    public let origins: [String: String]

    /// Where the drop-ins of the config at `path` live.
    public static func dropInDir(for path: String) -> String {
        // The folder as the path spells it (shown in `config show` and in errors).
        (path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ".") + "/config.d"
    }

    public static func read(path: String, main data: Data) throws -> ConfigSources {
        var merged = try object(data, file: nil)
        var origins: [String: String] = [:]
        note(merged, file: path, prefix: "", into: &origins)
        var files = [path]
        let dir = dropInDir(for: path)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
        for name in names {
            let file = dir + "/" + name
            guard let data = FileManager.default.contents(atPath: file) else {
                throw Config.Invalid(
                    key: "(file)", problem: "cannot read the drop-in \(file): fix its mode or remove it")
            }
            let layer = try object(data, file: file)
            note(layer, file: file, prefix: "", into: &origins)
            merged = merge(merged, layer)
            files.append(file)
        }
        return ConfigSources(files: files, merged: merged, origins: origins)
    }

    static func object(_ data: Data, file: String?) throws -> [String: JSONValue] {
        let whose = file.map { " (in the drop-in \($0))" } ?? ""
        if let dup = JSONDuplicateKeys.first(in: data) {
            throw Config.Invalid(key: dup, problem: "appears twice" + whose, fix: "keep one")
        }
        do {
            guard let o = try JSONValue.object(from: data) else {
                throw Config.Invalid(key: "(root)", problem: "must be a JSON object" + whose)
            }
            return o
        } catch let e as Config.Invalid { throw e } catch {
            throw Config.Invalid(key: "(file)", problem: "not valid JSON\(whose): \(JSONProblem.describe(data))")
        }
    }

    /// `layer` over `base`: objects key by key, anything else replaced.
    static func merge(_ base: [String: JSONValue], _ layer: [String: JSONValue]) -> [String: JSONValue] {
        var out = base
        for (key, value) in layer {
            if case let .object(over) = value, case let .object(under)? = base[key] {
                out[key] = .object(merge(under, over))
            } else {
                out[key] = value
            }
        }
        return out
    }

    /// Records `file` as the origin of every leaf of `value`; a replaced object's old leaves are dropped with it.
    static func note(_ value: [String: JSONValue], file: String, prefix: String, into origins: inout [String: String]) {
        for (key, v) in value {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            if case let .object(o) = v {
                origins[path] = nil  // an object over a value that was not one
                note(o, file: file, prefix: path, into: &origins)
            } else {
                for k in origins.keys where k.hasPrefix(path + ".") { origins[k] = nil }
                origins[path] = file
            }
        }
    }

    /// The merged document as JSON (keys sorted), what the daemon runs with.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(JSONValue.object(merged))) ?? Data(), as: UTF8.self)
    }
}

/// What `config show -w json` prints: the files, the merged document, each key's origin, and whether it is valid.
public struct ConfigShown: Encodable, Sendable {
    public let files: [String]
    let config: JSONValue
    public let origins: [String: String]
    public let valid: Bool
    public let problem: String?

    public init(_ sources: ConfigSources, problem: String?) {
        files = sources.files
        config = .object(sources.merged)
        origins = sources.origins
        valid = problem == nil
        self.problem = problem
    }
}
