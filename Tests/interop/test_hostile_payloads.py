"""Hostile payloads over the wire: extreme integers in the content formats a Write accepts.

Each test sends one hand-built CON request (Tests/interop/coapwire.py, written from RFC 7252)
carrying a payload a hostile or buggy server could send, expects an answer (4.00 where the value
is out of range or of the wrong type), and then checks
the daemon is still alive and serving (a GET of the same resource gets 2.05). A value that is
well-formed after all (a time of 4([-2^63, 1]) is 0 s) is written: 2.04.

Issue 10, defect 1: a decimal fraction (CBOR tag 4, RFC 8949 §3.4.4) with exponent -2^63 made
``abs(exponent)`` trap and the daemon died (SIGILL) on the first Write.
"""

from __future__ import annotations


import pytest

import coapwire as cw

CBOR, SENML_CBOR, LWM2M_CBOR = 60, 112, 11544
SENML_JSON, LWM2M_JSON, TLV, TEXT = 110, 11543, 11542, 0

# The path prefix "/3/0/14" as a SenML CBOR name: a2 00 67 "/3/0/14" 02 <value>
SENML_UTC_OFFSET = bytes.fromhex("81a200672f332f302f313402")
# LwM2M CBOR (11544) key [3, 0, 14]
LWM2M_UTC_OFFSET = bytes.fromhex("a183" "03" "00" "0e")

INT64_MIN_EXPONENT = bytes.fromhex("c4823b7fffffffffffffff01")  # 4([-2^63, 1])
INT64_MAX_EXPONENT = bytes.fromhex("c4821b7fffffffffffffff01")  # 4([2^63-1, 1])
MIN_EXPONENT_MIN_MANTISSA = bytes.fromhex("c4823b7fffffffffffffff3b7fffffffffffffff")  # 4([-2^63, -2^63])

HOSTILE = [
    # The payload from the issue, byte for byte.
    pytest.param("/3/0/14", SENML_CBOR, bytes.fromhex("81a200672f332f302f313402c4823b7fffffffffffffff01"),
                 cw.BAD_REQUEST, id="senml-cbor-exponent-int64-min"),
    pytest.param("/3/0/14", LWM2M_CBOR, LWM2M_UTC_OFFSET + INT64_MIN_EXPONENT, cw.BAD_REQUEST, id="lwm2m-cbor-exponent-int64-min"),
    pytest.param("/3/0/14", SENML_CBOR, SENML_UTC_OFFSET + MIN_EXPONENT_MIN_MANTISSA,
                 cw.BAD_REQUEST, id="senml-cbor-exponent-and-mantissa-int64-min"),
    pytest.param("/3/0/14", SENML_CBOR, SENML_UTC_OFFSET + INT64_MAX_EXPONENT, cw.BAD_REQUEST, id="senml-cbor-exponent-int64-max"),
    pytest.param("/3/0/14", LWM2M_CBOR, LWM2M_UTC_OFFSET + INT64_MAX_EXPONENT, cw.BAD_REQUEST, id="lwm2m-cbor-exponent-int64-max"),
    # The same decimal fraction as a base value (bv, label -5) and as a time (t, label 6).
    pytest.param("/3/0/14", SENML_CBOR,
                 bytes.fromhex("81a300672f332f302f3134") + b"\x24" + INT64_MIN_EXPONENT + b"\x02\x01",
                 cw.BAD_REQUEST, id="senml-cbor-base-value-exponent-int64-min"),
    pytest.param("/3/0/14", SENML_CBOR,
                 bytes.fromhex("81a300672f332f302f3134") + b"\x06" + INT64_MIN_EXPONENT + b"\x03\x61+",
                 cw.CHANGED, id="senml-cbor-time-exponent-int64-min"),
]


@pytest.fixture
def daemon(start_daemon):
    return start_daemon(log_level="info")


@pytest.fixture
def wire(daemon):
    w = cw.Wire(daemon.address)
    yield w
    w.close()


@pytest.mark.parametrize(("path", "content_format", "payload", "expected"), HOSTILE)
def test_extreme_decimal_fraction_write_is_answered_and_daemon_keeps_serving(daemon, wire, path, content_format,
                                                                           payload, expected):
    put = cw.encode(cw.CON, cw.PUT, 0x1001, b"\x10\x01",
                    cw.uri_path_options(path) + [(cw.CONTENT_FORMAT, cw.uint_bytes(content_format))], payload)
    wire.send(put)
    reply = cw.decode(raw) if (raw := wire.receive(3.0)) is not None else None
    assert reply is not None, (f"no answer to PUT {path} ({content_format}) {payload.hex()}; "
                               f"daemon alive: {daemon.proc.alive()}; log tail:\n{daemon.log()[-2000:]}")
    assert reply.mtype == cw.ACK and reply.mid == 0x1001 and reply.token == b"\x10\x01", str(reply)
    assert reply.code == expected, f"expected {cw.code_str(expected)}, got {reply}: {reply.payload!r}"

    # Still serving: the process is alive and a Read of the same resource succeeds.
    assert daemon.proc.alive(), daemon.log()[-2000:]
    get = cw.encode(cw.CON, cw.GET, 0x1002, b"\x10\x02", cw.uri_path_options(path))
    answer = cw.decode(wire.exchange(get, timeout=3.0))
    assert answer.code == cw.CONTENT, f"GET {path} after the hostile Write: {answer}"
    assert daemon.proc.alive(), daemon.log()[-2000:]
