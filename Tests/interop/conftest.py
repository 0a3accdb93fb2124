"""Interop tests: our binaries against independent CoAP implementations, as real processes on
loopback (127.0.0.1 / ::1 only).

Where the binaries come from
----------------------------
The tests run ``lwm2m-agentd`` and ``lwm2m-agent`` from the directory named by the environment
variable ``LWM2M_BIN_DIR`` (default: ``<repo>/.build/debug``). For example::

    cd <repo> && swift build --scratch-path .build-interop
    LWM2M_BIN_DIR=$PWD/.build-interop/debug python3 -m pytest Tests/interop -q -x

Other environment variables:
  COAP_CLIENT           libcoap client binary (default ``coap-client-notls``, libcoap 4.3.x)
  COAP_SERVER           libcoap example server binary (default ``coap-server-notls``)
  LWM2M_INTEROP_SEED    seed of the random payloads and of the random-datagram burst (default 7)
  LWM2M_LOSSY_SEED      overrides the relay seeds of test_lossy.py (see its docstring)
  CI                    when set (``CI=true``, as CI services set it), a missing peer or tool is a
                        FAILURE, not a skip: see ``skip_or_fail`` / ``require_tool`` below

Skips
-----
A test that cannot run here (a peer not installed, no ``::1``, no Leshan jar) calls
``skip_or_fail(reason)`` or ``require_tool(name, reason)`` / ``require_path(path, reason)`` from
this file, never ``pytest.skip`` directly: on a developer's machine it is skipped with the reason
shown (``-rs``), under ``CI=true`` it fails with the same reason, so CI never passes by skipping.

Files: test_libcoap_client.py (libcoap client → daemon), test_wire.py (hand-built datagrams →
daemon), test_aiocoap_server.py / test_libcoap_server.py (our CLI → aiocoap / libcoap servers),
test_lossy.py (both directions through lossy_relay.py), test_dtls_cli.py (our CLI over DTLS PSK →
coap-server-openssl), test_factory.py (factory provisioning on a private swtpm, the daemon on
the TPM store), test_block1_limits.py (unfinished Block1 uploads vs the daemon's RSS, Block1
FETCH), test_wire_conformance.py (RFC checks that
fail until known bugs are fixed; it sorts last so ``-x`` runs everything else first). Helpers:
coapwire.py (an RFC 7252 codec written for these tests), aiocoap_server.py, lossy_relay.py.

The helpers ``aiocoap_server.py`` and ``lossy_relay.py`` run as separate processes with the same
Python interpreter as pytest (which must have aiocoap). Every process a test starts is killed when
the test ends, pass or fail; a failing test's report carries the stderr/stdout of every process and
command it ran. Ports are picked by binding port 0; a daemon start that loses the race for its
port is retried on another one. Every subprocess call and wait has a timeout, and each test as a
whole is bounded by ``TEST_TIME_LIMIT`` (SIGALRM).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import typing
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN_DIR = Path(os.environ.get("LWM2M_BIN_DIR", str(REPO / ".build" / "debug")))
COAP_CLIENT = os.environ.get("COAP_CLIENT", "coap-client-notls")
COAP_SERVER = os.environ.get("COAP_SERVER", "coap-server-notls")
SEED = int(os.environ.get("LWM2M_INTEROP_SEED", "7"))
TEST_TIME_LIMIT = 240  # seconds, whole test including fixtures
# The daemon's crash-report settings (CrashReportPolicy.settings), set as the systemd unit and the
# SysV script set them, so a daemon started by a test does not re-execute itself to apply them
# (test_daemon_hardening.py's crash test clears it to cover that path).
os.environ.setdefault(*"SWIFT_BACKTRACE=interactive=no,color=no,registers=none,images=none,sanitize=yes,threads=crashed"
                      .split("=", 1))

if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


# MARK: - Skips that fail in CI


def in_ci() -> bool:
    """True when the environment variable CI is set to anything but empty/0/false/no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_or_fail(reason: str) -> "typing.NoReturn":
    """Skips the current test with ``reason``; under ``CI=true`` fails it instead (a peer the
    suite needs is missing: CI must not pass by skipping). Use this, not ``pytest.skip``."""
    if in_ci():
        pytest.fail(f"CI=true and a requirement is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str, reason: str = "") -> str:
    """The full path of executable ``name`` (looked up on PATH, or ``name`` itself if it is a
    path); when it is missing, ``skip_or_fail`` with ``reason`` (e.g. how to install it)."""
    path = shutil.which(name)
    if path is None:
        skip_or_fail(f"{name} not found on PATH" + (f" ({reason})" if reason else ""))
    return path


def require_path(path: "os.PathLike | str", reason: str = "") -> Path:
    """``path`` as a Path when it exists; otherwise ``skip_or_fail`` with ``reason``."""
    path = Path(path)
    if not path.exists():
        skip_or_fail(f"{path} does not exist" + (f" ({reason})" if reason else ""))
    return path


# MARK: - Expected data


def demo_large() -> bytes:
    """/demo/large as DemoResources.swift defines it: 128 lines of exactly 32 bytes."""
    return b"".join(f"line {n:03d} of the demo data".ljust(31, ".").encode() + b"\n" for n in range(128))


# MARK: - Ports


def free_udp_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def coap_uri(host: str, port: int, path: str = "") -> str:
    host_part = f"[{host}]" if ":" in host else host
    return f"coap://{host_part}:{port}{path}"


# MARK: - Processes


class Proc:
    """A background process whose stdout/stderr go to files (no pipe can fill up and block it)."""

    def __init__(self, name: str, argv: list[str], workdir: Path):
        self.name = name
        self.argv = [str(a) for a in argv]
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        self.stdout_path = workdir / f"{stem}.stdout"
        self.stderr_path = workdir / f"{stem}.stderr"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                          start_new_session=True)
        self.returncode: int | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stdout(self) -> str:
        return self.stdout_path.read_bytes().decode(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_bytes().decode(errors="replace")

    def wait_for(self, pattern: str, stream: str = "stderr", timeout: float = 10.0) -> re.Match:
        """Waits until ``pattern`` appears in the stream; fails if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            text = self.stdout() if stream == "stdout" else self.stderr()
            match = regex.search(text)
            if match:
                return match
            if not self.alive():
                raise ProcessExited(self, f"{self.name} exited ({self.popen.returncode}) before printing {pattern!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} did not print {pattern!r} within {timeout}s")
            time.sleep(0.02)

    def stop(self, timeout: float = 5.0) -> int:
        """SIGTERM, then SIGKILL if it does not exit within ``timeout``. Returns the exit status."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        self.returncode = self.popen.wait(timeout=5)
        return self.returncode

    def kill(self) -> None:
        if self.alive():
            self.popen.kill()
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


class ProcessExited(RuntimeError):
    def __init__(self, proc: Proc, message: str):
        super().__init__(message)
        self.proc = proc


@dataclass
class Run:
    """A finished command."""
    argv: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes
    elapsed: float

    @property
    def out(self) -> str:
        return self.stdout.decode(errors="replace")

    @property
    def err(self) -> str:
        return self.stderr.decode(errors="replace")

    def describe(self) -> str:
        return (f"$ {shlex.join(self.argv)}\n-> exit {self.returncode} after {self.elapsed:.2f}s\n"
                f"stdout ({len(self.stdout)} B): {self.stdout[:600]!r}\nstderr: {self.err[-3000:]}")


class Processes:
    """Everything one test starts or runs; cleaned up by the ``procs`` fixture."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.background: list[Proc] = []
        self.runs: list[Run] = []

    def start(self, name: str, argv: list) -> Proc:
        index = sum(1 for p in self.background if p.name.split("#")[0] == name)
        proc = Proc(f"{name}#{index}" if index else name, argv, self.workdir)
        self.background.append(proc)
        return proc

    def run(self, argv: list, timeout: float, input: bytes | None = None) -> Run:
        argv = [str(a) for a in argv]
        start = time.monotonic()
        try:
            done = subprocess.run(argv, input=input, capture_output=True, timeout=timeout,
                                  stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired as expired:  # subprocess.run has killed it
            run = Run(argv, -9, expired.stdout or b"", expired.stderr or b"", time.monotonic() - start)
            self.runs.append(run)
            pytest.fail(f"command timed out after {timeout}s:\n{run.describe()}")
        run = Run(argv, done.returncode, done.stdout, done.stderr, time.monotonic() - start)
        self.runs.append(run)
        return run

    def cleanup(self) -> None:
        for proc in reversed(self.background):
            proc.kill()

    def diagnostics(self) -> list[tuple[str, str]]:
        sections = []
        for proc in self.background:
            status = "running" if proc.alive() else f"exit {proc.popen.returncode}"
            text = f"$ {shlex.join(proc.argv)}  [{status}]\n--- stderr ---\n{proc.stderr()[-6000:]}"
            stdout = proc.stdout()
            if stdout:
                text += f"\n--- stdout ---\n{stdout[-2000:]}"
            sections.append((f"process {proc.name}", text))
        for index, run in enumerate(self.runs[-8:]):
            sections.append((f"command {index}", run.describe()))
        return sections


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    processes = getattr(item, "_interop_processes", None)
    if report.failed and processes is not None:
        for title, text in processes.diagnostics():
            report.sections.append((title, text))


@pytest.fixture(autouse=True)
def _time_limit():
    """Bounds every test (pytest-timeout is not installed)."""
    def expire(_signum, _frame):
        raise TimeoutError(f"test exceeded its {TEST_TIME_LIMIT}s limit")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TEST_TIME_LIMIT)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def procs(request, tmp_path) -> Processes:
    processes = Processes(tmp_path)
    request.node._interop_processes = processes
    yield processes
    processes.cleanup()


# MARK: - Binaries


@pytest.fixture(scope="session")
def bin_dir() -> Path:
    missing = [name for name in ("lwm2m-agentd", "lwm2m-agent", "lwm2m-demo") if not (BIN_DIR / name).is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found in {BIN_DIR}: build with "
                    f"`swift build --scratch-path .build-interop` and set LWM2M_BIN_DIR", pytrace=False)
    return BIN_DIR


def vm_rss_kib(pid: int) -> int:
    """The process's resident set size in KiB (/proc/PID/status, VmRSS)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


def assert_flat_download_rss(run, label: str) -> None:
    """The memory `lwm2m-agent firmware fetch --report-memory` reported (RSS before, once the
    first MiB arrived, peak): printed, and the growth while streaming under 1 MiB (issue 14's goal)."""
    def kib(name: str) -> int:
        return int(run.err.split(f"rss-{name}-kib ")[1].split()[0])
    before, streaming, peak = kib("before"), kib("streaming"), kib("peak")
    print(f"\n{label}: RSS before {before} KiB, after the first MiB {streaming} KiB, peak {peak} KiB: "
          f"growth during the download {peak - streaming} KiB (set-up included {peak - before} KiB); {run.out.strip()}")
    assert peak - streaming < 1024, run.err


@pytest.fixture(scope="session")
def vm_assets(bin_dir, tmp_path_factory):
    """The qemu guest's kernel, modules and base initramfs with the agent from ``bin_dir``
    (Tests/vm/vmguest.py; built once per session, shared by every VM test module)."""
    sys.path.insert(0, str(REPO / "Tests" / "vm"))
    from vmguest import prepare_assets
    return prepare_assets(bin_dir, tmp_path_factory.mktemp("vm-assets"))


@pytest.fixture(scope="session")
def coap_client() -> str:
    path = shutil.which(COAP_CLIENT)
    if path is None:
        pytest.fail(f"{COAP_CLIENT} not found (apt-get install libcoap3-bin, or set COAP_CLIENT)", pytrace=False)
    return path


@pytest.fixture
def agent(procs, bin_dir):
    """Runs ``lwm2m-agent coap METHOD URI ARGS...`` and returns the Run."""
    def run(method: str, uri: str, *args, timeout: float = 60.0, input: bytes | None = None) -> Run:
        return procs.run([bin_dir / "lwm2m-agent", "coap", method, uri, *args], timeout=timeout, input=input)
    return run


# MARK: - Daemon, aiocoap server, relay


@dataclass
class Daemon:
    proc: Proc
    host: str
    port: int

    def uri(self, path: str = "") -> str:
        return coap_uri(self.host, self.port, path)

    @property
    def address(self) -> tuple:
        return (self.host, self.port)

    def log(self) -> str:
        return self.proc.stderr()


@pytest.fixture
def start_daemon(procs, bin_dir):
    """Starts ``lwm2m-demo`` (the demo CoAP server) on a free loopback port and waits until it serves."""
    def start(host: str = "127.0.0.1", tick: float | None = None, log_level: str = "debug",
              extra: tuple = ()) -> Daemon:
        last_error = None
        for _attempt in range(5):
            port = free_udp_port(host)
            argv = [bin_dir / "lwm2m-demo", "--listen", coap_uri(host, port), "--log-level", log_level]
            if tick is not None:
                argv += ["--tick", str(tick)]
            argv += list(extra)
            proc = procs.start("lwm2m-demo", argv)
            try:
                proc.wait_for(r"serving demo resources on coap://", timeout=10)
                return Daemon(proc, host, port)
            except ProcessExited as error:
                last_error = error
                if "in use" not in proc.stderr():
                    break  # not a port race: report it
        pytest.fail(f"lwm2m-demo did not start: {last_error}")
    return start


@dataclass
class AiocoapServer:
    proc: Proc
    port: int

    def uri(self, path: str = "") -> str:
        return coap_uri("127.0.0.1", self.port, path)


@pytest.fixture
def start_aiocoap(procs):
    def start() -> AiocoapServer:
        last_error = None
        for _attempt in range(5):
            port = free_udp_port()
            proc = procs.start("aiocoap-server", [sys.executable, HERE / "aiocoap_server.py", port])
            try:
                proc.wait_for(r"ready 127\.0\.0\.1 \d+", stream="stdout", timeout=20)
                return AiocoapServer(proc, port)
            except ProcessExited as error:
                last_error = error
                if "in use" not in proc.stderr():
                    break
        pytest.fail(f"aiocoap server did not start: {last_error}")
    return start


def coap_ping(host: str, port: int, timeout: float = 0.2) -> bool:
    """True if an empty CON to host:port is answered with its Reset (RFC 7252 §4.3)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.settimeout(timeout)
        try:
            probe.sendto(b"\x40\x00\x12\x34", (host, port))
            return probe.recvfrom(64)[0] == b"\x70\x00\x12\x34"
        except OSError:  # timeout, or ICMP port unreachable
            return False


def start_libcoap_server(procs: "Processes", tool: str, *args) -> tuple[Proc, int]:
    """libcoap's server ``tool`` (``coap-server-openssl``, ``coap-server-gnutls``) on 127.0.0.1 with
    ``args``, once it answers a CoAP ping on its plain port: returns (process, plain port); its
    DTLS port is the next one (libcoap's convention), checked free before the start."""
    binary = require_tool(tool, "apt-get install libcoap3-bin")
    for _attempt in range(5):
        port = free_udp_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        proc = procs.start(tool, [binary, "-A", "127.0.0.1", "-p", port, *args])
        deadline = time.monotonic() + 10
        while proc.alive() and time.monotonic() < deadline:
            if coap_ping("127.0.0.1", port):
                return proc, port
            time.sleep(0.05)
        proc.kill()
    pytest.fail(f"{tool} did not start")


def start_libcoap_dtls_server(procs: "Processes", psk: bytes, *extra) -> tuple[Proc, int]:
    """libcoap's ``coap-server-openssl`` with PSK ``psk`` (any identity) and ``extra`` arguments
    (``start_libcoap_server``): returns (process, plain port); its DTLS port is the next one."""
    return start_libcoap_server(procs, "coap-server-openssl", "-k", psk.decode(), *extra)


@dataclass
class CoapServer:
    proc: Proc
    port: int

    def uri(self, path: str = "") -> str:
        return coap_uri("127.0.0.1", self.port, path)


@pytest.fixture(scope="session")
def coap_server_binary() -> str:
    path = shutil.which(COAP_SERVER)
    if path is None:
        pytest.fail(f"{COAP_SERVER} not found (apt-get install libcoap3-bin, or set COAP_SERVER)", pytrace=False)
    return path


@pytest.fixture
def start_coap_server(procs, coap_server_binary):
    """Starts libcoap's example server on 127.0.0.1 and waits until it answers a CoAP ping."""
    def start() -> CoapServer:
        for _attempt in range(5):
            port = free_udp_port()
            proc = procs.start("coap-server", [coap_server_binary, "-A", "127.0.0.1", "-p", port, "-v", "4"])
            deadline = time.monotonic() + 10
            while proc.alive() and time.monotonic() < deadline:
                if coap_ping("127.0.0.1", port):
                    return CoapServer(proc, port)
                time.sleep(0.05)
            proc.kill()
        pytest.fail("coap-server did not start")
    return start


class Relay:
    def __init__(self, proc: Proc, port: int):
        self.proc = proc
        self.port = port
        self.stats: dict | None = None

    def uri(self, path: str = "") -> str:
        return coap_uri("127.0.0.1", self.port, path)

    def stop(self) -> dict:
        """Stops the relay and returns its RELAY-STATS."""
        if self.stats is None:
            status = self.proc.stop()
            assert status == 0, f"relay exited {status}: {self.proc.stderr()[-2000:]}"
            match = re.search(r"^RELAY-STATS (.*)$", self.proc.stderr(), re.M)
            assert match, f"relay printed no stats: {self.proc.stderr()[-2000:]}"
            self.stats = json.loads(match.group(1))
        return self.stats

    def trace(self) -> list[dict]:
        return [json.loads(line[6:]) for line in self.proc.stderr().splitlines() if line.startswith("TRACE ")]


@pytest.fixture
def start_relay(procs):
    def start(target_port: int, drop: float = 0.0, seed: int = SEED, trace: bool = False) -> Relay:
        """A relay 127.0.0.1:<free port> → 127.0.0.1:target_port (see lossy_relay.py)."""
        argv = [sys.executable, HERE / "lossy_relay.py", "--listen", "127.0.0.1:0",
                "--target", f"127.0.0.1:{target_port}", "--drop", drop, "--seed", seed]
        if trace:
            argv.append("--trace")
        proc = procs.start("lossy-relay", argv)
        match = proc.wait_for(r"listening 127\.0\.0\.1 (\d+)", stream="stdout", timeout=10)
        return Relay(proc, int(match.group(1)))
    return start


@pytest.fixture
def start_peer(procs):
    """Starts a peer server (``bootstrap_server`` or ``management_server``) on a free port."""
    from peerproc import PEERS, PeerProc

    def start(script: str, *args) -> PeerProc:
        index = sum(1 for p in procs.background if p.name.startswith(script))
        proc = PeerProc(f"{script}-{index}", [sys.executable, PEERS / f"{script}.py", "--listen", "127.0.0.1:0",
                                              *args], procs.workdir)
        procs.background.append(proc)  # killed and reported even if it never gets ready
        proc.wait_ready()
        return proc
    return start


@pytest.fixture
def start_agent(procs, bin_dir):
    """Starts ``lwm2m-agentd --config CONFIG``."""
    def start(config: Path, name: str = "agentd"):
        return procs.start(name, [bin_dir / "lwm2m-agentd", "--config", config])
    return start


@pytest.fixture
def state_show(procs, bin_dir):
    """Runs ``lwm2m-agent state show --config CONFIG --json``."""
    def run(config: Path):
        return procs.run([bin_dir / "lwm2m-agent", "state", "show", "--config", config, "--json"], timeout=10)
    return run


@pytest.fixture
def start_dtls_relay(procs):
    """Starts dtls_relay.py (an OpenSSL DTLS server) in front of 127.0.0.1:target_port; returns its port."""
    def start(target_port: int, *args) -> int:
        proc = procs.start("dtls-relay", [sys.executable, HERE / "dtls_relay.py", "--listen", "127.0.0.1:0",
                                          "--target", f"127.0.0.1:{target_port}", *args])
        return int(proc.wait_for(r"listening \S+ (\d+)", stream="stdout").group(1))
    return start
