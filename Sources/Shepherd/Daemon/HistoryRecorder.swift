import EtcdClient
import Foundation
import Logging
import Rollout

/// Appends this member's marks to its `MemberHistory` in etcd, from a queue of its own: the rollout never waits for
/// it, and a write that fails is logged and dropped.
public final class HistoryRecorder: Sendable {
    struct Entry {
        let rolloutID: RolloutID
        let mark: MemberHistory.Mark
    }
    private let queue: AsyncStream<Entry>.Continuation

    public init(cluster: any EtcdAPI, keyPrefix: String, member: MemberName, logger: Logger) {
        let (stream, queue) = AsyncStream.makeStream(of: Entry.self, bufferingPolicy: .bufferingNewest(200))
        self.queue = queue
        Task {
            // The current rollout's history as written, read back once per rollout (a restarted daemon appends).
            var current: (id: RolloutID, history: MemberHistory)?
            for await e in stream {
                let key = MemberHistory.prefix(keyPrefix, rolloutID: e.rolloutID) + member.rawValue
                do {
                    if current?.id != e.rolloutID {
                        let r = try await cluster.range(key, prefix: false, avoiding: [])
                        let known = r.kvs.first.flatMap {
                            try? JSONDecoder().decode(MemberHistory.self, from: Data($0.value))
                        }
                        current = (e.rolloutID, known ?? MemberHistory(member: member, marks: []))
                    }
                    current?.history.marks.append(e.mark)
                    let value = Array(try JSONEncoder().encode(current!.history))
                    _ = try await cluster.txn(compare: [], success: [.put(key: key, value: value)], avoiding: [])
                } catch {
                    logger.debug("history mark \(e.mark.kind) of \(e.rolloutID) not written: \(error)")
                }
            }
        }
    }

    public func record(_ kind: String, rolloutID: RolloutID, text: String, at: Double = Date().timeIntervalSince1970) {
        queue.yield(Entry(rolloutID: rolloutID, mark: .init(kind: kind, at: at, text: text)))
    }
}
