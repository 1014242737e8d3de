#!/bin/bash
# The demo: a real 3-member etcd 3.4.23 cluster on loopback, one etcd-shepherd daemon per member, an upgrade request
# to 3.5.30 dropped on s1, live progress as the daemons roll the cluster, and a summary. Everything is stopped and
# removed at the end (also on Ctrl-C). Usage: scripts/demo.sh [N members, default 3]
# DEMO_SETTLE (default 5): each member's watched settle; the production default is 30 s (a target that dies within
# 30 s of its start is caught while the cluster is still mixed), which makes the demo ~100 s long.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib-cluster.sh"
N=${1:-3}; FROM=3.4.23; TO=${DEMO_TO:-3.5.30}; BASE=${DEMO_PORT_BASE:-22300}   # below the ephemeral port range
SETTLE=${DEMO_SETTLE:-5}
SHEPHERD=${SHEPHERD:-$ROOT/.build/debug/etcd-shepherd}
[ -x "$SHEPHERD" ] || { echo "build first: swift build (or make demo)" >&2; exit 2; }
[ -x "$BIN/etcd-$FROM" ] && [ -x "$BIN/etcd-$TO" ] || { echo "etcd binaries missing: run sudo scripts/install-deps.sh" >&2; exit 2; }
D=$(mktemp -d /tmp/etcd-shepherd-demo.XXXXXX)
cleanup() {
  for i in $(seq 1 "$N"); do [ -s "$D/s$i/daemon.pid" ] && kill "$(cat "$D/s$i/daemon.pid")" 2>/dev/null || true; done
  for i in $(seq 1 "$N"); do
    p=$(cat "$D/s$i/daemon.pid" 2>/dev/null || true)
    [ -n "$p" ] && for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  stop_members "$D" "$N"; [ -n "${DEMO_KEEP:-}" ] || rm -rf "$D"
}
trap cleanup EXIT INT TERM
EPS=$(seq -s, -f "http://127.0.0.1:%g" $((BASE + 1)) $((BASE + N)))

echo "== starting a $N-member etcd $FROM cluster in $D (settle ${SETTLE} s per member; production default 30 s)"
make_cluster "$D" "$N" "$FROM" "$BASE" "$SETTLE"
start_members "$D" "$N"
wait_healthy $(echo "$EPS" | tr , ' ')
"$SHEPHERD" status --endpoints "$EPS" || true

echo; echo "== starting one etcd-shepherd daemon per member (logs in $D/sN/daemon.log)"
for i in $(seq 1 "$N"); do
  "$SHEPHERD" run --config "$D/s$i/shepherd.json" > "$D/s$i/daemon.log" 2>&1 &
  echo $! > "$D/s$i/daemon.pid"
done

echo; echo "== etcd-shepherd plan $TO "
"$SHEPHERD" plan "$TO" --config "$D/s1/shepherd.json" || true

echo; echo "== etcd-shepherd request $TO"
T0=$(date +%s.%N)
"$SHEPHERD" request "$TO" --config "$D/s1/shepherd.json"

echo; echo "== live progress (from the daemons' event logs)"
seen=0; state=""
for _ in $(seq 1 1200); do
  # Every daemon's new log lines, in time order, without the metadata tail.
  cat "$D"/s*/daemon.log | sort | sed -E 's/ \[[^]]*\]$//' | awk -v s="$seen" 'NR > s' | sed 's/^/  /'
  seen=$(cat "$D"/s*/daemon.log | wc -l)
  state=$("$SHEPHERD" status --config "$D/s1/shepherd.json" --json 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print((d.get("rollout") or {}).get("state",""))' || true)
  case "$state" in completed|halted|aborted) break;; esac
  sleep 0.25
done
T1=$(date +%s.%N)
cat "$D"/s*/daemon.log | sort | sed -E 's/ \[[^]]*\]$//' | awk -v s="$seen" 'NR > s' | sed 's/^/  /'

echo; echo "== final status"
"$SHEPHERD" status --config "$D/s1/shepherd.json" || true
echo; echo "== summary"
printf "  rollout %s → %s: %s in %.1f s (request written → record completed)\n" "$FROM" "$TO" "$state" "$(echo "$T1 - $T0" | bc)"
"$SHEPHERD" status --config "$D/s1/shepherd.json" --json | python3 -c '
import json, sys
for m in json.load(sys.stdin)["members"]:
    print("  %s (%s): %s, downtime %.2f s" % (m["name"], m["id"], m.get("phase") or "-", m.get("downtimeSeconds") or 0))'
ETCDCTL_API=3 "$BIN/etcdctl-$TO" --endpoints "$EPS" get --prefix /etcd-shepherd/backups/ --print-value-only | python3 -c '
import json, sys
for line in sys.stdin:
    if line.startswith("{"):
        b = json.loads(line); print("  snapshot: %s (%d bytes, sha256 %s…)" % (b["path"], b["size"], b["sha256"][:16]))'
[ "$state" = completed ]
