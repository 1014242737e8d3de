import Foundation
import NIOHTTP1
import Testing

@testable import Shepherd

/// FleetLock requests as the server reads them: the protocol's shape, each way to get it wrong named by `kind`.
@Suite struct FleetLockParseTests {
    let body = Array(#"{"client_params": {"id": "node-a", "group": "default"}}"#.utf8)
    let header: HTTPHeaders = ["fleet-lock-protocol": "true"]

    func kind(
        _ method: HTTPMethod = .POST, _ uri: String = "/v1/pre-reboot", headers: HTTPHeaders? = nil,
        body: [UInt8]? = nil
    ) -> (Int, String)? {
        switch FleetLockServer.parse(
            method: method, uri: uri, headers: headers ?? header, body: body ?? self.body, group: "default")
        {
        case .success: return nil
        case let .failure(a): return (a.status, a.kind)
        }
    }

    @Test func aValidCallIsReadWithItsClient() {
        let call = try? FleetLockServer.parse(
            method: .POST, uri: "/v1/steady-state", headers: header, body: body, group: "default"
        ).get()
        #expect(call == FleetLockCall(operation: .steadyState, clientID: "node-a", group: "default"))
    }

    @Test func everyBadRequestGetsItsKind() {
        #expect(kind(.GET)! == (405, "method_not_allowed"))
        #expect(kind(uri: "/v1/reboot")! == (404, "not_found"))
        #expect(kind(headers: [:])! == (400, "missing_protocol_header"))
        #expect(kind(headers: ["fleet-lock-protocol": "false"])! == (400, "missing_protocol_header"))
        #expect(kind(body: Array("{not json".utf8))! == (400, "malformed_body"))
        #expect(kind(body: Array(#"{"client_params": {"id": ""}}"#.utf8))! == (400, "malformed_body"))
        #expect(
            kind(body: Array(#"{"client_params": {"id": "", "group": "default"}}"#.utf8))! == (400, "malformed_body"))
        #expect(
            kind(body: Array(#"{"client_params": {"id": "a", "group": "workers"}}"#.utf8))! == (400, "unknown_group"))
        #expect(kind(body: Array(repeating: 32, count: 20_000))! == (413, "body_too_large"))
    }

    func kind(uri: String) -> (Int, String)? { kind(.POST, uri) }
}
