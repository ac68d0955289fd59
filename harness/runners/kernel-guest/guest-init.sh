#!/bin/sh
# migcompat kernel-guest /init (busybox sh; see docs/kernel-guest.md#boot-and-the-agent).
# Loads VFIO, mdev and mtty, creates the mdev instances named on the command line, mounts the
# host's / (read-only 9p) with proc, sys, dev and a tmpfs over it, and runs migcompat's agent there.
# Every step says what it did on the console; a failed step says FATAL and powers the guest off.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "MIGCOMPAT: $*" >/dev/console; }
fail() { say "FATAL $*"; sync; poweroff -f; sleep 5; }
hostname migcompat-kernel-guest
say "init kernel=$(uname -r) up=$(up)"
for a in $(cat /proc/cmdline); do
  case "$a" in
    mc.repo=*) REPO=${a#*=} ;;
    mc.node=*) NODE=${a#*=} ;;
    mc.mdev=*) MDEV=${a#*=} ;;
    mc.port=*) PORT=${a#*=} ;;
    mc.tsx=*) TSXSEED=${a#*=} ;;
    mc.net=*) NET=${a#*=} ;;
  esac
done
[ -n "$REPO" ] && [ -n "$NODE" ] && [ -n "$PORT" ] || fail "kernel command line lacks mc.repo, mc.node or mc.port"
# insmod in the dependency order the host computed; each line: file [parameters]
while read -r m params; do
  [ -z "$m" ] && continue
  insmod "/lib/modules/$m" $params 2>/tmp/insmod.err || fail "insmod $m: $(cat /tmp/insmod.err)"
done </etc/migcompat/modules
say "modules loaded up=$(up)"
for spec in $(echo "$MDEV" | tr ',' ' '); do
  type=${spec%%:*}
  uuid=${spec#*:}
  create=
  for t in /sys/class/mdev_bus/*/mdev_supported_types/"$type"; do [ -e "$t/create" ] && create=$t/create; done
  [ -n "$create" ] || fail "no mdev type $type (types: $(ls /sys/class/mdev_bus/*/mdev_supported_types 2>&1 | tr '\n' ' '))"
  echo "$uuid" >"$create" 2>/tmp/mdev.err || fail "creating mdev $type $uuid: $(cat /tmp/mdev.err)"
  say "mdev $type $uuid group=$(basename "$(readlink /sys/bus/mdev/devices/"$uuid"/iommu_group)")"
done
ip link set lo up
if [ "$NET" = 1 ]; then
  # QEMU's user-mode network: fixed addresses, the host reaches the guest's port 22 through a forward
  ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 || fail "configuring eth0"
fi
mkdir -p /host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /host 2>/tmp/9p.err || fail "mounting the host's / over 9p: $(cat /tmp/9p.err)"
# tsx's compile cache, filled by the host for the modules the agent and the CLI load (compiling
# them under TCG takes longer than the rest of the boot); copied before a tmpfs hides the host's /tmp
if [ -n "$TSXSEED" ] && [ -d "/host$TSXSEED" ]; then
  mkdir -p /tmp/tsx-seed && cp -a "/host$TSXSEED"/. /tmp/tsx-seed/ 2>/dev/null || say "tsx cache not copied"
fi
# a repository under the host's /tmp would vanish under the guest's tmpfs: carry it across with a bind mount
case "$REPO" in /tmp/*) mkdir -p /mnt/repo && mount -o bind "/host$REPO" /mnt/repo || fail "binding $REPO" ;; esac
# an empty, writable /root: the host's root home (its shell start-up files, its keys) stays out of the guest
mount -t proc proc /host/proc && mount -t sysfs sys /host/sys && mount -t devtmpfs dev /host/dev &&
  mount -t tmpfs tmp /host/tmp && mount -t tmpfs run /host/run && mount -t tmpfs -o mode=0700 root /host/root ||
  fail "mounting proc, sys, dev, tmp, run and root over the host's /"
for d in /tmp/tsx-seed/tsx-*; do [ -d "$d" ] && cp -a "$d" /host/tmp/tsx-0; done
case "$REPO" in /tmp/*) mkdir -p "/host$REPO" && mount -o bind /mnt/repo "/host$REPO" || fail "binding $REPO back" ;; esac
AGENT=
for p in /sys/class/virtio-ports/*; do
  [ "$(cat "$p/name" 2>/dev/null)" = "$PORT" ] && AGENT=/dev/${p##*/}
done
[ -n "$AGENT" ] || fail "no virtio-serial port named $PORT"
say "agent starting on $AGENT up=$(up)"
chroot /host /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/tmp TMPDIR=/tmp LC_ALL=C.UTF-8 \
  MIGCOMPAT_LOCK_DIR=/tmp/migcompat-locks MIGCOMPAT_CACHE=/tmp/migcompat-cache MIGCOMPAT_RESULTS=/tmp/results \
  /bin/sh -c 'cd "$1" && exec "$2" --import tsx harness/runners/kernel-guest/agent.ts "$3"' sh "$REPO" "$NODE" "$AGENT"
fail "agent exited with status $?"
