#!/bin/bash
# Builds the Debian package lwm2m-agent_<version>-<revision>_<arch>.deb (issue 15; docs/operations.md,
# "Debian package"): the two programs (static Swift standard library), the systemd unit, the
# SysV/BusyBox init script, /etc/lwm2m-agent/agent.conf (a conffile, from init/agent.conf.example),
# the board files and overlays under /usr/share/lwm2m-agent, the docs, the man pages when
# docs/man/ has them, and maintainer scripts (packaging/debian/). Depends: computed by
# dpkg-shlibdeps from what the binaries link, plus the TPM software stack (loaded with dlopen).
#
# usage: scripts/package-deb.sh [--bin-dir DIR] [--out DIR] [--allow-shared-swift-runtime]
#   --bin-dir DIR   take lwm2m-agent and lwm2m-agentd from DIR instead of building
#                   `swift build -c release --static-swift-stdlib`
#   --out DIR       where the .deb goes (default: .build/deb)
#   --allow-shared-swift-runtime
#                   accept binaries that link the Swift runtime as shared libraries (a debug
#                   build, for tests): the runtime is then NOT in Depends, and the package runs
#                   only where that runtime sits at the binaries' RUNPATH
# env:   SWIFT            the swift driver (default: swift on PATH, else /opt/swift/usr/bin/swift)
#        DEB_REVISION     Debian revision (default 1)
#        DEB_MAINTAINER   Maintainer field
#        SOURCE_DATE_EPOCH  timestamps in the package (default: the last commit's time)
#        DEB_COMPRESSION  dpkg-deb -Z (default xz; the tests use gzip: faster)
# Prints the path of the .deb on standard output; progress on standard error.
set -euo pipefail

REPO=$(realpath "$(dirname "$0")/..")
PACKAGE=lwm2m-agent
BIN_DIR=""
OUT_DIR="$REPO/.build/deb"
ALLOW_SHARED_RUNTIME=no

usage() { sed -n '9,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
log() { printf '[package-deb] %s\n' "$*" >&2; }
die() { printf '[package-deb] error: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--bin-dir) [ $# -ge 2 ] || usage; BIN_DIR=$2; shift 2 ;;
	--out) [ $# -ge 2 ] || usage; OUT_DIR=$2; shift 2 ;;
	--allow-shared-swift-runtime) ALLOW_SHARED_RUNTIME=yes; shift ;;
	-h|--help) usage ;;
	*) printf '[package-deb] unknown option: %s\n' "$1" >&2; usage ;;
	esac
done

for tool in dpkg-deb dpkg-shlibdeps dpkg readelf strip gzip; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (scripts/setup.sh installs it)"
done

# --- version, architecture ----------------------------------------------------------------------
VERSION=$(sed -n 's/.*static let string = "\([^"]*\)".*/\1/p' "$REPO/Sources/AgentCommon/AgentVersion.swift")
[ -n "$VERSION" ] || die "no version in Sources/AgentCommon/AgentVersion.swift"
DEB_VERSION="$VERSION-${DEB_REVISION:-1}"
ARCH=$(dpkg --print-architecture)
MAINTAINER=${DEB_MAINTAINER:-lwm2m-agent maintainers <maintainers@lwm2m-agent.invalid>}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

# --- binaries -----------------------------------------------------------------------------------
if [ -z "$BIN_DIR" ]; then
	SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
	log "building the release binaries (static Swift standard library)"
	(cd "$REPO" && "$SWIFT" build -c release --static-swift-stdlib --product lwm2m-agentd >&2 &&
		"$SWIFT" build -c release --static-swift-stdlib --product lwm2m-agent >&2)
	BIN_DIR=$(cd "$REPO" && "$SWIFT" build -c release --static-swift-stdlib --show-bin-path)
fi
for program in lwm2m-agent lwm2m-agentd; do
	[ -x "$BIN_DIR/$program" ] || die "$BIN_DIR/$program not found or not executable"
	if readelf -d "$BIN_DIR/$program" | grep -q 'NEEDED.*\[libswiftCore\.so\]'; then
		[ "$ALLOW_SHARED_RUNTIME" = yes ] ||
			die "$BIN_DIR/$program links the Swift runtime as a shared library (not --static-swift-stdlib); pass --allow-shared-swift-runtime to package it anyway"
		log "warning: $program links the Swift runtime dynamically: it is not in Depends"
	fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/package-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT="$WORK/root"
