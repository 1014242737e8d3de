import AsyncHTTPClient
import Exec
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Rollout

/// One notification: the event, when and where it happened, and what the journal entry says.
public struct Notification: Sendable, Codable, Equatable {
    /// `rollout_accepted`, `rollout_refused`, `member_started`, `member_done`, `member_rolling_back`,
    /// `member_rolled_back`, `halted`, `completed`, `lock_stuck`, `cluster_healthy`.
    public var event: String
    /// ISO 8601, UTC.
    public var time: String
    public var node: MemberName
    public var message: String
    public var rolloutID: RolloutID?
    public var from: String?
    public var to: String?
    public var reason: String?
}

/// Delivers notifications to `notify.command` and `notify.webhook` from a queue of its own: posting never waits, a
/// receiver that hangs or fails delays only the notifications behind it (each attempt has a timeout; the webhook is
/// retried with backoff), and the rollout never waits for any of it. At most `capacity` wait; beyond that the oldest
/// are dropped, with a warning. The bearer token is read at each send and appears in no log.
public final class NotificationSender: Sendable {
    static let capacity = 100
    private let queue: AsyncStream<Notification>.Continuation
    private let worker: Task<Void, Never>

    /// `failed` is told of each notification that could not be delivered ("command" or "webhook").
    public init(_ config: Config.Notify, logger: Logger, failed: @escaping @Sendable (String) -> Void = { _ in }) {
        let (stream, queue) = AsyncStream.makeStream(
            of: Notification.self, bufferingPolicy: .bufferingNewest(Self.capacity))
        self.queue = queue
        worker = Task {
            for await n in stream {
                for target in await Self.deliver(n, config, logger) { failed(target) }
            }
        }
    }

    public func post(_ n: Notification) {
        if case .dropped = queue.yield(n) {
            // (Only `enqueued` or `dropped(oldest)` with bufferingNewest: the oldest waiting one is gone.)
        }
    }

    /// Lets what is queued go out, for at most `seconds` (at shutdown).
    public func finish(within seconds: Double) async {
        queue.finish()
        let worker = self.worker
        let deadline = Task {
            try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            worker.cancel()
        }
        await worker.value
        deadline.cancel()
    }

    /// Sends `n` to each target; returns those that failed.
    static func deliver(_ n: Notification, _ config: Config.Notify, _ logger: Logger) async -> [String] {
        var failed: [String] = []
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: (try? enc.encode(n)) ?? Data(), as: UTF8.self)
        if let argv = config.command {
            do {
                let r = try await Command.run(
                    argv, environment: ["ETCD_SHEPHERD_EVENT": n.event], input: json + "\n", timeout: .seconds(10))
                if !r.succeeded {
                    logger.warning("notify.command for \(n.event): \(r.summary)")
                    failed.append("command")
                }
            } catch {
                logger.warning("notify.command for \(n.event) failed: \(error)")
                failed.append("command")
            }
        }
        if let hook = config.webhook, await !post(json, event: n.event, to: hook, logger) { failed.append("webhook") }
        return failed
    }

    /// Whether the webhook took it (a 2xx) within its attempts.
    static func post(_ json: String, event: String, to hook: Config.Notify.Webhook, _ logger: Logger) async -> Bool {
        var last = ""
        for attempt in 0...hook.retries {
            if attempt > 0 {
                try? await Task.sleep(for: .seconds(1 << min(attempt - 1, 5)))
                if Task.isCancelled { break }
            }
            var request = HTTPClientRequest(url: hook.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "etcd-shepherd")
            if let file = hook.bearerTokenFile {
                do {
                    let token = try PasswordFile.read(
                        file, key: "notify.webhook.bearerTokenFile", what: "the webhook's bearer token")
                    request.headers.add(name: "Authorization", value: "Bearer \(token)")
                } catch {
                    logger.warning("notify.webhook for \(event) not sent: \(error)")
                    return false
                }
            }
            request.body = .bytes(ByteBuffer(string: json))
            do {
                let response = try await HTTPClient.shared.execute(
                    request, timeout: .milliseconds(Int64(hook.timeoutSeconds * 1000)))
                _ = try? await response.body.collect(upTo: 64 * 1024)
                if (200..<300).contains(response.status.code) { return true }
                last = "HTTP \(response.status.code)"
            } catch {
                last = "\(error)"
            }
        }
        logger.warning("notify.webhook for \(event) failed after \(hook.retries + 1) attempts: \(last)")
        return false
    }
}
