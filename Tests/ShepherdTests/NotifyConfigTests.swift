import Foundation
import Testing

@testable import Shepherd

/// `notify` and `fleetLock` in the config: refused with the key and the fix, the token never echoed.
@Suite struct NotifyConfigTests {
    func problem(_ extra: String) -> (key: String, problem: String)? {
        do {
            _ = try Config.parse(
                Data(ConfigTests.base.replacingOccurrences(of: #""controller""#, with: extra + #", "controller""#).utf8)
            )
            return nil
        } catch let e as Config.Invalid {
            return (e.key, "\(e)")
        } catch { return ("?", "\(error)") }
    }

    func check(_ extra: String, key: String, says: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let p = problem(extra)
        #expect(
            p?.key == key && p?.problem.contains(says) == true, "\(extra): \(String(describing: p))",
            sourceLocation: sourceLocation)
    }

    @Test func badNotifyConfigIsRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let token = dir + "/token"
        try "secret-value\n".write(toFile: token, atomically: true, encoding: .utf8)
        chmod(token, 0o644)
        check(
            #""notify": {"webhook": {"url": "https://hooks.example/x", "bearerTokenFile": "\#(token)"}}"#,
            key: "notify.webhook.bearerTokenFile", says: "chmod 600")
        #expect(
            problem(#""notify": {"webhook": {"url": "https://h/x", "bearerTokenFile": "\#(token)"}}"#)?.problem
                .contains("secret-value") == false)
        chmod(token, 0o600)
        #expect(
            problem(#""notify": {"webhook": {"url": "https://hooks.example/x", "bearerTokenFile": "\#(token)"}}"#)
                == nil)
        check(
            #""notify": {"webhook": {"url": "hooks.example/x"}}"#, key: "notify.webhook.url", says: "not an http(s) URL"
        )
        check(#""notify": {"webhook": {"url": "ftp://h/x"}}"#, key: "notify.webhook.url", says: "not an http(s) URL")
        check(
            #""notify": {"webhook": {"url": "https://h/x", "timeoutSeconds": 0}}"#,
            key: "notify.webhook.timeoutSeconds", says: "outside")
        check(#""notify": {"command": ["notify-send"]}"#, key: "notify.command", says: "absolute path")
        check(#""notify": {"command": ["/nonexistent/page"]}"#, key: "notify.command", says: "not an executable")
        check(#""notify": {}"#, key: "notify", says: "neither a command nor a webhook")
        check(#""notify": {"email": "x"}"#, key: "notify.email", says: "unknown key")
    }

    @Test func badFleetLockConfigIsRefused() {
        check(#""fleetLock": {"listen": "9799"}"#, key: "fleetLock.listen", says: "host:port")
        check(#""fleetLock": {"group": "a b"}"#, key: "fleetLock.group", says: "letters")
        #expect(problem(#""fleetLock": {}"#) == nil)
    }
}