DOC="$ROOT/usr/share/doc/$PACKAGE"

log "staging $PACKAGE $DEB_VERSION ($ARCH) in $ROOT"
# Both programs in /usr/bin: the unit and the init script (init/) run /usr/bin/lwm2m-agentd.
install -d "$ROOT/usr/bin"
for program in lwm2m-agent lwm2m-agentd; do
	install -m 0755 "$BIN_DIR/$program" "$ROOT/usr/bin/$program"
	strip --strip-unneeded --remove-section=.comment --remove-section=.note "$ROOT/usr/bin/$program"
done

install -D -m 0644 "$REPO/init/lwm2m-agentd.service" "$ROOT/lib/systemd/system/lwm2m-agentd.service"
install -D -m 0755 "$REPO/init/lwm2m-agentd.init" "$ROOT/etc/init.d/lwm2m-agentd"
install -D -m 0644 "$REPO/init/agent.conf.example" "$ROOT/etc/lwm2m-agent/agent.conf"

install -d "$ROOT/usr/share/$PACKAGE/boards" "$ROOT/usr/share/$PACKAGE/overlays"
for board in "$REPO"/board/*.conf; do
	# The test VM's board is not for devices (board/README.md).
	[ "$(basename "$board")" = gpio-sim-vm.conf ] && continue
	install -m 0644 "$board" "$ROOT/usr/share/$PACKAGE/boards/"
done
install -m 0644 "$REPO"/overlays/*.dts "$ROOT/usr/share/$PACKAGE/overlays/"

# Docs: README.md and docs/*.md (in docs/, as README links them), compressed above 4 KiB as
# dh_compress does.
install -d "$DOC/docs"
install -m 0644 "$REPO/README.md" "$DOC/"
install -m 0644 "$REPO"/docs/*.md "$DOC/docs/"
install -m 0644 "$REPO/packaging/debian/copyright" "$DOC/copyright"
find "$DOC" -name '*.md' -size +4k -exec gzip -9n {} +
{
	printf '%s (%s) unstable; urgency=medium\n\n' "$PACKAGE" "$DEB_VERSION"
	printf '  * Built by scripts/package-deb.sh from lwm2m-agent %s.\n\n' "$VERSION"
	printf ' -- %s  %s\n' "$MAINTAINER" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n > "$DOC/changelog.Debian.gz"

# Man pages (docs/man/*.1, *.8) when they exist; else a documented lintian override.
install -d "$ROOT/usr/share/lintian/overrides"
cp "$REPO/packaging/debian/lintian-overrides" "$ROOT/usr/share/lintian/overrides/$PACKAGE"
for program in lwm2m-agent lwm2m-agentd; do
	page=$(ls "$REPO"/docs/man/"$program".[18] 2>/dev/null | head -n 1 || true)
	if [ -n "$page" ]; then
		section=${page##*.}
		install -d "$ROOT/usr/share/man/man$section"
		gzip -9n < "$page" > "$ROOT/usr/share/man/man$section/$program.$section.gz"
	else
		log "warning: no docs/man/$program.1 or .8: the package has no man page for $program"
		printf '# No man page yet: docs/man/ has none at build time (scripts/package-deb.sh).\n%s: no-manual-page [usr/bin/%s]\n' \
			"$PACKAGE" "$program" >> "$ROOT/usr/share/lintian/overrides/$PACKAGE"
	fi
done

find "$ROOT" -type d -exec chmod 0755 {} +

# --- control ------------------------------------------------------------------------------------
install -d -m 0755 "$ROOT/DEBIAN"
for script in postinst prerm postrm; do
	install -m 0755 "$REPO/packaging/debian/$script" "$ROOT/DEBIAN/$script"
done
(cd "$ROOT" && find etc -type f | sort | sed 's|^|/|') > "$ROOT/DEBIAN/conffiles"
chmod 0644 "$ROOT/DEBIAN/conffiles"

# dpkg-shlibdeps wants a debian/control beside it.
install -d "$WORK/src/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PACKAGE" "$PACKAGE" > "$WORK/src/debian/control"
shlibdeps_flags=()
[ "$ALLOW_SHARED_RUNTIME" = yes ] && shlibdeps_flags+=(--ignore-missing-info)
DEPENDS=$(cd "$WORK/src" && dpkg-shlibdeps "${shlibdeps_flags[@]}" -O "$ROOT/usr/bin/lwm2m-agent" "$ROOT/usr/bin/lwm2m-agentd" |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$DEPENDS" ] || die "dpkg-shlibdeps found no dependencies"
# Libraries the agent loads with dlopen on first use, so dpkg-shlibdeps cannot see them, yet its
# main job needs: declared by hand, Debian bookworm's packages for the sonames the agent opens, with
# the versions dpkg-shlibdeps computed from their symbols files while the agent linked them.
# depend_by_hand PATTERN PACKAGES: adds PACKAGES unless a binary still links one (PATTERN matches).
depend_by_hand() {
	case "$DEPENDS" in
	*"$1"*) ;;
	*) DEPENDS="$DEPENDS, $2" ;;
	esac
}
# The TPM software stack (libtss2-esys.so.0, -mu.so.0, -rc.so.0, -tctildr.so.0; docs/tpm.md,
# "Loading the TSS"): the TPM credential store is the default.
depend_by_hand libtss2- "libtss2-esys-3.0.2-0 (>= 2.3.1), libtss2-mu0 (>= 3.0.1), libtss2-rc0 (>= 3.0.1), libtss2-tctildr0 (>= 3.0.1)"
# mbedTLS (libmbedtls.so.14 and the two it needs; docs/dtls.md, "Start-up guard"): every secured
# account and every firmware image digest needs it.
depend_by_hand libmbedtls "libmbedcrypto7 (>= 2.28.0), libmbedtls14 (>= 2.28.0), libmbedx509-1 (>= 2.28.0)"
# libgpiod (docs/boards.md, "Loading libgpiod"). A dependency rather than a recommendation: the
# GPIO objects are part of the board support (every board file that names GPIO lines needs it, and
# images built with --no-install-recommends would lose them with only a log line), and libgpiod2
# is small (149 KB installed; it needs libc6, libgcc-s1 and libstdc++6, which apt itself needs);
# 1.5.1 for gpiod_line_event_read_fd_multiple and the bias flags.
depend_by_hand libgpiod2 "libgpiod2 (>= 1.5.1)"
# Loaded with dlopen on first use, so dpkg-shlibdeps cannot see them: libcurl for http(s)
# Package URIs, GnuTLS for raw-public-key (security mode 1) DTLS sessions.
RECOMMENDS="libcurl4, libgnutls30 (>= 3.6.6)"
INSTALLED_SIZE=$(du -s -k --apparent-size --exclude=DEBIAN "$ROOT" | cut -f1)

cat > "$ROOT/DEBIAN/control" <<EOF
Package: $PACKAGE
Version: $DEB_VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $INSTALLED_SIZE
Depends: $DEPENDS
Recommends: $RECOMMENDS
Section: admin
Priority: optional
Description: LwM2M 1.1 device-management agent for Linux gateways
 lwm2m-agentd registers the gateway with LwM2M servers (bootstrap, DTLS with
 PSK, certificates or raw public keys, credentials sealed in a TPM 2.0),
 serves the standard objects (device, connectivity, firmware update, IPSO
 GPIO) and is driven by /etc/lwm2m-agent/agent.conf. lwm2m-agent is its
 command-line companion: status of the running daemon, state, boards,
 factory provisioning.
EOF
chmod 0644 "$ROOT/DEBIAN/control"

(cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's|  \./|  |') \
	> "$ROOT/DEBIAN/md5sums"
chmod 0644 "$ROOT/DEBIAN/md5sums"

find "$ROOT" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$OUT_DIR"
DEB="$(realpath "$OUT_DIR")/${PACKAGE}_${DEB_VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$ROOT" "$DEB" >&2
log "built $DEB (Depends: $DEPENDS)"
printf '%s\n' "$DEB"
