import EtcdClient
import Foundation
import Rollout

extension Config {
    /// `member`: this node's etcd member — its name, client URL, data dir, the binary link its service runs and
    /// where each version's binary lives.
    public struct Member: Sendable, Equatable {
        public var name: MemberName
        public var clientURL: String
        public var dataDir: String
        /// The symlink the member's service executes; the daemon repoints it atomically.
        public var binaryLink: String
        /// Where each version's binary lives; `{version}` is replaced ("/opt/etcd/{version}/etcd").
        public var binaryPathTemplate: String
        public func binaryPath(_ v: EtcdVersion) -> String {
            binaryPathTemplate.replacingOccurrences(of: "{version}", with: v.description)
        }
    }

    static func member(_ m: Reader) throws -> Member {
        try m.allow(["name", "clientURL", "dataDir", "binaryLink", "binaryPathTemplate"])
        let member = Member(
            name: MemberName(try m.string("name")), clientURL: try m.url("clientURL"),
            dataDir: try m.absPath("dataDir"),
            binaryLink: try m.absPath("binaryLink"), binaryPathTemplate: try m.absPath("binaryPathTemplate"))
        // The name keys this member's record in etcd, where every daemon checks names (`Identifier`): one it would
        // refuse there must be refused here, or the daemon would block on its own record.
        if let why = member.name.problem {
            throw Invalid(
                key: "member.name",
                problem: "'\(Identifier.shown(member.name.rawValue))' \(why)",
                fix: "name the member with letters, digits, '.', '_' and '-' only (its etcd --name)")
        }
        guard member.binaryPathTemplate.contains("{version}") else {
            throw Invalid(key: "member.binaryPathTemplate", problem: "must contain {version}")
        }

        return member
    }
}
