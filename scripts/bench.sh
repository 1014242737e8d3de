#!/bin/bash
# Benchmarks etcd-shepherd rollouts on real loopback clusters (3.4.23 → 3.5.1, known-bad target accepted explicitly)
# beside an unsafe baseline (plain stop / switch link / start per member: no lock, no gates, no waits).
# For 3 and 5 members: rollout wall time (request → completed / baseline start → cluster version flipped), per-member
# downtime, longest write stall, p50/p99 put latency, leader changes, lost acknowledged writes; daemon RSS and CPU
# at idle. Prints a table and writes JSON (BENCH_OUT, default .build/bench.json).
# Then the snapshot benchmark (scripts/bench-snapshot.sh, SNAPSHOT_MIB, default 1024).
# Usage: scripts/bench.sh [SIZES, default "3 5"]    (make bench builds the release binary first)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib-cluster.sh"
SIZES=${1:-3 5}; FROM=3.4.23; TO=3.5.1
SHEPHERD=${SHEPHERD:-$ROOT/.build/release/etcd-shepherd}
[ -x "$SHEPHERD" ] || SHEPHERD=$ROOT/.build-release/release/etcd-shepherd   # built by make deb
[ -x "$SHEPHERD" ] || SHEPHERD=$ROOT/.build/debug/etcd-shepherd
OUT=${BENCH_OUT:-$ROOT/.build/bench.json}
W=$(mktemp -d /tmp/etcd-shepherd-bench.XXXXXX)
RUNS=()
cleanup() {
  for p in "$W"/*/s*/daemon.pid "$W"/*/load.pid; do [ -s "$p" ] && "$ROOT/scripts/bg.sh" stop "$p" 10 || true; done
  for d in "$W"/*/; do for m in "$d"s*; do [ -d "$m" ] && "$ROOT/scripts/etcd-member.sh" stop "$m" || true; done; done
  rm -rf "$W"
}
trap cleanup EXIT INT TERM
now() { date +%s.%N; }
# wait_rollout EPS: polls the rollout record every 50 ms (like the baseline's /version poll: one cheap range, any
# endpoint that answers) until it is completed or halted, and prints that state.
wait_rollout() {
  python3 - "$1" <<'PY'
import base64, json, sys, time, urllib.request
body = json.dumps({"key": base64.b64encode(b"/etcd-shepherd/rollout").decode()}).encode()
deadline = time.time() + 240
while time.time() < deadline:
    for ep in sys.argv[1].split(","):
        try:
            req = urllib.request.Request(ep + "/v3/kv/range", data=body, method="POST")
            kvs = json.load(urllib.request.urlopen(req, timeout=1)).get("kvs") or []
            state = json.loads(base64.b64decode(kvs[0]["value"])).get("state", "") if kvs else ""
            if state in ("completed", "halted"):
                print(state); sys.exit(0)
            break
        except Exception:
            continue
    time.sleep(0.05)
print("timeout")
PY
}
cv() { curl -sf -m 1 "$1/version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["etcdcluster"])' 2>/dev/null || true; }

# run MODE N SETTLE PORTBASE: MODE is shepherd or unsafe; appends a JSON line to $W/results
run() {
  local mode=$1 n=$2 settle=$3 base=$4 d="$W/$1-$2-$3-$4" eps first
  mkdir -p "$d"; make_cluster "$d" "$n" "$FROM" "$base" "$settle" 1   # the default tick
  start_members "$d" "$n"
  eps=$(seq -s, -f "http://127.0.0.1:%g" $((base + 1)) $((base + n))); first=${eps%%,*}
  wait_healthy $(echo "$eps" | tr , ' ') || { tail -n 5 "$d"/s*/etcd.log; exit 1; }
  if [ "$mode" = shepherd ]; then
    for i in $(seq 1 "$n"); do "$ROOT/scripts/bg.sh" start "$d/s$i/daemon.pid" "$d/s$i/daemon.log" "$SHEPHERD" run --config "$d/s$i/shepherd.json"; done
    sleep 3   # idle daemons: measure RSS and CPU over the next 10 s
    local p1 c0 c1; p1=$(cat "$d/s1/daemon.pid"); c0=$(awk '{print $14+$15}' "/proc/$p1/stat"); sleep 10; c1=$(awk '{print $14+$15}' "/proc/$p1/stat")
    IDLE_RSS=$(awk '/VmRSS/{print $2}' "/proc/$p1/status"); IDLE_CPU=$(python3 -c "print(round(($c1-$c0)/$(getconf CLK_TCK)/10*100,2))")
  fi
  "$ROOT/scripts/bg.sh" start "$d/load.pid" "$d/load.log" python3 "$ROOT/scripts/loadgen.py" "$d/load.json" "$eps"
  sleep 2
  local t0 t1 state=""
  t0=$(now)
  if [ "$mode" = shepherd ]; then
    "$SHEPHERD" request "$TO" --allow-known-bad --config "$d/s1/shepherd.json" >/dev/null
    state=$(wait_rollout "$eps")
  else
    for i in $(seq 1 "$n"); do
      "$ROOT/scripts/etcd-member.sh" stop "$d/s$i"; ln -sfn "$BIN/etcd-$TO" "$d/s$i/etcd"; "$ROOT/scripts/etcd-member.sh" start "$d/s$i"
    done
    for _ in $(seq 1 2400); do [ "$(cv "$first")" = "${TO%.*}.0" ] && { state=completed; break; }; sleep 0.05; done
  fi
  t1=$(now)
  sleep 1; "$ROOT/scripts/bg.sh" stop "$d/load.pid" 60 || true
  local downs="[]"
  if [ "$mode" = shepherd ]; then
    downs=$(ETCDCTL_API=3 "$BIN/etcdctl-$TO" --endpoints "$eps" get --prefix /etcd-shepherd/members/ --print-value-only \
      | python3 -c 'import json,sys; print(json.dumps([round(json.loads(l)["downtimeSeconds"] or 0,3) for l in sys.stdin if l.startswith("{")]))')
    for i in $(seq 1 "$n"); do "$ROOT/scripts/bg.sh" stop "$d/s$i/daemon.pid" 30 || true; done
  fi
  python3 - "$mode" "$n" "$settle" "$t0" "$t1" "$state" "$downs" "$d/load.json" "${IDLE_RSS:-}" "${IDLE_CPU:-}" >> "$W/results" <<'PY'
import json, sys
mode, n, settle, t0, t1, state, downs, load, rss, cpu = sys.argv[1:]
r = {"mode": mode, "members": int(n), "settleSeconds": float(settle), "state": state, "wallSeconds": round(float(t1) - float(t0), 2),
     "downtimeSeconds": json.loads(downs)}
r.update(json.load(open(load)))
if rss: r["idleRssKiB"] = int(rss); r["idleCpuPercent"] = float(cpu)
print(json.dumps(r))
PY
  stop_members "$d" "$n"; unset IDLE_RSS IDLE_CPU
}

port=21000   # below the ephemeral range (32768+), where an outgoing connection could already hold a port
# The unsafe baseline varies a lot from run to run (a stopped leader hands over to a member not yet upgraded, or
# quorum is briefly lost and a fresh election decides the version at once): run it UNSAFE_RUNS times.
for n in $SIZES; do
  for _ in $(seq 1 "${UNSAFE_RUNS:-3}"); do run unsafe "$n" 0 $port; port=$((port + 200)); done
  run shepherd "$n" 0 $port; port=$((port + 200))
  run shepherd "$n" 2 $port; port=$((port + 200))
done
python3 - "$W/results" "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
json.dump(rows, open(sys.argv[2], "w"), indent=2)
print("%-9s %3s %6s %10s %8s %9s %8s %8s %7s %5s %6s %9s %7s" % ("mode", "n", "settle", "state", "wall s", "down max", "stall s",
      "p99 ms", "leader", "lost", "acked", "idle RSS", "idle %"))
for r in rows:
    d = r["downtimeSeconds"]
    print("%-9s %3d %6.0f %10s %8.2f %9s %8.3f %8s %7d %5s %6d %9s %7s" % (r["mode"], r["members"], r["settleSeconds"], r["state"],
          r["wallSeconds"], "%.2f" % max(d) if d else "-", r["longest_stall_s"], r["p99_ms"], r["leader_changes"], r["lost_acknowledged"],
          r["acked"], "%d KiB" % r["idleRssKiB"] if "idleRssKiB" in r else "-", r.get("idleCpuPercent", "-")))
import statistics
for n in sorted({r["members"] for r in rows}):
    base = statistics.median(r["wallSeconds"] for r in rows if r["members"] == n and r["mode"] == "unsafe")
    for r in rows:
        if r["members"] == n and r["mode"] == "shepherd":
            print("n=%d settle=%g: %.2f s = %.2fx the unsafe median (%.2f s)" % (n, r["settleSeconds"], r["wallSeconds"], r["wallSeconds"] / base, base))
print("JSON:", sys.argv[2])
PY
# The backup on a large db (set SNAPSHOT_MIB=0 to skip): etcdctl vs etcd-shepherd on the same ~1 GiB db, peak RSS.
if [ "${SNAPSHOT_MIB:-1024}" != 0 ]; then SHEPHERD="$SHEPHERD" "$ROOT/scripts/bench-snapshot.sh" "${SNAPSHOT_MIB:-1024}"; fi
