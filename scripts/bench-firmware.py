#!/usr/bin/env python3
"""Issue 14's firmware download benchmark: the real ``lwm2m-agentd`` pulls (and is pushed) an
image on loopback while its memory and CPU are sampled.

    bench-firmware.py --bin-dir DIR [--size 32M] [--runs 1] [--cases coap-aiocoap,coap-libcoap,http,push]
                      [--workdir DIR] [--json FILE] [--check] [--ack-timeout S] [--settle S] [--timeout S]

Set-up: the aiocoap management server of the interop tests (Tests/interop/peers), the daemon
registered to it with a ``[firmware]`` section (installer = script: a hook that records the
SHA-256 of the image it is given), log level info. Per case and run:

  coap-aiocoap  Package URI coap://…/fw on Tests/interop/fw_coap_server.py (aiocoap, Python)
  coap-libcoap  Package URI coap://…/fw on libcoap's coap-server-notls (C; the image PUT into it
                with coap-client-notls first): a fast server, to separate its cost from the agent's
  http          Package URI http://…/fw on Tests/interop/fw_http_server.py (http.server)
  push          the management server writes the image to /5/0/0 (aiocoap Block1, 1024-byte blocks)

Every transfer uses 1024-byte blocks (CoAP). While it runs the daemon's VmRSS is read every
5 ms (/proc/PID/status); its CPU time (utime + stime of /proc/PID/stat, all threads) and the
server's are read before the Write of /5/0/1 (or /5/0/0) and after the transfer. A pull's time
runs from the daemon's "firmware: downloading" log line to its "download complete" line (the
image fsync'd and renamed; as a 5 ms poller sees them; the JSON also has ``receive_seconds``, to
the 100 % progress line, and ``request_seconds``, from the Write); a push's is the sender's own
(first block to the last block's 2.04). "agent busy" is agent CPU / time; "agent waited" is the
time the daemon was runnable but had no CPU (schedstat: the machine's other work). The stored image is
compared with the source (SHA-256), then Update runs the hook (which must see the same digest),
which brings the object back to Idle for the next case. ``--ack-timeout`` sets the agent's
(its retransmission timers live that long).

Before the measured cases one small HTTP pull loads libcurl (the daemon dlopens it on the first
HTTP download and keeps it), and one small CoAP pull maps mbedTLS (dlopen'ed for the image's
SHA-256 by the first download) and the download code the daemon has not run yet (its release
build packs the code a registered daemon runs, so the first download's code is new pages): those
one-time costs are printed on their own lines ("http warm-up", "coap warm-up"), not counted as a
download's growth.

Goals (issue 14): every download's RSS growth (peak − before) < 1 MiB; HTTP >= 100 MB/s; CoAP
pull limited by the server, not the agent (the agent's CPU per block below the server's). The
table says met/missed; with --check the exit status is 1 when a goal is missed. A transfer that
fails or stores the wrong bytes is exit status 2. MB = 10^6 bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lwm2m_peers import REPO, Peer

INTEROP = REPO / "Tests" / "interop"
EP = "bench-fw"
BLOCK = 1024
SAMPLE_INTERVAL = 0.005
SETTLE = [0.3]  # seconds before and after each transfer (--settle)
TICKS = os.sysconf("SC_CLK_TCK")
ALL_CASES = ("coap-aiocoap", "coap-libcoap", "http", "push")


class BenchError(SystemExit):
    """A transfer that failed, timed out or stored the wrong bytes (exit status 2)."""

    def __init__(self, message: str):
        print(f"bench-firmware: {message}", file=sys.stderr)
        super().__init__(2)


# MARK: - /proc


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # fields 14 and 15 of proc(5)


def runqueue_wait_seconds(pid: int) -> float:
    """Time the process's threads spent runnable but waiting for a CPU (/proc/PID/task/*/schedstat,
    second field): what a machine shared with other work adds to a transfer's time."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[1])
        except (OSError, IndexError, ValueError):
            pass
    return total / 1e9


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS, RssAnon, RssFile and VmHWM of the process, KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(rest.split()[0])
    return out


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


