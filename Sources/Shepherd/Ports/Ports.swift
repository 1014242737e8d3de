import EtcdClient
import Rollout

/// Everything the supervisor reaches the world through. Production implementations talk to etcd, systemd and the
/// disk; the fleet simulator (Tests/SimulationTests) plugs in-memory ones into the same supervisor. No port decides
/// anything: every rule lives in `Rollout`.
public struct SupervisorPorts: Sendable {
    public var cluster: any ClusterObserving
    public var store: any RolloutStoring
    public var lock: any UpgradeLock
    public var controller: any MemberController
    public var link: any BinaryLinking
    public var journal: any JournalStoring
    public var maintenance: any Maintenance
    public var preflight: any Preflighting
    public var clock: any ShepherdClock
    public var streams: any LocalStreams
    /// Where requests come from (nil: this supervisor takes none).
    public var requests: (any RequestInbox)?

    public init(
        cluster: any ClusterObserving, store: any RolloutStoring, lock: any UpgradeLock,
        controller: any MemberController,
        link: any BinaryLinking, journal: any JournalStoring, maintenance: any Maintenance, preflight: any Preflighting,
        clock: any ShepherdClock, streams: any LocalStreams = NoStreams(), requests: (any RequestInbox)? = nil
    ) {
        self.cluster = cluster
        self.store = store
        self.lock = lock
        self.controller = controller
        self.link = link
        self.journal = journal
        self.maintenance = maintenance
        self.preflight = preflight
        self.clock = clock
        self.streams = streams
        self.requests = requests
    }
}

/// Observes every member of the cluster. Contract: answers from any member that is up (never needs the local
/// member); throws only when no member could list the cluster; `startedAt` is read from the clock port before the
/// first health question is sent.
public protocol ClusterObserving: Sendable {
    /// `metrics`: whose `/metrics` to scrape this time.
    func observe(metrics: ClusterObserver.MetricsScope) async throws -> ClusterView
    /// The digest of etcd's users, roles and permissions (auth-enabled clusters; asked only while a rollout that
    /// accepted an auth-sensitive step runs). Throws when it cannot be read.
    func authFingerprint() async throws -> String
    /// Whether the member at `url` answers `/health` healthy now: one question with a short deadline; never throws.
    func answers(_ url: String) async -> Bool
    /// Whether a process may serve `url`: anything but a refused connection within 2 s — an unhealthy answer (a member
    /// restarted without quorum), a late one (etcd 3.4 without a leader answers after 1 s), a failed call — says yes.
    /// Never throws.
    func responds(_ url: String) async -> Bool
    /// The release the member at `url` runs now (`/version`, a short deadline); nil when it does not say.
    func runningVersion(_ url: String) async -> EtcdVersion?
}

/// The protocol's records in etcd (DESIGN.md). Contract: reads are linearizable; a fenced write succeeds only while
/// the lock key still has the fence's create revision and throws a `StoreError` that `isFenceLost` otherwise; a
/// failed call may still have been applied (the caller re-reads before relying on it).
public protocol RolloutStoring: Sendable {
    func read(avoiding: Set<String>) async throws -> RolloutStore.Snapshot
    func writeRecordFenced(_ name: MemberName, _ rec: MemberRecord, lock: LockHold, avoiding: Set<String>) async throws
    func putBackupFenced(_ backupKey: String, _ rec: BackupRecord, lock: LockHold, avoiding: Set<String>) async throws
    /// The owner's clearing write without the lock: CAS on the record's mod revision (0: the record must be absent).
    func writeRecordCAS(_ name: MemberName, _ rec: MemberRecord, modRevision: Int64) async throws -> Bool
    func putRebootFenced(_ hold: RebootHold, lock: LockHold) async throws
    func deleteRebootCAS(_ node: MemberName, modRevision: Int64) async throws -> Bool
    /// With a `fence`, written only while that lock key is still ours (a `StoreError` that `isFenceLost` otherwise).
    /// `lastLook` runs after the read the write rests on, right before the write; when it throws, nothing is written.
    func setRolloutState(
        _ state: RolloutState, reason: String?, allowedFrom: Set<RolloutState>,
        avoiding: Set<String>, fence: LockHold?, lastLook: (@Sendable () async throws -> Void)?
    ) async throws -> RolloutRecord
    /// Moves an active rollout `r` to its next hop (CAS on the record, fenced on the lock and looked at last like
    /// `setRolloutState`); idempotent: a record already past `r`'s hop is returned as it is. Throws when the rollout
    /// is no longer `r`'s or no longer active.
    func advanceHop(
        _ r: RolloutRecord, fence: LockHold?, lastLook: (@Sendable () async throws -> Void)?
    ) async throws -> RolloutRecord
}

