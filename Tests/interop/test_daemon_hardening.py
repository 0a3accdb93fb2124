"""Issue 10, the daemon's outer layer: what hostile peers and unlucky machines did to
``lwm2m-agentd --config``, as real processes on loopback against the peer servers
(peers/bootstrap_server.py, peers/management_server.py).

- defect 6: a second daemon with the same state directory refuses to start and touches nothing;
- defect 7: a bootstrap server URI with percent-encoded control characters cannot forge log lines;
- defect 9: a save that fails (full filesystem) is retried until it succeeds, nothing acknowledged is lost;
- defect 10: a bootstrap server whose port is closed (ICMP port unreachable) fails fast, and the
  factory fallback registers within seconds, not after the ~87 s of a silent exchange;
- defect 12: state show looks without changing anything; a FIFO at the state path; huge
  serial/iccid files; CRLF/BOM configuration files; a crash prints no register/memory dump.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from agentconfig import write_config
from conftest import free_udp_port, skip_or_fail


def bootstrap_server(start_peer, server_uri: str, *args, lifetime: int = 60):
    return start_peer("bootstrap_server", "--server-uri", server_uri, "--lifetime", str(lifetime), *args)


# MARK: - Defect 6: one daemon per state directory


def test_a_second_daemon_with_the_same_state_directory_refuses_to_start(start_peer, start_agent, tmp_path):
    ms = start_peer("management_server")
    config = write_config(tmp_path, servers={201: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
    first = start_agent(config)
    ms.wait_event("register", ep="gw-e2e-1")
    pid_file = tmp_path / "state" / "lwm2m-agentd.pid"
    deadline = time.monotonic() + 5
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pid_file.read_text().strip() == str(first.pid)
    state_before = (tmp_path / "state" / "configuration.json").read_bytes() \
        if (tmp_path / "state" / "configuration.json").exists() else None

    second = start_agent(config, name="agentd-second")
    try:
        second.popen.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("a second daemon with the same state directory kept running:\n" + second.stderr())
    assert second.popen.returncode not in (0, None), second.stderr()
    assert re.search(r"another lwm2m-agentd \(pid %d\) is already running with state directory" % first.pid,
                     second.stderr()), second.stderr()
    # It touched nothing: the PID file still names the first daemon, no second registration.
    assert pid_file.read_text().strip() == str(first.pid)
    time.sleep(0.5)
    assert len(ms.events("register")) == 1, ms.events("register")
    after = (tmp_path / "state" / "configuration.json")
    assert (after.read_bytes() if after.exists() else None) == state_before
    assert first.alive()

    # Once the first one has stopped, the lock is free again.
    assert first.stop() == 0
    third = start_agent(config, name="agentd-third")
    ms.wait_event("register", count=2, ep="gw-e2e-1")
    assert pid_file.read_text().strip() == str(third.pid)


# MARK: - Defect 7: log injection


@pytest.mark.parametrize("hostile", [
    # Percent-encoded: the URI parser would decode the host (refused at Bootstrap-Finish now).
    "coap://x%0a%3c0%3elwm2m-agentd: FORGED emergency%00nul%0d%1b[31m:5683",
    # Literal control bytes in the TLV string the bootstrap server writes (no NUL: argv can't
    # carry one to the peer).
    "coap://x\n<0>lwm2m-agentd: FORGED emergency\x7fdel\r\x1b[31m\x85:5683",
], ids=["percent-encoded", "literal"])
def test_control_characters_in_a_bootstrapped_uri_cannot_forge_log_lines(start_peer, start_agent, tmp_path, hostile):
    bs = bootstrap_server(start_peer, hostile)
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}")
    agent = start_agent(config)
    bs.wait_event("finish")
    # The agent logs the account it refuses or cannot reach, on one line, escaped.
    agent.wait_for(r"FORGED emergency", timeout=15)
    agent.stop()
    raw = agent.stderr_path.read_bytes()
    assert b"\x00" not in raw
    assert b"\x1b" not in raw and b"\r" not in raw
    lines = raw.split(b"\n")
    assert not [line for line in lines if line.startswith(b"<0>")], raw[-2000:]
    for line in lines:
        if line:
            assert re.match(rb"<[3-7]>lwm2m-agentd: ", line), line


# MARK: - Defect 9: a save that fails is retried, not dropped


@pytest.fixture
def small_filesystem(tmp_path):
    """A 256 KiB tmpfs (root only): a filesystem the test can fill up for real (ENOSPC)."""
    mountpoint = tmp_path / "smallfs"
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mountpoint)],
                             capture_output=True, timeout=10)
    if mounted.returncode != 0:
        skip_or_fail(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.decode(errors='replace').strip()}")
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, timeout=10)


def fill(directory) -> int:
    """Writes filler files until the filesystem is full; returns the bytes written."""
    total = 0
    chunk = b"\0" * 4096
    with open(directory / "filler", "wb", buffering=0) as filler:
        try:
            while True:
                total += filler.write(chunk)
        except OSError as error:
            assert error.errno == 28, error  # ENOSPC
    return total


def saved_lifetime(state_show, config) -> int:
    shown = state_show(config)
    assert shown.returncode == 0, shown.describe()
    return json.loads(shown.out)["servers"][0]["lifetime"]


def test_a_write_acknowledged_while_the_disk_is_full_is_saved_once_there_is_room(
        start_peer, start_agent, state_show, small_filesystem, tmp_path):
    ms = start_peer("management_server")
    bs = bootstrap_server(start_peer, f"coap://127.0.0.1:{ms.port}")
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}", state_dir=small_filesystem / "state")
    agent = start_agent(config)
    ms.wait_event("register", ep="gw-e2e-1")
    agent.wait_for("configuration saved to")
    assert saved_lifetime(state_show, config) == 60

    assert fill(small_filesystem) > 0
    write = {"ep": "gw-e2e-1", "path": "/1/1/1", "value": 120, "format": 0}
    assert ms.command("write", **write)["code"] == "2.04"
    agent.wait_for(r"cannot save the configuration: .*No space left on device")
    ms.wait_event("update", ep="gw-e2e-1")
    time.sleep(1.5)  # at least one retry, still failing
    assert saved_lifetime(state_show, config) == 60
    assert agent.alive()

    (small_filesystem / "filler").unlink()
    deadline = time.monotonic() + 10
    while saved_lifetime(state_show, config) != 120:
        assert time.monotonic() < deadline, "the acknowledged change was never saved:\n" + agent.stderr()[-3000:]
        time.sleep(0.25)
    agent.wait_for(r"configuration saved to .* after \d+ failed attempts")
    assert re.search(r"cannot save the configuration: .*No space left on device.*retried until it succeeds",
                     agent.stderr())
    assert agent.stop() == 0


# MARK: - Defect 10: a refused exchange fails fast; DNS off the loop


def test_a_closed_bootstrap_port_engages_the_factory_fallback_within_seconds(start_peer, start_agent, tmp_path):
    ms = start_peer("management_server")
    closed = free_udp_port()  # nothing listens there: every datagram draws ICMP port unreachable
    # RFC 7252 default timing (ACK_TIMEOUT 2 s): a silent exchange would take ~93 s to fail.
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{closed}", bootstrap_on_every_start=True,
                          ack_timeout=2, servers={201: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
    started = time.monotonic()
    agent = start_agent(config)
    # LWM2M_MEASURE_WAIT=200 measures an unfixed build (it took ~93 s) instead of failing at 10 s.
    ms.wait_event("register", ep="gw-e2e-1", timeout=float(os.environ.get("LWM2M_MEASURE_WAIT", "10")))
    elapsed = time.monotonic() - started
    print(f"factory fallback registered {elapsed:.2f} s after start")
    assert elapsed < 8, elapsed
    log = agent.stderr()
    assert re.search(r"bootstrap failed: cannot connect: 127\.0\.0\.1:%d refused the connection" % closed, log), log
    assert log.index("refused the connection") < log.index("fallback engaged")


def test_a_closed_dtls_bootstrap_port_fails_the_handshake_within_seconds(start_peer, start_agent, tmp_path):
    ms = start_peer("management_server")
    closed = free_udp_port()
    (tmp_path / "bs.psk").write_text("000102030405060708090a0b0c0d0e0f\n")
    # Default DTLS timers (2 s doubling to 60 s): a silent handshake would take minutes to fail.
    config = write_config(tmp_path, bootstrap_on_every_start=True, ack_timeout=2,
                          servers={201: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
    config.write_text(config.read_text() + f"\n[bootstrap]\nuri = coaps://127.0.0.1:{closed}\nsecurity-mode = psk\n"
                      f"psk-identity = gw-e2e-1-bs\nsecret-key-file = {tmp_path / 'bs.psk'}\n")
    started = time.monotonic()
    agent = start_agent(config)
    ms.wait_event("register", ep="gw-e2e-1", timeout=10)
    elapsed = time.monotonic() - started
    print(f"factory fallback (DTLS bootstrap refused) registered {elapsed:.2f} s after start")
    assert elapsed < 8, elapsed
    assert re.search(r"bootstrap failed: cannot connect: 127\.0\.0\.1:%d refused the connection" % closed,
                     agent.stderr()), agent.stderr()


SILENT_DNS_TIMEOUT = 25  # seconds a lookup hangs (resolv.conf "timeout:")


@pytest.fixture
def hanging_dns(tmp_path):
    """A name server that never answers, on a random 127/8 address, and a resolv.conf naming it.

    The daemon runs in its own mount namespace with that resolv.conf bound over /etc/resolv.conf
    (``unshare -m``, root only), so getaddrinfo really sends its queries there and waits."""
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10)
    if probe.returncode != 0:
        skip_or_fail(f"cannot make a mount namespace here (needs root): {probe.stderr.decode(errors='replace')}")
    rng = os.urandom(2)
    address = f"127.53.{rng[0]}.{max(1, rng[1])}"
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind((address, 53))
    silent.setblocking(False)
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(f"nameserver {address}\noptions timeout:{SILENT_DNS_TIMEOUT} attempts:1\n")
    yield resolv, silent
    silent.close()


def test_signals_are_handled_while_dns_hangs(start_peer, procs, bin_dir, hanging_dns, tmp_path):
    resolv, silent = hanging_dns
    ms = start_peer("management_server")
    config = write_config(tmp_path, bootstrap="coap://bootstrap.hanging-dns.example:5683",
                          bootstrap_on_every_start=True,
                          servers={201: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
    agent = procs.start("agentd", ["unshare", "-m", "--", "sh", "-c",
                                   'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv,
                                   bin_dir / "lwm2m-agentd", "--config", config])
    agent.wait_for(r"bootstrap pending: coap://bootstrap\.hanging-dns\.example:5683", timeout=10)
    # The lookup really went to the silent server (so getaddrinfo is waiting on it now).
    deadline = time.monotonic() + 5
    queries = 0
    while queries == 0:
        try:
            silent.recvfrom(512)
            queries += 1
        except BlockingIOError:
            assert time.monotonic() < deadline, "no DNS query reached the silent name server"
            time.sleep(0.05)
    asked = time.monotonic()

    agent.popen.send_signal(signal.SIGHUP)
    agent.wait_for("SIGHUP: configuration reloaded", timeout=3)
    print(f"SIGHUP handled {time.monotonic() - asked:.2f} s into a hanging DNS lookup")
    agent.popen.send_signal(signal.SIGTERM)
    try:
        status = agent.popen.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail("SIGTERM not handled while DNS hangs:\n" + agent.stderr())
    assert status == 0, agent.stderr()
    assert time.monotonic() - asked < SILENT_DNS_TIMEOUT - 10


# MARK: - Defect 12: smaller ones


def write_state(tmp_path, content: bytes):
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    (state / "configuration.json").write_bytes(content)
    return state / "configuration.json"


def run_cli(procs, bin_dir, *args, timeout: float = 10):
    return procs.run([bin_dir / "lwm2m-agent", *args], timeout=timeout)


def test_state_show_changes_nothing_when_the_state_file_is_unreadable(procs, bin_dir, tmp_path):
    config = write_config(tmp_path, servers={201: {"uri": "coap://127.0.0.1:9"}})
    garbage = b'{"format":"lwm2m-agent-configuration","version":1,"objects":{"0":'
    path = write_state(tmp_path, garbage)
    leftover = path.parent / "configuration.json.tmp-4242"  # a running daemon's write in progress
    leftover.write_bytes(b"half")
    before = sorted(p.name for p in path.parent.iterdir())
    shown = run_cli(procs, bin_dir, "state", "show", "--config", config)
    assert shown.returncode == 1, shown.describe()
    assert "unreadable" in shown.err and "moved to" not in shown.err, shown.err
    assert path.read_bytes() == garbage
    assert sorted(p.name for p in path.parent.iterdir()) == before


def test_a_fifo_at_the_state_path_neither_hangs_the_daemon_nor_state_show(start_peer, start_agent, procs, bin_dir,
                                                                          tmp_path):
    ms = start_peer("management_server")
    config = write_config(tmp_path, servers={201: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
    (tmp_path / "state").mkdir()
    os.mkfifo(tmp_path / "state" / "configuration.json")
    shown = run_cli(procs, bin_dir, "state", "show", "--config", config, timeout=5)
    assert shown.returncode == 1 and "a FIFO, not a regular file" in shown.err, shown.describe()
    agent = start_agent(config)
    agent.wait_for(r"saved configuration unreadable \(.*a FIFO, not a regular file\); starting from the factory",
                   timeout=5)
    ms.wait_event("register", ep="gw-e2e-1", timeout=5)
    assert agent.stop() == 0


def test_a_serial_file_that_is_a_device_is_refused_at_once(procs, bin_dir, tmp_path):
    config = write_config(tmp_path, servers={201: {"uri": "coap://127.0.0.1:9"}}, endpoint_name="gw-{serial}",
                          serial_file="/dev/zero")
    shown = run_cli(procs, bin_dir, "state", "show", "--config", config, timeout=5)
    assert shown.returncode == 1, shown.describe()
    assert "cannot fill {serial}: read /dev/zero: a character device, not a regular file" in shown.err, shown.err
    assert shown.elapsed < 3


def test_a_huge_iccid_file_is_refused_not_read_and_not_echoed(procs, bin_dir, tmp_path):
    iccid = tmp_path / "iccid"
    iccid.write_bytes(b"8" * (8 << 20))
    config = write_config(tmp_path, servers={201: {"uri": "coap://127.0.0.1:9"}}, endpoint_name="{iccid}",
                          iccid_file=iccid)
    shown = run_cli(procs, bin_dir, "state", "show", "--config", config)
    assert shown.returncode == 1, shown.describe()
    assert f"cannot fill {{iccid}}: read {iccid}: larger than 4096 bytes" in shown.err, shown.err[:500]
    assert len(shown.stderr) < 1000


@pytest.mark.parametrize("variant", ["crlf", "bom", "bom+crlf"])
def test_configuration_files_with_crlf_or_a_bom_are_accepted(procs, bin_dir, tmp_path, variant):
    config = write_config(tmp_path, servers={201: {"uri": "coap://127.0.0.1:9", "lifetime": 77}})
    text = config.read_bytes()
    if "crlf" in variant:
        text = text.replace(b"\n", b"\r\n")
    if "bom" in variant:
        text = b"\xef\xbb\xbf" + text
    config.write_bytes(text)
    shown = run_cli(procs, bin_dir, "state", "show", "--config", config, "--json")
    assert shown.returncode == 0, shown.describe()
    document = json.loads(shown.out)
    assert document["endpoint"] == "gw-e2e-1"
    assert document["servers"][0]["lifetime"] == 77 and document["servers"][0]["uri"] == "coap://127.0.0.1:9"


def test_a_huge_value_is_not_echoed_in_the_error(procs, bin_dir, tmp_path):
    config = write_config(tmp_path, servers={201: {"uri": "coap://127.0.0.1:9"}}, ack_timeout="9" * (5 << 20) + "x")
    shown = run_cli(procs, bin_dir, "state", "show", "--config", config)
    assert shown.returncode == 1, shown.describe()
    assert "ack-timeout" in shown.err and f"({(5 << 20) + 1} bytes)" in shown.err, shown.err[:500]
    assert len(shown.stderr) < 1000, len(shown.stderr)


# What the Swift runtime prints for registers ("rax 0x…", "x0 0x…") and memory dumps ("0x… 41 42 …").
REGISTER_LINE = re.compile(r"^\s*(r[a-z0-9]{1,3}|e[a-z]{2}|x\d{1,2}|fp|lr|sp|pc|rip|rflags|cs|fs|gs)\s+0x[0-9a-f]+", re.M)
MEMORY_LINE = re.compile(r"0x[0-9a-f]{8,16}\s+([0-9a-f]{2} ){8}")
MARKER_HEX = "SECRET-MARKER-5a5a5a5a-do-not-log".encode()[:8][::-1].hex()  # the first 8 bytes as a little-endian word


@pytest.mark.parametrize("operator_setting", [None, "enable=yes,registers=all,images=all,preset=full"])
def test_a_crash_prints_a_backtrace_but_no_registers_or_memory(procs, bin_dir, operator_setting):
    """Started by hand (no SWIFT_BACKTRACE, or an operator's own asking for everything): the
    daemon re-executes itself with its crash-report settings, which win."""
    env_before = os.environ.pop("SWIFT_BACKTRACE", None)
    if operator_setting:
        os.environ["SWIFT_BACKTRACE"] = operator_setting
    try:
        crashed = procs.run([bin_dir / "lwm2m-agentd", "--crash-for-test"], timeout=60)
    finally:
        os.environ.pop("SWIFT_BACKTRACE", None)
        if env_before is not None:
            os.environ["SWIFT_BACKTRACE"] = env_before
    err = crashed.err + crashed.out  # the backtracer may write to either
    assert "crashing on purpose" in err, crashed.describe()
    assert crashed.returncode != 0 and crashed.returncode != 2, crashed.describe()
    assert re.search(r"Crash|crashed|Fatal error", err), err[-3000:]
    assert "Registers" not in err, err[-3000:]
    assert not REGISTER_LINE.search(err), REGISTER_LINE.search(err)
    assert not MEMORY_LINE.search(err), MEMORY_LINE.search(err)
    assert MARKER_HEX not in err.lower() and "SECRET-MARKER" not in err
    assert "Images" not in err
