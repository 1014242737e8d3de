#!/bin/bash
# What one idle daemon's ticks cost on the wire, for each binary given (the same run, one after another): a real
# 3-member cluster on loopback whose members advertise counting proxies (scripts/wire-count.py) as their client URLs,
# so every call the daemon on s1 makes to any member goes through one; DURATION seconds (default 30) measured after a
# 5 s start. Per tick: calls (gRPC calls and HTTP requests) and new connections, bytes both ways, and the tick's
# time on the wire (first byte out to last byte in of the burst of calls a tick makes; bursts are separated by
# ≥ 300 ms of quiet, the tick being 1 s); median and p90. Plus the daemon's RSS and CPU over the period.
# Usage: scripts/bench-wire.sh [BINARY...]   (default: the release build)   VERSION (default 3.5.30)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib-cluster.sh"
DURATION=${DURATION:-30}; VERSION=${VERSION:-3.5.30}
[ $# -gt 0 ] || set -- "$ROOT/.build-release/release/etcd-shepherd"
W=$(mktemp -d /tmp/etcd-shepherd-wire.XXXXXX)
cleanup() {
  for p in "$W"/*/*.pid; do [ -s "$p" ] && "$ROOT/scripts/bg.sh" stop "$p" 10 || true; done
  for d in "$W"/*/; do for m in "$d"s*; do [ -d "$m" ] && "$ROOT/scripts/etcd-member.sh" stop "$m" || true; done; done
  rm -rf "$W"
}
trap cleanup EXIT INT TERM
base=23400
for bin in "$@"; do
  [ -x "$bin" ] || { echo "no executable at $bin" >&2; exit 2; }
  base=$((base + 300)); d=$W/$base; mkdir -p "$d"
  make_cluster "$d" 3 "$VERSION" "$base" 0 1
  for i in 1 2 3; do   # members listen on base+i and advertise the proxy on base+200+i; the daemon is given proxies
    python3 - "$d/s$i/flags" "$((base + i))" "$((base + 200 + i))" <<'PY'
import sys
path, real, proxy = sys.argv[1:]
lines = open(path).read().split("\n")
i = lines.index("--advertise-client-urls")
lines[i + 1] = "http://127.0.0.1:" + proxy
open(path, "w").write("\n".join(lines))
PY
    sed -i "s|127.0.0.1:$((base + 1))\"|127.0.0.1:$((base + 201))\"|g; s|127.0.0.1:$((base + 2))\"|127.0.0.1:$((base + 202))\"|g; s|127.0.0.1:$((base + 3))\"|127.0.0.1:$((base + 203))\"|g" "$d/s$i/shepherd.json"
    "$ROOT/scripts/bg.sh" start "$d/proxy$i.pid" "$d/proxy$i.log" python3 "$ROOT/scripts/wire-count.py" \
      "$((base + 200 + i))" "$((base + i))" "$d/wire.log"
  done
  start_members "$d" 3
  wait_healthy "http://127.0.0.1:$((base + 1))" "http://127.0.0.1:$((base + 2))" "http://127.0.0.1:$((base + 3))"
  "$ROOT/scripts/bg.sh" start "$d/daemon.pid" "$d/daemon.log" "$bin" run --config "$d/s1/shepherd.json"
  sleep 5   # the daemon's start (the first ticks adopt the members and open its watch): not measured
  pid=$(cat "$d/daemon.pid"); c0=$(awk '{print $14+$15}' "/proc/$pid/stat"); t0=$(date +%s.%N)
  sleep "$DURATION"   # the measured period
  t1=$(date +%s.%N); c1=$(awk '{print $14+$15}' "/proc/$pid/stat"); rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
  "$ROOT/scripts/bg.sh" stop "$d/daemon.pid" 10
  python3 - "$d/wire.log" "$t0" "$t1" "$bin" "$rss" "$(python3 -c "print(round(($c1-$c0)/$(getconf CLK_TCK)/($t1-$t0)*100,2))")" <<'PY'
import collections, statistics, sys
path, t0, t1, binary, rss, cpu = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
events = [l.split(" ", 3) for l in open(path)]
events = [(float(e[0]), e[1], e[2], e[3].strip() if len(e) > 3 else "") for e in events if t0 <= float(e[0]) <= t1]
grpc = sum(1 for e in events if e[1] == "call" and e[3] == "grpc")
conns = sum(1 for e in events if e[1] == "open")
http = collections.Counter(e[3] for e in events if e[1] == "call" and e[3] != "grpc")
out = sum(int(e[3]) for e in events if e[1] == "req")
back = sum(int(e[3]) for e in events if e[1] == "resp")
bursts, current = [], []
for e in events:
    if current and e[0] - current[-1][0] >= 0.3:
        bursts.append(current)
        current = []
    current.append(e)
if current:
    bursts.append(current)
ticks = len(bursts)
walls = sorted((b[-1][0] - b[0][0]) * 1000 for b in bursts)
p90 = walls[int(0.9 * (len(walls) - 1))] if walls else 0
print(f"{binary}")
print(f"  {ticks} ticks in {t1 - t0:.1f} s; per tick: {grpc / ticks:.1f} gRPC calls, {sum(http.values()) / ticks:.1f} HTTP requests, {conns / ticks:.1f} new connections"
      f" ({', '.join(f'{k} {v / ticks:.1f}' for k, v in sorted(http.items()))}); {out / ticks / 1024:.1f} KiB out, {back / ticks / 1024:.1f} KiB in")
print(f"  tick on the wire: median {statistics.median(walls):.1f} ms, p90 {p90:.1f} ms; daemon RSS {int(rss) // 1024} MiB, CPU {cpu} % of a core")
PY
  stop_members "$d" 3
  for i in 1 2 3; do "$ROOT/scripts/bg.sh" stop "$d/proxy$i.pid" 5 || true; done
done
