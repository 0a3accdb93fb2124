#!/bin/bash
# The VM's kernel side, built once per machine from Debian bookworm packages and cached:
#
#   .build-vm/kernel-<ABI>/vmlinux        Debian's kernel, uncompressed (qemu boots it via PVH)
#   .build-vm/kernel-<ABI>/modules/*.ko   configfs, gpio-sim (built out of tree: Debian's kernel
#                                         lacks CONFIG_GPIO_SIM), virtio-net and its dependencies
#   .build-vm/kernel-<ABI>/ready          stamp: present = complete, the run is skipped
#
# usage: Tests/vm/setup.sh [--print-dir]     exit status: 0 ready, 2 a prerequisite is missing, 1 failed
#   --print-dir   print the cache directory (and nothing else) on stdout when done
# env:   VM_CACHE    cache root (default <repo>/.build-vm)
#        VM_KERNEL_ABI  kernel ABI, e.g. 6.1.0-57-amd64 (default: the one linux-headers-amd64
#                   depends on, i.e. the headers scripts/setup.sh installed)
#
# Needs (scripts/setup.sh installs them): qemu-system-x86, busybox-static, kmod, cpio, gcc, make,
# linux-headers-<ABI>; apt-get download fetches linux-image-<ABI>-unsigned and linux-source-6.1
# (~210 MB, deleted once the 4 source files and the kernel are extracted).
set -euo pipefail
HERE=$(dirname "$(realpath "$0")")
REPO=$(realpath "$HERE/../..")
CACHE=${VM_CACHE:-$REPO/.build-vm}
PRINT_DIR=0; [ "${1:-}" = --print-dir ] && PRINT_DIR=1
log() { echo "[vm-setup] $*" >&2; }
die() { echo "[vm-setup] error: $*" >&2; exit 1; }
missing() { echo "[vm-setup] missing: $*" >&2; exit 2; }  # a prerequisite: status 2 (tests skip, CI fails)

abi_of_headers() {  # the ABI the installed linux-headers-amd64 metapackage points at
  dpkg-query -W -f='${Depends}\n' linux-headers-amd64 2>/dev/null |
    grep -oE 'linux-headers-[0-9][^ ,]*-amd64' | head -1 | sed 's/^linux-headers-//' || true
}
KVER=${VM_KERNEL_ABI:-$(abi_of_headers)}
[ -n "$KVER" ] || KVER=$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/.*Depends: linux-image-\([0-9].*-amd64\)$/\1/p' | head -1 || true)
[ -n "$KVER" ] || missing "cannot tell the kernel ABI: install linux-headers-amd64 (scripts/setup.sh) or set VM_KERNEL_ABI"
OUT=$CACHE/kernel-$KVER
cached() {
  [ -f "$OUT/ready" ] || return 1
  log "cached: $OUT"
  [ $PRINT_DIR = 1 ] && echo "$OUT"
  return 0
}
cached && exit 0
# One setup at a time (parallel test sessions on a cold cache): the second waits, then reuses.
mkdir -p "$CACHE"
exec 9>"$CACHE/setup.lock"
flock 9
cached && exit 0

for tool in qemu-system-x86_64 cpio gzip make gcc dpkg-deb apt-get; do
  command -v $tool >/dev/null || missing "$tool not found (run scripts/setup.sh)"
done
[ -d /lib/modules/$KVER/build ] || missing "/lib/modules/$KVER/build missing: install linux-headers-$KVER (scripts/setup.sh)"

