/// A member's configuration as etcd will see it, gathered from wherever it lives: command-line flags, ETCD_*
/// environment variables, and the keys of a `--config-file` YAML. Each setting remembers where it came from.
public struct MemberSettings: Sendable, Equatable {
    public enum Source: Sendable, Equatable { case flag, environment, configFile }

    public struct Setting: Sendable, Equatable {
        /// The flag name without dashes ("log-output"), whatever the source.
        public let name: String
        /// nil for a bare boolean flag ("--debug").
        public let value: String?
        public let source: Source
        /// e.g. "ExecStart of etcd.service", "/proc/812/environ", "/etc/etcd/etcd.yml".
        public let origin: String
        public init(name: String, value: String?, source: Source, origin: String) {
            self.name = name
            self.value = value
            self.source = source
            self.origin = origin
        }
        /// How the operator wrote it.
        public var spelled: String {
            switch source {
            case .flag: return "--\(name)\(value.map { "=\($0)" } ?? "")"
            case .environment: return "ETCD_\(name.uppercased().replacingDashes())=\(value ?? "")"
            case .configFile: return "\(name): \(value ?? "")"
            }
        }
    }

    public var settings: [Setting]
    public init(_ settings: [Setting] = []) { self.settings = settings }

    /// Flags from an argv (everything after the binary): `--a=b`, `--a b`, `-a b`, bare `--a`.
    public static func flags(_ argv: [String], origin: String) -> [Setting] {
        var out: [Setting] = []
        var i = 0
        while i < argv.count {
            let arg = argv[i]
            guard arg.hasPrefix("-"), arg.count > 1 else {
                i += 1
                continue
            }
            var name = Substring(arg).drop { $0 == "-" }
            var value: String? = nil
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = name[..<eq]
            } else if i + 1 < argv.count, !argv[i + 1].hasPrefix("-") {
                value = argv[i + 1]
                i += 1
            }
            out.append(Setting(name: String(name), value: value, source: .flag, origin: origin))
            i += 1
        }
        return out
    }

    /// ETCD_* variables ("ETCD_LOG_OUTPUT" → "log-output"); ETCDCTL_* and others are not etcd's.
    public static func environment(_ env: [String: String], origin: String) -> [Setting] {
        env.keys.sorted().compactMap { k in
            guard k.hasPrefix("ETCD_") else { return nil }
            let name = String(k.dropFirst(5)).lowercased().map { $0 == "_" ? "-" : $0 }
            return Setting(name: String(name), value: env[k], source: .environment, origin: origin)
        }
    }
}

extension String {
    func replacingDashes() -> String { String(map { $0 == "-" ? "_" : $0 }) }
}
