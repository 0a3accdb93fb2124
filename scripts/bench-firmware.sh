#!/bin/bash
# Issue 14's firmware benchmark: a 32 MiB image pulled by the release lwm2m-agentd over CoAP
# Block2 (1024-byte blocks) from the aiocoap peer and from libcoap's coap-server, over HTTP, and
# pushed to it with Block1 from aiocoap, on loopback; prints throughput, the agent's and the
# server's CPU (per block), and the daemon's RSS before / peak / after with the issue's goals.
# Builds the release daemon unless LWM2M_BIN_DIR is set, then runs scripts/bench-firmware.py
# (docs/firmware-update.md, "Figures").
#
# usage: scripts/bench-firmware.sh [--size 32M] [--runs N] [--cases coap-aiocoap,coap-libcoap,http,push]
#                                  [--workdir DIR] [--json FILE] [--check] [--ack-timeout S] [--settle S]
#        (the options of scripts/bench-firmware.py; --help lists them)
# env:   LWM2M_BIN_DIR  use the lwm2m-agentd in this directory, no build
#        SWIFT          the swift driver (default: swift on PATH, else /opt/swift/usr/bin/swift)
#        COAP_SERVER, COAP_CLIENT  libcoap binaries (default coap-server-notls, coap-client-notls)
set -euo pipefail
REPO=$(realpath "$(dirname "$0")/..")
cd "$REPO"
if [ -z "${LWM2M_BIN_DIR:-}" ]; then
  SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
  "$SWIFT" build -c release --product lwm2m-agentd >&2
  LWM2M_BIN_DIR=$("$SWIFT" build -c release --show-bin-path)
fi
exec python3 "$REPO/scripts/bench-firmware.py" --bin-dir "$LWM2M_BIN_DIR" "$@"
