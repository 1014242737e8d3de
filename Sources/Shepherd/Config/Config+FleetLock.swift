import Foundation
import Rollout

extension Config {
    /// `fleetLock`: this node's FleetLock server for Zincati (or anything speaking the protocol). Off by default.
    public struct FleetLock: Sendable, Equatable {
        public static let defaultListen = "127.0.0.1:9799"
        /// host:port of the listener (Zincati on this node points its `base_url` at it).
        public var listen: String
        /// The only `client_params.group` served (Zincati's default is "default").
        public var group: String
    }

    static func fleetLock(_ r: Reader) throws -> FleetLock? {
        guard r.has("fleetLock") else { return nil }
        let f = try r.object("fleetLock")
        try f.allow(["listen", "group"])
        let listen = try f.optionalString("listen") ?? FleetLock.defaultListen
        guard let colon = listen.lastIndex(of: ":"), colon != listen.startIndex,
            let port = Int(listen[listen.index(after: colon)...]), (1...65535).contains(port)
        else {
            throw Invalid(key: "fleetLock.listen", problem: "'\(listen)' is not host:port (like 127.0.0.1:9799)")
        }
        let group = try f.optionalString("group") ?? "default"
        guard group.count <= 64, group.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw Invalid(key: "fleetLock.group", problem: "'\(group)' must be 1–64 letters, digits, '-', '_' or '.'")
        }
        return FleetLock(listen: listen, group: group)
    }
}
