"""Plain CBOR (Content-Format 60, ``application/cbor``; LwM2M TS 1.1.1 §7.4.6) for single
resource values, against ``lwm2m-demo`` from aiocoap: Read, Write, Observe, and what the
agent refuses. Payloads are built and read with Python's cbor2 (an independent CBOR codec); the
reference values come from a SenML JSON read of the same resources.

The demo serves a Device object (/3/0; Current Time /3/0/13 moves every tick) and a Light Control
object (/3311/0: On/Off 5850 Boolean, Dimmer 5851 Integer, Colour 5706 String, all writable;
Power factor 5820 Float, read-only)."""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import time

import cbor2
from aiocoap import Context, Message
from aiocoap.numbers.codes import Code

from aiocoap_client import request

CBOR, SENML_JSON, SENML_CBOR = 60, 110, 112

# Issue 10 defect 1's payload value: a decimal fraction (tag 4) 1 × 10^(−2^63).
DECIMAL_FRACTION_MIN_EXPONENT = bytes.fromhex("c4823b7fffffffffffffff01")






def read_cbor(daemon, path: str):
    """GET ``path`` with Accept 60: (decoded value, raw payload)."""
    response = request(daemon, Code.GET, path, accept=CBOR)
    assert response.code == Code.CONTENT, (path, response, response.payload)
    assert response.opt.content_format == CBOR, (path, response)
    return cbor2.loads(response.payload), response.payload


def senml_values(daemon, path: str) -> dict:
    """Every value under ``path`` from a SenML JSON read, by resolved name."""
    response = request(daemon, Code.GET, path, accept=SENML_JSON)
    assert response.code == Code.CONTENT, response
    base, values = "", {}
    for record in json.loads(response.payload):
        base = record.get("bn", base)
        name = base + record.get("n", "")
        for key in ("v", "vs", "vb", "vlo"):
            if key in record:
                values[name] = record[key]
        if "vd" in record:
            values[name] = base64.urlsafe_b64decode(record["vd"] + "=" * (-len(record["vd"]) % 4))
    return values


def put_cbor(daemon, path: str, payload: bytes) -> Message:
    return request(daemon, Code.PUT, path, payload=payload, content_format=CBOR)


def test_read_every_single_value_in_plain_cbor(start_daemon):
    daemon = start_daemon()
    reference = {**senml_values(daemon, "/3/0"), **senml_values(daemon, "/3311/0")}
    multi = {name.rsplit("/", 1)[0] for name in reference if name.count("/") == 4}
    singles = {name: value for name, value in reference.items() if name.count("/") == 3 and name not in multi}
    assert {"/3/0/0", "/3/0/9", "/3/0/13", "/3/0/16", "/3311/0/5850", "/3311/0/5820"} <= set(singles), singles
    for name, expected in sorted(singles.items()):
        value, raw = read_cbor(daemon, name)
        if name == "/3/0/13":
            # Time: tag 1 (epoch-based date/time) around an integer; cbor2 gives a datetime.
            assert raw[0] == 0xC1 and isinstance(value, datetime.datetime), raw.hex()
            assert abs(value.timestamp() - expected) <= 5, (value, expected)
        else:
            assert value == expected and type(value) is type(expected), (name, value, expected, raw.hex())
    # Exact bytes for a few types (hand-checked, RFC 8949 §3): a float in the shortest width that
    # holds it, a Boolean, a text string.
    assert read_cbor(daemon, "/3311/0/5820")[1] == bytes.fromhex("fb3feccccccccccccd")  # 0.9
    assert read_cbor(daemon, "/3311/0/5850")[1] == b"\xf5"
    assert read_cbor(daemon, "/3311/0/5706")[1] == b"\x6awarm white"
    # One resource instance of a multi-instance resource.
    for name in (n for n in reference if n.startswith("/3/0/7/")):
        assert read_cbor(daemon, name)[0] == reference[name]
    # More than one value: 4.06 Not Acceptable (as for text/plain).
    for path in ("/3/0", "/3", "/3/0/7", "/3311/0"):
        response = request(daemon, Code.GET, path, accept=CBOR)
        assert response.code == Code.NOT_ACCEPTABLE, (path, response)


def test_write_single_values_in_plain_cbor(start_daemon):
    daemon = start_daemon()
    writes = [
        ("/3311/0/5851", cbor2.dumps(75), 75),
        ("/3311/0/5851", bytes.fromhex("1b0000000000000005"), 5),  # an 8-byte head: still 5
        ("/3311/0/5706", cbor2.dumps("red"), "red"),
        ("/3311/0/5706", bytes.fromhex("7f6272656364656eff"), "reden"),  # indefinite-length text
        ("/3311/0/5850", cbor2.dumps(False), False),
    ]
    for path, payload, expected in writes:
        response = put_cbor(daemon, path, payload)
        assert response.code == Code.CHANGED, (path, payload.hex(), response, response.payload)
        assert read_cbor(daemon, path)[0] == expected, path
        assert senml_values(daemon, path)[path] == expected, path
    # Time, tagged (as Leshan writes it) or not.
    for payload in (cbor2.dumps(cbor2.CBORTag(1, 1_367_491_215)), cbor2.dumps(1_367_491_215)):
        assert put_cbor(daemon, "/3/0/13", payload).code == Code.CHANGED
        value, raw = read_cbor(daemon, "/3/0/13")
        assert 1_367_491_215 <= value.timestamp() <= 1_367_491_215 + 5, value  # the demo's clock ticks on


