"""Firmware Update (object 5) end to end: the real ``lwm2m-agentd`` driven by the aiocoap
management server (peers/management_server.py), with the script-hook installer (a test script
that records its arguments and the SHA-256 of the image it was given).

- push: a 1 MiB package written to /5/0/0 with Block1 (1024-byte blocks) → State 2; Update →
  the installer gets exactly those bytes → Update Result 1; observed notifications of /5/0/3 and
  /5/0/5 come in order;
- pull over coap (fw_coap_server.py) and http (fw_http_server.py) → the same;
- signatures required: a package signed by another key → 5, an unsigned image → 6, the
  installer never runs; a properly signed one installs the image inside it;
- an unreachable Package URI → 4 (connection lost); Cancel during a download → Idle, 10;
- kill -9 of the agent mid-pull → the restarted agent resumes (not from block 0), finishes, and
  the installer gets the right image.
"""

from __future__ import annotations

import hashlib
import os
import signal
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentconfig import write_config
from conftest import HERE, free_udp_port

EP = "gw-e2e-1"
TEXT = 0


def hook_script(tmp_path: Path, delay: float = 0.3) -> tuple[Path, Path]:
    """The installer hook: appends "ARGS... SHA256" of the image to a record file, exits 0."""
    record = tmp_path / "hook.record"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"""#!/bin/sh
if [ "$1" = install ]; then
  sleep {delay}
  echo "$1 $2 $3 $(sha256sum "$2" | cut -d' ' -f1)" >> {record}
  exit 0
fi
echo "$*" >> {record}
exit 0
""")
    hook.chmod(0o755)
    return hook, record


def agent_config(tmp_path: Path, port: int, **firmware) -> Path:
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{port}", "lifetime": 60}})
    lines = ["", "[firmware]"] + [f"{key.replace('_', '-')} = {value}" for key, value in firmware.items()]
    with config.open("a") as out:
        out.write("\n".join(lines) + "\n")
    return config


def start(start_peer, start_agent, tmp_path, name="agentd", ms=None, **firmware):
    ms = ms or start_peer("management_server")
    hook, record = hook_script(tmp_path)
    firmware.setdefault("installer", "script")
    firmware.setdefault("script", str(hook))
    agent = start_agent(agent_config(tmp_path, ms.port, **firmware), name=name)
    ms.wait_event("register", ep=EP)
    return ms, agent, record


def read_int(ms, path: str) -> int:
    reply = ms.command("read", ep=EP, path=path, accept="text")
    assert reply["ok"] and reply["code"] == "2.05", reply
    return int(single(reply["value"]))


def single(value):
    """The value of a one-resource answer ({path: value})."""
    if isinstance(value, dict):
        assert len(value) == 1, value
        return next(iter(value.values()))
    return value


