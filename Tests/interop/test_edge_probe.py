"""lwm2m-edge-probe (the guest side of the GPIO benchmark, docs/vm-tests.md "Benchmark: edge →
notification") on the host's loopback, without a VM: the probe's "pull file" is a scratch file,
and a responder thread plays the agent. On each edge it sees (the file's content flips between
pull-up and pull-down) it sends the probe's server port hand-built datagrams (coapwire): noise the
probe must not count (a request with Observe, malformed CoAP, a response without Observe, a
notification to another port), then, for most edges, a notification. So the probe's sniffer,
its CoAP filter, its retransmission rule, its lost count and its timing are checked against real
datagrams on a real interface (an AF_PACKET socket on ``lo``, whose transmit path hands the taps
the same PACKET_OUTGOING copies as eth0's: needs CAP_NET_RAW; skipped without it).
"""

from __future__ import annotations

import re
import socket
import threading
import time

import coapwire as cw
from conftest import BIN_DIR, require_path, skip_or_fail

EDGES = 8
DELAYED_EDGE, DELAY = 2, 0.030       # its notification is sent 30 ms after the edge
RETRANSMITTED_EDGE = 3               # only a retransmission of edge 2's notification: lost
SILENT_EDGE = 5                      # noise only: lost


def probe_binary():
    return require_path(BIN_DIR / "lwm2m-edge-probe", "swift build --build-tests builds it; set LWM2M_BIN_DIR")


def require_packet_socket() -> None:
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800)).close()
    except PermissionError:
        skip_or_fail("AF_PACKET sockets need CAP_NET_RAW (run as root)")


def noise(port: int) -> list[tuple[int, bytes]]:
    """(destination port, datagram) pairs that are not a notification to ``port``."""
    observe = (cw.OBSERVE, b"\x07")
    return [
        (port, cw.encode(cw.CON, cw.GET, 0x0101, b"\x01", [observe])),                # a request with Observe
        (port, cw.encode(cw.ACK, cw.CONTENT, 0x0102, b"\x01", [(cw.CONTENT_FORMAT, b"")], b"1")),  # no Observe
        (port, b""),                                                                   # empty datagram
        (port, bytes([0x60, 0x45, 0x01])),                                            # 3 bytes: no header
        (port, cw.encode(cw.CON, cw.CONTENT, 0x0103, b"\x01" * 8, [observe], token_length=9)),  # TKL 9
        (port, bytes([0x41, 0x45, 0x01, 0x04, 0xAA, 0xD0])),                          # delta 13, no extension
        (port, bytes([0x41, 0x45, 0x01, 0x05, 0xAA, 0xF1, 0x00])),                    # option nibble 15
        (port, bytes([0x41, 0x45, 0x01, 0x06, 0xAA, 0x63, 0x01])),                    # Observe, 3 bytes, 1 there
        (port, bytes([0x81, 0x45, 0x01, 0x07, 0xAA, 0x61, 0x01])),                    # CoAP version 2
        (port + 1 if port < 65535 else port - 1,                                     # another port
         cw.encode(cw.CON, cw.CONTENT, 0x0108, b"\x01", [observe])),
    ]


def notification(mid: int, observe: int) -> bytes:
    """A 2.05 CON notification: an If-Match option with a 1-byte-extended length (13 bytes: the
    filter must skip it) before Observe, Content-Format after, a payload."""
    return cw.encode(cw.CON, cw.CONTENT, mid, b"\x5a\x5b",
                     [(cw.IF_MATCH, bytes(13)), (cw.OBSERVE, cw.uint_bytes(observe)), (cw.CONTENT_FORMAT, b"")],
                     b"1" if observe % 2 else b"0")


class Responder(threading.Thread):
    """Plays the agent: watches the pull file, answers each edge as the module docstring says."""

    def __init__(self, pull_path, port: int):
        super().__init__(daemon=True)
        self.pull_path, self.port = pull_path, port
        self.sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sender.bind(("127.0.0.1", 0))
        self.stop = threading.Event()
        self.edges: list[str] = []  # the levels seen after the probe's priming write
        self.sent: dict[int, int] = {}  # edge → Observe value of its notification

    def run(self) -> None:
        last = None
        changes = 0
        while not self.stop.is_set():
            content = self.pull_path.read_bytes()
            level = "up" if content.startswith(b"pull-up") else "down" if content.startswith(b"pull-down") else None
            if level is not None and level != last:
                last = level
                changes += 1
                if changes > 1:  # the first write primes the line (pull-down), not an edge
                    self.answer(changes - 1, level)
            time.sleep(0.0005)

    def answer(self, edge: int, level: str) -> None:
        self.edges.append(level)
        for port, datagram in noise(self.port):
            self.sender.sendto(datagram, ("127.0.0.1", port))
        if edge == SILENT_EDGE:
            return
        if edge == RETRANSMITTED_EDGE:
            self.sender.sendto(notification(0x2000 + DELAYED_EDGE, 100 + DELAYED_EDGE), ("127.0.0.1", self.port))
            return
        if edge == DELAYED_EDGE:
            time.sleep(DELAY)
        self.sent[edge] = 100 + edge
        self.sender.sendto(notification(0x2000 + edge, 100 + edge), ("127.0.0.1", self.port))


