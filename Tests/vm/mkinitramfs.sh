#!/bin/bash
# The VM test guest's base initramfs: busybox, the cached kernel modules (Tests/vm/setup.sh), the
# real lwm2m-agentd and lwm2m-agent from BIN_DIR with every shared library ldd finds (the Swift
# runtime, mbedtls, libc...: the debug build the test suite already has works as is) and
# libgpiod.so.2, which the agent dlopens on the first GPIO use (so ldd does not list it),
# lwm2m-edge-probe from BIN_DIR when it is there (the GPIO benchmark's guest side, bench_gpio.py),
# the gpiod tools when installed, the VM board file, guest/init, and the time-zone files the
# Timezone test writes (Europe/Berlin, Etc/UTC, Etc/GMT*; /etc/localtime → Etc/UTC).
#
# usage: Tests/vm/mkinitramfs.sh KERNEL_DIR BIN_DIR OUT.cpio
#   KERNEL_DIR  the directory setup.sh --print-dir printed (modules/)
#   BIN_DIR     where lwm2m-agentd is ($LWM2M_BIN_DIR, `swift build --show-bin-path`)
# Per-test files (agent.conf, hooks) go into a second, small archive appended to this one
# (the kernel unpacks concatenated archives in order): see Tests/interop/vmguest.py.
set -euo pipefail
HERE=$(dirname "$(realpath "$0")")
REPO=$(realpath "$HERE/../..")
KDIR=$(realpath "$1"); BIN=$(realpath "$2"); OUT=$(realpath -m "$3")
[ -f "$KDIR/ready" ] || { echo "mkinitramfs: $KDIR is not a finished setup.sh cache" >&2; exit 1; }
[ -x "$BIN/lwm2m-agentd" ] || { echo "mkinitramfs: no lwm2m-agentd in $BIN" >&2; exit 1; }
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] && file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || { echo "mkinitramfs: busybox not installed (scripts/setup.sh: busybox-static)" >&2; exit 2; }
command -v cpio >/dev/null || { echo "mkinitramfs: cpio not installed (scripts/setup.sh)" >&2; exit 2; }

R=$(mktemp -d); trap 'rm -rf "$R"' EXIT
mkdir -p "$R"/{bin,usr/bin,lib/modules,proc,sys,dev,tmp,run,etc/lwm2m-agent,etc/vm-test,var/lib/lwm2m-agent} \
         "$R"/usr/share/lwm2m-agent/boards
cp "$BUSYBOX" "$R/bin/busybox"; ln -s busybox "$R/bin/sh"
cp "$HERE/guest/init" "$R/init"; chmod 755 "$R/init"
cp "$KDIR"/modules/*.ko "$KDIR/modules/order" "$R/lib/modules/"

copy_elf() {  # copy_elf FILE DEST: the file, symbols kept (crash traces), and its ldd closure
  strip --strip-debug "$1" -o "$R$2" 2>/dev/null || cp "$1" "$R$2"
  { ldd "$1" 2>/dev/null || true; } | { grep -oE '/[^ ]+' || true; } | while read -r lib; do
    [ -e "$R$lib" ] && continue
    mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"
  done
}
copy_elf "$BIN/lwm2m-agentd" /usr/bin/lwm2m-agentd
# Loaded with dlopen, invisible to ldd: libgpiod (GPIO objects, docs/boards.md "Loading libgpiod")
# and mbedTLS (DTLS sessions, digests; docs/dtls.md), each with its own closure, at the path the
# host's loader cache gives, where the guest's loader finds it too.
for soname in libgpiod.so.2 libmbedtls.so.14; do
  LIBRARY=$(ldconfig -p | sed -n "s|^[[:space:]]*${soname//./\\.} (.*) => \(/.*\)\$|\1|p" | head -1)
  [ -n "$LIBRARY" ] || { echo "mkinitramfs: $soname not installed (scripts/setup.sh)" >&2; exit 2; }
  mkdir -p "$R$(dirname "$LIBRARY")"
  copy_elf "$LIBRARY" "$LIBRARY"
done
[ -x "$BIN/lwm2m-agent" ] && copy_elf "$BIN/lwm2m-agent" /usr/bin/lwm2m-agent
[ -x "$BIN/lwm2m-edge-probe" ] && copy_elf "$BIN/lwm2m-edge-probe" /usr/bin/lwm2m-edge-probe
for tool in gpiodetect gpioinfo gpioget gpioset gpiomon gpiofind; do
  [ -x /usr/bin/$tool ] && copy_elf /usr/bin/$tool /usr/bin/$tool
done
[ -f "$REPO/board/gpio-sim-vm.conf" ] && cp "$REPO/board/gpio-sim-vm.conf" "$R/usr/share/lwm2m-agent/boards/"
# An os-release of its own, so the host can tell the guest's identity from its own.
ABI=$(cat "$KDIR/abi")
printf 'PRETTY_NAME="lwm2m-agent VM test guest (Debian kernel %s)"\nNAME="lwm2m-agent VM test guest"\nID=lwm2m-vm-guest\nVERSION_ID=1\nVERSION="1 (Debian kernel %s)"\n' \
  "$ABI" "$ABI" > "$R/etc/os-release"
echo "root:x:0:0:root:/root:/bin/sh" > "$R/etc/passwd"
# The time-zone database the guest's agent may apply (board: [clock] timezone = localtime), from
# the host's tzdata; the guest starts in UTC. No /etc/timezone: the agent then changes only the
# /etc/localtime symlink (what a non-Debian system has).
ZONEINFO=/usr/share/zoneinfo
[ -f "$ZONEINFO/Europe/Berlin" ] || { echo "mkinitramfs: no $ZONEINFO/Europe/Berlin (scripts/setup.sh: tzdata)" >&2; exit 2; }
mkdir -p "$R$ZONEINFO/Europe" "$R$ZONEINFO/Etc"
cp -L "$ZONEINFO/Europe/Berlin" "$R$ZONEINFO/Europe/"
for zone in "$ZONEINFO"/Etc/GMT* "$ZONEINFO/Etc/UTC"; do cp -L "$zone" "$R$ZONEINFO/Etc/"; done
ln -s "$ZONEINFO/Etc/UTC" "$R/etc/localtime"

# Uncompressed: under TCG the guest unpacks 44 MB of cpio in ~1 s, but inflating the gzip of it
# took ~5 s longer (measured: userspace at 7.8 s vs 12.5 s).
(cd "$R" && find . | sort | cpio -o -H newc --owner=0:0 --quiet) > "$OUT"
echo "initramfs $OUT: $(stat -c %s "$OUT") bytes, $(cd "$R" && find . -type f | wc -l) files"
