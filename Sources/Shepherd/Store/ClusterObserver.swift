import EtcdClient
import Foundation
import Rollout

/// Everything one round of observation learned about one member: the core's `MemberView` (its fields read here as
/// if they were this type's), and what only the shell shows — why it is unhealthy, the version as it said it, its db.
@dynamicMemberLookup
public struct MemberDetail: Sendable, Equatable {
    public var view: MemberView
    /// Why not healthy: etcd's reason (3.5), the error, or "unreachable".
    public var problem: String?
    /// The version as the member said it; `view.version` is it parsed (nil when it is not a release).
    public var serverVersion: String? { didSet { view.version = serverVersion.flatMap(EtcdVersion.init) } }
    public var dbSizeBytes: Int64 = 0

    public subscript<T>(dynamicMember field: WritableKeyPath<MemberView, T>) -> T {
        get { view[keyPath: field] }
        set { view[keyPath: field] = newValue }
    }
}

public struct ClusterView: Sendable {
    public var members: [MemberDetail]
    /// "3.4", "3.5"
    public var clusterVersion: String?
    /// When the observation started (monotonic seconds, the clock port): before its first health question.
    public var startedAt: Double
    /// `/metrics` of the members the observer scraped, by client URL.
    public var metrics: ClusterObserver.Scrapes = [:]
}

/// Observes every member of the member list: `/health` with a short deadline, maintenance status (version, leader,
/// raft index, db size), the cluster version from `/version`, and `/metrics` of the members in `metrics`. Members are
/// asked concurrently (`parallel`), or one after another where every interleaving must come from a seed (the
/// simulator). Time only through the clock port.
public struct ClusterObserver: Sendable {
    /// Whose `/metrics` to scrape: a scrape is ~150 KB, so the daemon reads only its own member's (every 5 s).
    public enum MetricsScope: Sendable, Equatable {
        case none
        case member(clientURL: String)
        /// The member at `clientURL` and the members named (the verified peers whose processes the stop's gate reads).
        case members(clientURL: String, names: Set<MemberName>)
        case all
        func includes(_ m: Member) -> Bool {
            let url = m.clientURLs.first ?? ""
            switch self {
            case .none: return false
            case let .member(u): return u == url
            case let .members(u, names): return u == url || names.contains(MemberName(m.name))
            case .all: return true
            }
        }
    }

    public let cluster: any EtcdAPI
    public var healthTimeout: Duration = .milliseconds(1500)
    public var metrics: MetricsScope
    let clock: any ShepherdClock
    let parallel: Bool

    public init(
        cluster: any EtcdAPI, metrics: MetricsScope = .none, clock: any ShepherdClock = SystemClock(),
        parallel: Bool = true
    ) {
        self.cluster = cluster
        self.metrics = metrics
        self.clock = clock
        self.parallel = parallel
    }

    /// The last scrape of each member in `metrics`, by client URL (a scrape that failed is absent: it is never fatal).
    public typealias Scrapes = [String: MemberMetrics]

    public func observe() async throws -> ClusterView {
        let start = clock.now()
        let list = try await cluster.memberList(avoiding: [])
        // Health and status first, then the head of the log, then the scrapes: a member's raft index is judged
        // against a leader index asked right after every status answer, not after ~150 KB scrapes (at 1,000 writes/s
        // every 10 ms between them is 10 entries of the 16 `raftSlack` allows).
        var details = await forEachMember(list) { await self.detail($0) }
        if let l = details.firstIndex(where: \.isLeader) { await askHeadAgain(&details[l]) }
        let scraped = await forEachMember(list) { m in
            self.metrics.includes(m) ? await self.scrape(m) : nil
        }
        var scrapes: Scrapes = [:]
        for (m, text) in zip(list, scraped) { if let text, let url = m.clientURLs.first { scrapes[url] = text } }
        var clusterVersion: String? = nil
        for d in details where d.reachable {
            if let v = try? await cluster.version(of: d.clientURL, timeout: .seconds(2)),
                let cv = EtcdVersion(v.cluster)
            {
                clusterVersion = cv.minorVersion
                break
            }
        }
        return ClusterView(
            members: details.sorted { $0.name < $1.name }, clusterVersion: clusterVersion, startedAt: start,
            metrics: scrapes)
    }

