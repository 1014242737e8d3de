#!/bin/bash
# Benchmarks etcd-shepherd rollouts on real loopback clusters beside two baselines with no lock and no gates: the
# unsafe one (plain stop / switch link / start per member, no wait at all: the next member is stopped while the last
# one may still be starting) and the runbook (etcd's documented steps by hand: stop / switch / start, then the next
# member once this one's /health answers true, polled every 50 ms), for each release pair (PAIRS, default "3.4.23:3.5.30 3.5.16:3.5.30")
# and cluster size (default 3 5 7): rollout wall time (request → completed / baseline start → cluster version flipped
# and every member on the target), per-member downtime, longest write stall, p50/p99 put latency, leader changes, lost
# acknowledged writes; daemon RSS and CPU at idle. The baselines and the shepherd with settle 0 run RUNS times
# (default 3, the median is reported with the spread); the shepherd with the default settle (SETTLE, default 30 s, as
# config.example.json) once per size (SETTLE_SIZES, default all) for the first pair — what an SRE waits per member. Prints a table and writes
# JSON (BENCH_OUT, default .build/bench.json). Then the snapshot benchmark (scripts/bench-snapshot.sh, SNAPSHOT_MIB,
# default 1024; 0 skips it).
# Usage: scripts/bench.sh [SIZES]    (make bench builds the release binary first)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib-cluster.sh"
SIZES=${1:-3 5 7}; PAIRS=${PAIRS:-3.4.23:3.5.30 3.5.16:3.5.30}; RUNS=${RUNS:-3}; SETTLE=${SETTLE:-30}
MODES=${MODES:-unsafe runbook shepherd}   # which of the three to run (the medians need a baseline and the shepherd)
SETTLE_SIZES=${SETTLE_SIZES:-$SIZES}   # the sizes the default-settle run is made for (each takes settle × n)
SHEPHERD=${SHEPHERD:-$ROOT/.build/release/etcd-shepherd}
[ -x "$SHEPHERD" ] || SHEPHERD=$ROOT/.build-release/release/etcd-shepherd   # built by make deb
[ -x "$SHEPHERD" ] || SHEPHERD=$ROOT/.build/debug/etcd-shepherd
OUT=${BENCH_OUT:-$ROOT/.build/bench.json}
W=$(mktemp -d /tmp/etcd-shepherd-bench.XXXXXX)
cleanup() {
  for p in "$W"/*/s*/daemon.pid "$W"/*/load.pid; do [ -s "$p" ] && "$ROOT/scripts/bg.sh" stop "$p" 10 || true; done
  for d in "$W"/*/; do for m in "$d"s*; do [ -d "$m" ] && "$ROOT/scripts/etcd-member.sh" stop "$m" || true; done; done
  if [ -n "${KEEP:-}" ]; then echo "kept: $W"; else rm -rf "$W"; fi
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
sv() { curl -sf -m 1 "$1/version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["etcdserver"])' 2>/dev/null || true; }

# run MODE N SETTLE PORTBASE FROM TO [idle]: MODE is shepherd, unsafe or runbook; appends a JSON line to $W/results
run() {
  local mode=$1 n=$2 settle=$3 base=$4 FROM=$5 TO=$6 idle=${7:-} d="$W/$1-$2-$3-$4" eps first
  mkdir -p "$d"; make_cluster "$d" "$n" "$FROM" "$base" "$settle" 1   # the default tick
  # The verify deadline must leave room for the settle period.
  [ "$settle" -gt 30 ] && sed -i "s/\"verifyTimeoutSeconds\": 60/\"verifyTimeoutSeconds\": $((settle + 60))/" "$d"/s*/shepherd.json
  start_members "$d" "$n"
  eps=$(seq -s, -f "http://127.0.0.1:%g" $((base + 1)) $((base + n))); first=${eps%%,*}
  wait_healthy $(echo "$eps" | tr , ' ') || { tail -n 5 "$d"/s*/etcd.log; exit 1; }
  if [ "$mode" = shepherd ]; then
    for i in $(seq 1 "$n"); do "$ROOT/scripts/bg.sh" start "$d/s$i/daemon.pid" "$d/s$i/daemon.log" "$SHEPHERD" run --config "$d/s$i/shepherd.json"; done
    if [ -n "$idle" ]; then   # idle daemons: RSS and CPU over 10 s, 3 s after their start (a measured period, not a wait)
      sleep 3
      local p1 c0 c1; p1=$(cat "$d/s1/daemon.pid"); c0=$(awk '{print $14+$15}' "/proc/$p1/stat"); sleep 10; c1=$(awk '{print $14+$15}' "/proc/$p1/stat")
      IDLE_RSS=$(awk '/VmRSS/{print $2}' "/proc/$p1/status"); IDLE_CPU=$(python3 -c "print(round(($c1-$c0)/$(getconf CLK_TCK)/10*100,2))")
    else
      for i in $(seq 1 "$n"); do   # every daemon supervising its member before the load and the request
        for _ in $(seq 1 100); do grep -q supervising "$d/s$i/daemon.log" 2>/dev/null && break; sleep 0.1; done
      done
    fi
  fi
  "$ROOT/scripts/bg.sh" start "$d/load.pid" "$d/load.log" python3 "$ROOT/scripts/loadgen.py" "$d/load.json" "$eps"
  sleep 2
  local t0 t1 state=""
  t0=$(now)
  if [ "$mode" = shepherd ]; then
    "$SHEPHERD" request "$TO" --config "$d/s1/shepherd.json" >/dev/null 2>"$d/request.err"
    state=$(wait_rollout "$eps")
  else
    for i in $(seq 1 "$n"); do
      "$ROOT/scripts/etcd-member.sh" stop "$d/s$i"; ln -sfn "$BIN/etcd-$TO" "$d/s$i/etcd"; "$ROOT/scripts/etcd-member.sh" start "$d/s$i"
      if [ "$mode" = runbook ]; then   # etcdctl endpoint health, by hand, until it answers
        for _ in $(seq 1 1200); do curl -sf -m 1 "http://127.0.0.1:$((base + i))/health" | grep -q '"health":"true"' && break; sleep 0.05; done
      fi
    done
    # Done when the cluster version moved (a minor step) and every member answers on the target.
    for _ in $(seq 1 2400); do
      if [ "${FROM%.*}" = "${TO%.*}" ] || [ "$(cv "$first")" = "${TO%.*}.0" ]; then
        local all=1; for ep in ${eps//,/ }; do [ "$(sv "$ep")" = "$TO" ] || all=0; done
        [ $all = 1 ] && { state=completed; break; }
      fi
      sleep 0.05
    done
  fi
  t1=$(now)
  sleep 1; "$ROOT/scripts/bg.sh" stop "$d/load.pid" 60 || true
  local downs="[]"
  if [ "$mode" = shepherd ]; then
    downs=$(ETCDCTL_API=3 "$BIN/etcdctl-$TO" --endpoints "$eps" get --prefix /etcd-shepherd/members/ --print-value-only \
      | python3 -c 'import json,sys; print(json.dumps([round(json.loads(l)["downtimeSeconds"] or 0,3) for l in sys.stdin if l.startswith("{")]))')
    for i in $(seq 1 "$n"); do "$ROOT/scripts/bg.sh" stop "$d/s$i/daemon.pid" 30 || true; done
  fi
  python3 - "$mode" "$n" "$settle" "$t0" "$t1" "$state" "$downs" "$d/load.json" "${IDLE_RSS:-}" "${IDLE_CPU:-}" "$FROM" "$TO" >> "$W/results" <<'PY'
import json, sys
mode, n, settle, t0, t1, state, downs, load, rss, cpu, frm, to = sys.argv[1:]
r = {"mode": mode, "from": frm, "to": to, "members": int(n), "settleSeconds": float(settle), "state": state,
     "wallSeconds": round(float(t1) - float(t0), 2),
     "downtimeSeconds": json.loads(downs)}
r.update(json.load(open(load)))
if rss: r["idleRssKiB"] = int(rss); r["idleCpuPercent"] = float(cpu)
print(json.dumps(r))
PY
  stop_members "$d" "$n"; unset IDLE_RSS IDLE_CPU
}

port=21000   # below the ephemeral range (32768+), where an outgoing connection could already hold a port
first_pair=1
for pair in $PAIRS; do
  from=${pair%%:*}; to=${pair##*:}
  for n in $SIZES; do
    for k in $(seq 1 "$RUNS"); do
      for mode in $MODES; do
        run "$mode" "$n" 0 $port "$from" "$to" $([ "$mode" = shepherd ] && [ "$k" = 1 ] && [ $first_pair = 1 ] && echo idle)
        port=$((port + 200))
      done
    done
    if [ $first_pair = 1 ] && [ "$SETTLE" != 0 ] && [[ " $SETTLE_SIZES " == *" $n "* ]]; then run shepherd "$n" "$SETTLE" $port "$from" "$to"; port=$((port + 200)); fi
  done
  first_pair=0
done
python3 - "$W/results" "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
json.dump(rows, open(sys.argv[2], "w"), indent=2)
print("%-15s %-9s %3s %6s %10s %8s %9s %8s %8s %7s %5s %6s %9s %7s" % ("pair", "mode", "n", "settle", "state", "wall s", "down max",
      "stall s", "p99 ms", "leader", "lost", "acked", "idle RSS", "idle %"))
for r in rows:
    d = r["downtimeSeconds"]
    print("%-15s %-9s %3d %6.0f %10s %8.2f %9s %8.3f %8s %7d %5s %6d %9s %7s" % (r["from"] + "→" + r["to"], r["mode"], r["members"],
          r["settleSeconds"], r["state"], r["wallSeconds"], "%.2f" % max(d) if d else "-", r["longest_stall_s"], r["p99_ms"],
          r["leader_changes"], r["lost_acknowledged"], r["acked"], "%d KiB" % r["idleRssKiB"] if "idleRssKiB" in r else "-",
          r.get("idleCpuPercent", "-")))
print()
print("medians (goal: the shepherd with settle 0 within 1.10x of the runbook; downtime per member <= 0.5 s)")
for pair in sorted({(r["from"], r["to"]) for r in rows}):
    for n in sorted({r["members"] for r in rows}):
        pick = lambda mode, settle: [r for r in rows if (r["from"], r["to"]) == pair and r["members"] == n and r["mode"] == mode
                                     and r["settleSeconds"] == settle]
        unsafe, runbook, safe = pick("unsafe", 0), pick("runbook", 0), pick("shepherd", 0)
        if not unsafe or not safe:
            continue
        med = lambda rs: statistics.median(r["wallSeconds"] for r in rs) if rs else float("nan")
        runs = lambda rs: "/".join("%.2f" % r["wallSeconds"] for r in rs)
        u, b, s = med(unsafe), med(runbook), med(safe)
        downs = [x for r in safe for x in r["downtimeSeconds"]]
        print("%s→%s n=%d: shepherd settle 0 %.2f s (%s) = %.2fx the runbook %.2f s (%s), %.2fx the unsafe %.2f s (%s); "
              "max downtime %.2f s; lost %d" % (pair[0], pair[1], n, s, runs(safe), s / b, b, runs(runbook), s / u, u,
              runs(unsafe), max(downs) if downs else 0, sum(r["lost_acknowledged"] for r in safe + unsafe + runbook)))
        for r in rows:
            if (r["from"], r["to"]) == pair and r["members"] == n and r["mode"] == "shepherd" and r["settleSeconds"] > 0:
                print("    settle %g: %.2f s, %.2f s per member over settle 0" % (r["settleSeconds"], r["wallSeconds"],
                      (r["wallSeconds"] - s) / n))
print("JSON:", sys.argv[2])
PY
if [ "${SNAPSHOT_MIB:-1024}" != 0 ]; then SHEPHERD="$SHEPHERD" "$ROOT/scripts/bench-snapshot.sh" "${SNAPSHOT_MIB:-1024}"; fi
