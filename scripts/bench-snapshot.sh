#!/bin/bash
# The backup on a large db: one 3.5.1 member filled to ~SIZE_MIB (default 1024) MiB, then `etcdctl snapshot save`
# and `etcd-shepherd snapshot` (the daemon's code path: Maintenance.Snapshot over gRPC, sha256-verified, fsynced) on the
# same db, each timed, with the peak RSS of etcd-shepherd; and, for reference, the JSON gateway's NDJSON snapshot
# stream read by curl (the path the daemon used before). Prints one line and writes JSON (BENCH_SNAPSHOT_OUT).
# Usage: scripts/bench-snapshot.sh [SIZE_MIB]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib-cluster.sh"
SIZE=${1:-1024}; V=3.5.1; BASE=24600
SHEPHERD=${SHEPHERD:-$ROOT/.build/release/etcd-shepherd}
[ -x "$SHEPHERD" ] || SHEPHERD=$ROOT/.build-release/release/etcd-shepherd   # built by make deb
[ -x "$SHEPHERD" ] || SHEPHERD=$ROOT/.build/debug/etcd-shepherd
OUT=${BENCH_SNAPSHOT_OUT:-$ROOT/.build/bench-snapshot.json}
W=$(mktemp -d /tmp/etcd-shepherd-bench-snap.XXXXXX)
cleanup() { "$ROOT/scripts/etcd-member.sh" stop "$W/s1" >/dev/null 2>&1 || true; rm -rf "$W"; }
trap cleanup EXIT INT TERM
make_cluster "$W" 1 "$V" "$BASE"
echo --quota-backend-bytes=$((SIZE * 3 * 1048576)) >> "$W/s1/flags"
start_members "$W" 1
EP=http://127.0.0.1:$((BASE + 1))
wait_healthy "$EP"
python3 - "$EP" "$SIZE" <<'PY'
import base64, json, sys, urllib.request, concurrent.futures
ep, mib = sys.argv[1], int(sys.argv[2])
value = base64.b64encode(bytes(range(256)) * 3072).decode()          # 768 KiB of incompressible-enough bytes
def put(i):
    body = json.dumps({"key": base64.b64encode(f"/bench/{i}".encode()).decode(), "value": value}).encode()
    urllib.request.urlopen(urllib.request.Request(ep + "/v3/kv/put", data=body, method="POST"), timeout=30).read()
with concurrent.futures.ThreadPoolExecutor(8) as pool: list(pool.map(put, range(mib * 4 // 3)))
PY
ETCDCTL="$BIN/etcdctl-$V"
t0=$(date +%s.%N); ETCDCTL_API=3 "$ETCDCTL" --endpoints "$EP" snapshot save "$W/etcdctl.db" >/dev/null 2>&1; t1=$(date +%s.%N)
# For reference: the JSON gateway's NDJSON stream read to the end and thrown away.
g0=$(date +%s.%N); curl -sf -X POST "$EP/v3/maintenance/snapshot" -d '{}' -o /dev/null; g1=$(date +%s.%N)
GW=$(python3 -c "print(round($g1-$g0,3))")
read -r SH_S SH_RSS < <(python3 - "$SHEPHERD" "$W/s1/shepherd.json" "$W/shepherd.db" <<'PY'
import os, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen([sys.argv[1], "snapshot", sys.argv[3], "--config", sys.argv[2]], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(p.pid, 0)
assert status == 0, f"etcd-shepherd snapshot exited {status}"
print(f"{time.monotonic() - t0:.3f} {usage.ru_maxrss // 1024}")
PY
)
DB=$(stat -c %s "$W/shepherd.db"); CT=$(python3 -c "print(round($t1-$t0,3))")
cmp -s <(tail -c 32 "$W/etcdctl.db" | od -An -tx1) <(tail -c 32 "$W/shepherd.db" | od -An -tx1) || echo "note: the two snapshots differ (a write between them is expected to change the trailer)"
python3 - "$DB" "$CT" "$SH_S" "$SH_RSS" "$OUT" "$GW" <<'PY'
import json, sys
db, ct, ss, rss, out, gw = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], float(sys.argv[6])
r = {"dbMiB": round(db / 1048576), "etcdctlSeconds": ct, "etcdctlMiBps": round(db / 1048576 / ct, 1),
     "shepherdSeconds": ss, "shepherdMiBps": round(db / 1048576 / ss, 1), "ratio": round(ct / ss, 2), "shepherdPeakRSSMiB": rss,
     "gatewayCurlSeconds": gw, "gatewayRatio": round(ct / gw, 2)}
print(f"snapshot of a {r['dbMiB']} MiB db: etcdctl {ct:.1f} s ({r['etcdctlMiBps']} MiB/s), etcd-shepherd {ss:.1f} s "
      f"({r['shepherdMiBps']} MiB/s, {r['ratio']}x etcdctl), etcd-shepherd peak RSS {rss} MiB; "
      f"the gateway stream alone (curl to /dev/null) {gw:.1f} s ({r['gatewayRatio']}x etcdctl)")
json.dump(r, open(out, "w"), indent=1)
PY
