#!/bin/bash
# Issue 13's figure: GPIO edge → notification datagram latency, measured inside the qemu test
# guest (docs/vm-tests.md, "Benchmark: edge → notification"). Builds the release agent and the
# guest-side probe (or takes LWM2M_BIN_DIR as is), then runs Tests/vm/bench_gpio.py: the guest
# boots with the release lwm2m-agentd on board gpio-sim-vm, registered at the host's management
# server, which observes /3200/0/5500; lwm2m-edge-probe in the guest toggles DIN1 and times the
# notifications. Prints the probe's summary and the host's notification count.
#
# usage: scripts/bench-gpio-vm.sh [--edges N] [--interval-ms MS] [--timeout-ms MS] [--workdir DIR] ...
#        (the options of Tests/vm/bench_gpio.py; --help lists them)
# env:   LWM2M_BIN_DIR  use these binaries (lwm2m-agentd, lwm2m-agent, lwm2m-edge-probe), no build
#        SWIFT          the swift driver (default: swift on PATH, else /opt/swift/usr/bin/swift)
set -euo pipefail
REPO=$(realpath "$(dirname "$0")/..")
cd "$REPO"
if [ -z "${LWM2M_BIN_DIR:-}" ]; then
  SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
  # One product per invocation: `swift build` builds only the last of several --product options.
  for product in lwm2m-agentd lwm2m-agent lwm2m-edge-probe; do
    "$SWIFT" build -c release --product "$product" >&2
  done
  LWM2M_BIN_DIR=$("$SWIFT" build -c release --show-bin-path)
fi
exec python3 "$REPO/Tests/vm/bench_gpio.py" --bin-dir "$LWM2M_BIN_DIR" "$@"
