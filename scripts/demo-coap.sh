#!/usr/bin/env bash
# The CoAP-engine demo (scripts/demo.sh is the LwM2M one): installs dependencies, builds the release
# binaries, starts lwm2m-demo serving the demo resources on loopback, and lets an
# independent CoAP client (libcoap's coap-client) use them: discovery, a Block2 read,
# a Block1 write read back, an observation, the LwM2M Device object read as SenML JSON, TLV and
# SenML CBOR, an Execute, and a ping from our own CLI. Stops cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
port="${DEMO_PORT:-5683}"
base="coap://127.0.0.1:$port"

scripts/setup.sh >/dev/null
echo "== building release binaries (swift build -c release)"
swift build -c release --product lwm2m-demo >/dev/null
swift build -c release --product lwm2m-agent >/dev/null
bin="$(swift build -c release --show-bin-path)"
work=$(mktemp -d)

"$bin/lwm2m-demo" --listen "$base" --tick 0.5 --log-level info 2>"$work/demo.log" &
demo=$!
cleanup() { kill "$demo" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
sleep 0.3
step() { printf '\n== %s\n$ %s\n' "$1" "$2"; }

step "discovery" "coap-client-notls -m get $base/.well-known/core"
coap-client-notls -m get "$base/.well-known/core"

step "a small read" "coap-client-notls -m get $base/demo/hello"
coap-client-notls -m get "$base/demo/hello"

step "a 4096-byte read in 64-byte Block2 blocks" "coap-client-notls -m get -b 64 $base/demo/large"
coap-client-notls -m get -b 64 -o "$work/large" "$base/demo/large"
printf '%s bytes received; first and last lines:\n' "$(wc -c <"$work/large")"
head -1 "$work/large"; tail -1 "$work/large"

step "a 6000-byte write in 256-byte Block1 blocks, read back" "coap-client-notls -m put -b 256 -f payload $base/demo/store"
head -c 6000 /dev/urandom >"$work/payload"
coap-client-notls -m put -b 256 -f "$work/payload" "$base/demo/store"
"$bin/lwm2m-agent" coap get "$base/demo/store" >"$work/readback"
if cmp -s "$work/payload" "$work/readback"; then echo "read back identical ($(sha256sum <"$work/payload" | cut -c1-16)…)"; else echo "MISMATCH"; exit 1; fi

step "observe /demo/counter for 3 s (a notification every 0.5 s)" "coap-client-notls -s 3 -w $base/demo/counter"
coap-client-notls -s 3 -w "$base/demo/counter" | tr "\n" " "; echo

step "the LwM2M Device object /3/0 as SenML JSON (110)" "coap-client-notls -m get -A 110 $base/3/0"
coap-client-notls -m get -A 110 "$base/3/0"; echo
for format in "11542 TLV" "112 SenML-CBOR"; do
    set -- $format
    step "/3/0 as $2 ($1), first bytes" "coap-client-notls -m get -A $1 $base/3/0"
    coap-client-notls -m get -A "$1" -o "$work/device.$1" "$base/3/0"
    printf '%s bytes: ' "$(wc -c <"$work/device.$1")"; od -An -tx1 -N16 "$work/device.$1"
done
step "Execute /3/0/4 (Reboot; the demo only counts it)" "coap-client-notls -m post $base/3/0/4"
coap-client-notls -m post "$base/3/0/4" && echo "2.04 Changed"

step "CoAP ping from our own CLI" "lwm2m-agent coap ping $base"
"$bin/lwm2m-agent" coap ping "$base"

echo; echo "== stopping lwm2m-demo (SIGTERM); its log:"
kill -TERM "$demo"; wait "$demo" || true
cat "$work/demo.log"
