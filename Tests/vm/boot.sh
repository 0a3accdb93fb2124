#!/bin/bash
# Boots the VM test guest by hand (debugging; the tests use Tests/interop/test_vm_board.py):
# the kernel cache (setup.sh), a fresh base initramfs around BIN_DIR's lwm2m-agentd, the given
# agent.conf appended, the serial console on this terminal (or in LOG).
#
# usage: Tests/vm/boot.sh [--config AGENT.CONF] [--bin-dir DIR] [--log LOG] [extra qemu args...]
#   --config   the guest's /etc/lwm2m-agent/agent.conf (a server on the host is coap://10.0.2.2:PORT);
#              without it the guest prints its facts and powers off
#   --bin-dir  default: $LWM2M_BIN_DIR, else .build/debug
# Ctrl-C stops qemu. Example, with the project's management server on the host:
#   python3 Tests/interop/peers/management_server.py --listen 127.0.0.1:5683 &
#   Tests/vm/boot.sh --config my-agent.conf      # [server 101] uri = coap://10.0.2.2:5683
set -euo pipefail
HERE=$(dirname "$(realpath "$0")")
REPO=$(realpath "$HERE/../..")
CONFIG=""; BIN=${LWM2M_BIN_DIR:-$REPO/.build/debug}; LOG=""
while [ $# -gt 0 ]; do
  case $1 in
    --config) CONFIG=$(realpath "$2"); shift 2 ;;
    --bin-dir) BIN=$2; shift 2 ;;
    --log) LOG=$(realpath -m "$2"); shift 2 ;;
    *) break ;;
  esac
done
KDIR=$("$HERE/setup.sh" --print-dir)
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
"$HERE/mkinitramfs.sh" "$KDIR" "$BIN" "$W/initrd.cpio" >&2
if [ -n "$CONFIG" ]; then
  mkdir -p "$W/overlay/etc/lwm2m-agent"; cp "$CONFIG" "$W/overlay/etc/lwm2m-agent/agent.conf"
  (cd "$W/overlay" && find . | cpio -o -H newc --owner=0:0 --quiet) >> "$W/initrd.cpio"
fi
"$HERE/run-vm.sh" "$KDIR" "$W/initrd.cpio" "${LOG:--}" "$@"
