#!/bin/bash
# Boot a real systemd (Debian 12, v252) as PID 1 of fresh pid+mount+net+uts+ipc+cgroup
# namespaces, on a throw-away overlay of the host root (host / is never written).
#
#   systemd-guest.sh start [NAME]   -> boots, waits for "running/degraded", prints host PID of ns-PID1
#   systemd-guest.sh exec NAME cmd  -> runs cmd inside (nsenter)
#   systemd-guest.sh stop NAME      -> clean poweroff, waits, removes cgroups
# env: EXTRA_UNITS_DIR=dir (copied into guest /etc/systemd/system before boot)
#      BIND_DIRS="/abs/dir ..." (bind-mounted rw at the same path inside the guest)
#      GUEST_SHARE_NET=1 (keep the host's network namespace, so the host can reach the guest's loopback services)
# etcd-shepherd's copy of the proven recipe in ../shared/reference/systemd-guest.sh (plus GUEST_SHARE_NET).
#
# Units/drop-ins to test can be copied into the container via:
#   systemd-guest.sh exec NAME sh -c 'cat > /etc/systemd/system/x.service' < x.service
# or by putting files into $EXTRA_UNITS_DIR (copied to /etc/systemd/system before boot).
set -euo pipefail
CMD=${1:-}; NAME=${2:-sdns}
BASE=/tmp/$NAME
CG1=/sys/fs/cgroup/systemd/$NAME
CG2=/sys/fs/cgroup/unified/$NAME

pid1() { cat "$BASE.pid1"; }
NS="--pid --fork --mount --net --uts --ipc --cgroup --propagation private"
[ "${GUEST_SHARE_NET:-}" = 1 ] && NS="--pid --fork --mount --uts --ipc --cgroup --propagation private"

case "$CMD" in
start)
  mkdir -p "$BASE"
  mkdir -p "$CG1" "$CG2"
  # The launcher (and therefore everything below) goes into a dedicated cgroup; the new
  # cgroup namespace is rooted there, so the guest systemd sees "/" and creates its
  # init.scope/system.slice below $NAME instead of at the host root.
  cat > "$BASE.inner" <<'EOF'
#!/bin/bash
set -e
NAME=$1; BASE=/tmp/$NAME
mount --make-rprivate /
mount -t tmpfs -o mode=755 tmpfs "$BASE"          # all writes go to RAM
mkdir -p "$BASE"/{upper,work,root}
mount -t overlay overlay -o "lowerdir=/,upperdir=$BASE/upper,workdir=$BASE/work" "$BASE/root"
R=$BASE/root
mount -t proc proc "$R/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"     # ro /sys => "container" semantics
mount -t tmpfs -o mode=755,nosuid,nodev,noexec tmpfs "$R/sys/fs/cgroup"
mkdir -p "$R/sys/fs/cgroup/systemd" "$R/sys/fs/cgroup/unified"
mount -t cgroup -o none,name=systemd,nosuid,nodev,noexec cgroup "$R/sys/fs/cgroup/systemd"
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$R/sys/fs/cgroup/unified"
mount -t tmpfs -o mode=755,nosuid tmpfs "$R/dev"
for d in null zero full random urandom tty; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
mkdir -p "$R/dev/pts" "$R/dev/shm" "$R/dev/mqueue"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"
touch "$R/dev/console"
if tty -s; then mount --bind "$(tty)" "$R/dev/console"; else mount --bind /dev/null "$R/dev/console"; fi
ln -s /proc/self/fd "$R/dev/fd"; ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$R/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/tmp"
# --- minimal boot target, mask things that make no sense here ---
E=$R/etc/systemd/system
cat > "$E/sdtest.target" <<'T'
[Unit]
Description=Minimal test target
Requires=basic.target
After=basic.target
AllowIsolate=yes
T
ln -sf sdtest.target "$E/default.target"
for u in systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
         e2scrub_all.timer fstrim.timer man-db.timer systemd-tmpfiles-clean.timer \
         getty@tty1.service console-getty.service systemd-networkd-wait-online.service \
         systemd-firstboot.service systemd-pstore.service postgresql.service etcd.service \
         systemd-logind.service; do
  ln -sf /dev/null "$E/$u"
done
[ -d "$BASE.units" ] 2>/dev/null && cp -a "$BASE.units"/. "$E"/ || true
# BIND_DIRS="dir1 dir2": host dirs visible (rw) at the same path inside (e.g. a build dir)
for d in ${BIND_DIRS:-}; do mkdir -p "$R$d"; mount --bind "$d" "$R$d"; done
hostname "$NAME"
cd "$R"; mkdir -p .oldroot
pivot_root . .oldroot
cd /
umount -l /.oldroot; rmdir /.oldroot
exec env -i container=unshare-sdtest TERM=dumb PATH=/usr/sbin:/usr/bin:/sbin:/bin \
     /lib/systemd/systemd --log-target=journal-or-kmsg --show-status=no
EOF
  chmod +x "$BASE.inner"
  if [ -n "${EXTRA_UNITS_DIR:-}" ]; then rm -rf "$BASE.units"; cp -a "$EXTRA_UNITS_DIR" "$BASE.units"; fi
  # PID1 logs to journal once journald runs, before that to console (no /dev/kmsg inside)
  # script(1) gives us a pty that becomes the guest's /dev/console; output in $BASE.console
  setsid bash -c "echo \$\$ > '$CG1/cgroup.procs'; echo \$\$ > '$CG2/cgroup.procs'; \
     exec script -qfec 'unshare $NS $BASE.inner $NAME' $BASE.console" \
     </dev/null >/dev/null 2>&1 &
  T0=$(date +%s.%N)
  # find host PID of ns PID 1 (child of unshare)
  for i in $(seq 1 100); do
    U=$(pgrep -f "^unshare $NS $BASE.inner" || true)
    if [ -n "$U" ]; then P=$(pgrep -P "$U" || true); [ -n "$P" ] && break; fi
    sleep 0.1
  done
  echo "$P" > "$BASE.pid1"
  for i in $(seq 1 300); do
    S=$(nsenter -t "$P" -m -p -u -i -n -C systemctl is-system-running 2>/dev/null || true)
    case "$S" in running|degraded) break;; esac
    sleep 0.1
  done
  T1=$(date +%s.%N)
  echo "pid1(host)=$P state=$S boot_seconds=$(awk "BEGIN{print $T1 - $T0}")"
  ;;
exec)
  shift 2
  exec nsenter -t "$(pid1)" -m -p -u -i -n -C -- "$@"
  ;;
stop)
  P=$(pid1)
  kill -s SIGRTMIN+4 "$P" 2>/dev/null || true     # = systemctl poweroff
  for i in $(seq 1 200); do kill -0 "$P" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$P" 2>/dev/null && { echo "still alive, SIGKILL"; kill -9 "$P"; sleep 0.5; }
  # wait until the launcher (script/unshare) has left the cgroup too
  for i in $(seq 1 50); do [ -z "$(cat $CG1/cgroup.procs $CG2/cgroup.procs 2>/dev/null)" ] && break; sleep 0.1; done
  for h in "$CG1" "$CG2"; do [ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null || true; done
  rm -f "$BASE.pid1" "$BASE.inner" "$BASE.console"; rm -rf "$BASE.units"; rmdir "$BASE" 2>/dev/null || true
  echo "stopped; cgroups left: $(ls -d $CG1 $CG2 2>/dev/null | wc -l)"
  ;;
*) echo "usage: $0 start|exec|stop NAME ..."; exit 2;;
esac
