#!/usr/bin/env bash
# The tests' teeth: in a scratch clone of this repository (at its HEAD), disable each gate and rule in turn
# (scripts/mutations.py) and run the simulator's seeds and the real-cluster tests named for it; each line says how
# many seeds and which real tests caught it. Slow (an incremental build, ~60 s of seeds and up to a few minutes of
# real clusters per mutation); not part of `make test`.
#   scripts/mutation-check.sh [SCRATCH_DIR] [NAME...]      SIM_SEEDS (default 2000); results also in SCRATCH_DIR/results.tsv
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=${1:-/tmp/etcd-shepherd-mutants}; shift || true
[ -d "$scratch/.git" ] || git clone -q "$repo" "$scratch"
git -C "$scratch" fetch -q "$repo" HEAD && git -C "$scratch" reset -q --hard FETCH_HEAD
cd "$scratch"
python3 scripts/mutations.py --check
export ETCD_BIN_DIR=${ETCD_BIN_DIR:-$repo/.etcd/bin}
names=("$@"); [ ${#names[@]} -gt 0 ] || mapfile -t names < <(python3 scripts/mutations.py --list)
results=$scratch/results.tsv
[ -f "$results" ] || printf 'mutation\tsim failing\tsim seeds\tsim first\treal tests\treal result\n' > "$results"
for m in "${names[@]}"; do
  git checkout -q Sources
  python3 scripts/mutations.py "$m"
  if ! swift build --build-tests > "/tmp/mutant-$m.build.log" 2>&1; then echo "$m: BUILD FAILED (see /tmp/mutant-$m.build.log)"; continue; fi
  sim="-" first="" seeds=${SIM_SEEDS:-2000}
  if [ "$(python3 scripts/mutations.py --sim "$m")" = yes ]; then
    SIM_SEEDS=$seeds swift test --skip-build --filter "FleetSimulationTests/seeds" > "/tmp/mutant-$m.log" 2>&1 || true
    sim=$(grep -oE "[0-9]+ failing" "/tmp/mutant-$m.log" | head -1 | cut -d' ' -f1 || true)
    first=$(grep -m1 -oE "seed [0-9]+ n=[0-9]+ [a-zA-Z]+: .{0,160}" "/tmp/mutant-$m.log" | head -1 || true)
  fi
  real=$(python3 scripts/mutations.py --real "$m") verdict="-"
  if [ -n "$real" ]; then
    if timeout 1200 swift test --skip-build --no-parallel --filter "$real" > "/tmp/mutant-$m.real.log" 2>&1; then verdict="NOT caught"
    else verdict="caught: $(grep -cE '^✘ Test .* recorded an issue' "/tmp/mutant-$m.real.log" || true) issue(s)"; fi
  fi
  echo "$m: simulator ${sim:-?} of $seeds seeds failing (first: ${first:-none}) | real ($real): $verdict"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "${sim:-?}" "$seeds" "$first" "$real" "$verdict" >> "$results"
done
git checkout -q Sources
