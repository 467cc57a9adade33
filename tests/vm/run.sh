#!/usr/bin/env bash
# Boot waspd's NUMA test guest with the current project tree and run commands.
#
#   tests/vm/run.sh [options] -- COMMAND [ARGS...]   one command; exit status = its
#   tests/vm/run.sh [options] --batch FILE           one shell command per line, all
#                                                    in ONE boot (a boot costs ~15 s)
# Commands run with `sh -c` in /waspd (the project copy); `waspd ARGS` there is
# `deno run -A /waspd/main.ts ARGS`, and deno finds npm packages offline.
#
# Options:
#   --nodes N            NUMA nodes with CPUs (default 4)
#   --cpus-per-node C    vCPUs per node (default 1)
#   --mem-per-node MiB   memory per node (default 256)
#   --mem-only-nodes K   K more nodes with memory and no CPU, numbered after the others
#   --dist "d00,d01,..;d10,.."  full SLIT (default 10 + 10*|i-j|); rows ';', columns ','
#   --timeout S          whole-boot limit (default 300)
#   --cmd-timeout S      per-command limit inside the guest (default 120; killed = rc 137)
#   --accel auto|kvm|tcg (auto: KVM only when the CPU shows vmx/svm and /dev/kvm is usable)
#   --tcg-threads multi|single  one host thread per vCPU (default) or one for all
#                        (single avoids QEMU 7.2's stale code after a kernel self-patch,
#                        see README, at a large cost in speed)
#   --cpu MODEL          QEMU CPU model under TCG (default qemu64 + SSE4.2, see below)
#   --results DIR        keep per-command results there: N.cmd N.out N.err N.rc, count
#                        (default: a temp dir; single-command mode prints N.out on stdout)
#   --log FILE           serial console log (default $OUT/last-run.log)
#   --include FILE       copy FILE into the guest as /run/<basename> (repeatable)
#   --kernel FILE        boot FILE instead of the Debian kernel build.sh unpacked
#                        (the suite boots the shared Mitosis+WASP image this way)
#   --append ARGS        more kernel command-line arguments
#   --qemu-arg ARG       one more QEMU argument (repeatable; the harness's own test
#                        uses -S, a guest whose CPUs never start)
#
# Single command: its stdout and stderr come out on ours, byte for byte.
# Exit status: single command -> its exit code; --batch -> 0 when every command
# ran (their codes are in DIR/N.rc). Harness failures: 124 boot timeout,
# 99 guest finished without delivering results, 2 usage, other = QEMU's status.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${OUT:-/tmp/waspd-vm}"
# Under TCG `-cpu max` (AVX2, LA57...) made every `deno run` in the guest about twice
# as slow (measured: `waspd --help` 8.2 s vs 4.4 s); a plain x86-64-v2 model is enough.
TCG_CPU="qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt"
TCG_THREADS=multi ACCEL=auto NODES=4 CPN=1 MEM=256 MEMONLY=0 DIST="" TIMEOUT=300 CMD_TIMEOUT=120
BATCH="" RESULTS="" LOG="$OUT/last-run.log" INCLUDES=() KERNEL="" APPEND="" QEMU_EXTRA=()
usage() { echo "run.sh: $*" >&2; exit 2; }
num() { [[ "$2" =~ ^[0-9]+$ ]] || usage "$1 needs a whole number, got '$2'"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) num "$1" "${2-}"; NODES="$2"; shift 2 ;;
    --cpus-per-node) num "$1" "${2-}"; CPN="$2"; shift 2 ;;
    --mem-per-node) num "$1" "${2-}"; MEM="$2"; shift 2 ;;
    --mem-only-nodes) num "$1" "${2-}"; MEMONLY="$2"; shift 2 ;;
    --dist) DIST="${2-}"; shift 2 ;;
    --timeout) num "$1" "${2-}"; TIMEOUT="$2"; shift 2 ;;
    --cmd-timeout) num "$1" "${2-}"; CMD_TIMEOUT="$2"; shift 2 ;;
    --accel) ACCEL="${2-}"; shift 2 ;;
    --tcg-threads) TCG_THREADS="${2-}"; shift 2 ;;
    --cpu) TCG_CPU="${2-}"; shift 2 ;;
    --batch) BATCH="${2-}"; shift 2 ;;
    --results) RESULTS="${2-}"; shift 2 ;;
    --log) LOG="${2-}"; shift 2 ;;
    --include) [ -f "${2-}" ] || usage "--include: no file '${2-}'"; INCLUDES+=("$2"); shift 2 ;;
    --kernel) [ -f "${2-}" ] || usage "--kernel: no file '${2-}'"; KERNEL="$2"; shift 2 ;;
    --append) APPEND="${2-}"; shift 2 ;;
    --qemu-arg) QEMU_EXTRA+=("${2-}"); shift 2 ;;
    --) shift; break ;;
    *) usage "unknown option '$1' (commands go after --)" ;;
  esac
