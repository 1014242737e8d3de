#!/bin/bash
# Starts and stops one etcd member the way a service manager would, for tests, the demo and the benchmark.
#   etcd-member.sh start DIR   runs DIR/etcd (the member's binary link) with the flags in DIR/flags (one per line)
#                              and the variables in DIR/env if present (like a unit's EnvironmentFile=), detached,
#                              inside the network namespace named in DIR/netns if present (partition tests),
#                              logging to DIR/etcd.log, its PID in DIR/etcd.pid; returns at once.
#   etcd-member.sh stop DIR    SIGTERM to that PID, waits until the process has exited (not just closed its port;
#                              a leader that cannot hand over can take ~7 s), SIGKILL after 20 s.
#   etcd-member.sh pid DIR     prints the PID when the member runs, exits 1 otherwise.
set -euo pipefail
CMD=${1:?usage: etcd-member.sh start|stop|pid DIR}; DIR=${2:?member dir}
PIDFILE=$DIR/etcd.pid

# Alive and not a zombie (an orphan whose reaper has not collected it yet counts as exited).
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != "Z" ]; }
ours() { alive "$1" && tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -q -- "--data-dir"; }
current() { [ -s "$PIDFILE" ] && p=$(cat "$PIDFILE") && ours "$p" && echo "$p"; }
forget() { [ "$(cat "$PIDFILE" 2>/dev/null)" = "$1" ] && rm -f "$PIDFILE" || true; }

case "$CMD" in
start)
  if p=$(current); then echo "etcd-member: already running as $p" >&2; exit 0; fi
  mapfile -t FLAGS < "$DIR/flags"
  if [ -f "$DIR/env" ]; then set -a; . "$DIR/env"; set +a; fi
  NS=(); if [ -f "$DIR/netns" ]; then NS=(ip netns exec "$(cat "$DIR/netns")"); fi   # exec: the PID stays etcd's
  setsid "${NS[@]}" "$DIR/etcd" "${FLAGS[@]}" </dev/null >>"$DIR/etcd.log" 2>&1 &
  echo $! > "$PIDFILE"
  ;;
stop)
  p=$(current) || exit 0
  kill -TERM "$p" 2>/dev/null || true
  # The PID file goes only if it still names the process stopped here: a start that came between its exit and this
  # line (a daemon recovering the member as soon as it saw it down) wrote its own, and losing it made the next stop
  # a no-op on a running member.
  for _ in $(seq 1 400); do alive "$p" || { forget "$p"; exit 0; }; sleep 0.05; done
  echo "etcd-member: $p ignored SIGTERM for 20 s, killing" >&2
  kill -KILL "$p" 2>/dev/null || true
  for _ in $(seq 1 100); do alive "$p" || { forget "$p"; exit 0; }; sleep 0.05; done
  exit 1
  ;;
pid) current ;;
*) echo "usage: etcd-member.sh start|stop|pid DIR" >&2; exit 2 ;;
esac
