#!/usr/bin/env bash
# The simulator's teeth: in a scratch clone of this repository, disable each gate and model-checked rule of the core
# in turn (scripts/mutations.py) and run the CI seeds; each line says how many seeds caught it. Slow (a build and
# ~40 s of seeds per mutation); not part of `make test`. Usage: scripts/mutation-check.sh [SCRATCH_DIR] [NAME...]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=${1:-/tmp/etcd-shepherd-mutants}; shift || true
[ -d "$scratch/.git" ] || git clone -q "$repo" "$scratch"
cd "$scratch"
names=("$@"); [ ${#names[@]} -gt 0 ] || mapfile -t names < <(python3 "$repo/scripts/mutations.py" --list)
for m in "${names[@]}"; do
  git checkout -q Sources/Rollout
  python3 "$repo/scripts/mutations.py" "$m"
  if ! swift build --build-tests > "/tmp/mutant-$m.build.log" 2>&1; then echo "$m: BUILD FAILED (see /tmp/mutant-$m.build.log)"; continue; fi
  out=$(SIM_SEEDS=${SIM_SEEDS:-2000} swift test --skip-build --filter "FleetSimulationTests/seeds" 2>&1 | tee "/tmp/mutant-$m.log" | grep -E "^simulation:" || true)
  first=$(grep -m1 -oE "seed [0-9]+ n=[0-9]+ [a-zA-Z]+: .{0,160}" "/tmp/mutant-$m.log" | head -1 || true)
  echo "$m: ${out:-no summary (see /tmp/mutant-$m.log)} | first: ${first:-none}"
done
git checkout -q Sources/Rollout