done
if [ "$NODES" -lt 1 ] || [ "$CPN" -lt 1 ]; then usage "--nodes and --cpus-per-node must be at least 1"; fi
if [ -n "$BATCH" ]; then
  [ $# -eq 0 ] || usage "give either --batch FILE or -- COMMAND, not both"
  [ -f "$BATCH" ] || usage "no batch file '$BATCH'"
else
  [ $# -gt 0 ] || usage "no command (usage: run.sh [options] -- COMMAND [ARGS...])"
fi
[ -f "$OUT/base.cpio" ] || { echo "run.sh: no $OUT/base.cpio: run tests/vm/build.sh first" >&2; exit 2; }
TOTAL=$((NODES + MEMONLY))

# --- accelerator: this machine's /dev/kvm is PVM-backed and cannot run a stock
# kernel; the CPU flags tell (no vmx/svm there), so check them, not just the node.
if [ "$ACCEL" = auto ]; then
  ACCEL=tcg
  if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; fi
fi
# shellcheck disable=SC2054 # the commas belong to QEMU's option syntax
case "$ACCEL" in
  kvm) ACCEL_ARGS=(-accel kvm -cpu host) ;;
  tcg) ACCEL_ARGS=(-accel "tcg,thread=$TCG_THREADS" -cpu "$TCG_CPU") ;;
  *) usage "--accel must be auto, kvm or tcg" ;;
esac
case "$TCG_THREADS" in multi | single) ;; *) usage "--tcg-threads must be multi or single" ;; esac

# --- NUMA topology (SRAT from -numa node, SLIT from -numa dist) ---------------------
NUMA_ARGS=(-m "$((TOTAL * MEM))M" -smp "$((NODES * CPN)),sockets=$NODES,cores=$CPN,threads=1")
for ((i = 0; i < TOTAL; i++)); do
  NUMA_ARGS+=(-object "memory-backend-ram,id=m$i,size=${MEM}M")
  if [ "$i" -lt "$NODES" ]; then
    NUMA_ARGS+=(-numa "node,nodeid=$i,cpus=$((i * CPN))-$((i * CPN + CPN - 1)),memdev=m$i")
  else
    NUMA_ARGS+=(-numa "node,nodeid=$i,memdev=m$i")
  fi
done
if [ -n "$DIST" ]; then
  IFS=';' read -r -a ROWS <<<"$DIST"
  [ "${#ROWS[@]}" -eq "$TOTAL" ] || usage "--dist has ${#ROWS[@]} rows for $TOTAL nodes"
fi
for ((i = 0; i < TOTAL; i++)); do
  if [ -n "$DIST" ]; then
    IFS=',' read -r -a COLS <<<"${ROWS[$i]}"
    [ "${#COLS[@]}" -eq "$TOTAL" ] || usage "--dist row $i has ${#COLS[@]} entries for $TOTAL nodes"
  fi
  for ((j = 0; j < TOTAL; j++)); do
    [ $i -eq $j ] && continue
    if [ -n "$DIST" ]; then d="${COLS[$j]}"; else d=$((10 + 10 * (i > j ? i - j : j - i))); fi
    num "--dist entry ($i,$j)" "$d"
    NUMA_ARGS+=(-numa "dist,src=$i,dst=$j,val=$d")
  done