def wait_state(ms, state: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        value = read_int(ms, "/5/0/3")
        if value == state:
            return
        assert time.monotonic() < deadline, f"State {value}, expected {state}; result {read_int(ms, '/5/0/5')}"
        time.sleep(0.2)


def observe(ms, path: str) -> int:
    reply = ms.command("observe", ep=EP, path=path, accept="text")
    assert reply["ok"] and reply["observing"], reply
    return reply["observation"]


def notified(ms, observation: int) -> list[int]:
    return [int(single(line["value"])) for line in ms.events("notify") if line.get("observation") == observation]


def wait_notified(ms, observation: int, last: int, timeout: float = 30.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        values = notified(ms, observation)
        if values and values[-1] == last:
            return values
        assert time.monotonic() < deadline, values
        time.sleep(0.1)


def dedup(values: list[int]) -> list[int]:
    return [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]


def image_bytes(size: int, seed: int = 1) -> bytes:
    out = bytearray()
    block = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block * 32
    return bytes(out[:size])


def update_and_check(ms, record: Path, image: bytes) -> None:
    reply = ms.command("execute", ep=EP, path="/5/0/2")
    assert reply["ok"] and reply["code"] == "2.04", reply
    wait_state(ms, 0)
    assert read_int(ms, "/5/0/5") == 1
    lines = record.read_text().splitlines()
    assert len(lines) == 1, lines
    words = lines[0].split()
    assert words[0] == "install" and words[-1] == hashlib.sha256(image).hexdigest(), lines


# MARK: - Push


def test_push_block1_then_update_installs_the_exact_bytes(start_peer, start_agent, tmp_path):
    ms, agent, record = start(start_peer, start_agent, tmp_path)
    state_obs = observe(ms, "/5/0/3")
    result_obs = observe(ms, "/5/0/5")
    assert read_int(ms, "/5/0/9") == 2  # both push and pull
    image = image_bytes(1 << 20)
    package = tmp_path / "package.bin"
    package.write_bytes(image)
    reply = ms.command("write_file", wait=120, ep=EP, path="/5/0/0", file=str(package), timeout=110)
    assert reply["ok"] and reply["code"] == "2.04", reply
    print(f"push of {len(image)} bytes in 1024-byte blocks: {reply['seconds']} s")
    assert read_int(ms, "/5/0/3") == 2
    assert (tmp_path / "state" / "firmware" / "image").read_bytes() == image
    update_and_check(ms, record, image)
    # The observe answers carried 0 and 0; every change since was notified, in order.
    states = dedup(wait_notified(ms, state_obs, 0))
    assert states == [1, 2, 3, 0], states
    results = dedup(wait_notified(ms, result_obs, 1))
    assert results == [1], results
    # The state file says Idle with result 1.
    assert "result 1" in (tmp_path / "state" / "firmware" / "state").read_text()


# MARK: - Pull


def start_coap_server(procs, image: Path, *extra) -> int:
    port = free_udp_port()
    proc = procs.start("fw-coap", [sys.executable, HERE / "fw_coap_server.py", port, image, *extra])
    proc.wait_for(r"ready 127\.0\.0\.1", stream="stdout", timeout=20)
    coap_servers[port] = proc
    return port


coap_servers: dict = {}


def blocks_asked(port: int) -> list[int]:
    """The Block2 numbers fw_coap_server.py was asked for, in order (its "block N szx S" log)."""
    return [int(line.split()[1]) for line in coap_servers[port].stderr().splitlines() if line.startswith("block ")]


def start_http_server(procs, image: Path, *extra) -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = procs.start("fw-http", [sys.executable, HERE / "fw_http_server.py", port, image, *extra])
    proc.wait_for(r"ready 127\.0\.0\.1", stream="stdout", timeout=20)
    return port


def write_uri(ms, uri: str) -> dict:
    return ms.command("write", ep=EP, path="/5/0/1", value=uri, format="text")


def test_pull_coap_then_update(start_peer, start_agent, procs, tmp_path):
    image = image_bytes(1 << 20, seed=2)
    (tmp_path / "fw.bin").write_bytes(image)
    port = start_coap_server(procs, tmp_path / "fw.bin")
    ms, agent, record = start(start_peer, start_agent, tmp_path)
    state_obs = observe(ms, "/5/0/3")
    reply = write_uri(ms, f"coap://127.0.0.1:{port}/fw")
    assert reply["ok"] and reply["code"] == "2.04", reply
    wait_state(ms, 2)
    assert read_int(ms, "/5/0/5") == 0
    update_and_check(ms, record, image)
    assert dedup(wait_notified(ms, state_obs, 0)) == [1, 2, 3, 0]
    assert "firmware: download complete" in agent.stderr()


def test_pull_http_then_update(start_peer, start_agent, procs, tmp_path):
    image = image_bytes(3 << 20, seed=3)
    (tmp_path / "fw.bin").write_bytes(image)
    port = start_http_server(procs, tmp_path / "fw.bin")
    ms, agent, record = start(start_peer, start_agent, tmp_path)
    protocols = ms.command("read", ep=EP, path="/5/0/8", accept="senml-json")
    assert protocols["ok"], protocols
    assert sorted(protocols["value"].values()) == [0, 1, 2, 3], protocols  # coap, coaps, http, https
    reply = write_uri(ms, f"http://127.0.0.1:{port}/fw")
    assert reply["ok"] and reply["code"] == "2.04", reply
    wait_state(ms, 2)
    update_and_check(ms, record, image)


def test_unreachable_uri_ends_with_connection_lost(start_peer, start_agent, tmp_path):
    ms, agent, record = start(start_peer, start_agent, tmp_path)
    reply = write_uri(ms, f"coap://127.0.0.1:{free_udp_port()}/fw")
    assert reply["ok"] and reply["code"] == "2.04", reply
    wait_state(ms, 0, timeout=30)
    assert read_int(ms, "/5/0/5") == 4
    assert not record.exists()


def test_unsupported_scheme_is_refused_with_result_9(start_peer, start_agent, tmp_path):
    ms, agent, record = start(start_peer, start_agent, tmp_path)
    reply = write_uri(ms, "ftp://127.0.0.1/fw")
    assert reply["ok"] and reply["code"] == "4.00", reply
    assert read_int(ms, "/5/0/3") == 0 and read_int(ms, "/5/0/5") == 9


def test_cancel_during_download(start_peer, start_agent, procs, tmp_path):
    image = image_bytes(8 << 20, seed=4)
    (tmp_path / "fw.bin").write_bytes(image)
    port = start_coap_server(procs, tmp_path / "fw.bin")
    ms, agent, record = start(start_peer, start_agent, tmp_path)
    assert write_uri(ms, f"coap://127.0.0.1:{port}/fw")["code"] == "2.04"
    agent.wait_for(r"firmware: downloaded \d+ of \d+ bytes \(1\d %\)", timeout=60)
    reply = ms.command("execute", ep=EP, path="/5/0/10")
    assert reply["ok"] and reply["code"] == "2.04", reply
    assert read_int(ms, "/5/0/3") == 0 and read_int(ms, "/5/0/5") == 10
    time.sleep(1.0)
    assert read_int(ms, "/5/0/3") == 0  # no late completion
    assert not (tmp_path / "state" / "firmware" / "image").exists()
    assert not record.exists()


def test_kill_9_mid_pull_resumes_after_restart(start_peer, start_agent, procs, tmp_path):
    image = image_bytes(4 << 20, seed=5)
    (tmp_path / "fw.bin").write_bytes(image)
    port = start_coap_server(procs, tmp_path / "fw.bin")
    ms, agent, record = start(start_peer, start_agent, tmp_path)
    assert write_uri(ms, f"coap://127.0.0.1:{port}/fw")["code"] == "2.04"
    agent.wait_for(r"firmware: downloaded \d+ of \d+ bytes \(3\d %\)", timeout=60)
    os.kill(agent.pid, signal.SIGKILL)
    agent.popen.wait(timeout=10)
    stored = (tmp_path / "state" / "firmware" / "image.partial").stat().st_size
    assert stored > 1 << 20
    assert "state 1" in (tmp_path / "state" / "firmware" / "state").read_text()
    asked_before = len(blocks_asked(port))
    hook, _ = hook_script(tmp_path)
    again = start_agent(agent_config(tmp_path, ms.port, installer="script", script=str(hook)), name="agentd-2")
    match = again.wait_for(r"firmware: resuming the download at byte (\d+)", timeout=20)
    assert int(match.group(1)) == stored
    ms.wait_event("register", ep=EP, count=2)
    wait_state(ms, 2, timeout=90)
    update_and_check(ms, record, image)
    resumed = again.wait_for(r"firmware: downloading \S+ from byte (\d+)", timeout=5)
    assert int(resumed.group(1)) > 0
    # The first block the restarted agent asked for is where the stored bytes end, never block 0.
    after = blocks_asked(port)[asked_before:]
    assert after and after[0] == stored // 1024 and 0 not in after, after[:5]


# MARK: - Signed packages


def signed_setup(procs, bin_dir, tmp_path, image: bytes):
    cli = bin_dir / "lwm2m-agent"
    keys = {}
    for name in ("vendor", "stranger"):
        run = procs.run([cli, "firmware", "keygen", "--private-key-out", tmp_path / f"{name}.key",
                         "--public-key-out", tmp_path / f"{name}.pub"], timeout=30)
        assert run.returncode == 0, run.describe()
    (tmp_path / "image.bin").write_bytes(image)
    for name in ("vendor", "stranger"):
        run = procs.run([cli, "firmware", "sign", tmp_path / "image.bin", "--key", tmp_path / f"{name}.key",
                         "--board", "test-board", "--version", "2.1.0", "--out", tmp_path / f"{name}.fw"], timeout=30)
        assert run.returncode == 0, run.describe()
    return dict(require_signature="yes", vendor_key=str(tmp_path / "vendor.pub"), board_name="test-board")


def test_signature_required_refuses_foreign_and_unsigned_packages(start_peer, start_agent, procs, bin_dir, tmp_path):
    image = image_bytes(256 << 10, seed=6)
    settings = signed_setup(procs, bin_dir, tmp_path, image)
    ms, agent, record = start(start_peer, start_agent, tmp_path, **settings)
    # Signed by another key: integrity check failure (5), refused during the push.
    reply = ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(tmp_path / "stranger.fw"), timeout=50)
    assert reply["ok"] and reply["code"] != "2.04", reply
    assert read_int(ms, "/5/0/3") == 0 and read_int(ms, "/5/0/5") == 5
    # Not a package at all (the bare image): unsupported package type (6).
    reply = ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(tmp_path / "image.bin"), timeout=50)
    assert reply["ok"] and reply["code"] != "2.04", reply
    assert read_int(ms, "/5/0/3") == 0 and read_int(ms, "/5/0/5") == 6
    # By pull: the same refusal.
    port = start_coap_server(procs, tmp_path / "stranger.fw")
    assert write_uri(ms, f"coap://127.0.0.1:{port}/fw")["code"] == "2.04"
    wait_state(ms, 0)
    assert read_int(ms, "/5/0/5") == 5
    assert not record.exists(), record.read_text()
    assert not (tmp_path / "state" / "firmware" / "image").exists()


