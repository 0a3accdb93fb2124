#!/usr/bin/env bash
# The end-to-end demo on a fresh Debian machine: installs dependencies, builds the release
# binaries, then runs lwm2m-agentd against a local LwM2M bootstrap server and management server
# (independent aiocoap peers): bootstrap → registered → reads of /3/0 in TLV, SenML JSON and
# SenML CBOR → an observation → `lwm2m-agent status` → a firmware pull from a slow CoAP server
# with its progress in `lwm2m-agent status`, Update through a script hook (result 1) →
# de-registration, restart without bootstrap. Stops cleanly.
# `scripts/demo.sh --dtls` runs the same over DTLS PSK (OpenSSL relays in front of the servers).
# (scripts/demo-coap.sh is the CoAP-engine demo with libcoap's client.)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"

scripts/setup.sh >/dev/null
echo "== building release binaries (swift build -c release)"
swift build -c release --product lwm2m-agentd >/dev/null
swift build -c release --product lwm2m-agent >/dev/null
python3 scripts/demo-lwm2m.py "$(swift build -c release --show-bin-path)" "$@"
