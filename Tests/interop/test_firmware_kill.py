"""Firmware Update (object 5) under kill -9 (issue 14): the real ``lwm2m-agentd`` is killed with
SIGKILL at random points of a download and of an install, restarted each time with the same
state directory, and must resume or restart cleanly and never install a partial or unverified
image (docs/firmware-update.md, "Power cuts and crashes").

- pull over coap (fw_coap_server.py) and http (fw_http_server.py, throttled): several kills in
  one transfer; after each restart the download continues where the stored bytes end (the
  server's log: the first Block2 number asked / the Range asked), block 0 / the whole body is
  asked exactly once, the image stored is byte-exact and installs;
- a signed package pulled over coap: the same (the package verifier resumes too);
- push (Block1 from the aiocoap management server): after each kill the restarted agent is in
  Idle with Update Result 4 (connection lost), the server starts the upload over from block 0,
  and the last, uninterrupted upload installs;
- install: the script hook copies the image into a "slot" file in chunks; the agent is killed
  while it runs, restarted: Downloaded with 8 (update failed, the image kept), the installer left
  running by the dead agent is stopped before that is reported (no two installs at once, none
  continues unseen), the server executes Update again; the last install completes, result 1.
- an image altered on disk while Downloaded is refused with 5 before the installer runs.

The kill points are drawn from a seeded RNG: the seed is printed (``kill seed N``); run again
with ``LWM2M_KILL_SEED=N`` to replay the same points.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import time
from pathlib import Path

import pytest

from test_firmware_agent import (EP, agent_config, blocks_asked, image_bytes, read_int, signed_setup, single,
                                 start_coap_server, start_http_server, wait_state, write_uri)


KILL_SEED = int(os.environ.get("LWM2M_KILL_SEED", random.SystemRandom().randrange(1 << 31)))
KILLS = 20  # per pull (coap, http) and for the installs
PUSH_KILLS = 6  # each costs the server's time-out of the dead transfer (up to 3 s)


def kill_rng(label: str) -> random.Random:
    """The test's RNG for its kill points; prints the seed that replays them."""
    print(f"\n{label}: kill seed {KILL_SEED} (replay: LWM2M_KILL_SEED={KILL_SEED})")
    return random.Random(f"{KILL_SEED}-{label}")


def size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


def kill_when(agent, path: Path, target: int, timeout: float = 30.0) -> None:
    """SIGKILL ``agent`` as soon as ``path`` holds at least ``target`` bytes; waits until it is gone."""
    deadline = time.monotonic() + timeout
    while size_of(path) < target:
        assert agent.alive(), f"the agent exited before {path.name} reached {target} bytes"
        assert time.monotonic() < deadline, f"{path.name} at {size_of(path)} bytes, never reached {target}"
        time.sleep(0.001)
    os.kill(agent.pid, signal.SIGKILL)
    agent.popen.wait(timeout=10)


def settled_blocks(port: int) -> int:
    """How many blocks the CoAP server logged, once its log stopped growing for 0.15 s (a request
    the killed agent sent just before it died may still be on its way)."""
    count = len(blocks_asked(port))
    stable_since = time.monotonic()
    while time.monotonic() - stable_since < 0.15:
        time.sleep(0.02)
        now = len(blocks_asked(port))
        if now != count:
            count, stable_since = now, time.monotonic()
    return count


def cut_tail(partial: Path, rng: random.Random) -> None:
    """Cuts 1-1023 bytes off the partial image: the tail of the last write a power cut lost (or
    a write torn by the kill), so the stored bytes end inside a block."""
    size = size_of(partial)
    cut = rng.randrange(1, 1024)
    os.truncate(partial, size - cut)
    print(f"  {partial.name}: {size} bytes, cut back to {size - cut}")


def state_file(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "state" / "firmware" / "state").read_text().splitlines()[1:]
    return dict(line.split(" ", 1) if " " in line else (line, "") for line in lines)