def test_probe_times_notifications_and_ignores_everything_else(procs, tmp_path):
    probe = probe_binary()
    require_packet_socket()
    # The server port: bound, so the datagrams are delivered (no ICMP), and ours alone.
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    pull = tmp_path / "pull"
    pull.write_bytes(b"")
    responder = Responder(pull, port)
    responder.start()
    try:
        run = procs.run([probe, "--pull", pull, "--port", port, "--interface", "lo", "--edges", EDGES,
                         "--interval-ms", 20, "--timeout-ms", 400, "--samples"], timeout=60)
    finally:
        responder.stop.set()
        responder.join(5)
        server.close()
    out = run.stdout.decode()
    print(out)
    assert run.returncode == 1, run.describe()  # edges were lost: status 1
    assert responder.edges == ["up", "down"] * (EDGES // 2), responder.edges  # alternating, from pull-up

    samples = {int(m.group(1)): m for m in re.finditer(
        r"^sample (\d+) (rising|falling) (?:wire=([\d.]+)ms probe=([\d.]+)ms observe=(\d+) mid=(\d+)|(lost) \(([^)]*)\))$", out, re.M)}
    assert sorted(samples) == list(range(1, EDGES + 1)), out
    lost = {edge for edge, m in samples.items() if m.group(7)}
    assert lost == {RETRANSMITTED_EDGE, SILENT_EDGE}, out
    # A lost edge's line says what went by: the noise (10 datagrams, one to another port: 9 to the
    # server port, all outgoing on lo) and, for edge 3, the retransmitted notification it skipped.
    assert "notifications 1, of them sent before the edge 0, retransmitted 1" in samples[RETRANSMITTED_EDGE].group(8), out
    assert "notifications 0," in samples[SILENT_EDGE].group(8), out
    for edge, m in samples.items():
        assert m.group(2) == ("rising" if edge % 2 else "falling"), out
        if edge in lost:
            continue
        wire, at_probe = float(m.group(3)), float(m.group(4))
        assert int(m.group(5)) == responder.sent[edge], out  # the notification, not the noise
        assert int(m.group(6)) == 0x2000 + edge, out
        assert wire <= at_probe + 0.01, out  # the kernel saw it before the probe woke up
        assert wire < 300, out
    assert float(samples[DELAYED_EDGE].group(3)) >= DELAY * 1000 - 0.01, out

    summary = re.search(r"^edge-to-notification n=(\d+) median=([\d.]+)ms p99=([\d.]+)ms max=([\d.]+)ms "
                        r"lost=(\d+) clock=(\S+)$", out, re.M)
    assert summary, out
    assert (int(summary.group(1)), int(summary.group(5))) == (EDGES - 2, 2), out
    assert summary.group(6) == "kernel-packet-timestamp", out
    median, p99, maximum = (float(summary.group(i)) for i in (2, 3, 4))
    assert median <= p99 <= maximum, out
    assert maximum == max(float(m.group(3)) for m in samples.values() if not m.group(7)), out
    assert re.search(r"^edge-to-probe-wakeup n=6 median=", out, re.M), out


def test_probe_rejects_bad_arguments_with_usage(procs, tmp_path):
    probe = probe_binary()
    pull = tmp_path / "pull"
    pull.write_bytes(b"")
    for argv in ([], ["--pull", pull], ["--port", "5683"], ["--pull", pull, "--port", "0"],
                 ["--pull", pull, "--port", "70000"], ["--pull", pull, "--port", "5683", "--edges", "0"],
                 ["--pull", pull, "--port", "5683", "--edges", "many"], ["--pull", pull, "--port", "5683", "--bogus"],
                 ["--pull", pull, "--port", "5683", "--interval-ms"]):
        run = procs.run([probe, *argv], timeout=10)
        assert run.returncode == 2, run.describe()
        assert b"usage: lwm2m-edge-probe" in run.stderr, run.describe()
        assert run.stdout == b"", run.describe()


def test_probe_reports_a_missing_pull_file_or_interface(procs, tmp_path):
    probe = probe_binary()
    require_packet_socket()
    run = procs.run([probe, "--pull", tmp_path / "absent", "--port", "5683", "--interface", "lo"], timeout=10)
    assert run.returncode == 3 and b"open(" in run.stderr and b"No such file" in run.stderr, run.describe()
    pull = tmp_path / "pull"
    pull.write_bytes(b"")
    run = procs.run([probe, "--pull", pull, "--port", "5683", "--interface", "nosuch0"], timeout=10)
    assert run.returncode == 3 and b"if_nametoindex(nosuch0)" in run.stderr, run.describe()