# MARK: - Processes


class Background:
    """A helper process (server), killed at the end."""

    def __init__(self, name: str, argv: list, workdir: Path):
        self.name = name
        self.log = workdir / f"{name}.log"
        self.out = workdir / f"{name}.out"
        self.proc = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                                     stdout=open(self.out, "wb"), stderr=open(self.log, "wb"),
                                     start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_stdout(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.out.read_text(errors="replace"):
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited ({self.proc.returncode}): {self.log.read_text()[-1500:]}")
            if time.monotonic() > deadline:
                raise BenchError(f"{self.name} did not print {text!r} within {timeout} s")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def coap_ping(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.2)
        try:
            probe.sendto(b"\x40\x00\x12\x34", ("127.0.0.1", port))
            return probe.recvfrom(64)[0] == b"\x70\x00\x12\x34"
        except OSError:
            return False


def make_image(path: Path, size: int) -> str:
    """A deterministic image of `size` bytes (a SHA-256 chain); returns its SHA-256 (hex)."""
    digest = hashlib.sha256()
    block = hashlib.sha256(b"bench-firmware").digest()
    with open(path, "wb") as out:
        left = size
        while left > 0:
            block = hashlib.sha256(block).digest()
            chunk = (block * 2048)[:min(left, 65536)]
            out.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# MARK: - The daemon


class Agent:
    """lwm2m-agentd with a [firmware] section and a script hook, registered at `ms`."""

    def __init__(self, bin_dir: Path, workdir: Path, ms: Peer, ack_timeout: float | None = None):
        self.workdir = workdir
        self.ms = ms
        self.record = workdir / "hook.record"
        hook = workdir / "hook.sh"
        hook.write_text(f"""#!/bin/sh
if [ "$1" = install ]; then
  echo "$1 $(sha256sum "$2" | cut -d' ' -f1)" >> {self.record}
fi
exit 0
""")
        hook.chmod(0o755)
        self.state = workdir / "state"
        config = workdir / "agent.conf"
        config.write_text(f"""[agent]
endpoint-name = {EP}
state-dir = {self.state}
log-level = info
credential-store = development
{f"ack-timeout = {ack_timeout}" if ack_timeout else ""}

[server 101]
uri = coap://127.0.0.1:{ms.port}
lifetime = 300

[firmware]
installer = script
script = {hook}
maximum-size = 1G
""")
        self.log = workdir / "agentd.log"
        self.proc = subprocess.Popen([str(bin_dir / "lwm2m-agentd"), "--config", str(config)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "wb"), start_new_session=True)
        self.registrations = 0
        self.wait_registered()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_registered(self) -> None:
        self.registrations += 1
        deadline = time.monotonic() + 20
        while len([line for line in self.ms.lines()
                   if line.get("event") == "register" and line.get("ep") == EP]) < self.registrations:
            if self.proc.poll() is not None:
                raise BenchError(f"lwm2m-agentd exited ({self.proc.returncode}): {self.log_text()[-1500:]}")
            if time.monotonic() > deadline:
                raise BenchError(f"lwm2m-agentd did not register within 20 s: {self.log_text()[-1500:]}")
            time.sleep(0.05)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def command(self, op: str, **fields) -> dict:
        reply = self.ms.command(op, ep=EP, **fields)
        if not reply.get("ok"):
            raise BenchError(f"{op} {fields}: {reply}")
        return reply

    def read_int(self, path: str) -> int:
        value = self.command("read", path=path, accept="text")["value"]
        if isinstance(value, dict):
            value = next(iter(value.values()))
        return int(value)

    def wait_state(self, state: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while (value := self.read_int("/5/0/3")) != state:
            if time.monotonic() > deadline:
                raise BenchError(f"State {value}, expected {state} (result {self.read_int('/5/0/5')}); "
                                 f"agent log: {self.log_text()[-1500:]}")
            time.sleep(0.05)

    def install_and_check(self, sha256: str) -> None:
        """Update: the hook must get exactly the image; the object ends Idle with result 1."""
        before = self.record.read_text().count("\n") if self.record.exists() else 0
        reply = self.command("execute", path="/5/0/2")
        if reply["code"] != "2.04":
            raise BenchError(f"Update answered {reply['code']}")
        self.wait_state(0)
        result = self.read_int("/5/0/5")
        lines = self.record.read_text().splitlines() if self.record.exists() else []
        if result != 1 or len(lines) != before + 1 or lines[-1] != f"install {sha256}":
            raise BenchError(f"install: result {result}, hook record {lines[before:]}, expected {sha256}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


# MARK: - One transfer


@dataclass
class Result:
    case: str
    run: int
    size: int
    seconds: float
    agent_cpu: float
    server_cpu: float | None
    rss_before: int
    rss_peak: int
    rss_after: int
    anon_before: int
    anon_peak: int
    samples: int
    request_seconds: float = 0.0
    receive_seconds: float = 0.0
    runqueue_wait: float = 0.0
    goals: dict = field(default_factory=dict)

    @property
    def blocks(self) -> int:
        return (self.size + BLOCK - 1) // BLOCK

    @property
    def mb_per_s(self) -> float:
        return self.size / self.seconds / 1e6

    @property
    def growth(self) -> int:
        return self.rss_peak - self.rss_before


def measure(agent: Agent, case: str, run: int, size: int, server_pid: int | None, start, done,
            timeout: float) -> Result:
    """Samples the daemon while `start()` begins a transfer and until `done()` returns True."""
    time.sleep(SETTLE[0])  # let the previous case's work settle
    base = memory_kib(agent.pid)
    cpu0 = cpu_seconds(agent.pid)
    wait0 = runqueue_wait_seconds(agent.pid)
    server0 = cpu_seconds(server_pid) if server_pid else None
    peak, anon_peak, samples = base["VmRSS"], base["RssAnon"], 0
    began = time.monotonic()
    start()
    while True:
        memory = memory_kib(agent.pid)
        samples += 1
        peak = max(peak, memory["VmRSS"])
        anon_peak = max(anon_peak, memory["RssAnon"])
        if done():
            break
        if time.monotonic() - began > timeout:
            raise BenchError(f"{case}: not finished within {timeout} s; agent log: {agent.log_text()[-1500:]}")
        if agent.proc.poll() is not None:
            raise BenchError(f"{case}: the daemon exited ({agent.proc.returncode}): {agent.log_text()[-1500:]}")
        time.sleep(SAMPLE_INTERVAL)
    seconds = time.monotonic() - began
    cpu = cpu_seconds(agent.pid) - cpu0
    waited = runqueue_wait_seconds(agent.pid) - wait0
    server = cpu_seconds(server_pid) - server0 if server_pid else None
    time.sleep(SETTLE[0])
    after = memory_kib(agent.pid)
    peak = max(peak, after["VmRSS"])
    return Result(case, run, size, seconds, cpu, server, base["VmRSS"], peak, after["VmRSS"],
                  base["RssAnon"], max(anon_peak, after["RssAnon"]), samples, runqueue_wait=waited)


def pull(agent: Agent, case: str, run: int, uri: str, size: int, sha256: str, server_pid: int | None,
         timeout: float) -> Result:
    log_at = len(agent.log.read_bytes())
    outcome: dict = {}

    def start() -> None:
        agent.ms.proc.stdin.write((json.dumps({"id": f"{case}-{run}", "op": "write", "ep": EP, "path": "/5/0/1",
                                               "value": uri, "format": "text"}) + "\n").encode())
        agent.ms.proc.stdin.flush()

    def done() -> bool:
        with open(agent.log, "rb") as log:
            log.seek(log_at)
            text = log.read().decode(errors="replace")
        if "started" not in outcome and "firmware: downloading" in text:
            outcome["started"] = time.monotonic()
        if "received" not in outcome and f"firmware: downloaded {size} of {size} bytes" in text:
            outcome["received"] = time.monotonic()
        if "firmware: download complete" in text:
            outcome.setdefault("started", time.monotonic())
            outcome["ended"] = time.monotonic()
            return True
        if "firmware: download failed" in text:
            outcome["failed"] = text
            return True
        return False

    result = measure(agent, case, run, size, server_pid, start, done, timeout)
    if "failed" in outcome:
        raise BenchError(f"{case}: {outcome['failed'][-1500:]}")
    # The transfer: from the daemon's "downloading" line to its "download complete" line (as a
    # 5 ms poller sees them), without the Write's round trip through the management server.
    result.request_seconds = result.seconds
    # (Both lines in one poll: the transfer took less than the poll interval.)
    result.seconds = max(outcome["ended"] - outcome["started"], SAMPLE_INTERVAL)
    result.receive_seconds = max(outcome.get("received", outcome["ended"]) - outcome["started"], SAMPLE_INTERVAL)
    agent.wait_state(2)
    stored = file_sha256(agent.state / "firmware" / "image")
    if stored != sha256:
        raise BenchError(f"{case}: stored image {stored}, source {sha256}")
    agent.install_and_check(sha256)
    return result


def push(agent: Agent, run: int, image: Path, size: int, sha256: str, timeout: float) -> Result:
    command_id = f"push-{run}"
    reply: dict = {}

    def start() -> None:
        agent.ms.proc.stdin.write((json.dumps({"id": command_id, "op": "write_file", "ep": EP, "path": "/5/0/0",
                                               "file": str(image), "timeout": timeout}) + "\n").encode())
        agent.ms.proc.stdin.flush()

    def done() -> bool:
        for line in agent.ms.lines():
            if line.get("id") == command_id and "event" not in line:
                reply.update(line)
                return True
        return False

    result = measure(agent, "push", run, size, agent.ms.proc.pid, start, done, timeout + 5)
    if not reply.get("ok") or reply.get("code") != "2.04":
        raise BenchError(f"push: {reply}")
    # The transfer as the sender timed it (first block to the last block's 2.04).
    result.request_seconds = result.seconds
    result.seconds = result.receive_seconds = max(float(reply.get("seconds") or result.seconds), SAMPLE_INTERVAL)
    agent.wait_state(2)
    stored = file_sha256(agent.state / "firmware" / "image")
    if stored != sha256:
        raise BenchError(f"push: stored image {stored}, source {sha256}")
    agent.install_and_check(sha256)
    return result


# MARK: - Servers


def start_aiocoap(workdir: Path, image: Path) -> tuple[Background, str]:
    port = free_port(socket.SOCK_DGRAM)
    server = Background("fw-coap-aiocoap", [sys.executable, INTEROP / "fw_coap_server.py", port, image], workdir)
    server.wait_stdout("ready 127.0.0.1")
    return server, f"coap://127.0.0.1:{port}/fw"


def start_libcoap(workdir: Path, image: Path) -> tuple[Background, str]:
    server_bin = shutil.which(os.environ.get("COAP_SERVER", "coap-server-notls"))
    client_bin = shutil.which(os.environ.get("COAP_CLIENT", "coap-client-notls"))
    if not server_bin or not client_bin:
        raise BenchError("coap-server-notls / coap-client-notls not found (apt-get install libcoap3-bin)")
    port = free_port(socket.SOCK_DGRAM)
    server = Background("fw-coap-libcoap", [server_bin, "-A", "127.0.0.1", "-p", port, "-d", "4", "-v", "3"], workdir)
    deadline = time.monotonic() + 10
    while not coap_ping(port):
        if server.proc.poll() is not None or time.monotonic() > deadline:
            raise BenchError(f"coap-server-notls did not start: {server.log.read_text()[-1500:]}")
        time.sleep(0.05)
    uri = f"coap://127.0.0.1:{port}/fw"
    put = subprocess.run([client_bin, "-m", "put", "-b", str(BLOCK), "-f", str(image), uri],
                         capture_output=True, timeout=300)
    if put.returncode != 0:
        raise BenchError(f"coap-client PUT of the image failed: {put.stderr.decode(errors='replace')[-1500:]}")
    return server, uri


def start_http(workdir: Path, image: Path) -> tuple[Background, str]:
    port = free_port(socket.SOCK_STREAM)
    server = Background("fw-http", [sys.executable, INTEROP / "fw_http_server.py", port, image], workdir)
    server.wait_stdout("ready 127.0.0.1")
    return server, f"http://127.0.0.1:{port}/fw"


# MARK: - Report


def judge(result: Result) -> None:
    result.goals["rss"] = result.growth < 1024
    if result.case == "http":
        result.goals["http"] = result.mb_per_s >= 100
    if result.case.startswith("coap") and result.server_cpu is not None:
        result.goals["server-bound"] = result.agent_cpu < result.server_cpu


def table(results: list[Result]) -> str:
    header = ("case", "run", "MB/s", "time s", "agent CPU ms", "agent µs/blk", "agent busy", "agent waited ms", "server CPU ms",
              "server µs/blk", "RSS before KiB", "peak", "after", "growth KiB", "goals")
    rows = [header]
    for r in results:
        goals = ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in r.goals.items()) or "-"
        rows.append((r.case, str(r.run), f"{r.mb_per_s:.1f}", f"{r.seconds:.2f}", f"{r.agent_cpu * 1e3:.0f}",
                     f"{r.agent_cpu * 1e6 / r.blocks:.1f}", f"{r.agent_cpu * 100 / r.seconds:.0f} %",
                     f"{r.runqueue_wait * 1e3:.0f}",
                     "-" if r.server_cpu is None else f"{r.server_cpu * 1e3:.0f}",
                     "-" if r.server_cpu is None else f"{r.server_cpu * 1e6 / r.blocks:.1f}",
                     str(r.rss_before), str(r.rss_peak), str(r.rss_after), f"{r.growth:+d}", goals))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(widths[i]) if 1 <= i <= 13 else cell.ljust(widths[i])
                       for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def summary(results: list[Result]) -> str:
    lines = []
    for case in dict.fromkeys(r.case for r in results):
        rs = [r for r in results if r.case == case]
        rates = [r.mb_per_s for r in rs]
        per_block = [r.agent_cpu * 1e6 / r.blocks for r in rs]
        growth = [r.growth for r in rs]
        lines.append(f"{case}: {min(rates):.1f}–{max(rates):.1f} MB/s (median {statistics.median(rates):.1f}), "
                     f"agent {min(per_block):.1f}–{max(per_block):.1f} µs per {BLOCK}-byte block, "
                     f"RSS growth {min(growth):+d}…{max(growth):+d} KiB over {len(rs)} run(s)")
    return "\n".join(lines)


# MARK: - Main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", type=Path, required=True, help="where lwm2m-agentd is (release build)")
    parser.add_argument("--size", default="32M", help="image size (K, M, G binary; default 32M)")
    parser.add_argument("--runs", type=int, default=1, help="runs of every case (default 1)")
    parser.add_argument("--cases", default=",".join(ALL_CASES), help=f"comma-separated, of {', '.join(ALL_CASES)}")
    parser.add_argument("--workdir", type=Path, help="keep the logs and state here (default: a temporary directory)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    parser.add_argument("--check", action="store_true", help="exit status 1 when a goal is missed")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per transfer (default 300)")
    parser.add_argument("--ack-timeout", type=float, help="the agent's ack-timeout (seconds; default: the agent's, 2)")
    parser.add_argument("--settle", type=float, default=0.3, help="seconds of quiet before and after each transfer (default 0.3)")
    args = parser.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in ALL_CASES]
    if unknown or not cases:
        parser.error(f"unknown case(s) {unknown}; known: {', '.join(ALL_CASES)}")
    if not (args.bin_dir / "lwm2m-agentd").is_file():
        parser.error(f"no lwm2m-agentd in {args.bin_dir}")
    size = parse_size(args.size)
    SETTLE[0] = max(0.0, args.settle)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-firmware-"))
    workdir.mkdir(parents=True, exist_ok=True)
    keep = args.workdir is not None
    servers: list[Background] = []
    ms = agent = None
    results: list[Result] = []
    try:
        image = workdir / "image.bin"
        sha256 = make_image(image, size)
        small = workdir / "warm-up.bin"
        small_sha = make_image(small, 4096)
        ms = Peer("management-server", "management_server.py", workdir, "--request-timeout", "30")
        agent = Agent(args.bin_dir, workdir, ms, args.ack_timeout)
        uris = {}

        def warm_up(name: str, start_server, why: str) -> None:
            warm, warm_uri = start_server(workdir, small)
            servers.append(warm)
            done = pull(agent, f"{name} warm-up", 0, warm_uri, 4096, small_sha, None, args.timeout)
            print(f"{name} warm-up (4 KiB; {why}): RSS {done.rss_before} → {done.rss_after} KiB "
                  f"({done.rss_after - done.rss_before:+d} KiB once per daemon, of which RssAnon "
                  f"{done.anon_peak - done.anon_before:+d} KiB)", flush=True)

        coap_warm = False
        for case in cases:
            if case in ("coap-aiocoap", "coap-libcoap"):
                start_server = start_aiocoap if case == "coap-aiocoap" else start_libcoap
                server, uris[case] = start_server(workdir, image)
                if not coap_warm:
                    warm_up("coap", start_server, "the daemon's first download maps mbedTLS for the SHA-256 and "
                            "runs the download code for the first time")
                    coap_warm = True
            elif case == "http":
                server, uris[case] = start_http(workdir, image)
                warm_up("http", start_http, "the daemon dlopens libcurl and OpenSSL on its first HTTP download "
                        "and keeps them")
            else:
                continue
            servers.append(server)
        print(f"lwm2m-agentd {args.bin_dir} pid {agent.pid}; image {size} bytes ({(size + BLOCK - 1) // BLOCK} "
              f"blocks of {BLOCK}), sha256 {sha256[:16]}…; {len(cases)} case(s) x {args.runs} run(s)", flush=True)
        server_of = {s.name: s for s in servers}
        for run in range(1, args.runs + 1):
            for case in cases:
                if case == "push":
                    result = push(agent, run, image, size, sha256, args.timeout)
                else:
                    name = {"coap-aiocoap": "fw-coap-aiocoap", "coap-libcoap": "fw-coap-libcoap", "http": "fw-http"}[case]
                    result = pull(agent, case, run, uris[case], size, sha256, server_of[name].pid, args.timeout)
                judge(result)
                results.append(result)
                print(f"  {case} run {run}: {result.mb_per_s:.1f} MB/s, agent CPU {result.agent_cpu * 1e3:.0f} ms, "
                      f"RSS growth {result.growth:+d} KiB", flush=True)
    finally:
        if agent:
            agent.stop()
        for server in servers:
            server.stop()
        if ms:
            ms.stop()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(table(results))
    print()
    print(summary(results))
    missed = [f"{r.case} run {r.run}: {name}" for r in results for name, ok in r.goals.items() if not ok]
    print("goals: " + ("all met" if not missed else "MISSED " + "; ".join(missed)))
    if args.json:
        args.json.write_text(json.dumps([{**asdict(r), "blocks": r.blocks, "mb_per_s": r.mb_per_s,
                                          "growth_kib": r.growth} for r in results], indent=2) + "\n")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
