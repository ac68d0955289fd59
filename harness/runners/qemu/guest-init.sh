#!/bin/sh
# migcompat guest /init (see guestInit.ts for what it does and why).
export PATH=/bin:/sbin:/usr/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
say() { echo "MIGCOMPAT: $*" >/dev/console; }
say "init kernel=$(uname -r) up=$(cut -d' ' -f1 /proc/uptime)"
. /etc/migcompat/params
for a in $(cat /proc/cmdline); do
  case "$a" in
    mc.delay=*) DELAY_MS=${a#*=} ;;
    mc.size=*) SIZE=${a#*=} ;;
  esac
done
# insmod in the dependency order the host computed; a missing optional driver (hisi_* off the lab) is only logged
while read -r m opt; do
  [ -z "$m" ] && continue
  if insmod "/lib/modules/$m" 2>/tmp/insmod.err; then :; else say "insmod $m failed ($opt): $(cat /tmp/insmod.err)"; fi
done </etc/migcompat/modules
say "modules loaded up=$(cut -d' ' -f1 /proc/uptime)"
# HiSilicon driver counters (hisi_sec2 keeps per-device request counts there)
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# which hisi_* modules are loaded, and each hisi_* PCI driver with the number of devices bound to it
hisi_report() {
  mods=$(awk '$1 ~ /^hisi_/ { printf "%s%s", s, $1; s = "," }' /proc/modules)
  pci=
  for d in /sys/bus/pci/drivers/hisi_*; do
    [ -d "$d" ] || continue
    n=0
    for l in "$d"/????:??:??.?; do [ -e "$l" ] && n=$((n+1)); done
    pci="$pci${pci:+,}${d##*/}:$n"
  done
  echo "HISI modules=${mods:--} pci=${pci:--}"
}
# the driver /proc/crypto ranks first for each workload algorithm (what AF_ALG gets), '|'-separated
serving() {
  awk -F': ' -v want="$ALGS" '
    BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) ok[w[i]] = 1 }
    /^name/ { name = $2 } /^driver/ { drv = $2 }
    /^priority/ { if ((name in ok) && (!(name in p) || $2 + 0 > p[name])) { p[name] = $2 + 0; d[name] = drv } }
    END { for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? "|" : ""), (w[i] in d ? d[w[i]] : "-") }' /proc/crypto
}
# requests the HiSilicon SEC devices have taken so far (sum over devices), '-' without one
hw_count() {
  t=0; f=
  for c in /sys/kernel/debug/hisi_sec2/*/sec_dfx/send_cnt; do
    [ -r "$c" ] || continue
    f=1; t=$((t + $(cat "$c")))
  done
  [ -n "$f" ] && echo "$t" || echo -
}
OUT=
i=0
while [ $i -lt 100 ] && [ -z "$OUT" ]; do
  for p in /sys/class/virtio-ports/*; do
    [ "$(cat "$p/name" 2>/dev/null)" = "$PORT" ] && OUT=/dev/${p##*/}
  done
  [ -z "$OUT" ] && usleep 50000
  i=$((i+1))
done
if [ -z "$OUT" ]; then say "no virtio port named $PORT: workload on the console"; OUT=/dev/console; fi
say "workload -> $OUT size=$SIZE delay_ms=$DELAY_MS"
exec 3>"$OUT"
hisi_report >&3
K=/etc/migcompat/key
N=0
while :; do
  N=$((N+1))
  yes "migcompat-$N" | head -c "$SIZE" >/tmp/pt
  S256=$(kcapi-dgst -c sha256 --hex </tmp/pt)
  S512=$(kcapi-dgst -c sha512 --hex </tmp/pt)
  HMAC=$(kcapi-dgst -c 'hmac(sha256)' --keyfd 4 --hex 4<$K </tmp/pt)
  kcapi-enc -q -e -c 'cbc(aes)' --keyfd 4 --iv "$CBC_IV" -i /tmp/pt -o /tmp/cbc 4<$K
  CBC=$(kcapi-dgst -c sha256 --hex </tmp/cbc)
  kcapi-enc -q -d -c 'cbc(aes)' --keyfd 4 --iv "$CBC_IV" -i /tmp/cbc -o /tmp/cbc.pt 4<$K
  kcapi-enc -q -e -c 'gcm(aes)' --keyfd 4 --iv "$(printf %024x $N)" --aad "$GCM_AAD" --taglen 16 -i /tmp/pt -o /tmp/gcm 4<$K
  GCM=$(kcapi-dgst -c sha256 --hex </tmp/gcm)
  if cmp -s /tmp/pt /tmp/cbc.pt; then RT=ok; else RT=bad; fi
  echo "ITER $N sha256=$S256 sha512=$S512 hmac=$HMAC cbc=$CBC gcm=$GCM rt=$RT drv=$(serving) hw=$(hw_count) up=$(cut -d' ' -f1 /proc/uptime)" >&3
  if [ $N = 1 ]; then
    awk -F': ' -v want="$ALGS" '
      BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) ok[w[i]] = 1 }
      /^name/ { name = $2 } /^driver/ { drv = $2 } /^module/ { mod = $2 }
      /^priority/ { if (name in ok) print "ALG " name " driver=" drv " prio=" $2 " module=" mod }' /proc/crypto >&3
  fi
  usleep $((DELAY_MS * 1000))
done
