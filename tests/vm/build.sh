#!/usr/bin/env bash
# Build the static part of waspd's NUMA test guest: a Debian kernel and a base
# initramfs (busybox + deno + the glibc it links against + our /init).
# The project itself is NOT in here: run.sh copies the current tree in at every
# boot, so the guest always runs the code being tested.
#
#   tests/vm/build.sh            # installs missing Debian packages, then builds
#   OUT=/somewhere tests/vm/build.sh
#
# Exit 0 = built; 3 = a prerequisite (QEMU, the kernel package) cannot be had on
# this machine (one "SKIP:" line on stderr says why; suite.sh skips on it).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${OUT:-/tmp/waspd-vm}"
DENO_VERSION="${DENO_VERSION:-2.9.6}"
mkdir -p "$OUT"

skip() { echo "SKIP: $*" >&2; exit 3; }

# --- host packages -------------------------------------------------------------
# qemu to boot, busybox-static for the guest userland, cpio to pack, jq for the
# suite's assertions on waspd's JSON.
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
{ [ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; } ||
  need_pkgs+=(busybox-static)
command -v cpio >/dev/null || need_pkgs+=(cpio)
command -v file >/dev/null || need_pkgs+=(file)
command -v jq >/dev/null || need_pkgs+=(jq)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || skip "no apt-get to install ${need_pkgs[*]}"
  echo "+ apt-get install ${need_pkgs[*]}" >&2
  apt-get update -q >&2 || skip "apt-get update failed (no package mirror reachable?)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >&2 ||
    skip "apt-get install ${need_pkgs[*]} failed"
fi

# --- kernel: Debian's linux-image package, unpacked (not installed) --------------
# Independent of the host's own kernel (which may be a cloud or PVM build).
KDIR="$OUT/kernel"
KPKG="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
if [ -z "$KPKG" ]; then
  apt-get update -q >&2 || true
  KPKG="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
fi
[ -n "$KPKG" ] || skip "apt-cache knows no linux-image-amd64 (not Debian/Ubuntu amd64?)"
KVER="${KPKG#linux-image-}"
if [ ! -f "$KDIR/boot/vmlinuz-$KVER" ]; then
  rm -rf "$KDIR"; mkdir -p "$KDIR"
  (cd "$KDIR" && apt-get download -q "$KPKG" >&2) || skip "apt-get download $KPKG failed"
  dpkg-deb --fsys-tarfile "$KDIR"/"$KPKG"_*.deb | tar -x -C "$KDIR" --wildcards './boot/*'
  rm -f "$KDIR"/*.deb
fi
KBOOT="$KDIR/boot"
cp "$KBOOT/vmlinuz-$KVER" "$OUT/vmlinuz"
echo "$KVER" >"$OUT/kernel-version"

# Under TCG the in-guest xz decompression of a bzImage costs ~2.4 s: extract the
# ELF vmlinux (as linux/scripts/extract-vmlinux does) and boot it through PVH.
extract_vmlinux() {
  local bz="$1" out="$2" spec cmd magic off
  for spec in 'xz:\xFD\x37\x7A\x58\x5A\x00' 'zstd:\x28\xB5\x2F\xFD' 'gzip:\x1F\x8B\x08'; do
    cmd="${spec%%:*}" magic="${spec#*:}"
    # shellcheck disable=SC2013 # byte offsets: one number per line, no spaces
    for off in $(LC_ALL=C grep -aboP "$magic" "$bz" | cut -d: -f1); do
      case "$cmd" in
        xz) tail -c +"$((off + 1))" "$bz" | xz -dc --single-stream >"$out" 2>/dev/null ;;
        zstd) tail -c +"$((off + 1))" "$bz" | zstd -dcq >"$out" 2>/dev/null ;;
        gzip) tail -c +"$((off + 1))" "$bz" | gzip -dc >"$out" 2>/dev/null ;;
      esac
      [ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ] && return 0
    done
  done
  rm -f "$out"; return 1
}
if [ ! -f "$OUT/vmlinux" ] || [ "$OUT/vmlinuz" -nt "$OUT/vmlinux" ]; then
  if ! { grep -q '^CONFIG_PVH=y' "$KBOOT/config-$KVER" && extract_vmlinux "$OUT/vmlinuz" "$OUT/vmlinux"; }; then
    echo "WARNING: no PVH-bootable vmlinux; run.sh will boot the bzImage (slower)" >&2
    rm -f "$OUT/vmlinux"
  fi
fi
# Everything the guest needs is built in (=y) in Debian's config: no modules.
for opt in CONFIG_SERIAL_8250_CONSOLE CONFIG_NUMA CONFIG_ACPI_NUMA CONFIG_PERF_EVENTS CONFIG_DEVTMPFS; do
  grep -q "^$opt=y" "$KBOOT/config-$KVER" || echo "WARNING: $opt is not =y in config-$KVER" >&2
done

# --- deno: the same version the project pins, from npm -----------------------------
# Reuse the host's deno ($DENO, which `deno task vm` sets, else the one on PATH)
# when it is the pinned version (it came from npm too); otherwise install the npm
# package into $OUT.
DENO_BIN=""
HOST_DENO="${DENO:-$(command -v deno || true)}"
if [ -n "$HOST_DENO" ] && "$HOST_DENO" --version 2>/dev/null | grep -q "^deno $DENO_VERSION "; then
  DENO_BIN="$("$HOST_DENO" eval 'console.log(Deno.execPath())')"
fi
if [ -z "$DENO_BIN" ]; then
  DENO_BIN="$OUT/denoinst/node_modules/deno/deno"
  if [ ! -x "$DENO_BIN" ] || ! "$DENO_BIN" --version | grep -q "^deno $DENO_VERSION "; then
    mkdir -p "$OUT/denoinst"
    (cd "$OUT/denoinst" && npm install --no-audit --no-fund "deno@$DENO_VERSION" >&2)
  fi
fi
"$DENO_BIN" --version | head -1 >&2

# --- base rootfs -----------------------------------------------------------------
R="$OUT/rootfs"
rm -rf "$R"
mkdir -p "$R"/{bin,sbin,proc,sys,dev,tmp,etc,root,lib64,lib/x86_64-linux-gnu}
cp /bin/busybox "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do
  [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"
done
cp "$DENO_BIN" "$R/bin/deno"
# The shared libraries deno links against, resolved on this host (same glibc).
ldd "$DENO_BIN" | awk '/=>/ {print $3} /ld-linux/ {print $1}' | while read -r lib; do
  [ -f "$lib" ] || continue
  case "$lib" in
    /lib64/*) cp "$(readlink -f "$lib")" "$R/lib64/$(basename "$lib")" ;;
    *) cp "$(readlink -f "$lib")" "$R/lib/x86_64-linux-gnu/$(basename "$lib")" ;;
  esac
done
ln -sf ../../lib64/ld-linux-x86-64.so.2 "$R/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
# Deno.dlopen("libc.so.6") resolves through the loader's default dirs; no ld.so.cache needed.
echo /lib/x86_64-linux-gnu >"$R/etc/ld.so.conf"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
echo waspd-vm >"$R/etc/hostname"
cp "$HERE/init" "$R/init"
chmod +x "$R/init"

# Uncompressed: under TCG, decompressing in the guest costs more than reading.
(cd "$R" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner 0:0 --quiet) >"$OUT/base.cpio"
for f in "$R/bin/deno" "$OUT/base.cpio" "$OUT/vmlinuz" "$OUT/vmlinux"; do
  [ -e "$f" ] && du -h --apparent-size "$f" >&2
done
echo "built: kernel $KVER, $OUT/base.cpio" >&2