done

# --- per-run overlay: init, the project tree, an offline DENO_DIR, the commands -------
# The project and its DENO_DIR sit in the guest at the SAME absolute paths as their
# staging copies here ($OUT/guest/...): Deno keys its transpile and CJS-analysis
# caches by path, so warming them natively (~1 s) spares every `deno run` in the
# guest ~10 s of emulated work and keeps it from reaching for the npm registry
# (the guest has no network). /waspd is a symlink to the copy.
# Not safe for two concurrent runs with the same OUT.
# The host's deno: $DENO (`deno task vm` sets it to the deno running the task),
# else the one on PATH.
DENO="${DENO:-$(command -v deno || true)}"
[ -n "$DENO" ] && [ -x "$DENO" ] || { echo "run.sh: no deno: set DENO=/path/to/deno or run 'deno task vm' (it caches the npm packages the guest needs)" >&2; exit 2; }
TMPD="$(mktemp -d)"
trap 'rm -rf "$TMPD"' EXIT
G="$OUT/guest"
rm -rf "$G/waspd"
# Stale cache entries pile up as the code changes; they ride in every overlay.
if [ -d "$G/deno_dir" ] && [ "$(du -sm "$G/deno_dir" | cut -f1)" -gt 48 ]; then rm -rf "$G/deno_dir"; fi
mkdir -p "$G/waspd" "$G/deno_dir"
for f in main.ts deno.json deno.lock src probe; do
  [ -e "$ROOT/$f" ] && cp -r "$ROOT/$f" "$G/waspd/"
done
ENTRIES=(main.ts)
for f in probe/worker.ts src/sys/mitosis/prctl_helper.ts src/sys/mitosis/prctl_thread.ts; do [ -f "$G/waspd/$f" ] && ENTRIES+=("$f"); done
if ! (cd "$G/waspd" && export DENO_DIR="$G/deno_dir" && "$DENO" install --entrypoint "${ENTRIES[@]}" &&
  "$DENO" run -A main.ts --help) >/dev/null 2>"$TMPD/warm.err"; then
  echo "run.sh: caching the project's dependencies on the host failed:" >&2
  cat "$TMPD/warm.err" >&2
  exit 2
fi
OV="$TMPD/ov"
mkdir -p "$OV$G" "$OV/run" "$OV/bin"
cp -r "$G/waspd" "$G/deno_dir" "$OV$G/"
ln -s "$G/waspd" "$OV/waspd"
cp "$HERE/init" "$OV/init"
chmod +x "$OV/init"
echo "$G/deno_dir" >"$OV/run/deno-dir"
# `waspd ARGS` in the guest; the real path, so the warmed caches match.
printf '#!/bin/sh\nexec /bin/deno run -A %s/waspd/main.ts "$@"\n' "$G" >"$OV/bin/waspd"
chmod +x "$OV/bin/waspd"
if [ -n "$BATCH" ]; then
  cp "$BATCH" "$OV/run/cmds"
else
  # One line: quote each argument so the guest shell sees exactly these words.
  printf '%q ' "$@" >"$OV/run/cmds"
  echo >>"$OV/run/cmds"
fi
echo "$CMD_TIMEOUT" >"$OV/run/cmd-timeout"
for f in ${INCLUDES[@]+"${INCLUDES[@]}"}; do cp "$f" "$OV/run/"; done
# gzip -1: the overlay is small (~1 MB) and fast to inflate even under TCG.
(cd "$OV" && find . | cpio -o -H newc --owner 0:0 --quiet | gzip -1) >"$TMPD/ov.cpio.gz"
cat "$OUT/base.cpio" "$TMPD/ov.cpio.gz" >"$TMPD/initrd" # concatenated cpio archives

if [ -z "$KERNEL" ]; then
  KERNEL="$OUT/vmlinuz"
  [ -f "$OUT/vmlinux" ] && KERNEL="$OUT/vmlinux"
