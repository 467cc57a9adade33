#!/usr/bin/env bash
# waspd under a real systemd: a Debian rootfs made from Debian's packages
# (mmdebstrap), booted from an ext4 disk image with systemd as PID 1 on the
# shared WASP kernel, 4 NUMA nodes. waspd and its unit are installed as the
# README says, with /etc/waspd/waspd.toml; tests/vm/systemd_checks.sh then
# runs in the guest (start/READY, status, journal priorities, reload, SIGKILL,
# watchdog, stop, a bad config) and this script prints its lines:
#   ok   systemd: ...   /   FAIL systemd: ...   and   N passed, M failed
#
#   tests/vm/systemd_guest.sh          (OUT=/tmp/waspd-vm-systemd by default)
#
# Skips (one SKIP line, nothing counted as passed, exit 0) when the kernel
# image, QEMU, mmdebstrap or mkfs.ext4 cannot be had. One guest, 4 vCPUs.
# Differences from a real install, each because of this machine: the waspd at
# /usr/local/sbin/waspd is a `deno run` wrapper with an offline DENO_DIR
# (`deno compile` needs denort from the network), and a drop-in shortens
# WatchdogSec and RestartSec so the watchdog check takes seconds, not minutes.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${OUT:-/tmp/waspd-vm-systemd}"
KDIR="${WASP_KERNEL_DIR:-$ROOT/../shared/kernel/wasp-linux-6.4}"
DENO_VERSION="${DENO_VERSION:-2.9.6}"
TIMEOUT="${TIMEOUT:-1500}"
mkdir -p "$OUT"
skip() {
  echo "SKIP systemd: $*"
  echo "0 passed, 0 failed"
  exit 0
}

# --- what the guest needs ---------------------------------------------------------
[ -f "$KDIR/bzImage" ] || skip "no WASP kernel image at $KDIR/bzImage"
(cd "$KDIR" && sha256sum -c --quiet --ignore-missing SHA256SUMS >/dev/null 2>&1) ||
  skip "$KDIR/bzImage does not match its SHA256SUMS"
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || skip "no apt-get to install ${need[*]}"
  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" ||
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends "${need[@]}"; }; } >"$OUT/apt.log" 2>&1 ||
    skip "apt-get install ${need[*]} failed (see $OUT/apt.log)"
fi
DENO="${DENO:-$(command -v deno || true)}"
[ -n "$DENO" ] && "$DENO" --version 2>/dev/null | grep -q "^deno $DENO_VERSION " ||
  skip "no deno $DENO_VERSION on the host to put in the guest"
DENO_BIN="$("$DENO" eval 'console.log(Deno.execPath())')"

# --- the Debian rootfs (kept between runs: it depends on nothing of ours) ----------
if [ ! -s "$OUT/rootfs.tar" ]; then
  rm -f "$OUT/rootfs.tar.part"
  timeout 900 mmdebstrap --variant=minbase --include=systemd,systemd-sysv,dbus,procps \
    bookworm "$OUT/rootfs.tar.part" >"$OUT/mmdebstrap.log" 2>&1 ||
    skip "mmdebstrap failed (no Debian mirror reachable? see $OUT/mmdebstrap.log)"
  mv "$OUT/rootfs.tar.part" "$OUT/rootfs.tar"
fi

# --- this tree, installed as the README says ------------------------------------
S="$OUT/stage"
rm -rf "$S" && mkdir -p "$S"
tar -xf "$OUT/rootfs.tar" -C "$S"
mkdir -p "$S/opt/waspd" "$S/usr/local/bin" "$S/usr/local/sbin"
for f in main.ts deno.json deno.lock src probe; do cp -r "$ROOT/$f" "$S/opt/waspd/"; done
cp "$DENO_BIN" "$S/usr/local/bin/deno"
# The npm packages, cached on the host into the DENO_DIR the guest reads offline.
(cd "$S/opt/waspd" && DENO_DIR="$S/opt/waspd/deno_dir" "$DENO" install --entrypoint main.ts \
  probe/worker.ts src/sys/mitosis/prctl_helper.ts src/sys/mitosis/prctl_thread.ts) \
  >"$OUT/warm.log" 2>&1 || { echo "FAIL systemd: caching the npm packages failed"; cat "$OUT/warm.log"; echo "0 passed, 1 failed"; exit 1; }
