import EtcdClient
import Foundation
import Rollout

/// Where a request comes from: the operator's request file in production (`RequestFile`), an in-memory one in the
/// simulator. Contract: `pending()` is nil when there is none, throws `UpgradeRequest.Refused` for a request that is
/// there but bad (unsafe file, malformed), and any other error for one that could not be read now (left for the next
/// try); `settle` moves the request aside with the outcome.
public protocol RequestInbox: Sendable {
    func pending() throws -> UpgradeRequest?
    func settle(_ outcome: RequestOutcome)
}

/// The request file (`config.requestFile`): checked as `UpgradeRequest.read` does, renamed `.accepted`/`.rejected`.
public struct RequestFile: RequestInbox {
    public let path: String
    public init(path: String) { self.path = path }

    public func pending() throws -> UpgradeRequest? {
        guard
            FileManager.default.fileExists(atPath: path)
                || (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil
        else {
            return nil
        }
        return try UpgradeRequest.read(path: path)
    }

    public func settle(_ outcome: RequestOutcome) {
        UpgradeRequest.settle(path: path, outcome: outcome)
    }
}

/// Turns an operator's request into the cluster-wide rollout record: validates it, the version policy against what
/// the cluster runs, and this node's preflight; then creates the record with a guarded txn. Either way the request is
/// settled (`.accepted` / `.rejected`) and the reason recorded; a refused request writes nothing to etcd.
///
/// A failure that is not about the request (etcd unreachable, an election under way) leaves it where it is for the
/// next tick: a good request is never rejected by a transient error.
public struct RequestIntake: Sendable {
    let store: RolloutStore
    let events: Events
    /// Names a new rollout (a time and a random suffix; the simulator passes its own, for exact replays).
    let makeID: @Sendable (Double) -> RolloutID

    public init(
        store: RolloutStore, events: Events,
        makeID: @escaping @Sendable (Double) -> RolloutID = {
            .new(unixSeconds: Int($0), suffix: UInt16.random(in: 0...UInt16.max))
        }
    ) {
        self.store = store
        self.events = events
        self.makeID = makeID
    }

    /// Returns true when a new rollout was created. `config` is the caller's current one (passed, never kept, so a
    /// reload cannot race with a poll).
    func poll(
        config: Config, inbox: any RequestInbox, ports: SupervisorPorts, view: ClusterView, rollout: RolloutRecord?,
        now: Double
    ) async -> Bool {
        do {
            guard let req = try inbox.pending() else { return false }
            let rec = try await validate(req, config: config, ports: ports, view: view, rollout: rollout, now: now)
            let existing = try await store.read(avoiding: [])
            guard
                try await store.createRollout(
                    rec, replacing: existing.rollout.map { ($0, existing.rolloutModRevision) },
                    setAside: existing.rolloutProblem == nil ? nil : existing.rolloutModRevision)
            else {
                throw UpgradeRequest.Refused(
                    reason: "another rollout was created meanwhile (\(existing.rollout?.id.rawValue ?? "?"))")
            }
            inbox.settle(
                .init(state: .accepted, reason: "rollout \(rec.id) \(rec.from) → \(rec.to)", rolloutID: rec.id))
            events.emit(
                .requestAccepted, .notice, "request accepted: rollout \(rec.id) \(rec.from) → \(rec.to)", rollout: rec,
                phase: "active")
            for f in config.policy.advisoryFindings(running: [rec.from], target: rec.finalTarget) {
                events.logger.warning("\(f.line)")
            }
            if rec.allowKnownBad || rec.authFingerprint != nil,
                case let .allowed(warnings) = config.policy.evaluate(
                    from: rec.from, to: rec.to, clusterVersion: nil, allowKnownBad: rec.allowKnownBad,
                    auth: .init(enabled: rec.authFingerprint != nil, riskAccepted: true))
            {
                for w in warnings { events.logger.warning("\(w)") }
            }
            return true
        } catch let e as UpgradeRequest.Refused {
            let reason = "\(e)"
            inbox.settle(.init(state: .rejected, reason: reason))
            events.emit(.requestRefused, .error, "request refused: \(reason)", reason: reason)
            return false
        } catch {
            events.logger.warning("request left in place for the next try: \(error)")
            return false
        }
    }

    func validate(
        _ req: UpgradeRequest, config: Config, ports: SupervisorPorts, view: ClusterView, rollout: RolloutRecord?,
        now: Double
    ) async throws -> RolloutRecord {
        let final = EtcdVersion(req.version)!
        let via = req.via.flatMap(EtcdVersion.init)
        let firstHop = via ?? final
        typealias Refused = UpgradeRequest.Refused
        let from: EtcdVersion
        let auth = VersionPolicy.Auth(enabled: config.cluster.auth != nil, riskAccepted: req.allowAuthRisk ?? false)
        switch RequestRules.evaluate(
            to: firstHop, allowKnownBad: req.allowKnownBad ?? false, rollout: rollout,
            members: view.members.map(\.view), clusterVersion: view.clusterVersion, auth: auth,
            policy: config.policy, allowSmallCluster: config.cluster.allowSmallCluster)
        {
        case let .accept(version): from = version
        case let .refuse(why): throw Refused(reason: "\(why)")
        }
        // The first hop was judged above, against the cluster as it is; a second must be allowed on its own.
        let hops = VersionPolicy.hops(from: from, to: final, via: via, clusterVersion: view.clusterVersion)
        for hop in hops.dropFirst() {
            if case let .refused(why) = config.policy.evaluate(
                from: hop.from, to: hop.to, clusterVersion: hop.clusterVersion,
                allowKnownBad: req.allowKnownBad ?? false, auth: auth)
            {
                throw Refused(reason: "second hop: \(why)")
            }
        }
        // This node's own preflight (binaries of every hop, data dir, flags); the other daemons check theirs as gate 6.
        let findings = await ports.preflight.checkRequest(config, request: req, from: from).filter {
            $0.severity == .blocking
        }
        if !findings.isEmpty {
            throw Refused(reason: findings.map(\.text).joined(separator: "; "))
        }
        // An auth-sensitive step accepted by the request: the users and roles as they are now, which every daemon
        // compares with what it reads while the rollout runs (a read failure here leaves the request for the next try).
        let sensitive = hops.contains { VersionPolicy.authNote(from: $0.from, to: $0.to) != nil }
        var fingerprint: String?
        if auth.enabled && sensitive {
            do { fingerprint = try await ports.cluster.authFingerprint() } catch let e as EtcdError where e.isRefusal {
                // Not a passing fault: the user may not read users and roles.
                throw Refused(
                    reason: "cannot read etcd's users and roles to watch them during this rollout (\(e))",
                    fix: "give the daemon's etcd user the root role")
            }
        }
        // Intent only: the record never carries a path (every node runs its own binaryPathTemplate).
        return RolloutRecord(
            id: makeID(now), from: from, to: firstHop, requestedBy: config.member.name, requestedAt: now,
            sha256: req.sha256?.lowercased(), binary: nil, allowKnownBad: req.allowKnownBad ?? false,
            authFingerprint: fingerprint, then: via == nil ? nil : [final], stage: via == nil ? nil : 0)
    }
}