def test_bad_plain_cbor_writes_are_bad_requests_and_change_nothing(start_daemon):
    daemon = start_daemon()
    assert put_cbor(daemon, "/3311/0/5851", cbor2.dumps(42)).code == Code.CHANGED
    assert put_cbor(daemon, "/3311/0/5706", cbor2.dumps("blue")).code == Code.CHANGED
    bad = {
        "/3311/0/5851": [  # Integer
            b"", bytes.fromhex("19"), bytes.fromhex("1903"), cbor2.dumps(42) + b"\x00", cbor2.dumps("42"),
            cbor2.dumps(42.0), cbor2.dumps(2**63), cbor2.dumps(-(2**63) - 1), cbor2.dumps(2**64),  # bignum
            cbor2.dumps(None), cbor2.dumps([42]), cbor2.dumps({0: 42}), cbor2.dumps(cbor2.CBORTag(1, 42)),
            DECIMAL_FRACTION_MIN_EXPONENT, bytes.fromhex("c48221196ab3"), b"\x1c", b"\xff", b"\x81" * 5000 + b"\x00",
        ],
        "/3311/0/5706": [  # String
            cbor2.dumps(b"blue"), cbor2.dumps(7), bytes.fromhex("62c328"),  # invalid UTF-8
            bytes.fromhex("7b ffffffffffffffff 41".replace(" ", "")),  # a text of 2^64 - 1 bytes
            bytes.fromhex("7f4100ff"),  # a byte chunk in a text
        ],
        "/3311/0/5850": [cbor2.dumps(1), cbor2.dumps("true"), cbor2.dumps(None), bytes.fromhex("f7")],  # Boolean
    }
    for path, payloads in bad.items():
        for payload in payloads:
            response = put_cbor(daemon, path, payload)
            assert response.code == Code.BAD_REQUEST, (path, payload[:40].hex(), response, response.payload)
    assert daemon.proc.alive()
    assert read_cbor(daemon, "/3311/0/5851")[0] == 42
    assert read_cbor(daemon, "/3311/0/5706")[0] == "blue"
    assert read_cbor(daemon, "/3311/0/5850")[0] is True
    # One value only: an instance (Write) or an object (Create) in CBOR is 4.00.
    assert put_cbor(daemon, "/3311/0", cbor2.dumps({5851: 1})).code == Code.BAD_REQUEST
    assert request(daemon, Code.POST, "/3311", payload=cbor2.dumps(1), content_format=CBOR).code == Code.BAD_REQUEST


def test_composite_operations_do_not_take_plain_cbor(start_daemon):
    daemon = start_daemon()
    paths = cbor2.dumps([{0: "/3/0/0"}])
    response = request(daemon, Code.FETCH, "/", payload=paths, content_format=SENML_CBOR, accept=CBOR)
    assert response.code == Code.NOT_ACCEPTABLE, response
    response = request(daemon, Code.iPATCH, "/", payload=cbor2.dumps(7), content_format=CBOR)
    assert response.code == Code.UNSUPPORTED_CONTENT_FORMAT, response


def test_observe_in_plain_cbor(start_daemon):
    daemon = start_daemon(tick=0.2)

    async def observe():
        context = await Context.create_client_context()
        try:
            message = Message(code=Code.GET, uri=daemon.uri("/3/0/13"), observe=0)
            message.opt.accept = CBOR
            pending = context.request(message)
            first = await asyncio.wait_for(pending.response, 10)
            assert first.code == Code.CONTENT and first.opt.observe is not None, (first, first.payload)
            notifications = []
            async for notification in pending.observation:
                notifications.append(notification)
                if len(notifications) == 2:
                    break
            pending.observation.cancel()
            return first, notifications
        finally:
            await context.shutdown()

    started = time.time()
    first, notifications = asyncio.run(asyncio.wait_for(observe(), 30))
    times = []
    for response in (first, *notifications):
        assert response.opt.content_format == CBOR, response
        assert response.payload[0] == 0xC1, response.payload.hex()  # tag 1
        times.append(cbor2.loads(response.payload).timestamp())
    assert times == sorted(times) and times[-1] > times[0], times
    assert abs(times[0] - started) < 120, (times, started)
