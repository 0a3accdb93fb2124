"""LwM2M Device Management and Information Reporting operations against ``lwm2m-demo``
from aiocoap (an independent CoAP client in Python): Read-/Write-/Observe-Composite with FETCH
and iPATCH in SenML, Create and Delete, Write-Replace, Discover after Write-Attributes, Execute
arguments. Payloads are built and read with Python's json and cbor2, not our codecs.

The demo serves a Device object (/3/0, Current Time /3/0/13 moving every tick) and a Light
Control object (/3311/0: On/Off 5850 mandatory, Dimmer 5851 and Colour 5706 optional and
writable, Power factor 5820 read-only)."""

from __future__ import annotations

import asyncio
import json

import cbor2
from aiocoap import Context, Message
from aiocoap.numbers.codes import Code

from aiocoap_client import exchange, request

SENML_JSON, SENML_CBOR, LINK_FORMAT, TEXT = 110, 112, 40, 0


def senml_names(records: list[dict], name_key="n", base_key="bn") -> dict[str, dict]:
    """Records by resolved name (RFC 8428 §4.5.1: bn carries over to later records)."""
    base, result = "", {}
    for record in records:
        base = record.get(base_key, base)
        result[base + record.get(name_key, "")] = record
    return result




def run(coroutine):
    return asyncio.run(coroutine)




def paths_json(*paths: str) -> bytes:
    return json.dumps([{"n": p} for p in paths]).encode()


def read_json(daemon, path: str) -> dict[str, dict]:
    response = request(daemon, Code.GET, path, accept=SENML_JSON)
    assert response.code == Code.CONTENT, response
    return senml_names(json.loads(response.payload))


def test_read_composite_senml_json_and_cbor(start_daemon):
    daemon = start_daemon()
    response = request(daemon, Code.FETCH, "/", payload=paths_json("/3/0/0", "/3311/0/5851", "/3/0/7"),
                       content_format=SENML_JSON)
    assert response.code == Code.CONTENT
    assert response.opt.content_format == SENML_JSON
    values = senml_names(json.loads(response.payload))
    assert values["/3/0/0"]["vs"] == "Open Source Gateways"
    assert values["/3311/0/5851"]["v"] == 50
    assert values["/3/0/7/0"]["v"] == 3700 and values["/3/0/7/1"]["v"] == 5000

    body = cbor2.dumps([{0: "/3311/0/5850"}, {0: "/3/0/9"}])
    response = request(daemon, Code.FETCH, "/", payload=body, content_format=SENML_CBOR, accept=SENML_CBOR)
    assert response.code == Code.CONTENT and response.opt.content_format == SENML_CBOR
    values = senml_names(cbor2.loads(response.payload), name_key=0, base_key=-2)
    assert values["/3311/0/5850"][4] is True  # vb
    assert isinstance(values["/3/0/9"][2], int)

    # A composite answer is SenML only; the path list must be SenML too.
    assert request(daemon, Code.FETCH, "/", payload=paths_json("/3/0/0"), content_format=SENML_JSON,
                   accept=11542).code == Code.NOT_ACCEPTABLE
    assert request(daemon, Code.FETCH, "/", payload=b"/3/0/0", content_format=TEXT).code \
        == Code.UNSUPPORTED_CONTENT_FORMAT


def test_write_composite_is_applied_whole_or_not_at_all(start_daemon):
    daemon = start_daemon()
    body = json.dumps([{"n": "/3311/0/5851", "v": 75}, {"n": "/3311/0/5706", "vs": "blue"}]).encode()
    assert request(daemon, Code.iPATCH, "/", payload=body, content_format=SENML_JSON).code == Code.CHANGED
    values = read_json(daemon, "/3311/0")
    assert values["/3311/0/5851"]["v"] == 75 and values["/3311/0/5706"]["vs"] == "blue"

    # Power factor (5820) is read-only: 4.05, and the Dimmer keeps 75.
    body = json.dumps([{"n": "/3311/0/5851", "v": 10}, {"n": "/3311/0/5820", "v": 1.0}]).encode()
    assert request(daemon, Code.iPATCH, "/", payload=body, content_format=SENML_JSON).code == Code.METHOD_NOT_ALLOWED
    # A missing instance: 4.04, nothing written.
    body = json.dumps([{"n": "/3311/0/5851", "v": 10}, {"n": "/3311/9/5851", "v": 1}]).encode()
    assert request(daemon, Code.iPATCH, "/", payload=body, content_format=SENML_JSON).code == Code.NOT_FOUND
    # Garbage: 4.00.
    assert request(daemon, Code.iPATCH, "/", payload=b"[{\"n\":", content_format=SENML_JSON).code == Code.BAD_REQUEST
    assert read_json(daemon, "/3311/0")["/3311/0/5851"]["v"] == 75


