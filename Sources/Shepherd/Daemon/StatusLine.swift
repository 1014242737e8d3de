import Rollout

/// The one-line STATUS an on-call person reads in `systemctl status`, e.g.
/// `rollout 3.4.23→3.5.1 [1/3 done]: s2 verifying (raft 1240/1241)` or
/// `idle: s1 3.5.1 healthy follower; cluster 3.5, 3/3 healthy`. Every line names the daemon's own member: the
/// status of `etcd-shepherd@s1` is read beside the others'.
enum StatusLine {
    /// `warning` (e.g. "db 85% of quota") is appended while it lasts.
    static func make(action: Action, _ o: Observation, _ view: ClusterView, warning: String? = nil) -> String {
        let line = body(action: action, o, view)
        return warning.map { "\(line) [\($0)]" } ?? line
    }

    static func body(action: Action, _ o: Observation, _ view: ClusterView) -> String {
        let me = o.localName
        let healthy = o.members.filter(\.healthy).count
        let cluster = "cluster \(o.clusterVersion ?? "?"), \(healthy)/\(o.members.count) healthy"
        guard let r = o.rollout, r.state == .active || r.state == .paused else {
            let local = o.local
            let role = local?.isLeader == true ? "leader" : "follower"
            let state =
                local == nil
                ? "not in member list"
                : "\(local?.version?.description ?? "?") \(local?.healthy == true ? "healthy" : "UNHEALTHY") \(role)"
            let last = o.rollout.map { "; last rollout \($0.id) \($0.state.rawValue)" } ?? ""
            return "idle: \(me) \(state); \(cluster)\(last)"
        }
        let done = o.members.filter { o.record($0.name)?.isDone(in: r) == true }.count
        let head = "rollout \(r.from)→\(r.to) [\(done)/\(o.members.count) done]\(r.state == .paused ? " PAUSED" : "")"
        switch action {
        case let .wait(why), let .waitForClusterVersion(why):
            let text = why.description
            return text.hasPrefix("waiting") ? "\(head): \(me) \(text)" : "\(head): \(me) waiting: \(text)"
        case let .idle(why): return "\(head): \(me) \(why)"
        case .acquireLock: return "\(head): \(me) waiting for the lock"
        case .takeBackup: return "\(head): \(me) taking the snapshot"
        case .transferLeadership: return "\(head): \(me) handing over leadership"
        case .takeLeadership: return "\(head): \(me) taking leadership back for the cluster version check"
        case let .beginStop(j) where j.rollingBack: return "\(head): \(me) ROLLING BACK: \(j.reason ?? "?")"
        case .beginStop: return "\(head): \(me) preparing its stop"
        case .stopMember, .markStopped: return "\(head): \(me) stopping"
        case .switchBinary: return "\(head): \(me) switching binary"
        case .startMember: return "\(head): \(me) starting"
        case .markDone: return "\(head): \(me) verified"
        case let .rollBackWhileDown(j): return "\(head): \(me) ROLLING BACK: \(j.reason ?? "?")"
        case let .halt(why, _, _): return "\(head): \(me) HALTING: \(why)"
        case .release: return "\(head): \(me) releasing the lock"
        case .markCompleted: return "\(head): \(me) completing the rollout"
        case .advanceHop: return "\(head): \(me) ending the hop, moving to the next"
        case .recoverStart, .restoreLink, .leaveSequence: return "\(head): \(me) recovering an interrupted step"
        case .adoptVerification, .noteProcess: return "\(head): \(me) verifying"
        }
    }
}
