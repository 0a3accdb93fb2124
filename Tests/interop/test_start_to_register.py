"""Issue 17, exec -> registered: nothing durable stands between the daemon's start and its first
Register. Writing the PID file with fsync (file and directory) held the Register up by the
disk's flush latency (19 ms on this machine's ext4, far more on an SD card); the PID file is now
replaced atomically without fsync (a PID means nothing after a power cut), while the saved state
written after registration keeps its fsync.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess

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
    finally:
        os.killpg(tracer.pid, signal.SIGKILL)
        tracer.wait(timeout=10)
        server.close()
    lines = trace.read_text().splitlines()
    sends = [index for index, line in enumerate(lines) if "ep=gw-e2e-1" in line]
    assert sends, "\n".join(lines)
    before = [line for line in lines[:sends[0]] if "sync" in line.split("(")[0]]
    # The PID file (and the lock, the control socket) exist by then: the start did write files.
    assert (tmp_path / "state" / "lwm2m-agentd.pid").exists()
    assert before == [], "fsync before the first Register:\n" + "\n".join(before)