cat >"$S/usr/local/sbin/waspd" <<'EOF'
#!/bin/sh
# exec: the service's main pid is deno itself (NotifyAccess=main).
DENO_DIR=/opt/waspd/deno_dir DENO_NO_UPDATE_CHECK=1 exec /usr/local/bin/deno run -A --cached-only /opt/waspd/main.ts "$@"
EOF
chmod 0755 "$S/usr/local/sbin/waspd"
install -m 0644 "$ROOT/deploy/systemd/waspd.service" "$S/etc/systemd/system/waspd.service"
install -d "$S/etc/waspd"
cat >"$S/etc/waspd/waspd.toml" <<'EOF'
# No PMU under QEMU: the software stand-in signals, thresholds in their units.
signals = "software"
thr-mar = 1e8
thr-dtlb = 1e-6
min-pte = 0
hysteresis = 2000
exclude = ["deno"]
EOF
mkdir -p "$S/etc/systemd/system/waspd.service.d"
cat >"$S/etc/systemd/system/waspd.service.d/test.conf" <<'EOF'
[Service]
WatchdogSec=10s
RestartSec=2s
ReadWritePaths=/opt/waspd/deno_dir
EOF
gcc -static -O2 -o "$S/usr/local/bin/vmtool" "$HERE/vmtool.c" 2>"$OUT/gcc.log" ||
  { echo "FAIL systemd: building vmtool failed"; cat "$OUT/gcc.log"; echo "0 passed, 1 failed"; exit 1; }
install -m 0755 "$HERE/systemd_checks.sh" "$S/usr/local/bin/systemd_checks.sh"
cat >"$S/etc/systemd/system/waspd-checks.service" <<'EOF'
[Unit]
Description=waspd systemd checks
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/bin/systemd_checks.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$S/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/waspd-checks.service "$S/etc/systemd/system/multi-user.target.wants/"
# No login prompt on the console the checks print to.
ln -sf /dev/null "$S/etc/systemd/system/serial-getty@ttyS0.service"
echo waspd-guest >"$S/etc/hostname"
IMG="$OUT/disk.img"
rm -f "$IMG"
mkfs.ext4 -q -F -L root -d "$S" "$IMG" 1600M >"$OUT/mkfs.log" 2>&1 ||
  { echo "FAIL systemd: mkfs.ext4 -d failed"; cat "$OUT/mkfs.log"; echo "0 passed, 1 failed"; exit 1; }
rm -rf "$S"

# --- boot: 4 nodes, one CPU and 768 MiB each -----------------------------------
NUMA=(-m 3072M -smp 4,sockets=4,cores=1,threads=1)
for i in 0 1 2 3; do
  NUMA+=(-object "memory-backend-ram,id=m$i,size=768M" -numa "node,nodeid=$i,cpus=$i,memdev=m$i")
done
for i in 0 1 2 3; do for j in 0 1 2 3; do
  [ $i -eq $j ] || NUMA+=(-numa "dist,src=$i,dst=$j,val=$((10 + 10 * (i > j ? i - j : j - i)))")
done; done
LOG="$OUT/console.log"
ACCEL=(-accel tcg,thread=multi -cpu qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt)
[ -w /dev/kvm ] && ACCEL=(-accel kvm -cpu host)
T0=$(date +%s)
timeout "$TIMEOUT" qemu-system-x86_64 "${ACCEL[@]}" -M pc -nodefaults -no-user-config \
  -display none -monitor none -no-reboot -serial "file:$LOG" "${NUMA[@]}" \
  -drive "file=$IMG,format=raw,if=virtio" -kernel "$KDIR/bzImage" \
  -append "root=/dev/vda rw console=ttyS0 init=/lib/systemd/systemd panic=-1 mitigations=off loglevel=3 systemd.show_status=0" \
  </dev/null >"$OUT/qemu.err" 2>&1
QRC=$?
echo "systemd-guest: the guest ran $(($(date +%s) - T0)) s (qemu exit $QRC)"
tr -d '\r' <"$LOG" | grep -E '^systemd-guest: ' | grep -v ': done$'
tr -d '\r' <"$LOG" | grep -E '^(ok   |FAIL )systemd: '
pass=$(tr -d '\r' <"$LOG" | grep -c '^ok   systemd: ')
failed=$(tr -d '\r' <"$LOG" | grep -c '^FAIL systemd: ')
if ! tr -d '\r' <"$LOG" | grep -q '^systemd-guest: done$'; then
  echo "FAIL systemd: the checks did not finish (qemu exit $QRC); the console's last lines:"
  tr -d '\r' <"$LOG" | tail -15 | sed 's/^/  | /'
  failed=$((failed + 1))
fi
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
