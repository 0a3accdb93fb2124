"""Firmware Update (issue 14) with too little room: the real ``lwm2m-agentd`` whose state directory
is a small real file system (a 4 MiB tmpfs mounted by the test; as root, else in a user and mount
namespace of the agent's own through ``unshare -rm``), and the ``[firmware]`` limits.

For push (aiocoap's Block1 with Size1), CoAP pull (Size2) and HTTP pull (Content-Length):
- an image whose announced size cannot fit → Update Result 2 (not enough storage, 5.xml) at
  once: the push is refused at block 0 (the relay sees one PUT of /5/0/0), the pull after the
  first block / the response header, nothing stored;
- an image whose size is not announced (HTTP without Content-Length, CoAP without Size2) or a
  disk that fills up while the push arrives → result 2 during the download;
- each time: Idle, the partial image removed, the agent alive and registered, and a later smaller
  image downloads and installs exactly;
- ``maximum-size`` and ``reserve`` give the same refusals.

``LWM2M_TEST_UNSHARE=1`` takes the non-root way (``unshare -rm``) even as root.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

import coapwire as cw
from agentconfig import write_config
from conftest import skip_or_fail
from test_firmware_agent import EP, blocks_asked, hook_script, image_bytes, read_int, wait_state, write_uri
from test_firmware_agent import start_coap_server as start_fw_coap
from test_firmware_bad_links import installed, start_fw_http, update

MIB = 1 << 20
TMPFS_SIZE = "4m"


class SmallDisk:
    """A 4 MiB tmpfs at ``mountpoint``: mounted here when root; otherwise the agent runs in a new
    user and mount namespace (``unshare -rm``) that mounts it, and the test reaches it through
    /proc/PID/root."""

    def __init__(self, mountpoint: Path):
        self.mountpoint = mountpoint
        self.mounted = False
        self.agent_pid: int | None = None

    def setup(self) -> None:
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0 and not os.environ.get("LWM2M_TEST_UNSHARE"):
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs",
                                   str(self.mountpoint)], capture_output=True, timeout=10)
            if done.returncode == 0:
                self.mounted = True
                return
            skip_or_fail(f"mount -t tmpfs failed as root: {done.stderr.decode(errors='replace').strip()}")
        unshare = shutil.which("unshare")
        probe = subprocess.run([unshare, "-rm", "sh", "-c", f"mount -t tmpfs -o size={TMPFS_SIZE} tmpfs "
                                f"{self.mountpoint}"], capture_output=True, timeout=10) if unshare else None
        if probe is None or probe.returncode != 0:
            why = probe.stderr.decode(errors="replace").strip() if probe else "unshare not found"
            skip_or_fail(f"no small file system for the state directory: not root, and unshare -rm: {why}")

    def wrap(self, argv: list) -> list:
        """The agent's command line (inside a namespace that mounts the tmpfs when not root)."""
        if self.mounted:
            return argv
        line = " ".join(f"'{a}'" for a in map(str, argv))
        return ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size={TMPFS_SIZE} tmpfs '{self.mountpoint}' "
                f"&& exec {line}"]

    def path(self, relative: str) -> Path:
        """``relative`` under the mount point, as this process sees it."""
        if self.mounted:
            return self.mountpoint / relative
        return Path(f"/proc/{self.agent_pid}/root{self.mountpoint}") / relative

    def teardown(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.mountpoint)], capture_output=True, timeout=10)


@pytest.fixture
def small_disk(procs, tmp_path):
    disk = SmallDisk(tmp_path / "small")
    disk.setup()
    yield disk
    procs.cleanup()  # the agent holds files on it
    disk.teardown()


def start(ms, procs, bin_dir, tmp_path, disk: SmallDisk | None, server_port: int | None = None, **firmware):
    """The daemon registering at ``ms`` (or at server_port, a relay in front of it), its state
    directory on ``disk`` when given; returns (agent, hook record)."""
    hook, record = hook_script(tmp_path, delay=0.1)
    state = (disk.mountpoint if disk else tmp_path) / "state"
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{server_port or ms.port}",
                                                   "lifetime": 60}}, state_dir=str(state))
    settings = {"installer": "script", "script": str(hook), **firmware}
    with config.open("a") as out:
        out.write("\n[firmware]\n" + "".join(f"{k.replace('_', '-')} = {v}\n" for k, v in settings.items()))
    argv = [bin_dir / "lwm2m-agentd", "--config", config]
    agent = procs.start("agentd", disk.wrap(argv) if disk else argv)
    if disk:
        disk.agent_pid = agent.pid
    return agent, record


def firmware_dir(disk: SmallDisk | None, tmp_path: Path) -> Path:
    return disk.path("state/firmware") if disk else tmp_path / "state" / "firmware"