    /// The head of the log, asked last: a member is judged caught up against the leader's index, and an index the
    /// leader gave before that member answered is one the cluster has since moved past (found by the simulator, seed
    /// 3091838928: a lagging learner's answer, 7 behind a leader answer 1.5 s older, was 22 behind by then). A leader
    /// that cannot answer again is not taken as the head (fail-safe: the gates wait a tick).
    func askHeadAgain(_ leader: inout MemberDetail) async {
        do {
            let s = try await cluster.status(of: leader.clientURL, timeout: .seconds(2))
            leader.raftIndex = max(leader.raftIndex, s.raftIndex)
        } catch {
            leader.healthy = false
            leader.problem = "the leader's raft index, asked again last: \(Self.short(error))"
        }
    }

    func detail(_ m: Member) async -> MemberDetail {
        let url = m.clientURLs.first ?? ""
        var d = MemberDetail(
            view: MemberView(
                name: MemberName(m.name.isEmpty ? "(unstarted \(MemberID(m.id)))" : m.name), id: MemberID(m.id),
                clientURL: url, reachable: false, healthy: false, hasLeader: false, isLeader: false, version: nil,
                raftIndex: 0, isLearner: m.isLearner))
        guard !url.isEmpty else {
            d.problem = "no client URL (not started yet)"
            return d
        }
        let health: Result<HealthReport, Error>, status: Result<MemberStatus, Error>
        if parallel {
            async let h = Result { try await cluster.health(of: url, timeout: healthTimeout) }
            async let st = Result { try await cluster.status(of: url, timeout: .seconds(2)) }
            (health, status) = await (h, st)
        } else {
            health = await Result { try await cluster.health(of: url, timeout: healthTimeout) }
            status = await Result { try await cluster.status(of: url, timeout: .seconds(2)) }
        }
        switch health {
        case let .success(h):
            d.reachable = true
            d.healthy = h.healthy
            if !h.healthy { d.problem = h.reason.isEmpty ? "unhealthy" : h.reason }
        case let .failure(e):
            d.problem = Self.short(e)
        }
        if case let .success(s) = status {
            d.reachable = true
            d.serverVersion = s.version
            d.raftIndex = s.raftIndex
            d.dbSizeBytes = s.dbSize
            d.isLeader = s.isLeader
            d.hasLeader = s.leader != 0
        }
        if !d.hasLeader { d.healthy = false }
        return d
    }

    /// The member's `/metrics` (the series `MemberMetrics` reads); nil when the scrape failed: never fatal.
    func scrape(_ m: Member) async -> MemberMetrics? {
        guard let url = m.clientURLs.first, !url.isEmpty else { return nil }
        let text = try? await cluster.metrics(of: url, only: MemberMetrics.names, timeout: .seconds(2))
        return text.map(MemberMetrics.init)
    }

    /// `body` for every member, concurrently (`parallel`) or one after another; results in the list's order.
    func forEachMember<T: Sendable>(_ list: [Member], _ body: @escaping @Sendable (Member) async -> T) async -> [T] {
        guard parallel else {
            var out: [T] = []
            for m in list { out.append(await body(m)) }
            return out
        }
        return await withTaskGroup(of: (Int, T).self) { group in
            for (i, m) in list.enumerated() { group.addTask { (i, await body(m)) } }
            var out: [(Int, T)] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    static func short(_ e: Error) -> String {
        switch e as? EtcdError {
        case .unreachable?: return "unreachable"
        case let .timeout(_, _, s)?: return "no answer in \(s) s"
        case let .http(_, _, status, msg)?: return "HTTP \(status): \(msg)"
        case let .rpc(_, _, _, msg)?: return msg
        default: return "\(e)"
        }
    }
}

extension Result where Failure == Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
