"""B. Raw datagrams, hand-built from RFC 7252, against our daemon (Python socket module only)."""

from __future__ import annotations

import random
import re
import time

import pytest

import coapwire as cw
from conftest import SEED, demo_large

from coapwire import QUIET, Wire


@pytest.fixture
def daemon(start_daemon):
    return start_daemon(log_level="info")


@pytest.fixture
def wire(daemon):
    w = Wire(daemon.address)
    yield w
    w.close()


def assert_alive(wire: Wire, mid: int = 0x7777) -> None:
    """A CoAP ping still gets its Reset: the earlier silence was a decision, not a dead daemon."""
    reply = wire.exchange(bytes([0x40, 0x00, mid >> 8, mid & 0xFF]))
    assert reply == bytes([0x70, 0x00, mid >> 8, mid & 0xFF])


def test_ping_is_answered_with_reset(wire):
    for mid in (0x0000, 0x1234, 0xFFFF):
        reply = wire.exchange(bytes([0x40, 0x00, mid >> 8, mid & 0xFF]))
        # RFC 7252 §4.3: an empty CON is rejected with a Reset carrying its Message ID.
        assert reply == bytes([0x70, 0x00, mid >> 8, mid & 0xFF]), reply.hex()


def test_get_hello_piggybacked(wire):
    token = bytes.fromhex("a1b2c3d4e5f60718")
    request = cw.encode(cw.CON, cw.GET, 0x4242, token, cw.uri_path_options("/demo/hello"))
    reply = cw.decode(wire.exchange(request))
    assert (reply.mtype, reply.code, reply.mid, reply.token) == (cw.ACK, cw.CONTENT, 0x4242, token), str(reply)
    assert reply.option(cw.CONTENT_FORMAT) == b""  # 0 = text/plain, encoded as the empty uint
    assert reply.payload == b"Hello from lwm2m-agentd"


def test_get_block2_random_access(wire):
    # RFC 7959 §2.4: a client may ask for any block first; block 3 of size 64 is bytes 192..255.
    block2 = cw.uint_bytes(3 << 4 | 2)
    request = cw.encode(cw.CON, cw.GET, 0x0101, b"\x09", cw.uri_path_options("/demo/large") + [(cw.BLOCK2, block2)])
    reply = cw.decode(wire.exchange(request))
    assert (reply.mtype, reply.code, reply.mid, reply.token) == (cw.ACK, cw.CONTENT, 0x0101, b"\x09"), str(reply)
    assert cw.block_value(reply.option(cw.BLOCK2)) == (3, True, 64)
    assert reply.payload == demo_large()[192:256]
    # The last block says "no more".
    request = cw.encode(cw.CON, cw.GET, 0x0102, b"\x0a",
                        cw.uri_path_options("/demo/large") + [(cw.BLOCK2, cw.uint_bytes(63 << 4 | 2))])
    reply = cw.decode(wire.exchange(request))
    assert cw.block_value(reply.option(cw.BLOCK2)) == (63, False, 64)
    assert reply.payload == demo_large()[4032:]