def assert_refused_and_clean(ms, agent, fw: Path) -> None:
    """Idle with Update Result 2, no image and no partial left, the agent running and registered."""
    wait_state(ms, 0, timeout=30)
    assert read_int(ms, "/5/0/5") == 2
    assert not (fw / "image").exists()
    partial = fw / "image.partial"
    assert not partial.exists() or partial.stat().st_size == 0, partial.stat().st_size
    assert agent.alive()
    registered = ms.command("registrations")["registrations"]
    assert [reg["ep"] for reg in registered] == [EP], registered


def failure_offset(agent, count: int) -> int:
    """The byte at which the count-th failed pull stopped ("download failed at byte N")."""
    deadline = time.monotonic() + 10
    while True:
        found = re.findall(r"firmware: download failed at byte (\d+): .*Update Result 2", agent.stderr())
        if len(found) >= count:
            return int(found[count - 1])
        assert time.monotonic() < deadline, agent.stderr()[-3000:]
        time.sleep(0.05)


def push(ms, package: Path) -> dict:
    return ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(package), timeout=50)


def puts_of_package(relay) -> int:
    """PUT requests of /5/0/0 that went through the relay (retransmissions counted once)."""
    seen = set()
    for record in relay.trace():
        message = cw.decode(bytes.fromhex(record["hex"]))
        if message.mtype == cw.CON and message.code == cw.PUT and message.path == "/5/0/0":
            seen.add(message.mid)
    return len(seen)


def then_a_smaller_image_installs(ms, tmp_path: Path, record: Path, seed: int) -> None:
    image = image_bytes(512 << 10, seed=seed)
    (tmp_path / "small.bin").write_bytes(image)
    reply = push(ms, tmp_path / "small.bin")
    assert reply["ok"] and reply["code"] == "2.04", reply
    update(ms)
    assert installed(record)[1] == hashlib.sha256(image).hexdigest()


# MARK: - A small file system


def test_push_too_large_is_refused_at_block_0_and_a_full_disk_during_the_push(
        start_peer, start_relay, procs, bin_dir, small_disk, tmp_path):
    ms = start_peer("management_server")
    relay = start_relay(ms.port, trace=True)
    agent, record = start(ms, procs, bin_dir, tmp_path, small_disk, server_port=relay.port)
    ms.wait_event("register", ep=EP)
    fw = firmware_dir(small_disk, tmp_path)
    # Announced (Size1 of block 0): 6 MiB cannot fit in 4 MiB: refused before anything is stored.
    (tmp_path / "big.bin").write_bytes(image_bytes(6 * MIB, seed=1501))
    reply = push(ms, tmp_path / "big.bin")
    assert reply["ok"] and reply["code"] == "5.00", reply
    assert puts_of_package(relay) == 1
    assert_refused_and_clean(ms, agent, fw)
    # Fits when it starts (2 MiB), but the disk fills up while it arrives: refused mid-way.
    (tmp_path / "mid.bin").write_bytes(image_bytes(2 * MIB, seed=1502))
    before = puts_of_package(relay)
    filler = small_disk.path("filler")
    reply = {}
    pushing = threading.Thread(target=lambda: reply.update(push(ms, tmp_path / "mid.bin")))
    pushing.start()
    deadline = time.monotonic() + 30
    while not ((fw / "image.partial").exists() and (fw / "image.partial").stat().st_size >= 256 << 10):
        assert time.monotonic() < deadline and pushing.is_alive(), reply
        time.sleep(0.01)
    with open(filler, "wb") as out:  # someone else takes the room
        try:
            out.write(b"\xff" * (3 * MIB))
        except OSError:
            pass  # the tmpfs is full: all the better
    pushing.join(timeout=60)
    assert reply.get("ok") and reply["code"] == "5.00", reply
    blocks = puts_of_package(relay) - before
    assert 256 < blocks < 2048, blocks  # refused during the transfer, not at its start
    assert_refused_and_clean(ms, agent, fw)
    filler.unlink()
    then_a_smaller_image_installs(ms, tmp_path, record, seed=1503)


def test_coap_pull_too_large_refused_after_block_0_and_unannounced_one_during(
        start_peer, procs, bin_dir, small_disk, tmp_path):
    big = image_bytes(6 * MIB, seed=1511)
    (tmp_path / "big.bin").write_bytes(big)
    announced = start_fw_coap(procs, tmp_path / "big.bin")
    unannounced = start_fw_coap(procs, tmp_path / "big.bin", "--no-size2")
    ms = start_peer("management_server")
    agent, record = start(ms, procs, bin_dir, tmp_path, small_disk)
    ms.wait_event("register", ep=EP)
    fw = firmware_dir(small_disk, tmp_path)
    assert write_uri(ms, f"coap://127.0.0.1:{announced}/fw")["code"] == "2.04"
    assert_refused_and_clean(ms, agent, fw)
    assert blocks_asked(announced) == [0] and failure_offset(agent, 1) == 0
    assert write_uri(ms, f"coap://127.0.0.1:{unannounced}/fw")["code"] == "2.04"
    assert_refused_and_clean(ms, agent, fw)
    stopped = failure_offset(agent, 2)
    assert 1 * MIB < stopped < 4 * MIB, stopped  # during: when the free space ran out
    assert len(blocks_asked(unannounced)) == stopped // 1024 + 1
    then_a_smaller_image_installs(ms, tmp_path, record, seed=1512)


