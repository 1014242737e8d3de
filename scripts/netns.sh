#!/bin/bash
# Network namespaces for partition tests: one per node on a private bridge the test owns.
#   netns.sh up TAG N SUBNET      bridge br-TAG with SUBNET.254/24 on the host; namespaces TAG-s1..sN, each with
#                                 eth0 = SUBNET.I/24 on the bridge (host side TAG-vI) and lo up
#   netns.sh cut TAG I            takes node I's link down (its member and daemon keep running, reach no one)
#   netns.sh heal TAG I           brings it back
#   netns.sh down TAG N           removes the namespaces, links and bridge (safe to repeat)
# TAG: at most 6 characters (interface names are limited to 15).
set -euo pipefail
cmd=${1:?usage}; tag=${2:?tag}
case "$cmd" in
up)
  n=${3:?n}; net=${4:?subnet like 10.77.3}
  ip link add "br-$tag" type bridge
  ip addr add "$net.254/24" dev "br-$tag"
  ip link set "br-$tag" up
  for i in $(seq 1 "$n"); do
    ip netns add "$tag-s$i"
    ip link add "$tag-v$i" type veth peer name "$tag-p$i"
    ip link set "$tag-p$i" netns "$tag-s$i"
    ip -n "$tag-s$i" link set "$tag-p$i" name eth0
    ip -n "$tag-s$i" addr add "$net.$i/24" dev eth0
    ip -n "$tag-s$i" link set eth0 up
    ip -n "$tag-s$i" link set lo up
    ip link set "$tag-v$i" master "br-$tag"
    ip link set "$tag-v$i" up
  done
  ;;
cut) ip link set "$tag-v${3:?i}" down ;;
heal) ip link set "$tag-v${3:?i}" up ;;
down)
  n=${3:?n}
  for i in $(seq 1 "$n"); do
    ip link del "$tag-v$i" 2>/dev/null || true
    ip netns del "$tag-s$i" 2>/dev/null || true
  done
  ip link del "br-$tag" 2>/dev/null || true
  ;;
*) echo "usage: netns.sh up|cut|heal|down TAG ..." >&2; exit 2 ;;
esac
