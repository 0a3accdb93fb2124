#!/bin/sh
# Install everything lwm2m-agent needs to build and test on Debian bookworm.
#
# Idempotent and non-interactive: packages that are already installed are skipped,
# `apt-get update` only runs when something is missing, and the Python modules are
# only installed when they cannot be imported. Uses sudo only when not run as root.
#
# Java 17 and the two Debian jars (slf4j, jackson-databind) run Eclipse Leshan, the
# independent LwM2M server of Tests/interop/test_leshan*.py; the Leshan jar itself comes
# from ../shared/leshan (docs/leshan.md). curl: docs/guides/leshan.md drives Leshan's control
# API with it (Tests/interop/test_guide_leshan.py runs the guide). gnutls-bin (gnutls-cli): an
# independent DTLS Raw Public Key client that shows the key Leshan's RPK endpoints present
# (Tests/interop/test_leshan_rpk_peer.py).
#
# libgnutls28-dev: GnuTLS headers for the raw-public-key DTLS backend (Sources/DTLSGnuTLS, which
# dlopens libgnutls30 on the first RPK session; docs/dtls.md "Raw public keys"); gnutls-bin: gnutls-serv,
# the independent RPK server that refuses our key in Tests/DTLSTests/RawPublicKeyTests.swift.
#
# device-tree-compiler (dtc): Tests/interop/test_board_overlays.py compiles every overlay of
# overlays/ (docs/boards.md).
# The VM tests (Tests/interop/test_vm_board.py, docs/vm-tests.md) boot Debian's kernel under
# qemu (TCG, no KVM needed): qemu-system-x86, busybox-static and cpio for the guest, kmod, gcc,
# make and the kernel headers (linux-headers-amd64: the current ABI) to build gpio-sim.ko out of
# tree, gpiod for the guest's GPIO tools. Tests/vm/setup.sh then downloads the kernel image and
# source once per machine into .build-vm/ (apt-get download, not installed).
# tzdata: the time-zone database the Device object's Timezone/UTC Offset writes are checked
# against and applied from (the unit, interop and VM tests read /usr/share/zoneinfo).
#
# rauc, squashfs-tools (rauc bundle) and dbus (a private system bus for `rauc service`), swupdate:
# the firmware installers' tests against the real programs (docs/firmware-update.md, "Installers").
# groff-base and man-db: test_man_pages.py renders docs/man/*.1/*.8 (groff -ww, man -l).
# systemd: systemd-analyze verify checks init/lwm2m-agentd.service (test_systemd_notify.py).
# dpkg-dev (dpkg-shlibdeps), lintian: scripts/package-deb.sh builds and
# Tests/interop/test_debian_package.py checks the Debian package (docs/operations.md).
# g++ (for libstdc++.a): release executables link the C++ runtime under the static Swift runtime
# in (packaging/link/, docs/performance.md).
# Not installed here: the Swift toolchain itself (expected at /opt/swift or on PATH).
# libFuzzer ships with the Swift toolchain (`swiftc -sanitize=fuzzer`), so it needs
# no Debian package.
set -eu

APT_PACKAGES="
libtss2-dev
libmbedtls-dev
libgnutls28-dev
gnutls-bin
libgpiod-dev
libcurl4-openssl-dev
libcoap3-bin
swtpm
swtpm-tools
tpm2-tools
openssl
gnutls-bin
curl
python3-pip
openjdk-17-jdk-headless
libslf4j-java
libjackson2-databind-java
device-tree-compiler
groff-base
man-db
qemu-system-x86
busybox-static
cpio
kmod
xz-utils
gcc
g++
make
libc6-dev
linux-headers-amd64
gpiod
tzdata
strace
rauc
squashfs-tools
dbus
swupdate
systemd
dpkg-dev
lintian
"
# import name:PyPI name (pyOpenSSL: the DTLS relay of the interop tests)
PY_MODULES="aiocoap:aiocoap cbor2:cbor2 pytest:pytest OpenSSL:pyOpenSSL"

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	die "not root and sudo is not available"
fi

# sudo resets the environment, so pass DEBIAN_FRONTEND explicitly.
apt_get() {
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

is_installed() {
	dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

# --- Debian packages ---------------------------------------------------------
missing=""
for pkg in $APT_PACKAGES; do
	if is_installed "$pkg"; then
		log "ok       $pkg"
	else
		log "missing  $pkg"
		missing="$missing $pkg"
	fi
done

if [ -n "$missing" ]; then
	log "apt-get update"
	apt_get update >/dev/null
	log "apt-get install$missing"
	# shellcheck disable=SC2086
	apt_get install --no-install-recommends $missing
else
	log "all Debian packages already installed"
fi

# --- Python modules (interop tests) -------------------------------------------
command -v python3 >/dev/null 2>&1 || die "python3 not found"
PYTHON=$(command -v python3)

missing_py=""
for entry in $PY_MODULES; do
	mod=${entry%%:*}
	if "$PYTHON" -c "import $mod" >/dev/null 2>&1; then
		log "ok       python: $mod"
	else
		log "missing  python: $mod"
		missing_py="$missing_py ${entry#*:}"
	fi
done

if [ -n "$missing_py" ]; then
	"$PYTHON" -m pip --version >/dev/null 2>&1 || die "$PYTHON has no pip module"
	# A user-writable interpreter (venv, pyenv) is installed into directly; the
	# system interpreter needs root.
	purelib=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
	pip_sudo=$SUDO
	[ -w "$purelib" ] && pip_sudo=""
	pip_flags="--disable-pip-version-check --no-input"
	# Debian's Python is marked externally managed (PEP 668).
	stdlib=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
	[ -f "$stdlib/EXTERNALLY-MANAGED" ] && pip_flags="$pip_flags --break-system-packages"
	if [ -n "$pip_sudo" ] || [ "$(id -u)" -eq 0 ]; then
		pip_flags="$pip_flags --root-user-action=ignore"
	fi
	log "pip install$missing_py ($PYTHON)"
	# shellcheck disable=SC2086
	$pip_sudo "$PYTHON" -m pip install $pip_flags $missing_py
	for entry in $PY_MODULES; do
		mod=${entry%%:*}
		"$PYTHON" -c "import $mod" >/dev/null 2>&1 || die "python module $mod still not importable"
	done
else
	log "all Python modules already importable"
fi

# --- Eclipse Leshan (interop tests) --------------------------------------------
# Not on any package registry: the jar comes with the shared directory beside the repository
# (docs/leshan.md). Without it the Leshan tests skip (and fail under CI=true).
repo=$(cd "$(dirname "$0")/.." && pwd)
leshan_dir=${LESHAN_DIR:-$repo/../shared/leshan}
if ls "$leshan_dir"/leshan-*.jar >/dev/null 2>&1; then
	log "ok       leshan: $(cd "$leshan_dir" && ls leshan-*.jar | tail -n 1)"
else
	log "missing  leshan: no leshan-*.jar in $leshan_dir (set LESHAN_DIR; see docs/leshan.md)"
fi

log "done"