t0=$(date +%s)
rm -rf "$OUT"; mkdir -p "$OUT"
WORK=$(mktemp -d "$CACHE/setup.XXXXXX"); trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
# The kernel image and the source of the same Debian version, downloaded, not installed.
VERSION=$(dpkg-query -W -f='${Version}' linux-headers-$KVER 2>/dev/null || true)
log "kernel ABI $KVER (Debian version ${VERSION:-unknown}), work dir $WORK"
UPDATED=0
fetch() {  # fetch PACKAGE: the given version if the archive still has it, else the candidate
  if [ -n "$VERSION" ] && apt-get download "$1=$VERSION" >/dev/null 2>&1; then return 0; fi
  apt-get download "$1" >/dev/null 2>&1 && return 0
  # Package lists missing or stale (a fresh container whose packages were preinstalled): update once.
  if [ $UPDATED = 0 ] && [ "$(id -u)" = 0 ]; then
    log "apt-get download $1 failed: apt-get update, then again"
    apt-get -q update >/dev/null 2>&1 || true; UPDATED=1
    fetch "$1"; return
  fi
  die "apt-get download $1 failed (network? as root, apt-get update first)"
}
fetch linux-image-$KVER-unsigned
fetch linux-source-6.1
t1=$(date +%s); log "downloads: $((t1-t0)) s ($(du -sh . | cut -f1))"

dpkg-deb -x linux-image-"$KVER"-unsigned_*.deb kimg
dpkg-deb --fsys-tarfile linux-source-6.1_*.deb | tar -xO ./usr/src/linux-source-6.1.tar.xz |
  tar -xJ --wildcards 'linux-source-6.1/scripts/extract-vmlinux' 'linux-source-6.1/drivers/gpio/gpio-sim.c' \
    'linux-source-6.1/drivers/gpio/gpiolib.h' 'linux-source-6.1/kernel/irq/irq_sim.c'
SRC=linux-source-6.1
# Uncompressed ELF vmlinux: qemu boots it through its PVH entry point (no BIOS, no in-guest
# decompression: about twice as fast as bzImage under TCG).
sh $SRC/scripts/extract-vmlinux kimg/boot/vmlinuz-"$KVER" > "$OUT/vmlinux"
t2=$(date +%s); log "extract: $((t2-t1)) s"

# gpio-sim out of tree, with irq_sim (Debian has CONFIG_IRQ_SIM unset too). irq_to_desc() is not
# exported to modules: the one line that uses it calls generic_handle_irq() instead.
mkdir oot
cp $SRC/drivers/gpio/gpiolib.h $SRC/kernel/irq/irq_sim.c oot/
cp $SRC/drivers/gpio/gpio-sim.c oot/gpio-sim-core.c
sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' oot/irq_sim.c
grep -q 'generic_handle_irq(irqnum);' oot/irq_sim.c || die "irq_sim.c changed upstream: the patch no longer applies"
printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-core.o irq_sim.o\n' > oot/Makefile
make -s -C /lib/modules/"$KVER"/build M="$WORK"/oot modules 2>&1 | { grep -v 'Skipping BTF' || true; } >&2
mkdir -p "$OUT/modules"
strip --strip-debug oot/gpio-sim.ko -o "$OUT/modules/gpio-sim.ko"

# Modules the guest loads, in this order (modules.order): dependencies first.
M=kimg/lib/modules/$KVER/kernel
: > "$OUT/modules/order"
for m in fs/configfs/configfs net/core/failover drivers/net/net_failover drivers/virtio/virtio_ring \
         drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev \
         drivers/virtio/virtio_pci drivers/net/virtio_net; do
  if [ -f $M/$m.ko ]; then cp $M/$m.ko "$OUT/modules/"; echo "$(basename $m).ko" >> "$OUT/modules/order"
  elif [ -f $M/$m.ko.xz ]; then xz -dc $M/$m.ko.xz > "$OUT/modules/$(basename $m).ko"; echo "$(basename $m).ko" >> "$OUT/modules/order"
  else log "note: $m.ko not in this kernel (built in?)"; fi
done
echo gpio-sim.ko >> "$OUT/modules/order"
echo "$KVER" > "$OUT/abi"
t3=$(date +%s); log "gpio-sim.ko + modules: $((t3-t2)) s; total $((t3-t0)) s"
touch "$OUT/ready"
log "ready: $OUT ($(du -sh "$OUT" | cut -f1))"
[ $PRINT_DIR = 1 ] && echo "$OUT"
exit 0
