"""Issue 17, exec -> registered: nothing durable stands between the daemon's start and its first
Register. Writing the PID file with fsync (file and directory) held the Register up by the
disk's flush latency (19 ms on this machine's ext4, far more on an SD card); the PID file is now
replaced atomically without fsync (a PID means nothing after a power cut), while the saved state
written after registration keeps its fsync.

Nor does start-up work the Register does not need: the firmware object's download protocols
(whether libcurl is installed: a read of /etc/ld.so.cache) are looked up when first needed, and
the control socket and the PID file are made once the first Register is out
(``ClientRuntime.whenStarted``); the Device object's identity files are read by the first Read
of /3/0. All of it still happens: at info level the firmware line looks the protocols up right
after the Register, and the socket and the PID file follow.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

from agentconfig import write_config
from conftest import require_tool


def test_no_fsync_before_the_first_register(tmp_path, bin_dir):
    strace = require_tool("strace", "traces the daemon's system calls (Debian package strace)")
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(20)
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{server.getsockname()[1]}"}})
    trace = tmp_path / "trace"
    tracer = subprocess.Popen([strace, "-f", "-e", "trace=fsync,fdatasync,sync_file_range,sendto,sendmsg",
                               "-o", str(trace), str(bin_dir / "lwm2m-agentd"), "--config", str(config)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        register, _ = server.recvfrom(2048)
        assert b"ep=gw-e2e-1" in register, register
        # The start did write files: the lock before the Register, the control socket and the
        # PID file right after it (ClientRuntime.whenStarted).
        deadline = time.monotonic() + 10
        while not (tmp_path / "state" / "lwm2m-agentd.pid").exists():
            assert time.monotonic() < deadline, "no PID file"
            time.sleep(0.02)
    finally:
        os.killpg(tracer.pid, signal.SIGKILL)
        tracer.wait(timeout=10)
        server.close()
    lines = trace.read_text().splitlines()
    sends = [index for index, line in enumerate(lines) if "ep=gw-e2e-1" in line]
    assert sends, "\n".join(lines)
    before = [line for line in lines[:sends[0]] if "sync" in line.split("(")[0]]
    assert before == [], "fsync before the first Register:\n" + "\n".join(before)


def test_launcher_work_the_register_does_not_need_comes_after_it(tmp_path, bin_dir):
    strace = require_tool("strace", "traces the daemon's system calls (Debian package strace)")
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(20)
    # log-level debug (write_config's): the firmware line, which looks the protocols up, is logged.
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{server.getsockname()[1]}"}})
    state = tmp_path / "state"
    trace = tmp_path / "trace"
    log = tmp_path / "agentd.log"
    with open(log, "wb") as stderr:
        tracer = subprocess.Popen([strace, "-f", "-e", "trace=openat,open,bind,rename,sendto,sendmsg",
                                   "-o", str(trace), str(bin_dir / "lwm2m-agentd"), "--config", str(config)],
                                  stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    try:
        register, _ = server.recvfrom(2048)
        assert b"ep=gw-e2e-1" in register, register
        # The work after the first Register: the socket and the PID file appear (the PID file last).
        deadline = time.monotonic() + 10
        while not ((state / "lwm2m-agentd.pid").exists() and (state / "control").exists()):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.02)
    finally:
        os.killpg(tracer.pid, signal.SIGKILL)
        tracer.wait(timeout=10)
        server.close()
    lines = trace.read_text().splitlines()
    # From the daemon's own code on (its configuration read): the dynamic loader reads
    # /etc/ld.so.cache too, before.
    first = next(index for index, line in enumerate(lines) if str(config) in line and "open" in line)
    sends = [index for index, line in enumerate(lines) if "ep=gw-e2e-1" in line]
    assert sends, "\n".join(lines)
    before, after = lines[first:sends[0]], lines[sends[0]:]

    def touching(part: list[str], what: str) -> list[str]:
        return [line for line in part if what in line]

    control, pid_file = str(state / "control"), str(state / "lwm2m-agentd.pid")
    assert touching(before, "/etc/ld.so.cache") == [], "\n".join(before)
    assert touching(before, control) == [], "\n".join(before)
    assert touching(before, pid_file) == [], "\n".join(before)
    # The Device object's identity (os-release, DMI or device tree) is read by the first Read of /3/0.
    assert touching(before, "/etc/os-release") == [], "\n".join(before)
    assert touching(after, "/etc/ld.so.cache"), "\n".join(after)
    assert touching(after, control) and touching(after, pid_file), "\n".join(after)
    text = log.read_text()
    assert "firmware update (/5): Idle, protocols coap, coaps" in text, text
    assert f"status on {control} (lwm2m-agent status)" in text, text


def test_sigterm_with_the_answer_to_the_first_register_deregisters(tmp_path, bin_dir):
    """A SIGTERM that arrives with the answer to the first Register (the server answers and the
    service manager stops the daemon at once, as ``lwm2m-bench compare`` does) still
    de-registers: the daemon takes the datagrams of a wake-up before its signals, so the
    registration that answer made is not left behind on the server (the work after the first
    Register made that wake-up hold both)."""
    for run in range(3):
        directory = tmp_path / f"run{run}"
        directory.mkdir()
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        server.bind(("127.0.0.1", 0))
        server.settimeout(10)
        config = write_config(directory, servers={101: {"uri": f"coap://127.0.0.1:{server.getsockname()[1]}"}})
        log = directory / "agentd.log"
        with open(log, "wb") as stderr:
            daemon = subprocess.Popen([str(bin_dir / "lwm2m-agentd"), "--config", str(config)],
                                      stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            register, agent = server.recvfrom(2048)
            assert b"ep=gw-e2e-1" in register, register
            token = register[4:4 + (register[0] & 0x0F)]
            # ACK 2.01 Created, Location-Path rd/x; then SIGTERM at once.
            server.sendto(bytes([0x60 | len(token), 0x41]) + register[2:4] + token + b"\x82rd\x01x", agent)
            daemon.send_signal(signal.SIGTERM)
            while True:
                message, agent = server.recvfrom(2048)
                if message[1] == 0x04:  # DELETE: the De-register
                    break
            assert b"rd\x01x" in message, message
            token = message[4:4 + (message[0] & 0x0F)]
            server.sendto(bytes([0x60 | len(token), 0x42]) + message[2:4] + token, agent)
            assert daemon.wait(timeout=10) == 0, log.read_text()
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait(timeout=10)
            server.close()
        text = log.read_text()
        assert "registered at /rd/x" in text and "de-registered" in text, text
