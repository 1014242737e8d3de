import EtcdClient
import Foundation
import Rollout

extension Config {
    /// `metrics`: the daemon's own — a `/metrics` listener and/or a node-exporter textfile.
    public struct Metrics: Sendable, Equatable {
        public static let defaultListen = "127.0.0.1:9798"
        /// host:port of the `/metrics` listener; nil: no listener.
        public var listen: String?
        /// A node-exporter textfile-collector file, rewritten (atomically) when a value changed; nil: none.
        public var textfile: String?
    }

    /// `"metrics": null` turns them off; absent, the listener runs on 127.0.0.1:9798.
    static func metrics(_ r: Reader) throws -> Metrics? {
        guard r.has("metrics") else {
            return r.isNull("metrics") ? nil : Metrics(listen: Metrics.defaultListen, textfile: nil)
        }
        let m = try r.object("metrics")
        try m.allow(["listen", "textfile"])
        let listen = m.isNull("listen") ? nil : try m.optionalString("listen") ?? Metrics.defaultListen
        if let l = listen {
            guard let colon = l.lastIndex(of: ":"), let port = Int(l[l.index(after: colon)...]),
                (0...65535).contains(port),
                colon != l.startIndex
            else {
                throw Invalid(key: "metrics.listen", problem: "'\(l)' is not host:port (like 127.0.0.1:9798)")
            }
        }
        return Metrics(listen: listen, textfile: try m.optionalAbsPath("textfile"))
    }
}
