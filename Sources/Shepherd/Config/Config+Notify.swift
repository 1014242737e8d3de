import Foundation
import Rollout

extension Config {
    /// `notify`: where the daemon tells people about a rollout — a command and/or a webhook. Off by default.
    public struct Notify: Sendable, Equatable {
        /// argv run with the event as JSON on stdin and `ETCD_SHEPHERD_EVENT=<event>` in its environment.
        public var command: [String]?
        public var webhook: Webhook?
        /// The lock held this long by one daemon is an event of its own (`lock_stuck`).
        public var lockStuckSeconds: Double

        public struct Webhook: Sendable, Equatable {
            public var url: String
            /// A file holding the bearer token alone (root-owned, mode 0600): sent as `Authorization: Bearer`, read at
            /// each send (a rotated token is picked up), never logged.
            public var bearerTokenFile: String?
            public var timeoutSeconds: Double
            /// Attempts after the first failure, 1 s, 2 s, 4 s … apart.
            public var retries: Int
        }
    }

    static func notify(_ r: Reader) throws -> Notify? {
        guard r.has("notify") else { return nil }
        let n = try r.object("notify")
        try n.allow(["command", "webhook", "lockStuckMinutes"])
        let command = n.has("command") ? try n.stringArray("command") : nil
        if let command {
            guard let first = command.first, first.hasPrefix("/") else {
                throw Invalid(
                    key: "notify.command", problem: "must be an argv whose first element is an absolute path")
            }
            guard FileManager.default.isExecutableFile(atPath: first) else {
                throw Invalid(key: "notify.command", problem: "\(first) is not an executable file")
            }
        }
        var webhook: Notify.Webhook?
        if n.has("webhook") {
            let w = try n.object("webhook")
            try w.allow(["url", "bearerTokenFile", "timeoutSeconds", "retries"])
            let token = try w.optionalAbsPath("bearerTokenFile")
            // Checked now (owner, mode, one line), so a bad token file refuses the config instead of each event.
            if let token {
                _ = try PasswordFile.read(
                    token, key: "notify.webhook.bearerTokenFile", what: "the webhook's bearer token")
            }
            webhook = Notify.Webhook(
                url: try w.url("url"), bearerTokenFile: token,
                timeoutSeconds: try w.number("timeoutSeconds", default: 5, range: 0.5...60),
                retries: Int(try w.number("retries", default: 3, range: 0...10)))
        }
        guard command != nil || webhook != nil else {
            throw Invalid(key: "notify", problem: "names neither a command nor a webhook")
        }
        return Notify(
            command: command, webhook: webhook,
            lockStuckSeconds: 60 * (try n.number("lockStuckMinutes", default: 15, range: 1...1440)))
    }
}
