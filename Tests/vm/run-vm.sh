#!/bin/bash
# Boots the VM test guest: Debian's kernel (PVH vmlinux from setup.sh) under qemu TCG (no KVM
# needed), the serial console written to LOG, user-mode networking (guest 10.0.2.15, the host's
# loopback reachable as 10.0.2.2), -no-reboot: a reboot(2) in the guest makes qemu exit (status 0)
# as a poweroff does; the guest's console log says which ("reboot: Restarting system" or
# "reboot: Power down").
#
# usage: Tests/vm/run-vm.sh [--control SOCKET] KERNEL_DIR INITRD LOG [extra qemu arguments...]
#   LOG "-": the console on this terminal
#   --control SOCKET: the guest's second serial port (ttyS1) on a Unix socket qemu listens on; the
#   guest's init runs the shell commands sent there (guest/init, vmguest.Guest.run)
# env:   VM_MEMORY (MiB, default 512)
set -euo pipefail
CONTROL=(); APPEND=""
if [ "${1:-}" = --control ]; then
  CONTROL=(-serial "unix:$2,server=on,wait=off"); APPEND=" vmctl=1"; shift 2
fi
KDIR=$1; INITRD=$2; LOG=$3; shift 3
SERIAL=file:$LOG; [ "$LOG" = - ] && SERIAL=stdio
exec qemu-system-x86_64 -accel tcg -M pc -cpu max -m "${VM_MEMORY:-512}" -smp 1 \
  -kernel "$KDIR/vmlinux" -initrd "$INITRD" \
  -append "console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init$APPEND" \
  -display none -serial "$SERIAL" "${CONTROL[@]}" -monitor none -no-reboot \
  -netdev user,id=n0 -device virtio-net-pci,netdev=n0 "$@"
