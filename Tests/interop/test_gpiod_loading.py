"""libgpiod is loaded with dlopen on the first GPIO use (issue 17; docs/boards.md, "Loading
libgpiod"), never linked: no executable has it as NEEDED (test_debian_package.py checks the
packaged ones), a registered daemon whose board names no GPIO line never maps it, one whose
board names lines maps it when it requests them, and where the library cannot be loaded the
lines fail with the typed error naming libgpiod and dlerror's reason while the daemon registers
and serves as usual (and ``lwm2m-agent board show`` says the same).

The missing library is made by bind-mounting /dev/null over the installed libgpiod.so.2 in a
private mount namespace (``unshare -m``, root): dlopen then fails with "file too short".
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from agentconfig import write_config
from conftest import REPO, require_tool, skip_or_fail
from test_factory import mapped_libraries

EP = "gw-e2e-1"
BOARDS = REPO / "board"
GPIOD = ("libgpiod.so",)
#: A board file naming GPIO lines (relays, inputs) that no chip of a test host has.
GPIO_BOARD = "beaglebone-black"


def needed(binary: Path) -> list[str]:
    """The NEEDED entries of `binary`'s dynamic section."""
    dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True, timeout=30).stdout
    return [line.split()[-1].strip("[]") for line in dynamic.splitlines() if "(NEEDED)" in line]


def registered_agent(start_peer, start_agent, tmp_path: Path, board: str):
    """A daemon on `board` (the repository's board files) registered at a management server;
    `start_agent` starts it from its configuration file (the fixture, or a wrapped command)."""
    ms = start_peer("management_server")
    config = write_config(tmp_path, board=board, board_dir=BOARDS,
                          servers={101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
    agent = start_agent(config)
    ms.wait_event("register", ep=EP)
    agent.wait_for("server 101: registered", timeout=10)
    return ms, agent, config


def test_no_built_executable_needs_libgpiod_or_mbedtls(bin_dir):
    """The build under test (debug for the suite, release when LWM2M_BIN_DIR names it): neither
    libgpiod nor mbedTLS is a NEEDED entry of any program, while libc is (the parse does see the
    entries). A release build left in .build/release by an older checkout is not looked at."""
    for program in ("lwm2m-agentd", "lwm2m-agent"):
        entries = needed(Path(bin_dir) / program)
        assert "libc.so.6" in entries, (program, entries)
        assert not [name for name in entries if "libgpiod" in name or "libmbed" in name], (program, entries)


def test_a_board_without_gpio_lines_never_maps_libgpiod(start_peer, start_agent, tmp_path):
    ms, agent, _ = registered_agent(start_peer, start_agent, tmp_path, "generic-linux")
    assert mapped_libraries(agent.pid, GPIOD) == [], mapped_libraries(agent.pid, GPIOD)
    for path in ("/3/0", "/4/0"):  # served requests: still not loaded
        reply = ms.command("read", ep=EP, path=path, accept="text" if path.count("/") > 2 else "tlv")
        assert reply["code"] == "2.05", reply
    assert mapped_libraries(agent.pid, GPIOD) == [], mapped_libraries(agent.pid, GPIOD)
    assert "[gpio" not in agent.stderr(), agent.stderr()
    assert agent.stop() == 0


def test_a_board_with_gpio_lines_maps_libgpiod_when_it_requests_them(start_peer, start_agent, tmp_path):
    """The control of the test above: the same daemon with a board naming lines loads libgpiod
    (the lines are then not found on this host: an error per line, the daemon registers)."""
    _, agent, _ = registered_agent(start_peer, start_agent, tmp_path, GPIO_BOARD)
    assert mapped_libraries(agent.pid, GPIOD) == list(GPIOD), Path(f"/proc/{agent.pid}/maps").read_text()
    assert re.search(r"\[gpio relay1\] (GPIO line RELAY1 |permission denied).*; no instance for it", agent.stderr()), \
        agent.stderr()
    assert "libgpiod cannot be loaded" not in agent.stderr()
    assert agent.stop() == 0


def installed_libgpiod() -> Path:
    """The file the dynamic loader opens for libgpiod.so.2 (ldconfig's cache), symlinks resolved."""
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"^\s*libgpiod\.so\.2 \([^)]*\) => (\S+)$", cache, re.M)
    if not match:
        skip_or_fail("libgpiod.so.2 not in ldconfig's cache (Debian package libgpiod2)")
    return Path(match.group(1)).resolve()


def without_libgpiod() -> list[str]:
    """A command prefix running its command where libgpiod.so.2 reads as an empty file."""
    unshare = require_tool("unshare", "Debian package util-linux")
    if os.geteuid() != 0:
        skip_or_fail("hiding libgpiod needs a private mount namespace: run as root")
    library = installed_libgpiod()
    prefix = [unshare, "-m", "sh", "-c", f'mount --bind /dev/null "{library}" && exec "$0" "$@"']
    probe = subprocess.run([*prefix, "cat", str(library)], capture_output=True, timeout=30)
    if probe.returncode != 0:
        skip_or_fail(f"unshare -m / mount --bind refused: {probe.stderr.decode(errors='replace').strip()}")
    assert probe.stdout == b"", "the bind mount did not hide the library"
    return prefix


def test_without_libgpiod_lines_fail_with_the_reason_and_the_daemon_serves(start_peer, procs, bin_dir, tmp_path):
    prefix = without_libgpiod()
    ms, agent, config = registered_agent(
        start_peer, lambda config: procs.start("agentd", [*prefix, bin_dir / "lwm2m-agentd", "--config", config]),
        tmp_path, GPIO_BOARD)
    reason = r"GPIO unavailable: libgpiod cannot be loaded \([^)]*libgpiod\.so\.2: [^)]+\); " \
             r"GPIO lines need the libgpiod2 package"
    for name in ("relay1", "relay2", "din1", "din2"):
        assert re.search(rf"\[gpio {name}\] {reason}; no instance for it", agent.stderr()), agent.stderr()
    reply = ms.command("read", ep=EP, path="/3/0", accept="tlv")
    assert reply["code"] == "2.05", reply
    assert agent.alive()
    assert agent.stop() == 0

    shown = procs.run([*prefix, bin_dir / "lwm2m-agent", "board", "show", "--config", config], timeout=30)
    assert shown.returncode == 0, shown.describe()
    assert re.search(rf"^  gpio relay1: RELAY1 → {reason}$", shown.out, re.M), shown.out
