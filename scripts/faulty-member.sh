#!/bin/bash
# etcd-member.sh with faults, for the real-cluster safety tests: the daemons' controller commands go through it.
#   faulty-member.sh FAULTS start|stop|pid DIR
# FAULTS is a folder; each file in it arms one fault (the first stop anywhere fires a one-shot fault once, claimed
# with mkdir FAULTS/fired, the names of the members involved in FAULTS/fired/names):
#   kill-peer-and-daemon  the first stop kills -9 a peer's etcd and this member's daemon, and stops nothing (a daemon
#                         that dies at its stop while a peer crashes); the stop exits 1
#   status-lies           `pid` says "not running" for the member whose stop fired, while it runs (a wrong process state)
#   kill-daemon-after     the first stop stops the member, then kills -9 this member's daemon (a daemon killed right
#                         after its stop); the time of the kill goes to FAULTS/fired/killed-at
#   kill-daemon-during    the first stop kills -9 this member's daemon, then stops the member 6 s later (a daemon killed
#                         while its stop is still under way: a slow stop job); the kill's time in FAULTS/fired/killed-at
#   stop-does-nothing     the first stop exits 0 and stops nothing (a stop command that returns early, or stops
#                         another process: the member still runs)
#   kill-peer             the first stop kills -9 a peer's etcd and stops nothing; the stop exits 1 (a stop command
#                         that fails while a peer crashes: the daemon lives on, holding the lock)
#   start-fails-on        every start of a member whose binary link points to a path containing this file's text
#                         (a release, "3.5.30") exits 1 and starts nothing (`systemctl start` of a unit whose process
#                         exits before it is ready)
# Every call is logged to FAULTS/calls ("<epoch seconds> <cmd> <member>").
set -euo pipefail
FAULTS=${1:?usage: faulty-member.sh FAULTS start|stop|pid DIR}; CMD=${2:?cmd}; DIR=${3:?member dir}
HERE=$(cd "$(dirname "$0")" && pwd)
ME=$(basename "$DIR")
echo "$(date +%s.%N) $CMD $ME" >> "$FAULTS/calls"

claim() { mkdir "$FAULTS/fired" 2>/dev/null; }
kill_pidfile() { [ -s "$1" ] && kill -KILL "$(cat "$1")" 2>/dev/null || true; }
# kill -9 the first other member's etcd; the names (this member, the peer) go to FAULTS/fired/names.
kill_a_peer() {
  local p PEER=""
  for p in "$(dirname "$DIR")"/s*; do
    [ "$p" = "$DIR" ] && continue
    PEER=$(basename "$p"); kill_pidfile "$p/etcd.pid"; break
  done
  echo "$ME ${PEER:?no peer}" > "$FAULTS/fired/names"
}

case "$CMD" in
stop)
  if [ -f "$FAULTS/kill-peer-and-daemon" ] && claim; then
    kill_a_peer
    kill_pidfile "$DIR/daemon.pid"
    exit 1
  fi
  if [ -f "$FAULTS/kill-daemon-after" ] && claim; then
    "$HERE/etcd-member.sh" stop "$DIR"
    echo "$ME" > "$FAULTS/fired/names"
    kill_pidfile "$DIR/daemon.pid"
    date +%s.%N > "$FAULTS/fired/killed-at"
    exit 0
  fi
  if [ -f "$FAULTS/kill-peer" ] && claim; then
    kill_a_peer
    exit 1
  fi
  if [ -f "$FAULTS/stop-does-nothing" ] && claim; then
    echo "$ME" > "$FAULTS/fired/names"
    exit 0
  fi
  if [ -f "$FAULTS/kill-daemon-during" ] && claim; then
    echo "$ME" > "$FAULTS/fired/names"
    kill_pidfile "$DIR/daemon.pid"
    date +%s.%N > "$FAULTS/fired/killed-at"
    sleep 6
  fi
  exec "$HERE/etcd-member.sh" stop "$DIR"
  ;;
start)
  if [ -s "$FAULTS/start-fails-on" ] && readlink "$DIR/etcd" | grep -qF -- "$(cat "$FAULTS/start-fails-on")"; then
    echo "faulty-member: $ME refuses to start on $(readlink "$DIR/etcd")" >&2
    exit 1
  fi
  exec "$HERE/etcd-member.sh" start "$DIR"
  ;;
pid)
  if [ -f "$FAULTS/status-lies" ] && [ -s "$FAULTS/fired/names" ] && [ "$(cut -d' ' -f1 < "$FAULTS/fired/names")" = "$ME" ]; then
    exit 1
  fi
  exec "$HERE/etcd-member.sh" pid "$DIR"
  ;;
*) exec "$HERE/etcd-member.sh" "$CMD" "$DIR" ;;
esac
