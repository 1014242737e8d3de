# Shared by demo.sh and bench.sh: a real N-member etcd cluster on loopback, one folder per member, each with an
# etcd-shepherd config whose command controller is scripts/etcd-member.sh.
#   make_cluster DIR N VERSION BASEPORT [SETTLE] [TICK]   creates DIR/sN/{flags,etcd,shepherd.json}
#   start_members DIR N ; stop_members DIR N ; wait_healthy URL...
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BIN=${ETCD_BIN_DIR:-$ROOT/.etcd/bin}

make_cluster() {
  local dir=$1 n=$2 version=$3 base=$4 settle=${5:-2} tick=${6:-1} i initial="" endpoints=""
  for i in $(seq 1 "$n"); do
    initial+="${initial:+,}s$i=http://127.0.0.1:$((base + 100 + i))"
    endpoints+="${endpoints:+,}\"http://127.0.0.1:$((base + i))\""
  done
  for i in $(seq 1 "$n"); do
    local m=$dir/s$i c=http://127.0.0.1:$((base + i)) p=http://127.0.0.1:$((base + 100 + i))
    mkdir -p "$m/state"
    printf '%s\n' --name "s$i" --data-dir "$m/data" --listen-client-urls "$c" --advertise-client-urls "$c" \
      --listen-peer-urls "$p" --initial-advertise-peer-urls "$p" --initial-cluster "$initial" \
      --initial-cluster-state new --initial-cluster-token "demo-$base" --logger zap > "$m/flags"
    ln -sfn "$BIN/etcd-$version" "$m/etcd"
    cat > "$m/shepherd.json" <<JSON
{
  "member": { "name": "s$i", "clientURL": "$c", "dataDir": "$m/data",
              "binaryLink": "$m/etcd", "binaryPathTemplate": "$BIN/etcd-{version}" },
  "cluster": { "endpoints": [$endpoints], "keyPrefix": "/etcd-shepherd" },
  "controller": { "kind": "command", "stop": ["$ROOT/scripts/etcd-member.sh", "stop", "$m"],
                  "start": ["$ROOT/scripts/etcd-member.sh", "start", "$m"],
                  "status": ["$ROOT/scripts/etcd-member.sh", "pid", "$m"] },
  "requestFile": "$m/state/upgrade-request.json",
  "stateDir": "$m/state",
  "backupDir": "$m/backups",
  "metrics": null,
  "timing": { "tickSeconds": $tick, "lockTTLSeconds": 30, "verifyTimeoutSeconds": 60, "settleSeconds": $settle }
}
JSON
  done
}

start_members() { local i; for i in $(seq 1 "$2"); do "$ROOT/scripts/etcd-member.sh" start "$1/s$i"; done; }
stop_members() { local i; for i in $(seq 1 "$2"); do "$ROOT/scripts/etcd-member.sh" stop "$1/s$i" || true; done; }

wait_healthy() {
  local u
  for u in "$@"; do
    for _ in $(seq 1 300); do curl -sf -m 1 "$u/health" | grep -q '"health":"true"' && break; sleep 0.1; done
    curl -sf -m 1 "$u/health" | grep -q '"health":"true"' || { echo "member $u did not become healthy" >&2; return 1; }
  done
}