def test_observe_composite_notifies_with_every_path(start_daemon):
    daemon = start_daemon(tick=0.2)

    async def observe():
        context = await Context.create_client_context()
        try:
            message = Message(code=Code.FETCH, uri=daemon.uri("/"), observe=0,
                              payload=paths_json("/3/0/13", "/3311/0/5851"))
            message.opt.content_format = SENML_JSON
            pending = context.request(message)
            first = await asyncio.wait_for(pending.response, 10)
            notifications = []
            async for notification in pending.observation:
                notifications.append(notification)
                if len(notifications) == 2:
                    break
            pending.observation.cancel()
            return first, notifications
        finally:
            await context.shutdown()

    first, notifications = asyncio.run(asyncio.wait_for(observe(), 30))
    assert first.code == Code.CONTENT and first.opt.observe is not None
    times = []
    for response in [first, *notifications]:
        assert response.opt.content_format == SENML_JSON
        values = senml_names(json.loads(response.payload))
        assert set(values) == {"/3/0/13", "/3311/0/5851"}
        assert values["/3311/0/5851"]["v"] == 50
        times.append(values["/3/0/13"]["v"])
    assert times == sorted(times) and times[-1] > times[0]  # Current Time moved on


def test_create_then_delete(start_daemon):
    daemon = start_daemon()
    body = json.dumps([{"n": "/3311/4/5850", "vb": False}, {"n": "/3311/4/5706", "vs": "red"}]).encode()
    created = request(daemon, Code.POST, "/3311", payload=body, content_format=SENML_JSON)
    assert created.code == Code.CREATED
    assert list(created.opt.location_path) == ["3311", "4"]
    values = read_json(daemon, "/3311/4")
    assert values["/3311/4/5850"]["vb"] is False and values["/3311/4/5706"]["vs"] == "red"
    # Again: the instance exists. Without the mandatory On/Off: 4.00.
    assert request(daemon, Code.POST, "/3311", payload=body, content_format=SENML_JSON).code == Code.BAD_REQUEST
    missing = json.dumps([{"n": "/3311/5/5706", "vs": "red"}]).encode()
    assert request(daemon, Code.POST, "/3311", payload=missing, content_format=SENML_JSON).code == Code.BAD_REQUEST

    assert request(daemon, Code.DELETE, "/3311/4").code == Code.DELETED
    assert request(daemon, Code.GET, "/3311/4", accept=SENML_JSON).code == Code.NOT_FOUND
    assert request(daemon, Code.DELETE, "/3311/4").code == Code.NOT_FOUND


def test_write_replace_removes_absent_optional_resources(start_daemon):
    daemon = start_daemon()
    body = json.dumps([{"n": "/3311/0/5850", "vb": False}]).encode()
    assert request(daemon, Code.PUT, "/3311/0", payload=body, content_format=SENML_JSON).code == Code.CHANGED
    values = read_json(daemon, "/3311/0")
    # Dimmer and Colour (optional, writable) are gone; Power factor (read-only) stays.
    assert set(values) == {"/3311/0/5850", "/3311/0/5820"}
    assert values["/3311/0/5850"]["vb"] is False
    # A replace without the mandatory On/Off is refused and changes nothing.
    body = json.dumps([{"n": "/3311/0/5851", "v": 1}]).encode()
    assert request(daemon, Code.PUT, "/3311/0", payload=body, content_format=SENML_JSON).code == Code.BAD_REQUEST
    assert set(read_json(daemon, "/3311/0")) == {"/3311/0/5850", "/3311/0/5820"}
    # A partial update (POST) keeps what is there.
    body = json.dumps([{"n": "/3311/0/5851", "v": 20}]).encode()
    assert request(daemon, Code.POST, "/3311/0", payload=body, content_format=SENML_JSON).code == Code.CHANGED
    assert set(read_json(daemon, "/3311/0")) == {"/3311/0/5850", "/3311/0/5851", "/3311/0/5820"}


def test_discover_lists_written_attributes(start_daemon):
    daemon = start_daemon()
    assert run(exchange(daemon.uri("/3/0/9?pmin=5&pmax=30"), Code.PUT)).code == Code.CHANGED
    assert run(exchange(daemon.uri("/3/0?gt=1"), Code.PUT)).code == Code.BAD_REQUEST  # gt: resources only
    response = request(daemon, Code.GET, "/3/0", accept=LINK_FORMAT)
    assert response.code == Code.CONTENT and response.opt.content_format == LINK_FORMAT
    links = response.payload.decode().split(",")
    assert "</3/0/9>;pmin=5;pmax=30" in links
    assert "</3/0/7>;dim=2" in links