def hook(tmp_path: Path, chunk: int = 16384, pause: float = 0.02) -> Path:
    """The installer hook: ``install IMAGE VERSION`` copies IMAGE into ``slot`` ``chunk`` bytes at a
    time with a pause after each, recording "start PID SHA256-of-IMAGE", "chunk PID N" and "end PID"
    in ``hook.record``; exit 0."""
    script = tmp_path / "hook.sh"
    script.write_text(f"""#!/bin/sh
record={tmp_path / "hook.record"}
slot={tmp_path / "slot"}
if [ "$1" = install ]; then
  echo "start $$ $(sha256sum "$2" | cut -d' ' -f1)" >> "$record"
  : > "$slot"
  size=$(stat -c %s "$2")
  n=0
  while [ $((n * {chunk})) -lt "$size" ]; do
    dd if="$2" of="$slot" bs={chunk} skip=$n seek=$n count=1 conv=notrunc status=none || exit 1
    echo "chunk $$ $n" >> "$record"
    n=$((n + 1))
    sleep {pause}
  done
  echo "end $$" >> "$record"
  exit 0
fi
echo "$*" >> "$record"
exit 0
""")
    script.chmod(0o755)
    return script


class Rig:
    """The management server, the agent's configuration, and agent restarts with the same state."""

    def __init__(self, start_peer, start_agent, tmp_path: Path, **firmware):
        self.tmp_path = tmp_path
        self.start_agent = start_agent
        self.ms = start_peer("management_server")
        firmware.setdefault("installer", "script")
        firmware.setdefault("script", str(hook(tmp_path)))
        self.config = agent_config(tmp_path, self.ms.port, **firmware)
        self.starts = 0
        self.agent = None
        self.partial = tmp_path / "state" / "firmware" / "image.partial"
        self.image = tmp_path / "state" / "firmware" / "image"

    def start(self, register: bool = True):
        self.starts += 1
        self.agent = self.start_agent(self.config, name=f"agentd-{self.starts}")
        if register:
            self.wait_registered()
        return self.agent

    def wait_registered(self) -> None:
        """Waits for the Register of the agent running now (a killed one may or may not have
        registered before it died): the one from the agent's own port."""
        match = self.agent.wait_for(r"server 101#1: CoAP to \S+ from \S+:(\d+)", timeout=20)
        self.ms.wait_line(lambda line: line.get("event") == "register" and line.get("ep") == EP
                          and str(line.get("remote", "")).endswith(f":{match.group(1)}"), timeout=20)


# MARK: - Pull


