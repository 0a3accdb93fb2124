#!/usr/bin/env bash
# Runs every test of lwm2m-agent on a Debian machine with Swift 6 on PATH (or at /opt/swift):
#   1. installs what the tests need (scripts/setup.sh: apt-get / pip, idempotent),
#   2. Swift unit and integration tests (swift test: codec, engine with a virtual clock,
#      real UDP sockets, system libraries),
#   3. interop tests against independent implementations as real processes on loopback
#      (libcoap's coap-client, Python aiocoap, a lossy relay),
#   4. a bounded libFuzzer run of every fuzz target (FUZZ_SECONDS each, default 60).
# Ends with one summary line "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"

scripts/setup.sh

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
swift_status=0
interop_status=0
fuzz_status=0

echo "== generated sources up to date"
python3 scripts/generate-objects.py --check

echo "== swift test"
swift build --build-tests
swift test --skip-build 2>&1 | tee "$log_dir/swift.log" || swift_status=$?

echo "== interop tests (libcoap, aiocoap)"
LWM2M_BIN_DIR="$(swift build --show-bin-path)" python3 -m pytest Tests/interop -q -p no:cacheprovider \
    2>&1 | tee "$log_dir/interop.log" || interop_status=$?

echo "== fuzzing (${FUZZ_SECONDS:-60} s per target)"
for target in $(scripts/fuzz.sh --list); do
    scripts/fuzz.sh "$target" "${FUZZ_SECONDS:-60}" || fuzz_status=1
done

# One summary over both runners.
swift_passed=$(grep -Eo 'Test run with [0-9]+ tests? .*passed' "$log_dir/swift.log" | grep -Eo '[0-9]+' | head -1 || true)
swift_failed=$(grep -Eo 'with [0-9]+ issues?' "$log_dir/swift.log" | grep -Eo '[0-9]+' | head -1 || true)
interop_passed=$(grep -Eo '[0-9]+ passed' "$log_dir/interop.log" | tail -1 | grep -Eo '[0-9]+' || true)
interop_failed=$(grep -Eo '[0-9]+ failed' "$log_dir/interop.log" | tail -1 | grep -Eo '[0-9]+' || true)
passed=$(( ${swift_passed:-0} + ${interop_passed:-0} ))
failed=$(( ${swift_failed:-0} + ${interop_failed:-0} + fuzz_status ))
if [ "$swift_status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$interop_status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "tests: $passed passed, $failed failed"
[ "$swift_status" -eq 0 ] && [ "$interop_status" -eq 0 ] && [ "$fuzz_status" -eq 0 ]