def test_signed_package_installs_the_image_inside(start_peer, start_agent, procs, bin_dir, tmp_path):
    image = image_bytes(256 << 10, seed=7)
    settings = signed_setup(procs, bin_dir, tmp_path, image)
    ms, agent, record = start(start_peer, start_agent, tmp_path, **settings)
    reply = ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(tmp_path / "vendor.fw"), timeout=50)
    assert reply["ok"] and reply["code"] == "2.04", reply
    assert read_int(ms, "/5/0/3") == 2
    version = ms.command("read", ep=EP, path="/5/0/7", accept="text")
    assert single(version["value"]) == "2.1.0", version
    update_and_check(ms, record, image)
    assert record.read_text().split()[2] == "2.1.0"


# MARK: - Install with a reboot


@pytest.mark.parametrize("confirm_status,state,result", [(0, 0, 1), (1, 2, 8)])
def test_install_needing_a_reboot_is_confirmed_after_the_restart(start_peer, start_agent, tmp_path,
                                                                 confirm_status, state, result):
    """The hook's install exits 10 (a reboot activates the image): the agent de-registers and runs
    the board's reboot command (a stand-in); the restarted agent is still Updating, asks the hook
    ``confirm VERSION`` and ends with 1 (confirm exit 0) or back in Downloaded with 8."""
    record = tmp_path / "hook.record"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"""#!/bin/sh
echo "$*" >> {record}
[ "$1" = install ] && exit 10
exit {confirm_status}
""")
    hook.chmod(0o755)
    marker = tmp_path / "rebooted"
    reboot = tmp_path / "stand-in-reboot"
    reboot.write_text(f"#!/bin/sh\necho reboot > {marker}\n")
    reboot.chmod(0o755)
    board = tmp_path / "test-board.conf"
    board.write_text(f"[board]\nname = test-board\n\n[reboot]\nmethod = command\ncommand = {reboot}\n")
    ms = start_peer("management_server")
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}},
                          board=board)
    with config.open("a") as out:
        out.write(f"\n[firmware]\ninstaller = script\nscript = {hook}\n")
    agent = start_agent(config)
    ms.wait_event("register", ep=EP)
    package = tmp_path / "package.bin"
    package.write_bytes(image_bytes(64 << 10, seed=8))
    assert ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(package), timeout=50)["code"] == "2.04"
    assert ms.command("execute", ep=EP, path="/5/0/2")["code"] == "2.04"
    ms.wait_event("deregister", ep=EP, timeout=20)
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), agent.stderr()
    agent.popen.wait(timeout=10)
    assert "firmware: installed; a reboot activates it" in agent.stderr()
    assert (tmp_path / "state" / "firmware" / "install.record").exists()
    assert "state 3" in (tmp_path / "state" / "firmware" / "state").read_text()

    again = start_agent(config, name="agentd-2")
    ms.wait_event("register", ep=EP, count=2)
    deadline = time.monotonic() + 20
    while read_int(ms, "/5/0/3") == 3:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert (read_int(ms, "/5/0/3"), read_int(ms, "/5/0/5")) == (state, result)
    lines = record.read_text().splitlines()
    assert lines[0].startswith("install ") and lines[1] == "confirm unknown", lines
    assert len(lines) == 2, lines  # confirmed exactly once
    assert not (tmp_path / "state" / "firmware" / "install.record").exists()


def test_pull_by_host_name_resolves_off_the_loop(start_peer, start_agent, procs, tmp_path):
    """A host name in the Package URI resolves on the background resolver; an unknown name ends
    with 7 (invalid URI) while the agent keeps answering."""
    image = image_bytes(128 << 10, seed=9)
    (tmp_path / "fw.bin").write_bytes(image)
    port = start_coap_server(procs, tmp_path / "fw.bin")
    ms, agent, record = start(start_peer, start_agent, tmp_path)
    assert write_uri(ms, "coap://no-such-host.invalid/fw")["code"] == "2.04"
    wait_state(ms, 0, timeout=40)
    assert read_int(ms, "/5/0/5") == 7
    assert write_uri(ms, f"coap://localhost:{port}/fw")["code"] == "2.04"
    wait_state(ms, 2)
    update_and_check(ms, record, image)
