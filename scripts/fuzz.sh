#!/usr/bin/env bash
# Build and run a libFuzzer target (ASan + libFuzzer, optimised).
#
#   scripts/fuzz.sh [target] [seconds]     e.g.  scripts/fuzz.sh coap-decoder 60
#   scripts/fuzz.sh --list
#
# target   defaults to coap-decoder
# seconds  defaults to $FUZZ_SECONDS, else 60
# FUZZ_FLAGS  extra libFuzzer flags, e.g. FUZZ_FLAGS="-max_len=70000" or "-runs=100000"
#
# Everything it writes lives under .build-fuzz/ (git-ignored): the binary
# .build-fuzz/<target>-fuzz, the corpus (seeded from Fuzz/seeds/<target>/*.bin), crash
# artifacts in .build-fuzz/artifacts/<target>/ and the log .build-fuzz/<target>.log.
# Exits non-zero when the build fails or the fuzzer finds a crash; the last line is a summary.
set -euo pipefail

# Target table:  name | module name | corpus dir (under .build-fuzz) | sources (globs from the repo root)
# The last source is the fuzz entry point (Fuzz/<Name>Fuzz.swift defining LLVMFuzzerTestOneInput);
# the others form the code under test. They are compiled once per module name into a static
# "kit" library (instrumented, -enable-testing) that every target of that module links, so six
# LwM2M targets cost one module build; the entry imports it with `@testable import <module>Kit`
# under `#if canImport`. To add a target: a row, the entry file, seeds in Fuzz/seeds/<name>/.
TARGETS=(
    "coap-decoder|CoAPFuzz|corpus-coap|Sources/CoAP/*.swift Fuzz/CoAPDecoderFuzz.swift"
    "tlv-decoder|LwM2MFuzz|corpus-tlv|Sources/CoAP/*.swift Sources/LwM2M/*.swift Sources/LwM2M/Generated/*.swift Fuzz/TLVDecoderFuzz.swift"
    "link-format|LwM2MFuzz|corpus-link|Sources/CoAP/*.swift Sources/LwM2M/*.swift Sources/LwM2M/Generated/*.swift Fuzz/LinkFormatFuzz.swift"
    "cbor|LwM2MFuzz|corpus-cbor|Sources/CoAP/*.swift Sources/LwM2M/*.swift Sources/LwM2M/Generated/*.swift Fuzz/CBORFuzz.swift"
    "senml-cbor|LwM2MFuzz|corpus-senml-cbor|Sources/CoAP/*.swift Sources/LwM2M/*.swift Sources/LwM2M/Generated/*.swift Fuzz/SenMLCBORFuzz.swift"
    "json|LwM2MFuzz|corpus-json|Sources/CoAP/*.swift Sources/LwM2M/*.swift Sources/LwM2M/Generated/*.swift Fuzz/JSONFuzz.swift"
    "senml-json|LwM2MFuzz|corpus-senml-json|Sources/CoAP/*.swift Sources/LwM2M/*.swift Sources/LwM2M/Generated/*.swift Fuzz/SenMLJSONFuzz.swift"
)

die() { echo "fuzz.sh: $*" >&2; exit 2; }

if [[ "${1:-}" == "--list" || "${1:-}" == "-l" ]]; then
    for row in "${TARGETS[@]}"; do echo "${row%%|*}"; done
    exit 0
fi
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi

target="${1:-coap-decoder}"
seconds="${2:-${FUZZ_SECONDS:-60}}"
[[ "$seconds" =~ ^[0-9]+$ ]] || die "seconds must be a whole number, got '$seconds'"

row=""
for candidate in "${TARGETS[@]}"; do
    [[ "${candidate%%|*}" == "$target" ]] && row="$candidate"
done
[[ -n "$row" ]] || die "unknown target '$target' (known: $(for r in "${TARGETS[@]}"; do printf '%s ' "${r%%|*}"; done))"
IFS='|' read -r _ module corpus_name source_globs <<<"$row"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

out=".build-fuzz"
binary="$out/$target-fuzz"
corpus="$out/$corpus_name"
artifacts="$out/artifacts/$target"
log="$out/$target.log"
mkdir -p "$out" "$corpus" "$artifacts"

# Expand the source globs; an unmatched glob is an error, not a literal path.
shopt -s nullglob
sources=()
for glob in $source_globs; do
    matched=($glob)
    [[ ${#matched[@]} -gt 0 ]] || die "no file matches '$glob'"
    sources+=("${matched[@]}")
done
shopt -u nullglob

# Prefer the toolchain's lld: gold prints hundreds of harmless ASan symbol warnings.
linker=()
swiftc_path="$(command -v swiftc)" || die "swiftc not found"
if [[ -x "$(dirname "$swiftc_path")/ld.lld" ]] || command -v ld.lld >/dev/null; then
    linker=(-use-ld=lld)
fi

entry="${sources[${#sources[@]}-1]}"
kit_sources=("${sources[@]:0:${#sources[@]}-1}")
kit="${module}Kit"
kit_dir="$out/kit-$module"
flags=(-swift-version 6 -sanitize=fuzzer,address -parse-as-library -O -g)
stamp="$(cat "${kit_sources[@]}" "$0" | sha256sum | cut -c1-16)"
if [[ "$(cat "$kit_dir/stamp" 2>/dev/null)" != "$stamp" ]]; then
    echo "fuzz.sh: building $kit from ${#kit_sources[@]} files"
    rm -rf "$kit_dir" && mkdir -p "$kit_dir"
    swiftc "${flags[@]}" -enable-testing -module-name "$kit" -emit-module -emit-module-path "$kit_dir/$kit.swiftmodule" \
        -emit-library -static -o "$kit_dir/lib$kit.a" "${kit_sources[@]}" \
        || { echo "FUZZ $target: BUILD FAILED"; exit 1; }
    echo "$stamp" >"$kit_dir/stamp"
fi
echo "fuzz.sh: building $binary"
swiftc "${flags[@]}" -module-name "${module}Entry" -I "$kit_dir" -L "$kit_dir" -l"$kit" "${linker[@]}" \
    "$entry" -o "$binary" || { echo "FUZZ $target: BUILD FAILED"; exit 1; }

# Seed the corpus (never overwriting what earlier runs found).
seeds=0
for seed in Fuzz/seeds/"$target"/*.bin; do
    [[ -e "$seed" ]] || continue
    cp -n "$seed" "$corpus/" 2>/dev/null || true
    seeds=$((seeds + 1))
done
echo "fuzz.sh: corpus $corpus ($(find "$corpus" -type f | wc -l) files, $seeds seeds), ${seconds}s"

# libFuzzer and ASan print the stack of a crash; Swift's own backtracer would fork a
# swift-backtrace process that trips over ASan and can hang holding the log pipe open.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

# shellcheck disable=SC2086  # FUZZ_FLAGS is deliberately word-split
set +e
"$binary" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -artifact_prefix="$artifacts/" ${FUZZ_FLAGS:-} "$corpus" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
runs="$(final_stat number_of_executed_units)"
rate="$(final_stat average_exec_per_sec)"
cov="$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2 || true)"
files="$(find "$corpus" -type f | wc -l)"
crash="$(grep -Eo 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/Test unit written to //' || true)"

if [[ $status -ne 0 || -n "$crash" ]]; then
    echo "FUZZ $target: FAILED (exit $status) after ${runs:-?} runs; input: ${crash:-none written}; reproduce: $binary ${crash:-<input>}; log: $log"
    exit 1
fi
echo "FUZZ $target: OK ${runs:-?} runs in ${seconds}s (${rate:-?} exec/s), coverage ${cov:-?}, corpus $files files"
