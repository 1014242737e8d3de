/// An error an operator reads and acts on, in three parts:
/// - `thing`: what it is about, named as the operator knows it (a config key, a file, a call on an endpoint, a
///   member, a command);
/// - `cause`: what is wrong with it;
/// - `fix`: what to do about it, or "" when there is nothing to do but let the daemon try again.
///
/// Each layer throws one such type — config (`Config.Invalid`), policy (`PolicyOverlay.Problem`), request
/// (`UpgradeRequest.Refused`), etcd (`EtcdError`), node (`ControllerError`), store (`StoreError`), and the leaf
/// libraries `Command.Failure` and `UnitManager.Failure` — and every one renders the same way, below, as a `Finding`
/// does: logs, halts, journald's MESSAGE and the CLI's stderr all show this one rendering.
public protocol ExplainedError: Error, CustomStringConvertible, Sendable {
    var thing: String { get }
    var cause: String { get }
    var fix: String { get }
}

extension ExplainedError {
    /// `thing: cause — fix: fix` (a part left empty is left out).
    public var description: String { Explanation.render(thing: thing, cause: cause, fix: fix) }
}

public enum Explanation {
    /// The one rendering of an error or a finding: `thing: cause — fix: fix`, each part left out when empty.
    public static func render(thing: String, cause: String, fix: String) -> String {
        let head = thing.isEmpty ? cause : "\(thing): \(cause)"
        return fix.isEmpty ? head : "\(head) — fix: \(fix)"
    }
}