extension RolloutStoring {
    /// A state change with no last look (a halt, a pause, an abort: nothing they write rests on a member's process).
    public func setRolloutState(
        _ state: RolloutState, reason: String?, allowedFrom: Set<RolloutState>, avoiding: Set<String>,
        fence: LockHold?
    ) async throws -> RolloutRecord {
        try await setRolloutState(
            state, reason: reason, allowedFrom: allowedFrom, avoiding: avoiding, fence: fence, lastLook: nil)
    }
}

/// The cluster-wide upgrade lock on a lease of our own. Contract: `current()` is nil once the lock is known lost;
/// its `leaseRemaining` counts from when the last successful keepalive was *sent*; `release()` never throws (an
/// unrevoked lease expires within its TTL).
public protocol UpgradeLock: Sendable {
    func current() async -> LockHold?
    /// One keepalive round (the production lock runs them in the background every TTL/4; the simulator calls it).
    func keepAliveOnce() async
    /// Tries to acquire within `wait`; false (leaving nothing behind) when another holder keeps it.
    func acquire(wait: Duration) async throws -> Bool
    func markLost(_ why: String) async
    func release() async
    /// Why the lock was lost, once.
    func takeLossReason() async -> String?
}

/// The symlink the member's service executes. Contract: `point(to:)` is atomic (the link is always the old or the new
/// target) and durable when it returns.
public protocol BinaryLinking: Sendable {
    func target() -> String?
    func point(to binary: String) throws
}

/// The crash-safe local journal. Contract: a `write` that returned survives a crash of the daemon; `read` returns
/// what the last successful write or clear left.
public protocol JournalStoring: Sendable {
    func read() throws -> JournalEntry?
    func write(_ entry: JournalEntry) throws
    func clear() throws
}

/// Calls that go to one specific member. Contract: `takeBackup` returns only a verified snapshot (sha256) that is
/// on disk; `transferLeadership` returns only once leadership moved to `target`.
public protocol Maintenance: Sendable {
    /// Streams a snapshot from the leader into this node's backup dir and verifies it. May run for minutes on a large
    /// db: it calls `progress` as data arrives (the daemon's watchdog is fed from it) and fails once no data arrives
    /// for a few seconds, so a hung member cannot outlast the watchdog.
    func takeBackup(
        leaderURL: String, leaderID: String, backupKey: String, node: MemberName,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws -> BackupRecord
    func transferLeadership(leaderURL: String, to target: MemberID) async throws
}

/// This node's preflight for a rollout (gate 6): the target binary, the data dir, the member's configuration; and for
/// a request before it is accepted (its binary, every hop's).
public protocol Preflighting: Sendable {
    func check(_ config: Config, rollout: RolloutRecord) async -> [Finding]
    func checkRequest(_ config: Config, request: UpgradeRequest, from: EtcdVersion) async -> [Finding]
}

/// Time, the only way the shell reads it. `now()` is monotonic seconds (every timeout uses it); `wallNow()` only
/// stamps records for people; `sleep` waits on that clock (the simulator's runs the rest of the fleet meanwhile).
public protocol ShepherdClock: Sendable {
    func now() -> Double
    func wallNow() -> Double
    func sleep(seconds: Double) async throws
}

/// Long-lived streams the daemon keeps open on its own member (the change watch). Contract: `close()` returns only
/// once none is open, nor any other connection of ours to the member — etcd 3.4 waits up to its request timeout
/// (7 s) for open gRPC streams before it exits, etcd 3.5 for the first bytes of every open connection — so the
/// supervisor closes them right before it stops its member; `reopen()` is idempotent and called once no sequence of
/// this daemon is in flight.
public protocol LocalStreams: Sendable {
    func close() async
    func reopen()
    /// Closes every connection of ours to a peer (`url`) about to be stopped by its own daemon, without waiting for
    /// them to be gone (a tick must not hang on a member going down; they go within moments): etcd 3.5's SIGTERM waits for the first bytes of every open connection, and a pooled connection
    /// opened for a request that another connection served never carries one (measured: a 3.5.16 member's stop took
    /// 3.1 s instead of 1.1 s, `ss` showing one such connection from a peer's daemon until its pool's idle timeout).
    func closeConnections(to url: String) async
    /// The peers about to be stopped (replacing the last set): calls that may go to any member avoid them.
    func drain(_ urls: Set<String>)
    /// Raised when a lock key changes, while the watch is open (nil: no watch): a daemon queued for the lock looks
    /// again at once.
    var lockChanges: Wakeup? { get }
}

/// No streams (the simulator, one-shot commands).
public struct NoStreams: LocalStreams {
    public init() {}
    public func close() async {}
    public func reopen() {}
    public func closeConnections(to url: String) async {}
    public func drain(_ urls: Set<String>) {}
    public var lockChanges: Wakeup? { nil }
}
