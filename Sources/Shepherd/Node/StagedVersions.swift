import Foundation
import Rollout

/// The versions staged on this node for a path template: `/opt/etcd/{version}/etcd` → the folders of /opt/etcd that
/// hold an executable etcd; `/usr/local/bin/etcd-{version}` → the `etcd-X.Y.Z` files there. The same for any tool
/// (`etcdutl`) whose template is the binary's with the tool's name.
enum StagedVersions {
    static func all(_ template: String) -> [EtcdVersion] {
        guard let range = template.range(of: "{version}") else { return [] }
        // The path component that holds {version}: what comes before and after it in that component.
        let before = template[..<range.lowerBound], after = template[range.upperBound...]
        guard let slash = before.lastIndex(of: "/") else { return [] }
        let parent = String(before[..<slash]), prefix = String(before[before.index(after: slash)...])
        let suffix = String(after.prefix { $0 != "/" })
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent.isEmpty ? "/" : parent)) ?? []
        return names.compactMap { name -> EtcdVersion? in
            guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else {
                return nil
            }
            let middle = String(name.dropFirst(prefix.count).dropLast(suffix.count))
            guard let v = EtcdVersion(middle), v.description == middle,
                FileManager.default.isExecutableFile(
                    atPath: template.replacingOccurrences(of: "{version}", with: middle))
            else { return nil }
            return v
        }.sorted()
    }

    /// The newest staged version of `minor` at or above `floor`.
    static func newest(_ template: String, minor: String, atLeast floor: EtcdVersion) -> EtcdVersion? {
        all(template).filter { $0.minorVersion == minor && $0 >= floor }.max()
    }

    /// A tool's template beside the etcd binary's: the file name's leading "etcd" becomes the tool's name
    /// (`/opt/etcd/{version}/etcd` → `/opt/etcd/{version}/etcdutl`, `/bin/etcd-{version}` → `/bin/etcdutl-{version}`).
    static func toolTemplate(_ binaryTemplate: String, tool: String) -> String? {
        let dir = (binaryTemplate as NSString).deletingLastPathComponent,
            file = (binaryTemplate as NSString).lastPathComponent
        guard file.hasPrefix("etcd") else { return nil }
        return dir + "/" + tool + file.dropFirst("etcd".count)
    }
}
