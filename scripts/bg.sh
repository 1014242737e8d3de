#!/bin/bash
# Runs a long-lived command detached, for tests and benchmarks, and stops it by its PID.
#   bg.sh start PIDFILE LOGFILE CMD [ARGS...]   starts CMD in its own session (stdin /dev/null, output to LOGFILE)
#   bg.sh stop PIDFILE [SECONDS]                SIGTERM, waits up to SECONDS (default 30) for the exit, then SIGKILL;
#                                               exits 3 when SIGKILL was needed
#   bg.sh signal PIDFILE SIG                    sends SIG (e.g. HUP, STOP, CONT)
set -euo pipefail
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != "Z" ]; }
case "${1:-}" in
start)
  pidfile=$2; log=$3; shift 3
  setsid "$@" </dev/null >>"$log" 2>&1 &
  echo $! > "$pidfile"
  ;;
stop)
  pidfile=$2; limit=${3:-30}
  [ -s "$pidfile" ] || exit 0
  p=$(cat "$pidfile"); alive "$p" || { rm -f "$pidfile"; exit 0; }
  kill -TERM "$p" 2>/dev/null || true
  kill -CONT "$p" 2>/dev/null || true   # a frozen process (SIGSTOP) gets its SIGTERM only once it runs again
  for _ in $(seq 1 $((limit * 20))); do alive "$p" || { rm -f "$pidfile"; exit 0; }; sleep 0.05; done
  kill -KILL "$p" 2>/dev/null || true
  rm -f "$pidfile"; exit 3
  ;;
signal)
  p=$(cat "$2"); kill -"$3" "$p"
  ;;
*) echo "usage: bg.sh start PIDFILE LOG CMD... | stop PIDFILE [SECONDS] | signal PIDFILE SIG" >&2; exit 2 ;;
esac
