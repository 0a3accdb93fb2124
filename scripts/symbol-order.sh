#!/bin/bash
# Regenerates packaging/link/lwm2m-agentd.order, the functions a registered daemon runs, which the
# release link of lwm2m-agentd places first (lld --symbol-ordering-file): the kernel maps a file's
# text in 64 KiB blocks per fault, so a daemon whose running code is packed into few blocks has a
# smaller RSS (docs/performance.md, "The functions a registered daemon runs, packed first").
#
# The workload is `lwm2m-bench compare`'s own: --version starts, starts to registered, served Reads
# of /3/0 (TLV and SenML CBOR), idle; each daemon runs under valgrind's callgrind, and every
# function callgrind saw that the executable defines is listed, sorted (one mangled name a line).
# Names that no longer exist are ignored by the link; regenerate after larger changes (the bench's
# RSS row tells: it grows when the list has gone stale).
#
# usage: scripts/symbol-order.sh            (builds the release daemon and the bench first)
# needs: valgrind (Debian package valgrind), the bench's peers (libcoap3-bin)
set -euo pipefail
REPO=$(realpath "$(dirname "$0")/..")
cd "$REPO"
command -v valgrind >/dev/null || { echo "symbol-order: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
for product in lwm2m-agentd lwm2m-bench; do
  "$SWIFT" build -c release --static-swift-stdlib --product "$product" >&2
done
BIN=$("$SWIFT" build -c release --show-bin-path)
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
# valgrind cannot read the release build's DWARF 5; the symbol table is all it needs.
strip --strip-debug "$BIN/lwm2m-agentd" -o "$WORK/lwm2m-agentd"
mkdir "$WORK/profiles"
cat > "$WORK/agentd-under-callgrind" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --demangle=no --callgrind-out-file=$WORK/profiles/%p.out $WORK/lwm2m-agentd "\$@"
EOF
chmod +x "$WORK/agentd-under-callgrind"
"$BIN/lwm2m-bench" compare --agentd "$WORK/agentd-under-callgrind" --runs 3 --reads 300 --idle-seconds 2 >&2
OUT="$REPO/packaging/link/lwm2m-agentd.order"
python3 - "$WORK/profiles" "$WORK/lwm2m-agentd" "$OUT" <<'EOF'
import pathlib, re, subprocess, sys
profiles, binary, out = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
seen = set()
for profile in profiles.glob("*.out"):
    for line in profile.read_text(errors="replace").splitlines():
        match = re.match(r"^c?fn=\(\d+\) (.+)$", line)
        if match:
            seen.add(match.group(1))
symbols = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
text = {fields[2] for fields in (line.split() for line in symbols.splitlines()) if len(fields) == 3 and fields[1] in "tTwW"}
hot = sorted(seen & text)
if len(hot) < 500:
    sys.exit(f"symbol-order: only {len(hot)} functions profiled: did the daemons run? ({profiles})")
pathlib.Path(out).write_text("".join(name + "\n" for name in hot))
print(f"symbol-order: {len(hot)} functions in {out}", file=sys.stderr)
EOF
