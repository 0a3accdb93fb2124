#!/bin/sh
# TPM latency figures on a private swtpm: median unseal (load + unseal + flush) and sign times.
#   scripts/tpm-bench.sh [iterations]      (builds lwm2m-tpm-probe in release mode first)
# On a board, run the probe against the real TPM instead:
#   lwm2m-tpm-probe bench device:/dev/tpmrm0 <scratch-state-dir> [iterations]
set -eu
iterations=${1:-200}
cd "$(dirname "$0")/.."
swift build -c release --product lwm2m-tpm-probe >/dev/null
probe=$(swift build -c release --show-bin-path)/lwm2m-tpm-probe
state=$(mktemp -d /tmp/lwm2m-tpm-bench-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    rm -rf "$state"
}
trap cleanup EXIT INT TERM
export TSS2_LOG=all+none
# The swtpm TCTI expects the control channel on port + 1: pick a free pair and retry on a race.
for attempt in 1 2 3 4 5; do
    port=$(python3 -c 'import socket,random
while True:
    p = random.randint(20000, 60000)
    try:
        a = socket.socket(); a.bind(("127.0.0.1", p)); b = socket.socket(); b.bind(("127.0.0.1", p + 1))
        a.close(); b.close(); print(p); break
    except OSError: pass')
    mkdir -p "$state/tpm"
    swtpm socket --tpm2 --tpmstate dir="$state/tpm" \
        --server type=tcp,port="$port",bindaddr=127.0.0.1 \
        --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
        --flags not-need-init,startup-clear >"$state/swtpm.log" 2>&1 &
    pid=$!
    sleep 0.2
    if kill -0 "$pid" 2>/dev/null; then break; fi
    pid=
done
[ -n "$pid" ] || { echo "swtpm did not start" >&2; exit 1; }
"$probe" bench "swtpm:host=127.0.0.1,port=$port" "$state/agent" "$iterations"