def test_kill_9_during_coap_pull_resumes_each_time(start_peer, start_agent, procs, tmp_path):
    rng = kill_rng("coap pull")
    image = image_bytes(1 << 20, seed=21)
    (tmp_path / "fw.bin").write_bytes(image)
    port = start_coap_server(procs, tmp_path / "fw.bin")
    rig = Rig(start_peer, start_agent, tmp_path)
    rig.start()
    assert write_uri(rig.ms, f"coap://127.0.0.1:{port}/fw")["code"] == "2.04"
    targets = sorted(rng.randrange(len(image) // 20, len(image) * 9 // 10) for _ in range(KILLS))
    print(f"kill points (bytes stored): {targets}")
    for index, target in enumerate(targets):
        kill_when(rig.agent, rig.partial, target)
        if index % 2:
            cut_tail(rig.partial, rng)
        stored = size_of(rig.partial)
        saved = state_file(tmp_path)
        assert saved["state"] == "1" and "etag" in saved, saved
        asked = settled_blocks(port)
        again = rig.start(register=False)
        resumed = again.wait_for(r"firmware: resuming the download at byte (\d+)", timeout=20)
        assert int(resumed.group(1)) == stored
        again.wait_for(rf"firmware: downloading \S+ from byte {stored}\b", timeout=20)
        deadline = time.monotonic() + 20
        while len(blocks_asked(port)) == asked:
            assert time.monotonic() < deadline, "the restarted agent asked for no block"
            time.sleep(0.01)
        first = blocks_asked(port)[asked]
        assert first == stored // 1024, (stored, first)  # the block the stored bytes end in, not block 0
    rig.wait_registered()
    wait_state(rig.ms, 2, timeout=60)
    assert read_int(rig.ms, "/5/0/5") == 0
    assert rig.image.read_bytes() == image
    blocks = blocks_asked(port)
    assert blocks.count(0) == 1, "block 0 was asked again: a download restarted from the beginning"
    print(f"{len(targets)} kills; {len(blocks)} block requests for {len(image) // 1024} blocks")
    assert len(blocks) < len(image) // 1024 + 2 * len(targets) + 20
    update_installs(rig, image)


def test_kill_9_during_http_pull_resumes_with_ranges(start_peer, start_agent, procs, tmp_path):
    rng = kill_rng("http pull")
    image = image_bytes(1 << 20, seed=22)
    (tmp_path / "fw.bin").write_bytes(image)
    port = start_http_server(procs, tmp_path / "fw.bin", "--rate", 1 << 20)
    server = next(p for p in procs.background if p.name.startswith("fw-http"))
    rig = Rig(start_peer, start_agent, tmp_path)
    rig.start()
    assert write_uri(rig.ms, f"http://127.0.0.1:{port}/fw")["code"] == "2.04"
    targets = sorted(rng.randrange(len(image) // 20, len(image) * 9 // 10) for _ in range(KILLS))
    print(f"kill points (bytes stored): {targets}")
    resumes = []
    for target in targets:
        kill_when(rig.agent, rig.partial, target)
        stored = size_of(rig.partial)
        saved = state_file(tmp_path)
        assert saved["state"] == "1" and "etag" in saved, saved
        resumes.append(stored)
        again = rig.start(register=False)
        resumed = again.wait_for(r"firmware: resuming the download at byte (\d+)", timeout=20)
        assert int(resumed.group(1)) == stored
        server.wait_for(rf"GET range=bytes={stored}- if-range=\"[0-9a-f]+\"", timeout=20)
    rig.wait_registered()
    wait_state(rig.ms, 2, timeout=60)
    assert rig.image.read_bytes() == image
    requests = [line for line in server.stderr().splitlines() if line.startswith("GET ") and line.endswith(" start")]
    whole = [line for line in requests if line.startswith("GET range=None")]
    assert len(whole) == 1, requests  # the body from byte 0 once; every restart asked a Range
    for stored in resumes:
        assert any(line.startswith(f"GET range=bytes={stored}- ") and "status=206" in line
                   for line in requests), (stored, requests)
    update_installs(rig, image)


def test_kill_9_during_signed_coap_pull_resumes(start_peer, start_agent, procs, bin_dir, tmp_path):
    """A signed package (require-signature): the saved header is verified again after each
    restart and the download continues at the block the stored package bytes end in. Every
    other time the partial image also loses 1-1023 bytes of its tail (a power cut): the resume
    then cuts the package back to a block boundary inside the image (before the fix the signed
    store refused that cut: the download ended in Idle with 4)."""
    rng = kill_rng("signed coap pull")
    image = image_bytes(512 << 10, seed=23)
    settings = signed_setup(procs, bin_dir, tmp_path, image)
    port = start_coap_server(procs, tmp_path / "vendor.fw")
    package = (tmp_path / "vendor.fw").read_bytes()
    header = len(package) - len(image)
    rig = Rig(start_peer, start_agent, tmp_path, **settings)
    rig.start()
    assert write_uri(rig.ms, f"coap://127.0.0.1:{port}/fw")["code"] == "2.04"
    targets = sorted(rng.randrange(len(image) // 10, len(image) * 9 // 10) for _ in range(6))
    print(f"kill points (image bytes stored): {targets}")
    for index, target in enumerate(targets):
        kill_when(rig.agent, rig.partial, target)
        if index % 2:
            cut_tail(rig.partial, rng)
        stored = size_of(rig.partial)
        asked = settled_blocks(port)
        again = rig.start(register=False)
        resumed = again.wait_for(r"firmware: resuming the download at package byte (\d+)", timeout=20)
        assert int(resumed.group(1)) == header + stored
        deadline = time.monotonic() + 20
        while len(blocks_asked(port)) == asked:
            assert time.monotonic() < deadline, f"the restarted agent asked for no block: {again.stderr()[-2000:]}"
            time.sleep(0.01)
        assert blocks_asked(port)[asked] == (header + stored) // 1024
    rig.wait_registered()
    wait_state(rig.ms, 2, timeout=60)
    assert read_int(rig.ms, "/5/0/5") == 0
    assert blocks_asked(port).count(0) == 1
    assert rig.image.read_bytes() == image  # the image alone, verified
    assert single(rig.ms.command("read", ep=EP, path="/5/0/7", accept="text")["value"]) == "2.1.0"
    update_installs(rig, image)


def test_kill_9_during_pull_of_a_tampered_signed_package_never_lets_it_through(start_peer, start_agent, procs,
                                                                                bin_dir, tmp_path):
    """A signed package whose image was altered after signing (one byte) is pulled with kills in
    between, the last one close to its end: the digest carried across the restarts (the partial
    hashed again each time) does not match the manifest, so the download ends in Idle with 5,
    no image is left and the installer never runs."""
    rng = kill_rng("tampered signed pull")
    image = image_bytes(256 << 10, seed=28)
    settings = signed_setup(procs, bin_dir, tmp_path, image)
    package = bytearray((tmp_path / "vendor.fw").read_bytes())
    header = len(package) - len(image)
    package[header + rng.randrange(len(image))] ^= 0x20
    (tmp_path / "tampered.fw").write_bytes(bytes(package))
    port = start_coap_server(procs, tmp_path / "tampered.fw")
    rig = Rig(start_peer, start_agent, tmp_path, **settings)
    rig.start()
    assert write_uri(rig.ms, f"coap://127.0.0.1:{port}/fw")["code"] == "2.04"
    targets = sorted(rng.randrange(len(image) // 10, len(image) * 9 // 10) for _ in range(2)) + [len(image) - 2048]
    print(f"kill points (image bytes stored): {targets}")
    for target in targets:
        kill_when(rig.agent, rig.partial, target)
        rig.start(register=False).wait_for(r"firmware: downloading \S+ from byte [1-9]", timeout=20)
    rig.wait_registered()
    wait_state(rig.ms, 0, timeout=60)
    assert read_int(rig.ms, "/5/0/5") == 5
    assert not rig.image.exists() and size_of(rig.partial) <= 0
    assert not (tmp_path / "state" / "firmware" / "package.header").exists()
    assert rig.ms.command("execute", ep=EP, path="/5/0/2")["code"] == "4.05"
    assert not (tmp_path / "hook.record").exists()


def update_installs(rig: Rig, image: bytes) -> None:
    reply = rig.ms.command("execute", ep=EP, path="/5/0/2")
    assert reply["ok"] and reply["code"] == "2.04", reply
    wait_state(rig.ms, 0, timeout=60)
    assert read_int(rig.ms, "/5/0/5") == 1
    assert (rig.tmp_path / "slot").read_bytes() == image
    starts = [line.split() for line in (rig.tmp_path / "hook.record").read_text().splitlines()
              if line.startswith("start ")]
    assert [words[2] for words in starts] == [hashlib.sha256(image).hexdigest()], starts


# MARK: - Push


def test_kill_9_during_push_makes_the_server_start_over(start_peer, start_agent, tmp_path):
    """After a kill the Block1 transfer is gone with the agent: the restarted agent is in Idle
    with Update Result 4 (connection lost; 5.xml: the download did not complete) and the partial
    image is discarded; a block continuing the old transfer gets 4.08; the server's next Write
    of Package starts at block 0 again."""
    rng = kill_rng("push")
    image = image_bytes(128 << 10, seed=24)
    package = tmp_path / "package.bin"
    package.write_bytes(image)
    rig = Rig(start_peer, start_agent, tmp_path)
    rig.start()
    targets = [rng.randrange(len(image) // 20, len(image) * 9 // 10) for _ in range(PUSH_KILLS)]
    print(f"kill points (bytes stored): {targets}")
    for target in targets:
        push = f"push-{rig.starts}"
        rig.ms.popen.stdin.write((f'{{"id": "{push}", "op": "write_file", "ep": "{EP}", '
                                  f'"path": "/5/0/0", "file": "{package}", "timeout": 3}}\n').encode())
        rig.ms.popen.stdin.flush()
        sent = time.monotonic()
        kill_when(rig.agent, rig.partial, target)
        killed = time.monotonic()
        # The server's transfer ends without an answer (its 3 s time-out, or ICMP port
        # unreachable for a retransmission); wait for that, so neither its retransmissions nor
        # its error can reach a restarted agent that got the same port.
        ended = rig.ms.wait_line(lambda line: line.get("id") == push, timeout=15)
        assert not ended["ok"], ended
        print(f"  killed {killed - sent:.2f} s into the push, its end seen {time.monotonic() - killed:.2f} s later: {ended['error']}")
        stored = size_of(rig.partial)
        assert state_file(tmp_path)["state"] == "1"
        rig.start()
        assert (read_int(rig.ms, "/5/0/3"), read_int(rig.ms, "/5/0/5")) == (0, 4)
        assert size_of(rig.partial) <= 0 and not rig.image.exists()
        assert state_file(tmp_path)["state"] == "0"
        # A server that carries on with the next block at the new registration's address gets
        # 4.08 Request Entity Incomplete (RFC 7959 2.3: no earlier blocks); nothing changes.
        reply = rig.ms.command("write_block", ep=EP, path="/5/0/0", file=str(package), block=stored // 1024)
        assert reply["ok"] and reply["code"] == "4.08", reply
        assert (read_int(rig.ms, "/5/0/3"), read_int(rig.ms, "/5/0/5")) == (0, 4)
    reply = rig.ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(package), timeout=50)
    assert reply["ok"] and reply["code"] == "2.04", reply
    assert read_int(rig.ms, "/5/0/3") == 2 and read_int(rig.ms, "/5/0/5") == 0
    assert rig.image.read_bytes() == image
    update_installs(rig, image)


# MARK: - Install


def test_kill_9_during_install_never_reports_an_unfinished_install(start_peer, start_agent, procs, tmp_path):
    """20 kills while the hook copies the image into the slot. After each restart: Downloaded
    with 8 (the image kept), the hook left running by the killed agent stopped before that is
    reported (it writes nothing afterwards), never success; the server executes Update again.
    The last install runs to its end: result 1, the slot holds the image."""
    rng = kill_rng("install")
    image = image_bytes(256 << 10, seed=25)
    package = tmp_path / "package.bin"
    package.write_bytes(image)
    record = tmp_path / "hook.record"
    slot = tmp_path / "slot"
    rig = Rig(start_peer, start_agent, tmp_path)
    rig.start()
    reply = rig.ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(package), timeout=50)
    assert reply["code"] == "2.04", reply
    targets = [rng.randrange(0, len(image)) for _ in range(KILLS)]
    print(f"kill points (slot bytes written): {targets}")
    for target in targets:
        started = record.read_text().count("start ") if record.exists() else 0
        assert rig.ms.command("execute", ep=EP, path="/5/0/2")["code"] == "2.04"
        if target == 0:
            os.kill(rig.agent.pid, signal.SIGKILL)  # right after Update was taken
            rig.agent.popen.wait(timeout=10)
        else:
            deadline = time.monotonic() + 20
            while not (record.exists() and record.read_text().count("start ") > started):
                assert time.monotonic() < deadline, "the installer did not start"
                time.sleep(0.001)
            kill_when(rig.agent, slot, target)
        saved = state_file(tmp_path)
        assert saved["state"] == "3" and saved["install-pending"] == "1", saved
        rig.start()
        wait_state(rig.ms, 2, timeout=20)
        assert read_int(rig.ms, "/5/0/5") == 8
        seen = record.read_text() if record.exists() else ""
        time.sleep(0.3)  # longer than a chunk and its pause: a hook still running would write
        now = record.read_text() if record.exists() else ""
        assert now == seen, f"an installer of the killed agent is still running: {now[len(seen):]!r}"
        assert rig.image.exists()
    stopped = sum(len(re.findall(r"firmware: stopped the installer \(pid [\d, ]+\) the previous agent left running",
                                 proc.stderr())) for proc in procs.background if proc.name.startswith("agentd"))
    print(f"{len(targets)} kills during installs; {stopped} installers left running by a killed agent were stopped")
    assert stopped > 0
    assert rig.ms.command("execute", ep=EP, path="/5/0/2")["code"] == "2.04"
    wait_state(rig.ms, 0, timeout=30)
    assert read_int(rig.ms, "/5/0/5") == 1
    assert slot.read_bytes() == image
    lines = record.read_text().splitlines()
    starts = [line.split() for line in lines if line.startswith("start ")]
    assert all(words[2] == hashlib.sha256(image).hexdigest() for words in starts), starts
    assert lines[-1].startswith("end ") and lines[-1].split()[1] == starts[-1][1], lines[-3:]
    # Never two installs at once: each one's lines end before the next one starts.
    order = [line.split()[1] for line in lines]
    pids = [pid for i, pid in enumerate(order) if i == 0 or order[i - 1] != pid]
    assert len(pids) == len(set(pids)), pids


def test_image_changed_on_disk_is_refused_before_the_installer(start_peer, start_agent, tmp_path):
    """The image is checked against the digest recorded when it was stored before the installer
    gets it: an image altered on disk (a power cut on a file system without ordered writes,
    flash wear, a hand) ends with 5 (integrity check failure), Idle, and the installer never runs."""
    image = image_bytes(128 << 10, seed=26)
    package = tmp_path / "package.bin"
    package.write_bytes(image)
    rig = Rig(start_peer, start_agent, tmp_path)
    rig.start()
    assert rig.ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(package), timeout=50)["code"] == "2.04"
    os.kill(rig.agent.pid, signal.SIGKILL)
    rig.agent.popen.wait(timeout=10)
    with rig.image.open("r+b") as stored:
        stored.seek(70_000)
        stored.write(b"\xff" * 16)
    rig.start()
    assert read_int(rig.ms, "/5/0/3") == 2
    assert rig.ms.command("execute", ep=EP, path="/5/0/2")["code"] == "2.04"
    wait_state(rig.ms, 0, timeout=20)
    assert read_int(rig.ms, "/5/0/5") == 5
    assert not (tmp_path / "hook.record").exists(), (tmp_path / "hook.record").read_text()
    assert re.search(r"install failed \(Update Result 5\): the image \S+ does not match", rig.agent.stderr())


def test_update_is_not_installed_when_its_state_cannot_be_saved(start_peer, start_agent, tmp_path):
    """Update persists Updating before the installer starts; when that write fails (here the state
    file's place is taken by a directory, so the rename fails) the installer must not run: after a
    crash the agent would not know an install had started. The update ends with 8 (Downloaded)."""
    image = image_bytes(64 << 10, seed=27)
    package = tmp_path / "package.bin"
    package.write_bytes(image)
    rig = Rig(start_peer, start_agent, tmp_path)
    rig.start()
    assert rig.ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(package), timeout=50)["code"] == "2.04"
    state = tmp_path / "state" / "firmware" / "state"
    state.unlink()
    state.mkdir()
    (state / "blocker").write_text("x")
    assert rig.ms.command("execute", ep=EP, path="/5/0/2")["code"] == "2.04"
    rig.agent.wait_for(r"firmware: cannot save the update state", timeout=10)
    deadline = time.monotonic() + 10
    while read_int(rig.ms, "/5/0/5") != 8:
        assert time.monotonic() < deadline, f"result {read_int(rig.ms, '/5/0/5')}: {rig.agent.stderr()[-2000:]}"
        time.sleep(0.1)
    assert read_int(rig.ms, "/5/0/3") == 2
    assert not (tmp_path / "hook.record").exists(), (tmp_path / "hook.record").read_text()
    assert rig.image.read_bytes() == image


def test_stop_during_install_is_handled_as_a_kill(start_peer, start_agent, tmp_path):
    """SIGTERM while the hook runs: the daemon stops without waiting for the installer; the
    restarted agent stops the hook left running and reports 8 (Downloaded, the image kept)."""
    image = image_bytes(256 << 10, seed=29)
    package = tmp_path / "package.bin"
    package.write_bytes(image)
    record = tmp_path / "hook.record"
    rig = Rig(start_peer, start_agent, tmp_path)
    rig.start()
    assert rig.ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(package), timeout=50)["code"] == "2.04"
    assert rig.ms.command("execute", ep=EP, path="/5/0/2")["code"] == "2.04"
    deadline = time.monotonic() + 20
    while not (record.exists() and "chunk " in record.read_text()):
        assert time.monotonic() < deadline, "the installer did not start"
        time.sleep(0.005)
    rig.agent.stop(timeout=5)
    assert rig.agent.returncode is not None
    rig.start()
    wait_state(rig.ms, 2, timeout=20)
    assert read_int(rig.ms, "/5/0/5") == 8
    assert re.search(r"firmware: stopped the installer \(pid [\d, ]+\)", rig.agent.stderr()), rig.agent.stderr()[-2000:]
    seen = record.read_text()
    time.sleep(0.3)
    assert record.read_text() == seen and "end " not in seen, seen
