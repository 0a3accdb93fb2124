#!/usr/bin/env bash
# Build and run a libFuzzer target (libFuzzer + ASan by default, optimised).
#
#   scripts/fuzz.sh [target] [seconds] [options]     e.g.  scripts/fuzz.sh coap-decoder 60
#   scripts/fuzz.sh [target] --runs N [options]      e.g.  scripts/fuzz.sh senml-cbor --runs 10000000
#   scripts/fuzz.sh --list
#
# target    defaults to coap-decoder
# seconds   run for this long; defaults to $FUZZ_SECONDS, else 60
# --runs N  run exactly N executions instead (no time limit); also $FUZZ_RUNS
# --no-asan build without AddressSanitizer (libFuzzer coverage only; Swift's own overflow,
#           bounds and conversion traps still abort on the spot): faster, for long runs.
#           Also FUZZ_ASAN=0. Separate binaries and modules (suffix -noasan).
# FUZZ_FLAGS  extra libFuzzer flags, e.g. FUZZ_FLAGS="-max_len=70000"
#
# The dictionary Fuzz/dictionaries/<target>.dict, when present, is passed with -dict=.
# Everything it writes lives under .build-fuzz/ (git-ignored): the binary
# .build-fuzz/<target>-fuzz[-noasan], the corpus (seeded from Fuzz/seeds/<target>/*.bin), crash
# artifacts in .build-fuzz/artifacts/<target>/ and the log .build-fuzz/<target>.log.
# Exits non-zero when the build fails or the fuzzer finds a crash; the last line is a summary
# with the executions done, the wall time, exec/s, coverage and corpus size.
set -euo pipefail

# Target table:  name | modules under test (in dependency order) | corpus dir (under .build-fuzz) | entry
# Each module is compiled once from Sources/<Module>/ (recursively) into an instrumented static
# library with -enable-testing, under its real name, so the sources' own `import CoAP` work and
# every target shares the builds; the entry point (Fuzz/<Name>Fuzz.swift, defining
# LLVMFuzzerTestOneInput) uses `@testable import`. To add a target: a row, the entry file, and
# seeds in Fuzz/seeds/<name>/.
TARGETS=(
    "coap-decoder|Time CoAP|corpus-coap|Fuzz/CoAPDecoderFuzz.swift"
    "tlv-decoder|Time CoAP Credentials LwM2M|corpus-tlv|Fuzz/TLVDecoderFuzz.swift"
    "link-format|Time CoAP Credentials LwM2M|corpus-link|Fuzz/LinkFormatFuzz.swift"
    "cbor|Time CoAP Credentials LwM2M|corpus-cbor|Fuzz/CBORFuzz.swift"
    "senml-cbor|Time CoAP Credentials LwM2M|corpus-senml-cbor|Fuzz/SenMLCBORFuzz.swift"
    "json|Time CoAP Credentials LwM2M|corpus-json|Fuzz/JSONFuzz.swift"
    "senml-json|Time CoAP Credentials LwM2M|corpus-senml-json|Fuzz/SenMLJSONFuzz.swift"
    "bootstrap|Time CoAP Credentials LwM2M|corpus-bootstrap|Fuzz/BootstrapFuzz.swift"
    "payload-codec|Time CoAP Credentials LwM2M|corpus-payload-codec|Fuzz/PayloadCodecFuzz.swift"
    "uri-query|Time CoAP Credentials LwM2M|corpus-uri-query|Fuzz/URIQueryFuzz.swift"
)

die() { echo "fuzz.sh: $*" >&2; exit 2; }

if [[ "${1:-}" == "--list" || "${1:-}" == "-l" ]]; then
    for row in "${TARGETS[@]}"; do echo "${row%%|*}"; done
    exit 0
fi
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
fi

target="coap-decoder"
seconds="${FUZZ_SECONDS:-60}"
runs_wanted="${FUZZ_RUNS:-}"
asan="${FUZZ_ASAN:-1}"
positional=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) [[ $# -ge 2 ]] || die "--runs needs a number"; runs_wanted="$2"; shift 2 ;;
        --runs=*) runs_wanted="${1#--runs=}"; shift ;;
        --no-asan) asan=0; shift ;;
        --asan) asan=1; shift ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *)
            case $positional in
                0) target="$1" ;;
                1) seconds="$1" ;;
                *) die "unexpected argument '$1' (see --help)" ;;
            esac
            positional=$((positional + 1)); shift ;;
    esac
