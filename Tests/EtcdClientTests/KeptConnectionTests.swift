import Foundation
import TestSupport
import Testing

@testable import EtcdClient

/// A member's kept gRPC client outlives the member's restart. Told to go away by the stopping member, gRPC connects
/// again at once, is refused while nothing listens, and fails every call made during its reconnect backoff (1 s and
/// more) with that refusal — even once the member is back. Seen on real 3.5.30 (`AuthTokenTests`, one run in three):
/// the first put after a member's restart failed "connection refused" while the member served.
@Suite struct KeptConnectionTests {
    /// Fifty restarts: whether gRPC's reconnect is refused before the member is back is a race (one restart in four
    /// without the mend).
    @Test func theFirstCallAfterAMemberCameBackIsAnswered() async throws {
        let transport = try Transport()
        do {
            var port = 0
            for restart in 0...50 {
                port = try await Etcd33Double.with(port: port) { url in
                    let names = try await EtcdEndpoint(url: url, transport: transport).memberList().map(\.name)
                    #expect(names == ["old33"], "the first call after restart \(restart)")
                    return try #require(URLComponents(string: url)?.port)
                }
                // The member is down: its port refuses connections (ours, and the kept client's reconnect).
                let down = await eventually(timeout: .seconds(5)) { SafetyMonitor.refusesConnections(port: port) }
                try #require(down, "port \(port) still accepts connections 5 s after the double stopped")
            }
        } catch {
            try await transport.shutdown()
            throw error
        }
        try await transport.shutdown()
    }
}
