"""The Debian package (issue 15; docs/operations.md, "Debian package"): scripts/package-deb.sh
builds lwm2m-agent_<version>-1_<arch>.deb from the already-built binaries (``--bin-dir``: the
debug build the interop tests use, so ``--allow-shared-swift-runtime``; the release build with
the static Swift standard library is the default of the script, too slow for a test):

- ``dpkg-deb -I``/``-c``: control fields (version from AgentVersion.swift, the build machine's
  architecture, Depends from dpkg-shlibdeps), conffiles, every file where the unit and the init
  script expect it, owners root:root, modes;
- lintian: no error or warning beyond the package's documented overrides;
- installed into a fresh root (``dpkg --root DIR --force-script-chrootless``, the maintainer
  scripts honouring DPKG_ROOT): the state directory 0700, the systemd enable link, the rc.d links;
  the installed ``lwm2m-agentd`` with the installed board files registers with the project's
  management server and the installed ``lwm2m-agent status`` sees it;
- reinstall (an upgrade) keeps the edited /etc configuration and the state; purge keeps the state.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from agentconfig import write_config
from conftest import REPO, require_tool

EP = "gw-e2e-1"
PACKAGE_TIME_LIMIT = 90  # seconds: building the .deb from the debug binaries


def agent_version() -> str:
    text = (REPO / "Sources/AgentCommon/AgentVersion.swift").read_text()
    return re.search(r'static let string = "([^"]+)"', text).group(1)


@pytest.fixture(scope="module")
def deb(bin_dir, tmp_path_factory) -> Path:
    for tool in ("dpkg-deb", "dpkg-shlibdeps", "lintian"):
        require_tool(tool, "scripts/setup.sh installs it")
    out = tmp_path_factory.mktemp("deb")
    started = time.monotonic()
    done = subprocess.run([REPO / "scripts/package-deb.sh", "--bin-dir", bin_dir, "--out", out,
                           "--allow-shared-swift-runtime"], capture_output=True, text=True,
                          timeout=PACKAGE_TIME_LIMIT, env={**os.environ, "DEB_COMPRESSION": "gzip"})
    elapsed = time.monotonic() - started
    print(f"package-deb.sh: {elapsed:.1f} s\n{done.stderr}")
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    assert path == out / f"lwm2m-agent_{agent_version()}-1_{arch}.deb", done.stdout
    return path


def control(deb: Path) -> dict[str, str]:
    text = subprocess.run(["dpkg-deb", "-f", deb], capture_output=True, text=True, check=True).stdout
    fields, key = {}, None
    for line in text.splitlines():
        if line.startswith(" ") and key:
            fields[key] += "\n" + line
        else:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def test_control_fields_and_contents(deb, bin_dir):
    fields = control(deb)
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    assert fields["Package"] == "lwm2m-agent"
    assert fields["Version"] == f"{agent_version()}-1"
    assert fields["Architecture"] == arch
    assert fields["Maintainer"] and fields["Description"].startswith("LwM2M")
    # Depends: what dpkg-shlibdeps finds (libc) and what is declared by hand (below).
    depends = fields["Depends"]
    for library in ("libc6", "libtss2-", "libmbedtls", "libgpiod2"):
        assert library in depends, depends
    # The TPM software stack, mbedTLS and libgpiod are dlopen'ed on first use, so no program links
    # them (nor the libcrypto behind the TSS); the agent's main job needs them (the TPM store is the
    # default, DTLS and firmware digests, the GPIO objects of the board support), so the package
    # depends on them by hand: Debian bookworm's packages of the sonames the agent opens, with the
    # versions dpkg-shlibdeps computed while they were linked.
    for program in ("lwm2m-agentd", "lwm2m-agent"):
        dynamic = subprocess.run(["readelf", "-d", bin_dir / program], capture_output=True, text=True, check=True).stdout
        needed = [line.split()[-1] for line in dynamic.splitlines() if "(NEEDED)" in line]
        assert "[libc.so.6]" in needed, (program, needed)  # the parse sees NEEDED entries at all
        assert not [name for name in needed
                    if "libtss2" in name or "libcrypto.so" in name or "libgpiod" in name or "libmbed" in name], \
            (program, needed)
    entries = [entry.strip() for entry in depends.split(",")]
    for package in ("libtss2-esys-3.0.2-0 (>= 2.3.1)", "libtss2-mu0 (>= 3.0.1)", "libtss2-rc0 (>= 3.0.1)",
                    "libtss2-tctildr0 (>= 3.0.1)", "libmbedcrypto7 (>= 2.28.0)", "libmbedtls14 (>= 2.28.0)",
                    "libmbedx509-1 (>= 2.28.0)", "libgpiod2 (>= 1.5.1)"):
        assert package in entries, depends
    for name in ("libgpiod2", "libmbedtls14"):
        assert len([entry for entry in entries if entry.startswith(name)]) == 1, depends
    # Loaded on first use (dlopen), invisible to dpkg-shlibdeps: recommended by hand.
    assert fields["Recommends"] == "libcurl4, libgnutls30 (>= 3.6.6)", fields
    assert "libgnutls" not in depends and "libcurl" not in depends, depends
    assert int(fields["Installed-Size"]) > 100

    info = subprocess.run(["dpkg-deb", "-I", deb, "conffiles"], capture_output=True, text=True, check=True).stdout
    assert set(info.split()) == {"/etc/lwm2m-agent/agent.conf", "/etc/init.d/lwm2m-agentd"}, info

    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
    entries = {}
    for line in listing.splitlines():
        mode, owner, _size, _date, _time, name = line.split(None, 5)
        entries[name.removeprefix(".").split(" -> ")[0]] = (mode, owner)
    assert all(owner == "root/root" for _mode, owner in entries.values()), listing
    expected = {
        "/usr/bin/lwm2m-agent": "-rwxr-xr-x",
        "/usr/bin/lwm2m-agentd": "-rwxr-xr-x",
        "/lib/systemd/system/lwm2m-agentd.service": "-rw-r--r--",
        "/etc/init.d/lwm2m-agentd": "-rwxr-xr-x",
        "/etc/lwm2m-agent/agent.conf": "-rw-r--r--",
        "/usr/share/lwm2m-agent/boards/raspberrypi-4-slb9670.conf": "-rw-r--r--",
        "/usr/share/lwm2m-agent/boards/generic-linux.conf": "-rw-r--r--",
        "/usr/share/lwm2m-agent/overlays/tpm-slb9670-spi0-ce1.dts": "-rw-r--r--",
        "/usr/share/doc/lwm2m-agent/copyright": "-rw-r--r--",
        "/usr/share/doc/lwm2m-agent/changelog.Debian.gz": "-rw-r--r--",
        "/usr/share/lintian/overrides/lwm2m-agent": "-rw-r--r--",
    }
    for path, mode in expected.items():
        assert path in entries, f"{path} missing:\n{listing}"
        assert entries[path][0] == mode, (path, entries[path])
    assert "/usr/share/lwm2m-agent/boards/gpio-sim-vm.conf" not in entries  # the test VM's board
    assert any(name.startswith("/usr/share/doc/lwm2m-agent/docs/operations.md") for name in entries), listing
    # The unit and the init script run the daemon where the package puts it.
    assert (REPO / "init/lwm2m-agentd.service").read_text().count("ExecStart=/usr/bin/lwm2m-agentd ") == 1
    assert "DAEMON=/usr/bin/lwm2m-agentd" in (REPO / "init/lwm2m-agentd.init").read_text()
    # Man pages: installed when docs/man has them, else overridden (documented) in lintian.
    overrides = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], capture_output=True, check=True).stdout
    for program, section in (("lwm2m-agent", "1"), ("lwm2m-agentd", "8")):
        if (REPO / f"docs/man/{program}.{section}").exists():
            assert f"/usr/share/man/man{section}/{program}.{section}.gz" in entries, listing
        else:
            assert f"no-manual-page [usr/bin/{program}]".encode() in overrides


def test_lintian_clean_beyond_overrides(deb):
    done = subprocess.run(["lintian", "--tag-display-limit", "0", "--display-level", ">=warning",
                           "--show-overrides", deb], capture_output=True, text=True, timeout=80)
    print(done.stdout, done.stderr)
    tags = [line for line in done.stdout.splitlines() if re.match(r"^[EW]: ", line)]
    # The debug binaries link the Swift runtime through a RUNPATH into the toolchain: the one
    # thing a release (--static-swift-stdlib) package does not have.
    debug_build = {"custom-library-search-path"}
    unexpected = [line for line in tags if line.split()[2] not in debug_build]
    assert unexpected == [], "\n".join(tags)
    overridden = [line for line in done.stdout.splitlines() if line.startswith("O: ")]
    assert any("init.d-script-does-not-source-init-functions" in line for line in overridden), done.stdout


def dpkg_root(root: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(["dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends",
                           "--force-not-root", "--log=/dev/null", "--force-confold", *args],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


@pytest.fixture
def fresh_root(tmp_path) -> Path:
    root = tmp_path / "root"
    for directory in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc"):
        (root / directory).mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text("")
    return root


def test_installs_into_a_fresh_root_and_the_installed_daemon_registers(deb, fresh_root, start_peer, procs,
                                                                        tmp_path):
    root = fresh_root
    done = dpkg_root(root, "-i", deb)
    assert done.returncode == 0, done.stdout + done.stderr
    status = subprocess.run(["dpkg", f"--root={root}", "-s", "lwm2m-agent"], capture_output=True, text=True)
    assert "Status: install ok installed" in status.stdout, status.stdout + status.stderr
    assert "/etc/lwm2m-agent/agent.conf" in status.stdout  # Conffiles:

    # Maintainer scripts, inside the root only.
    state = root / "var/lib/lwm2m-agent"
    assert state.is_dir() and (state.stat().st_mode & 0o777) == 0o700
    wants = root / "etc/systemd/system/multi-user.target.wants/lwm2m-agentd.service"
    assert wants.is_symlink() and os.readlink(wants) == "/lib/systemd/system/lwm2m-agentd.service"
    assert list((root / "etc/rc2.d").glob("S*lwm2m-agentd")), sorted(p.name for p in (root / "etc").iterdir())
    assert list((root / "etc/rc0.d").glob("K*lwm2m-agentd"))

    # The installed daemon and board files against the project's management server.
    ms = start_peer("management_server")
    config_dir = tmp_path / "conf"
    config_dir.mkdir()
    config = write_config(config_dir, state_dir=state, board_dir=root / "usr/share/lwm2m-agent/boards",
                          board="generic-linux",
                          servers={101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
    agent = procs.start("agentd", [root / "usr/bin/lwm2m-agentd", "--config", config])
    registration = ms.wait_event("register", ep=EP)
    assert registration["location"], registration
    run = procs.run([root / "usr/bin/lwm2m-agent", "status", "--config", config], timeout=15)
    assert run.returncode == 0, run.describe()
    assert re.search(r"^lwm2m-agentd \S+ \(pid %d\), up .*: registered$" % agent.pid, run.out, re.M), run.out
    board_file = root / "usr/share/lwm2m-agent/boards/generic-linux.conf"
    assert f"board:        generic-linux ({board_file})" in run.out, run.out
    assert agent.stop() == 0, agent.stderr()
    assert any(state.iterdir()), "the daemon left no state"


def test_upgrade_keeps_the_configuration_and_state_and_purge_keeps_the_state(deb, fresh_root):
    root = fresh_root
    assert dpkg_root(root, "-i", deb).returncode == 0
    conf = root / "etc/lwm2m-agent/agent.conf"
    edited = conf.read_text().replace("log-level = info", "log-level = debug")
    assert edited != conf.read_text()
    conf.write_text(edited)
    marker = root / "var/lib/lwm2m-agent/registration-marker"
    marker.write_text("kept\n")
    wants = root / "etc/systemd/system/multi-user.target.wants/lwm2m-agentd.service"
    wants.unlink()  # `systemctl disable lwm2m-agentd` by the administrator

    done = dpkg_root(root, "-i", deb)  # the same version again: dpkg's upgrade path (postinst configure OLD)
    assert done.returncode == 0, done.stdout + done.stderr
    assert conf.read_text() == edited
    assert marker.read_text() == "kept\n"
    assert (root / "var/lib/lwm2m-agent").stat().st_mode & 0o777 == 0o700
    assert not wants.is_symlink(), "the upgrade re-enabled a unit the administrator disabled"

    done = dpkg_root(root, "--purge", "lwm2m-agent")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (root / "usr/bin/lwm2m-agentd").exists()
    assert not conf.exists()
    assert not list((root / "etc/rc2.d").glob("S*lwm2m-agentd"))
    assert marker.read_text() == "kept\n"  # factory credentials live here: purge keeps them


def test_refuses_a_shared_swift_runtime_and_missing_binaries(bin_dir, tmp_path):
    """Without --allow-shared-swift-runtime a debug build (libswiftCore.so from the toolchain) is
    refused: that package would not run on a gateway without the toolchain."""
    dynamic = subprocess.run(["readelf", "-d", bin_dir / "lwm2m-agentd"], capture_output=True, text=True).stdout
    if "[libswiftCore.so]" not in dynamic:
        pytest.skip(f"{bin_dir} holds static-stdlib binaries: nothing to refuse")
    done = subprocess.run([REPO / "scripts/package-deb.sh", "--bin-dir", bin_dir, "--out", tmp_path],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1, done.stderr
    assert "links the Swift runtime as a shared library" in done.stderr, done.stderr
    assert not list(tmp_path.glob("*.deb")) and done.stdout == ""

    done = subprocess.run([REPO / "scripts/package-deb.sh", "--bin-dir", tmp_path, "--out", tmp_path],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and f"{tmp_path}/lwm2m-agent not found" in done.stderr, done.stderr
    done = subprocess.run([REPO / "scripts/package-deb.sh", "--bin-dir"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "usage: scripts/package-deb.sh" in done.stderr, done.stderr