fi
echo "+ vm: accel=$ACCEL nodes=$NODES(+$MEMONLY memory-only) cpus/node=$CPN mem/node=${MEM}M" \
  "overlay=$(du -k "$TMPD/ov.cpio.gz" | cut -f1)KiB commands=$(grep -c . "$OV/run/cmds")" >&2
T0=$EPOCHREALTIME
mkdir -p "$(dirname "$LOG")"
# ttyS0 = console, written by QEMU itself straight into $LOG (no pipe, so no
# buffer between the guest and the file: a guest that printed is seen at once);
# ttyS1 = results tar, straight to a file. The console's \r are dropped after.
# One boot, in the background so that a silent one can be stopped: sets QRC
# and SILENT (1 when the console stayed empty for SILENT_S seconds).
boot() {
  SILENT=0
  : >"$LOG"
  timeout "$TIMEOUT" qemu-system-x86_64 "${ACCEL_ARGS[@]}" -M pc -nodefaults -no-user-config \
    -display none -monitor none -no-reboot \
    -chardev "file,id=console,path=$LOG" -serial chardev:console \
    -serial "file:$TMPD/results.tar" \
    "${NUMA_ARGS[@]}" ${QEMU_EXTRA[@]+"${QEMU_EXTRA[@]}"} \
    -kernel "$KERNEL" -initrd "$TMPD/initrd" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off${APPEND:+ $APPEND}" \
    </dev/null >"$TMPD/qemu.err" 2>&1 &
  local pid=$! waited=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
    if [ "$waited" -ge "$SILENT_S" ] && [ ! -s "$LOG" ]; then
      SILENT=1
      kill -TERM "$pid" 2>/dev/null # timeout(1) passes it on to QEMU
      break
    fi
  done
  wait "$pid"
  QRC=$?
  sed -i 's/\r$//' "$LOG"
  [ -s "$TMPD/qemu.err" ] && sed 's/^/qemu: /' "$TMPD/qemu.err" >&2
  return 0
}
# A guest prints its topology within seconds of starting, even under TCG; a
# console still empty after SILENT_S means the emulator never got going (seen
# once in CI: 300 s of nothing, then the same boot passed in 33 s). That, and
# only that, is tried once more; a guest that said anything is never retried,
# however long it then stays quiet (QEMU writes the console file itself, so
# nothing buffers what the guest said; suite.sh tests both cases).
SILENT_S=${SILENT_S:-150}
set +e
boot
if [ "$SILENT" = 1 ]; then
  echo "run.sh: the guest printed nothing in ${SILENT_S}s (the emulator never started): booting it once more" >&2
  T0=$EPOCHREALTIME
  boot
  [ "$SILENT" = 1 ] && QRC=124
fi
set -e
echo "+ vm: qemu exit=$QRC wall=$(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')s log=$LOG" >&2
if [ "$QRC" != 0 ]; then
  if [ "$SILENT" = 1 ]; then
    echo "run.sh: the guest printed nothing in ${SILENT_S}s, twice (see $LOG)" >&2
  elif [ "$QRC" = 124 ]; then
    echo "run.sh: the guest did not finish within ${TIMEOUT}s (see $LOG)" >&2
  fi
  exit "$QRC"
fi
RES="${RESULTS:-$TMPD/results}"
mkdir -p "$RES"
if ! tar -xf "$TMPD/results.tar" -C "$RES" 2>/dev/null || [ ! -f "$RES/count" ]; then
  if grep -q 'Initramfs unpacking failed' "$LOG"; then
    # The ~100 MiB base archive is unpacked next to itself: ~200 MiB at boot.
    echo "run.sh: the guest ran out of memory unpacking its root fs ($((TOTAL * MEM)) MiB in all): raise --mem-per-node" >&2
  else
    echo "run.sh: the guest delivered no results: $(grep -m1 -E 'Kernel panic|Killed|error' "$LOG" || echo "see $LOG")" >&2
  fi
  exit 99
fi
[ -n "$BATCH" ] && exit 0
cat "$RES/1.err" >&2
cat "$RES/1.out"
exit "$(cat "$RES/1.rc")"