def test_http_pull_too_large_refused_at_the_header_and_unannounced_one_during(
        start_peer, procs, bin_dir, small_disk, tmp_path):
    (tmp_path / "big.bin").write_bytes(image_bytes(6 * MIB, seed=1521))
    _, announced = start_fw_http(procs, tmp_path / "big.bin")
    _, unannounced = start_fw_http(procs, tmp_path / "big.bin", "--no-length")
    ms = start_peer("management_server")
    agent, record = start(ms, procs, bin_dir, tmp_path, small_disk)
    ms.wait_event("register", ep=EP)
    fw = firmware_dir(small_disk, tmp_path)
    assert write_uri(ms, f"http://127.0.0.1:{announced}/fw")["code"] == "2.04"
    assert_refused_and_clean(ms, agent, fw)
    assert failure_offset(agent, 1) == 0  # Content-Length said it: not a byte stored
    assert "firmware: downloaded" not in agent.stderr()
    assert write_uri(ms, f"http://127.0.0.1:{unannounced}/fw")["code"] == "2.04"
    assert_refused_and_clean(ms, agent, fw)
    assert 1 * MIB < failure_offset(agent, 2) < 4 * MIB
    then_a_smaller_image_installs(ms, tmp_path, record, seed=1522)


# MARK: - [firmware] maximum-size and reserve


def test_maximum_size_refuses_push_and_pulls_before_download(start_peer, start_relay, procs, bin_dir, tmp_path):
    image = image_bytes(512 << 10, seed=1531)
    (tmp_path / "fw.bin").write_bytes(image)
    coap = start_fw_coap(procs, tmp_path / "fw.bin")
    _, http = start_fw_http(procs, tmp_path / "fw.bin")
    ms = start_peer("management_server")
    relay = start_relay(ms.port, trace=True)
    agent, record = start(ms, procs, bin_dir, tmp_path, None, server_port=relay.port,
                              maximum_size="256K")
    ms.wait_event("register", ep=EP)
    fw = firmware_dir(None, tmp_path)
    reply = push(ms, tmp_path / "fw.bin")
    assert reply["ok"] and reply["code"] == "5.00", reply
    assert puts_of_package(relay) == 1
    assert_refused_and_clean(ms, agent, fw)
    assert write_uri(ms, f"coap://127.0.0.1:{coap}/fw")["code"] == "2.04"
    assert_refused_and_clean(ms, agent, fw)
    assert blocks_asked(coap) == [0] and failure_offset(agent, 1) == 0
    assert write_uri(ms, f"http://127.0.0.1:{http}/fw")["code"] == "2.04"
    assert_refused_and_clean(ms, agent, fw)
    assert failure_offset(agent, 2) == 0
    small = image_bytes(200 << 10, seed=1532)
    (tmp_path / "small.bin").write_bytes(small)
    reply = push(ms, tmp_path / "small.bin")
    assert reply["ok"] and reply["code"] == "2.04", reply
    update(ms)
    assert installed(record)[1] == hashlib.sha256(small).hexdigest()


def test_reserve_refuses_what_would_eat_into_it(start_peer, procs, bin_dir, small_disk, tmp_path):
    """4 MiB file system, 3 MiB kept free: a 2 MiB image does not fit (announced: at once), a
    512 KiB one does."""
    (tmp_path / "fw.bin").write_bytes(image_bytes(2 * MIB, seed=1541))
    coap = start_fw_coap(procs, tmp_path / "fw.bin")
    ms = start_peer("management_server")
    agent, record = start(ms, procs, bin_dir, tmp_path, small_disk, reserve="3M")
    ms.wait_event("register", ep=EP)
    fw = firmware_dir(small_disk, tmp_path)
    reply = push(ms, tmp_path / "fw.bin")
    assert reply["ok"] and reply["code"] == "5.00", reply
    assert_refused_and_clean(ms, agent, fw)
    assert write_uri(ms, f"coap://127.0.0.1:{coap}/fw")["code"] == "2.04"
    assert_refused_and_clean(ms, agent, fw)
    assert blocks_asked(coap) == [0] and failure_offset(agent, 1) == 0
    then_a_smaller_image_installs(ms, tmp_path, record, seed=1542)