# Format errors (RFC 7252 §3, §4.1, §3.1), each built around a CON GET /demo/hello.
MALFORMED = {
    # Token Length 9-15 are reserved: a message format error.
    "token-length-9": lambda t, mid: cw.encode(t, cw.GET, mid, bytes(range(9)), cw.uri_path_options("/demo/hello")),
    "token-length-15": lambda t, mid: cw.encode(t, cw.GET, mid, bytes(range(15))),
    # Token Length says 4, only 2 bytes follow.
    "truncated-token": lambda t, mid: cw.encode(t, cw.GET, mid, b"\x01\x02", token_length=4),
    # Option delta nibble 15 without the 0xFF marker meaning.
    "reserved-option-delta": lambda t, mid: cw.encode(t, cw.GET, mid, b"\x01") + bytes([0xF1, 0x00]),
    # Option length nibble 15.
    "reserved-option-length": lambda t, mid: cw.encode(t, cw.GET, mid, b"\x01") + bytes([0xBF]) + b"demo",
    # Uri-Path claims 5 bytes, 2 follow.
    "truncated-option-value": lambda t, mid: cw.encode(t, cw.GET, mid, b"\x01") + bytes([0xB5]) + b"de",
    # Extended delta byte missing.
    "truncated-extended-delta": lambda t, mid: cw.encode(t, cw.GET, mid, b"\x01") + bytes([0xD0]),
    # §3: a payload marker followed by a zero-length payload is a format error.
    "marker-without-payload": lambda t, mid: cw.encode(t, cw.GET, mid, b"\x01", cw.uri_path_options("/demo/hello")) + b"\xff",
    # §4.1: an Empty message (0.00) with anything after the Message ID.
    "empty-with-token": lambda t, mid: cw.encode(t, cw.EMPTY, mid, b"\x01"),
    "empty-with-payload": lambda t, mid: cw.encode(t, cw.EMPTY, mid) + b"\xffx",
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_con_is_rejected_with_reset(wire, daemon, kind):
    mid = 0xBEEF
    datagram = MALFORMED[kind](cw.CON, mid)
    reply = wire.exchange(datagram)
    # §4.2: a CON that cannot be processed (format error) is rejected with a matching Reset.
    assert reply == bytes([0x70, 0x00, 0xBE, 0xEF]), f"sent {datagram.hex()}, got {reply.hex()}"
    assert wire.drain() == []  # and nothing else


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_non_is_silently_dropped(wire, daemon, kind):
    datagram = MALFORMED[kind](cw.NON, 0xCAFE)
    wire.send(datagram)
    # §4.3: a NON with a format error is silently ignored (no Reset, no response).
    assert wire.receive(QUIET) is None
    assert_alive(wire)


def test_unknown_version_is_silently_ignored(wire):
    # §3: "Messages with unknown version numbers MUST be silently ignored" (even a CON).
    for version in (0, 2, 3):
        request = bytearray(cw.encode(cw.CON, cw.GET, 0x2000 + version, b"\x01", cw.uri_path_options("/demo/hello")))
        request[0] = version << 6 | request[0] & 0x3F
        wire.send(bytes(request))
        assert wire.receive(QUIET) is None, f"version {version} answered"
    assert_alive(wire)


@pytest.mark.parametrize("option", [cw.OSCORE, 65001], ids=["option-9", "option-65001"])
def test_unknown_critical_option_gives_4_02(wire, option):
    token = b"\x5a\xa5"
    request = cw.encode(cw.CON, cw.GET, 0x3141, token, cw.uri_path_options("/demo/hello") + [(option, b"\x01")])
    reply = cw.decode(wire.exchange(request))
    # §5.4.1: an unrecognized critical option in a CON request → 4.02 Bad Option (piggybacked).
    assert (reply.mtype, reply.code, reply.mid, reply.token) == (cw.ACK, cw.BAD_OPTION, 0x3141, token), str(reply)
    assert b"Hello" not in reply.payload


def test_unknown_critical_option_in_non_is_not_processed(wire):
    request = cw.encode(cw.NON, cw.GET, 0x3142, b"\x01", cw.uri_path_options("/demo/hello") + [(cw.OSCORE, b"")])
    wire.send(request)
    # §5.4.1 + §4.3: the NON is rejected: silently ignored, or at most a Reset.
    replies = wire.drain()
    assert replies in ([], [bytes([0x70, 0x00, 0x31, 0x42])]), [r.hex() for r in replies]


def test_unknown_elective_option_is_ignored(wire):
    # Even option numbers are elective (§5.4.1): ignored, the request is served.
    request = cw.encode(cw.CON, cw.GET, 0x3143, b"\x02", cw.uri_path_options("/demo/hello") + [(65000, b"zz")])
    reply = cw.decode(wire.exchange(request))
    assert (reply.mtype, reply.code, reply.mid) == (cw.ACK, cw.CONTENT, 0x3143), str(reply)
    assert reply.payload == b"Hello from lwm2m-agentd"


def test_duplicate_con_post_is_executed_once(wire):
    token = b"\x10\x20\x30\x40"
    post = cw.encode(cw.CON, cw.POST, 0x5150, token, cw.uri_path_options("/demo/execute"))
    first = wire.exchange(post)
    second = wire.exchange(post)  # same MID, same token: a retransmission (§4.5)
    assert first == second, f"{first.hex()} != {second.hex()}"
    reply = cw.decode(first)
    assert (reply.mtype, reply.code, reply.mid, reply.token) == (cw.ACK, cw.CHANGED, 0x5150, token), str(reply)
    assert reply.payload == b"executions=1"
    assert wire.drain() == []
    # A new MID is a new request: executed, and it is only the second execution.
    reply = cw.decode(wire.exchange(cw.encode(cw.CON, cw.POST, 0x5151, b"\x11", cw.uri_path_options("/demo/execute"))))
    assert (reply.code, reply.mid, reply.payload) == (cw.CHANGED, 0x5151, b"executions=2"), str(reply)


def test_duplicate_non_post_is_executed_once(wire):
    post = cw.encode(cw.NON, cw.POST, 0x6160, b"\x61", cw.uri_path_options("/demo/execute"))
    wire.send(post)
    wire.send(post)
    replies = [cw.decode(r) for r in wire.drain()]
    # §4.5: a duplicated NON is processed only once. The answer to a NON request is a NON response.
    assert [(r.mtype, r.code, r.token, r.payload) for r in replies] == [(cw.NON, cw.CHANGED, b"\x61", b"executions=1")], \
        [str(r) for r in replies]
    reply = cw.decode(wire.exchange(cw.encode(cw.CON, cw.POST, 0x6161, b"\x62", cw.uri_path_options("/demo/execute"))))
    assert reply.payload == b"executions=2", str(reply)


@pytest.mark.parametrize(("options", "expected"), [
    ([(cw.ACCEPT, b"")], cw.CONTENT),                      # Accept: text/plain, what it is
    ([(cw.ACCEPT, cw.uint_bytes(50))], cw.code(4, 6)),      # Accept: application/json → 4.06
    ([(35, b"coap://example.org/x")], cw.code(5, 5)),       # Proxy-Uri: we are no proxy → 5.05
], ids=["accept-text", "accept-json-4.06", "proxy-uri-5.05"])
def test_option_semantics(wire, options, expected):
    request = cw.encode(cw.CON, cw.GET, 0x3300, b"\x33", cw.uri_path_options("/demo/hello") + options)
    reply = cw.decode(wire.exchange(request))
    assert (reply.mtype, reply.mid, reply.token) == (cw.ACK, 0x3300, b"\x33"), str(reply)
    assert reply.code_str == cw.code_str(expected), str(reply)


def test_block1_retransmitted_block_is_not_appended_twice(wire):
    first, second = b"A" * 16, b"tail!"
    block0 = cw.encode(cw.CON, cw.PUT, 0x7100, b"\x71", cw.uri_path_options("/demo/store")
                       + [(cw.BLOCK1, cw.uint_bytes(0 << 4 | 0x8 | 0))], first)
    reply0 = wire.exchange(block0)
    again = wire.exchange(block0)  # the same message again (its ACK was "lost")
    assert reply0 == again
    reply = cw.decode(reply0)
    # RFC 7959 §2.3: 2.31 Continue, echoing Block1 with M set.
    assert (reply.mtype, reply.code, reply.mid) == (cw.ACK, cw.CONTINUE, 0x7100), str(reply)
    assert cw.block_value(reply.option(cw.BLOCK1)) == (0, True, 16)
    block1 = cw.encode(cw.CON, cw.PUT, 0x7101, b"\x72", cw.uri_path_options("/demo/store")
                       + [(cw.BLOCK1, cw.uint_bytes(1 << 4 | 0))], second)
    reply = cw.decode(wire.exchange(block1))
    assert (reply.code, reply.mid, reply.token) == (cw.CHANGED, 0x7101, b"\x72"), str(reply)
    assert cw.block_value(reply.option(cw.BLOCK1)) == (1, False, 16)
    reply = cw.decode(wire.exchange(cw.encode(cw.CON, cw.GET, 0x7102, b"\x73", cw.uri_path_options("/demo/store"))))
    assert (reply.code, reply.payload) == (cw.CONTENT, first + second), str(reply)


def register_counter(wire: Wire, token: bytes, mid: int) -> cw.Message:
    request = cw.encode(cw.CON, cw.GET, mid, token, [(cw.OBSERVE, b"")] + cw.uri_path_options("/demo/counter"))
    reply = cw.decode(wire.exchange(request))
    assert (reply.mtype, reply.code, reply.mid, reply.token) == (cw.ACK, cw.CONTENT, mid, token), str(reply)
    assert reply.option(cw.OBSERVE) is not None, "registration not confirmed with an Observe option"
    return reply


def test_observe_notifications_and_reset_cancels(start_daemon):
    daemon = start_daemon(tick=0.2)
    wire = Wire(daemon.address)
    try:
        token = b"\x0b\x5e"
        first = register_counter(wire, token, 0x8000)
        notifications = []
        while len(notifications) < 5:
            raw = wire.receive(2.0)
            assert raw is not None, f"only {len(notifications)} notifications"
            message = cw.decode(raw)
            assert message.token == token and message.code == cw.CONTENT, str(message)
            if message.mtype == cw.CON:
                wire.send(bytes([0x60, 0x00, message.mid >> 8, message.mid & 0xFF]))
            notifications.append(message)
        values = [int(first.payload)] + [int(m.payload) for m in notifications]
        assert values == list(range(values[0], values[0] + 6)), values
        sequence = [cw.uint_value(m.option(cw.OBSERVE)) for m in notifications]
        assert all(b > a for a, b in zip(sequence, sequence[1:])), sequence  # RFC 7641 §4.4
        # RFC 7641 §3.6: a Reset in answer to a notification cancels the observation.
        while True:
            raw = wire.receive(2.0)
            assert raw is not None, "notifications stopped before the Reset"
            message = cw.decode(raw)
            if message.mtype == cw.NON:
                break
            wire.send(bytes([0x60, 0x00, message.mid >> 8, message.mid & 0xFF]))
        wire.send(bytes([0x70, 0x00, message.mid >> 8, message.mid & 0xFF]))
        assert wire.drain(quiet=1.0) == []  # five ticks: nothing more
        daemon.proc.wait_for(r"observation \S+ ended: reset", timeout=2)
    finally:
        wire.close()


def test_unacknowledged_con_notifications_end_observation(start_daemon):
    # Confirmable notifications (every 10th) that are never acknowledged: retransmitted with
    # back-off (newer notifications take over the pending one's state, RFC 7641 §4.5.2), then the
    # observer is given up after MAX_RETRANSMIT (§4.5).
    daemon = start_daemon(tick=0.2, extra=("--ack-timeout", "0.1"))
    wire = Wire(daemon.address)
    try:
        register_counter(wire, b"\xdd", 0x8100)
        seen = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            raw = wire.receive(1.0)
            if raw is None:
                break  # a full second without a notification (five ticks): it stopped
            seen.append(cw.decode(raw))
        assert time.monotonic() < deadline, "notifications never stopped"
    finally:
        wire.close()
    confirmable = [m for m in seen if m.mtype == cw.CON]
    assert confirmable, [str(m) for m in seen]
    mids = [m.mid for m in confirmable]
    assert len(mids) > len(set(mids)), "no CON notification was retransmitted"
    daemon.proc.wait_for(r"observation \S+ ended: timeout", timeout=2)


def random_datagram(rng: random.Random) -> bytes:
    """Mostly version-1 headers (so they get past the first check), random everything else."""
    kind = rng.random()
    length = rng.choice([0, 1, 2, 3, 4, 5, 8, 12, 16, 32, 64, 200, rng.randrange(0, 1200)])
    data = bytearray(rng.randbytes(length))
    if kind < 0.7 and length >= 1:
        data[0] = 0x40 | data[0] & 0x3F  # version 1, random type and token length
    if kind < 0.35 and length >= 2:
        data[1] = rng.choice([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x07, 0x20, 0x45, 0x84, 0xE0, data[1]])
    return bytes(data)


def test_random_burst_then_normal_service(daemon, wire):
    rng = random.Random(SEED * 1000 + 1)
    burst = [random_datagram(rng) for _ in range(2000)]
    for index, datagram in enumerate(burst):
        wire.send(datagram)
        if index % 20 == 19:
            time.sleep(0.001)  # let the daemon drain its receive buffer now and then
    leftovers = wire.drain(quiet=0.5)
    for raw in leftovers:  # whatever it answered, it answered with well-formed CoAP
        cw.decode(raw)
    assert daemon.proc.alive(), daemon.log()[-3000:]

    # A fresh client is served normally (and the burst's socket too).
    fresh = Wire(daemon.address)
    try:
        token = b"\xf0\x0d"
        reply = cw.decode(fresh.exchange(cw.encode(cw.CON, cw.GET, 0x0BAD, token, cw.uri_path_options("/demo/hello"))))
        assert (reply.mtype, reply.code, reply.mid, reply.token) == (cw.ACK, cw.CONTENT, 0x0BAD, token), str(reply)
        assert reply.payload == b"Hello from lwm2m-agentd"
    finally:
        fresh.close()
    reply = cw.decode(wire.exchange(cw.encode(cw.CON, cw.GET, 0x0BAE, b"\x01", cw.uri_path_options("/demo/large"))))
    assert reply.code == cw.CONTENT and reply.payload == demo_large()[:1024]
    assert "dropped malformed datagram" in daemon.log()

    # And it still stops cleanly on SIGTERM.
    assert daemon.proc.stop(timeout=5) == 0, daemon.log()[-3000:]
    last = daemon.log().splitlines()[-1]
    match = re.search(r"stopped \((\d+) datagrams received", last)
    assert match, daemon.log()[-500:]
    # The burst really reached it (loopback may drop a few if the daemon lags behind).
    assert int(match.group(1)) >= 1500, last
