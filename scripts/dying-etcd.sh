#!/bin/bash
# A target that dies: runs etcd (REAL, with the member's flags) and kills it -9 SECONDS after its start when the
# member's folder (the parent of --data-dir) holds a file `die-after` with SECONDS in it. For the real-cluster tests
# of a target that crashes while it settles, after its verification or after the cluster version moved:
#   dying-etcd.sh REAL [etcd flags...]     (a binDir's etcd-<version> is a two-line script that execs this)
set -euo pipefail
REAL=${1:?usage: dying-etcd.sh REAL [flags...]}; shift
dir="" prev=""
for a in "$@"; do
  [ "$prev" = "--data-dir" ] && dir=$a
  case $a in --data-dir=*) dir=${a#--data-dir=} ;; esac
  prev=$a
done
if [ -n "$dir" ] && [ -s "$(dirname "$dir")/die-after" ]; then
  s=$(cat "$(dirname "$dir")/die-after")
  me=$$
  # After the exec below, $me is etcd: the timer kills that process (and only while it is still that etcd).
  ( sleep "$s"; grep -q -- "--data-dir" "/proc/$me/cmdline" 2>/dev/null && kill -KILL "$me" ) </dev/null >/dev/null 2>&1 &
fi
exec "$REAL" "$@"
