#!/usr/bin/env bash
# A long run of the fleet simulator: the CI mix of profiles and sizes over more seeds, in slices of 20,000 (each
# slice one `swift test`), printing each slice's figures and the running seeds/s; stops at the first failing slice
# with the replay command of its first failing seed.
#   scripts/simulate.sh --seeds N [--first K]     (default N = 1000000, K = 0; the CI runs k 0..<5000)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=1000000 first=0 slice=20000
while [ $# -gt 0 ]; do
  case $1 in
    --seeds) seeds=$2; shift 2 ;;
    --first) first=$2; shift 2 ;;
    *) echo "usage: scripts/simulate.sh --seeds N [--first K]" >&2; exit 2 ;;
  esac
done
swift build --build-tests >/dev/null
start=$(date +%s) done=0
for ((k = first; k < first + seeds; k += slice)); do
  n=$(( first + seeds - k < slice ? first + seeds - k : slice ))
  out=$(SIM_FIRST=$k SIM_SEEDS=$n swift test --skip-build --filter FleetSimulationTests/seeds 2>&1) || {
    echo "$out" | grep -E "^simulation:|seed [0-9]+ n=|replay:" | head -12
    echo "slice k=$k..$((k + n)) FAILED"; exit 1
  }
  done=$((done + n)) elapsed=$(( $(date +%s) - start ))
  echo "$(echo "$out" | grep -E '^simulation:') | total $done seeds in ${elapsed} s, $(( done / (elapsed > 0 ? elapsed : 1) )) seeds/s"
done
