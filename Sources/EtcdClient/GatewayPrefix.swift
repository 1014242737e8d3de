import Foundation
import Synchronization

/// The v3 JSON gateway's path prefix a member serves: `/v3beta` is all 3.3 has, 3.4 and later serve `/v3` (3.4/3.5
/// still answer `/v3beta` too; 3.6 does not). Learned once per endpoint from its `/version`, so a cluster that is
/// rolled from 3.3 to 3.4 is spoken to correctly at every step.
public enum GatewayPrefix {
    public static let current = "/v3"

    /// The prefix for a member reporting `serverVersion` ("3.3.27"); `/v3` when it cannot be read.
    public static func forServer(_ serverVersion: String) -> String {
        let parts = serverVersion.split(separator: ".").prefix(2).compactMap { Int($0) }
        guard parts.count == 2 else { return current }
        return (parts[0], parts[1]) < (3, 4) ? "/v3beta" : current
    }
}

/// What each endpoint's `/version` said about its prefix, shared by every endpoint of a transport. A member that
/// restarts on a new binary is asked again (`forget`) so the prefix follows the version.
final class GatewayPrefixes: Sendable {
    private let known = Mutex<[String: String]>([:])

    func prefix(for url: String, transport: Transport) async -> String {
        if let p = known.withLock({ $0[url] }) { return p }
        guard
            let a = try? await transport.sendOnce(
                endpoint: url, path: "/version", call: "version", method: .GET, body: nil,
                token: nil, timeout: .seconds(2)),
            a.status == 200, let v = try? JSONDecoder().decode(VersionInfo.self, from: a.body)
        else {
            // Unknown (the member is down or cut off): assume the current prefix and remember it, so an unreachable
            // member does not cost every later call another /version deadline; its next `version()` answer (the
            // observer asks every member each tick) corrects it.
            known.withLock { $0[url] = $0[url] ?? GatewayPrefix.current }
            return GatewayPrefix.current
        }
        let p = GatewayPrefix.forServer(v.server)
        known.withLock { $0[url] = p }
        return p
    }

    /// Records what a `/version` answer says (the observer reads every member's version each tick anyway).
    func learn(url: String, serverVersion: String) {
        let p = GatewayPrefix.forServer(serverVersion)
        known.withLock { $0[url] = p }
    }
}
