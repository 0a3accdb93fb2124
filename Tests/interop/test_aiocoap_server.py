"""C. Our client (`lwm2m-agent coap ...`) against an aiocoap server process."""

from __future__ import annotations

import random
import re
import socket
import time

import pytest

import coapwire as cw
from aiocoap_server import SLOW_SECONDS, large_body
from conftest import SEED, free_udp_port


@pytest.fixture
def server(start_aiocoap):
    return start_aiocoap()


def messages(relay, direction: str) -> list[cw.Message]:
    return [cw.decode(bytes.fromhex(r["hex"])) for r in relay.trace() if r["dir"] == direction]


def test_get_small(server, agent):
    run = agent("get", server.uri("/small"), "--verbose", timeout=20)
    assert run.returncode == 0, run.describe()
    assert run.stdout == b"hello"
    assert re.match(r"2\.05 Content\b", run.err), run.describe()


def test_ping(server, agent):
    run = agent("ping", server.uri(), timeout=20)
    assert (run.returncode, run.stdout) == (0, b"pong\n"), run.describe()


@pytest.mark.parametrize("block_size", [None, 256], ids=["default", "b256"])
def test_get_large_block2(server, start_relay, agent, block_size):
    relay = start_relay(server.port, drop=0.0, trace=True)  # transparent, to check the blocks
    args = ["--block-size", str(block_size)] if block_size else []
    run = agent("get", relay.uri("/large"), *args, "--timeout", "30", timeout=40)
    assert run.returncode == 0, run.describe()
    assert len(run.stdout) == 10_000
    assert run.stdout == large_body()

    relay.stop()
    responses = messages(relay, "down")
    blocks = [cw.block_value(m.option(cw.BLOCK2)) for m in responses]
    # Block by block, contiguous, each at the offset its number and size say, the last without M.
    offset = 0
    for (number, more, size), message in zip(blocks, responses):
        assert number * size == offset, blocks
        assert len(message.payload) == (size if more else 10_000 - offset), blocks
        offset += len(message.payload)
    assert offset == 10_000 and [more for _, more, _ in blocks][-1] is False
    assert len(messages(relay, "up")) == len(responses)  # one request per block, no retransmission
    # With --block-size the client asks for the smaller size in its first request (RFC 7959 §2.4
    # early negotiation), so every block has that size; without it aiocoap's default is 1024.
    sizes = [size for _, _, size in blocks]
    assert all(size == (block_size or 1024) for size in sizes), blocks
    assert len(blocks) == -(-10_000 // (block_size or 1024)), blocks


def test_put_sink_block1_then_get(server, start_relay, agent, tmp_path):
    payload = random.Random(SEED + 20_000).randbytes(20_000)
    source = tmp_path / "payload.bin"
    source.write_bytes(payload)
    relay = start_relay(server.port, drop=0.0, trace=True)
    run = agent("put", relay.uri("/sink"), "--payload-file", source, "--block-size", "256",
                "--content-format", "42", "--verbose", "--timeout", "30", timeout=40)
    assert run.returncode == 0, run.describe()
    assert re.match(r"2\.04 Changed\b", run.err), run.describe()

    back = agent("get", server.uri("/sink"), "--timeout", "30", timeout=40)
    assert back.returncode == 0, back.describe()
    assert back.stdout == payload
    # aiocoap handed its resource the whole reassembled body.
    assert "PUT /sink payload=20000B" in server.proc.stderr()

    relay.stop()
    puts = [m for m in messages(relay, "up") if m.code == cw.PUT]
    assert [cw.block_value(m.option(cw.BLOCK1)) for m in puts] == [(n, n < 78, 256) for n in range(79)]
    assert b"".join(m.payload for m in puts) == payload
    assert cw.uint_value(puts[0].option(cw.SIZE1)) == 20_000
    assert [m.code_str for m in messages(relay, "down")] == ["2.31"] * 78 + ["2.04"]


def test_from_stdin_payload(server, agent):
    payload = bytes(range(256)) * 12  # 3072 bytes through --payload-file -
    run = agent("put", server.uri("/sink"), "--payload-file", "-", "--timeout", "20", timeout=30, input=payload)
    assert run.returncode == 0, run.describe()
    back = agent("get", server.uri("/sink"), "--timeout", "20", timeout=30)
    assert back.stdout == payload


def test_non_confirmable_block_transfers(server, start_relay, agent, tmp_path):
    relay = start_relay(server.port, drop=0.0, trace=True)
    run = agent("get", relay.uri("/large"), "--non", "--timeout", "20", timeout=30)
    assert run.returncode == 0, run.describe()
    assert run.stdout == large_body()
    payload = random.Random(SEED + 3000).randbytes(3000)
    source = tmp_path / "payload.bin"
    source.write_bytes(payload)
    run = agent("put", relay.uri("/sink"), "--non", "--payload-file", source, "--block-size", "512",
                "--timeout", "20", timeout=30)
    assert run.returncode == 0, run.describe()
    relay.stop()
    up, down = messages(relay, "up"), messages(relay, "down")
    # Every request NON, every response NON (RFC 7252 §5.2.3): 10 Block2 + 6 Block1 exchanges.
    assert [m.type_name for m in up] == ["NON"] * 16 and [m.type_name for m in down] == ["NON"] * 16
    assert [m.code_str for m in down] == ["2.05"] * 10 + ["2.31"] * 5 + ["2.04"]
    back = agent("get", server.uri("/sink"), "--timeout", "20", timeout=30)
    assert back.stdout == payload


def test_slow_resource_separate_response(server, start_relay, agent):
    relay = start_relay(server.port, drop=0.0, trace=True)
    run = agent("get", relay.uri("/slow"), "--verbose", "--timeout", "20", timeout=30)
    assert run.returncode == 0, run.describe()
    assert run.stdout == b"slow done"
    assert run.elapsed >= SLOW_SECONDS - 0.1, run.elapsed

    # Our ACK of the separate response is the client's last datagram: it exits right after
    # sending it, so give the relay (on a loaded machine) a moment to read and trace it.
    deadline = time.monotonic() + 5
    while len(messages(relay, "up")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    relay.stop()
    up, down = messages(relay, "up"), messages(relay, "down")
    assert len(up) == 2 and len(down) == 2, ([str(m) for m in up], [str(m) for m in down])
    request, empty_ack = up[0], down[0]
    # Our CON GET, acknowledged by aiocoap with an empty ACK (RFC 7252 §5.2.2)...
    assert (request.mtype, request.code) == (cw.CON, cw.GET)
    assert (empty_ack.mtype, empty_ack.code, empty_ack.mid, empty_ack.token) == (cw.ACK, cw.EMPTY, request.mid, b"")
    # ...then the response as a separate CON carrying our token, which we acknowledge.
    response, our_ack = down[1], up[1]
    assert (response.mtype, response.code, response.token, response.payload) == \
        (cw.CON, cw.CONTENT, request.token, b"slow done")
    assert (our_ack.mtype, our_ack.code, our_ack.mid, our_ack.token) == (cw.ACK, cw.EMPTY, response.mid, b"")
    # The request was not retransmitted although the answer took longer than ACK_TIMEOUT (2 s).
    times = [r["t"] for r in relay.trace()]
    assert times[2] - times[0] >= SLOW_SECONDS - 0.1


def test_echo_query(server, agent):
    run = agent("get", server.uri("/echo-query?a=1&b=two%20words&c=%26"), timeout=20)
    assert run.returncode == 0, run.describe()
    # Each query item becomes one Uri-Query option, percent-decoded (RFC 7252 §6.4).
    assert run.stdout == b"a=1&b=two words&c=&"
    assert "query=['a=1', 'b=two words', 'c=&']" in server.proc.stderr()


@pytest.mark.parametrize(("method", "path", "code"), [
    ("get", "/nothing-here", "4.04"),
    ("post", "/small", "4.05"),
])
def test_error_response_exit_1(server, agent, method, path, code):
    run = agent(method, server.uri(path), "--verbose", "--timeout", "20", timeout=30)
    assert run.returncode == 1, run.describe()
    assert run.err.startswith(code + " "), run.describe()


def test_nothing_listening_exit_3_within_timeout(agent):
    port = free_udp_port()  # bound and released: nothing listens there now
    run = agent("get", f"coap://127.0.0.1:{port}/small", "--ack-timeout", "0.2", "--timeout", "5", timeout=20)
    assert run.returncode == 3, run.describe()
    assert run.stdout == b""
    assert run.err.strip(), "no explanation on stderr"
    # Retransmitting alone would take 31 x [0.2, 0.3] s = 6.2-9.3 s: the 5 s deadline ends it first.
    assert 4.8 <= run.elapsed < 5 + 1.5, run.elapsed


def test_retransmission_schedule_against_silent_peer(procs, bin_dir):
    """A peer that reads but never answers sees RFC 7252 §4.2 back-off: 1 + MAX_RETRANSMIT(4)
    identical CONs, each gap twice the previous, the first within [ACK_TIMEOUT, ACK_TIMEOUT x 1.5]."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        client = procs.start("lwm2m-agent", [bin_dir / "lwm2m-agent", "coap", "get", f"coap://127.0.0.1:{port}/small",
                                             "--ack-timeout", "0.2", "--timeout", "30"])
        start = time.monotonic()
        arrivals: list[tuple[float, bytes]] = []
        silent.settimeout(0.05)
        while client.alive() and time.monotonic() - start < 20:
            try:
                data = silent.recv(2048)
                arrivals.append((time.monotonic(), data))
            except socket.timeout:
                pass
        assert not client.alive(), "client still running after 20 s"
        ended = time.monotonic()
    finally:
        silent.close()
    assert client.popen.returncode == 3, client.stderr()
    assert len(arrivals) == 5, [d.hex() for _, d in arrivals]
    assert len({d for _, d in arrivals}) == 1  # the same message (same MID and token) each time
    message = cw.decode(arrivals[0][1])
    assert (message.mtype, message.code, message.path) == (cw.CON, cw.GET, "/small")
    gaps = [b[0] - a[0] for a, b in zip(arrivals, arrivals[1:])]
    assert 0.18 <= gaps[0] <= 0.3 + 0.1, gaps
    for previous, gap in zip(gaps, gaps[1:]):
        assert 1.6 <= gap / previous <= 2.4, gaps
    # After the last retransmission it waits one more doubled timeout, then gives up.
    assert 1.6 <= (ended - arrivals[-1][0]) / gaps[-1] <= 2.6, (gaps, ended - arrivals[-1][0])