def test_execute_arguments(start_daemon):
    daemon = start_daemon()
    assert request(daemon, Code.POST, "/3/0/4", payload=b"0='abc',1").code == Code.CHANGED
    for bad in [b"0=abc", b"a", b"0='x", b"0,,1"]:
        assert request(daemon, Code.POST, "/3/0/4", payload=bad).code == Code.BAD_REQUEST, bad
    assert request(daemon, Code.POST, "/3/0/0").code == Code.METHOD_NOT_ALLOWED


def test_bad_composite_input_never_breaks_the_agent(start_daemon):
    daemon = start_daemon()
    for payload, fmt in [(b"\xff\x00", SENML_CBOR), (b"{}", SENML_JSON), (b"[{\"n\":\"/3/x\"}]", SENML_JSON),
                         (cbor2.dumps([{0: 5}]), SENML_CBOR), (b"", SENML_JSON)]:
        assert request(daemon, Code.FETCH, "/", payload=payload, content_format=fmt).code == Code.BAD_REQUEST
        assert request(daemon, Code.iPATCH, "/", payload=payload, content_format=fmt).code == Code.BAD_REQUEST
    assert daemon.proc.alive()
    assert read_json(daemon, "/3/0")["/3/0/16"]["vs"] == "U"


async def observe_values(uri: str, count: int, timeout: float = 20.0) -> list[tuple[float, bytes]]:
    """Observes ``uri`` (GET, Observe 0) and returns (arrival time, payload) of the registration
    answer and the next ``count`` notifications."""
    context = await Context.create_client_context()
    loop = asyncio.get_running_loop()
    try:
        pending = context.request(Message(code=Code.GET, uri=uri, observe=0))
        first = await asyncio.wait_for(pending.response, 10)
        assert first.code == Code.CONTENT and first.opt.observe is not None, first
        received = [(loop.time(), first.payload)]

        async def collect():
            async for notification in pending.observation:
                received.append((loop.time(), notification.payload))
                if len(received) == count + 1:
                    return

        await asyncio.wait_for(collect(), timeout)
        pending.observation.cancel()
        return received
    finally:
        await context.shutdown()


def test_observe_with_pmin_and_pmax(start_daemon):
    daemon = start_daemon()
    # Timezone (/3/0/15) never changes: only pmax makes notifications.
    assert run(exchange(daemon.uri("/3/0/15?pmax=1"), Code.PUT)).code == Code.CHANGED
    received = run(observe_values(daemon.uri("/3/0/15"), 2))
    gaps = [b[0] - a[0] for a, b in zip(received, received[1:])]
    assert all(0.8 <= gap <= 2.5 for gap in gaps), gaps
    assert {payload for _, payload in received} == {b"Etc/UTC"}
    # Current Time (/3/0/13) changes every second; pmin 2 spaces the notifications.
    assert run(exchange(daemon.uri("/3/0/13?pmin=2"), Code.PUT)).code == Code.CHANGED
    received = run(observe_values(daemon.uri("/3/0/13"), 2))
    gaps = [b[0] - a[0] for a, b in zip(received, received[1:])]
    assert all(gap >= 1.8 for gap in gaps), gaps
    times = [int(payload) for _, payload in received]
    assert times[1] - times[0] >= 2 and times[2] - times[1] >= 2


def test_observe_with_lt_and_st(start_daemon):
    # Battery Level (/3/0/9) drops by 1 every 10 ticks: every 0.2 s here.
    daemon = start_daemon(tick=0.02)
    level = int(request(daemon, Code.GET, "/3/0/9").payload)
    assert run(exchange(daemon.uri(f"/3/0/9?lt={level - 2.5}"), Code.PUT)).code == Code.CHANGED
    received = run(observe_values(daemon.uri("/3/0/9"), 1))
    # The first notification is the crossing of lt: from level-2 to level-3.
    assert int(received[1][1]) == level - 3, received
    # With a step of 3 (lt removed) each notification is 3 below the previous one.
    assert run(exchange(daemon.uri("/3/0/9?lt&st=3"), Code.PUT)).code == Code.CHANGED
    values = [int(payload) for _, payload in run(observe_values(daemon.uri("/3/0/9"), 2))]
    steps = [a - b for a, b in zip(values, values[1:])]
    assert steps == [3, 3], values  # (the level wraps from 0 to 100 only after about 19 s)


def test_send_golden_vector_decodes_with_cbor2():
    """The SenML CBOR Send payload hand-encoded in Tests/LwM2MTests/SendRequestTests.swift
    (`senmlCBORGoldenVector`), read by cbor2: one record, n "/3/0/9", v 95, bt 1700000000."""
    golden = bytes.fromhex("81a3" "00" "66") + b"/3/0/9" + bytes.fromhex("02185f" "221a6553f100")
    assert cbor2.loads(golden) == [{0: "/3/0/9", 2: 95, -3: 1_700_000_000}]