done
[[ "$seconds" =~ ^[0-9]+$ ]] || die "seconds must be a whole number, got '$seconds'"
[[ -z "$runs_wanted" || "$runs_wanted" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive whole number, got '$runs_wanted'"
[[ "$asan" == 0 || "$asan" == 1 ]] || die "FUZZ_ASAN must be 0 or 1, got '$asan'"

row=""
for candidate in "${TARGETS[@]}"; do
    [[ "${candidate%%|*}" == "$target" ]] && row="$candidate"
done
[[ -n "$row" ]] || die "unknown target '$target' (known: $(for r in "${TARGETS[@]}"; do printf '%s ' "${r%%|*}"; done))"
IFS='|' read -r _ modules corpus_name entry <<<"$row"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

out=".build-fuzz"
suffix=""
[[ "$asan" == 1 ]] || suffix="-noasan"
binary="$out/$target-fuzz$suffix"
corpus="$out/$corpus_name"
artifacts="$out/artifacts/$target"
log="$out/$target.log"
mkdir -p "$out" "$corpus" "$artifacts"

[[ -f "$entry" ]] || die "missing entry point $entry"

# Prefer the toolchain's lld: gold prints hundreds of harmless ASan symbol warnings.
linker=()
swiftc_path="$(command -v swiftc)" || die "swiftc not found"
if [[ -x "$(dirname "$swiftc_path")/ld.lld" ]] || command -v ld.lld >/dev/null; then
    linker=(-use-ld=lld)
fi

sanitizers="fuzzer,address"
[[ "$asan" == 1 ]] || sanitizers="fuzzer"
flags=(-swift-version 6 -sanitize="$sanitizers" -parse-as-library -O -g)
module_dir="$out/modules$suffix"
mkdir -p "$module_dir"
stamp="$(sha256sum "$0" | cut -c1-16)"
libraries=()
for module in $modules; do
    mapfile -t module_sources < <(find "Sources/$module" -name '*.swift' | sort)
    [[ ${#module_sources[@]} -gt 0 ]] || die "no sources in Sources/$module"
    # A module's stamp covers its sources and those of the modules it builds on.
    stamp="$( { echo "$stamp"; cat "${module_sources[@]}"; } | sha256sum | cut -c1-16)"
    if [[ "$(cat "$module_dir/$module.stamp" 2>/dev/null)" != "$stamp" ]]; then
        echo "fuzz.sh: building instrumented $module from ${#module_sources[@]} files"
        swiftc "${flags[@]}" -enable-testing -module-name "$module" -I "$module_dir" \
            -emit-module -emit-module-path "$module_dir/$module.swiftmodule" \
            -emit-library -static -o "$module_dir/lib$module.a" "${module_sources[@]}" \
            || { echo "FUZZ $target: BUILD FAILED"; exit 1; }
        echo "$stamp" >"$module_dir/$module.stamp"
    fi
    libraries+=(-l"$module")
done
echo "fuzz.sh: building $binary"
swiftc "${flags[@]}" -module-name FuzzEntry -I "$module_dir" -L "$module_dir" "${libraries[@]}" "${linker[@]}" \
    "$entry" -o "$binary" || { echo "FUZZ $target: BUILD FAILED"; exit 1; }

# Seed the corpus (never overwriting what earlier runs found).
seeds=0
for seed in Fuzz/seeds/"$target"/*.bin; do
    [[ -e "$seed" ]] || continue
    cp -n "$seed" "$corpus/" 2>/dev/null || true
    seeds=$((seeds + 1))
done
dict="Fuzz/dictionaries/$target.dict"
dict_flag=()
[[ -f "$dict" ]] && dict_flag=(-dict="$dict")
if [[ -n "$runs_wanted" ]]; then
    limit=(-runs="$runs_wanted")
    what="$runs_wanted executions"
else
    limit=(-max_total_time="$seconds")
    what="${seconds}s"
fi
echo "fuzz.sh: corpus $corpus ($(find "$corpus" -type f | wc -l) files, $seeds seeds), $what," \
    "dictionary ${dict_flag[*]:-none}, $([[ "$asan" == 1 ]] && echo ASan || echo 'no ASan')"

# libFuzzer and ASan print the stack of a crash; Swift's own backtracer would fork a
# swift-backtrace process that trips over ASan and can hang holding the log pipe open.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

# shellcheck disable=SC2086  # FUZZ_FLAGS is deliberately word-split
set +e
started=$(date +%s)
"$binary" "${limit[@]}" "${dict_flag[@]}" -print_final_stats=1 -timeout=10 \
    -artifact_prefix="$artifacts/" ${FUZZ_FLAGS:-} "$corpus" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
wall=$(( $(date +%s) - started ))

final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
runs="$(final_stat number_of_executed_units)"
rate="$(final_stat average_exec_per_sec)"
cov="$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2 || true)"
files="$(find "$corpus" -type f | wc -l)"
crash="$(grep -Eo 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/Test unit written to //' || true)"
build="$([[ "$asan" == 1 ]] && echo ASan || echo no-ASan)"

if [[ $status -ne 0 || -n "$crash" ]]; then
    echo "FUZZ $target: FAILED (exit $status) after ${runs:-?} runs in ${wall}s ($build); input: ${crash:-none written}; reproduce: $binary ${crash:-<input>}; log: $log"
    exit 1
fi
echo "FUZZ $target: OK ${runs:-?} runs in ${wall}s (${rate:-?} exec/s, $build), coverage ${cov:-?}, corpus $files files"
