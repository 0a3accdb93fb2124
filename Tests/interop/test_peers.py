"""The peer servers (peers/bootstrap_server.py, peers/management_server.py) as real processes on
loopback, proven against a fake LwM2M device written here with aiocoap.

The fake device is deliberately independent of the peers' codecs: it reads TLV with its own
few-line reader, answers the Device object with the TS 1.1 example bytes (test_peers_codec.py),
and builds SenML with json/cbor2 directly. It runs in a thread with its own event loop and a
single aiocoap socket on 127.0.0.1, so everything the servers send it is visible in its request
log, including the source address (which must be the server's listening socket).

Process discipline follows conftest.py: free ports (the servers bind port 0 and report it), every
process killed when the test ends, bounded waits, process output attached to failures.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import threading
import time

import aiocoap
import aiocoap.resource as resource
import cbor2
import pytest

import coapwire
from conftest import HERE
from peerproc import PEERS, WAIT, PeerProc  # noqa: F401 (PeerProc: fixture type)
from test_peers_codec import DEVICE_TLV, DEVICE_VALUES



# MARK: - Fake device


def tlv_read(data: bytes) -> list[tuple[int, int, bytes]]:
    """(identifier type, id, value) per TLV at this level: the device's own reader."""
    out, i = [], 0
    while i < len(data):
        kind = data[i]
        id_len = 2 if kind & 0x20 else 1
        ident = int.from_bytes(data[i + 1:i + 1 + id_len], "big")
        i += 1 + id_len
        size = (kind >> 3) & 3
        length = int.from_bytes(data[i:i + size], "big") if size else kind & 7
        i += size
        out.append((kind >> 6, ident, data[i:i + length]))
        i += length
    return out


def as_int(value) -> int:
    return int.from_bytes(value, "big", signed=True) if isinstance(value, bytes) else int(value)


def as_text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def as_bool(value) -> bool:
    return value == b"\x01" if isinstance(value, bytes) else bool(value)


class FakeDevice:
    """A minimal LwM2M client: Bootstrap-Request, Bootstrap-Delete/Write/Discover/Read/Finish,
    Register/Update/De-register, and a Device object /3/0 with an observable battery level /3/0/9.
    Instances are kept as {(obj, inst): {res: value}}; TLV values stay bytes, SenML values are
    Python values, multiple resources are {res_instance: value}."""

    def __init__(self, ep: str):
        self.ep = ep
        self.objects: dict[tuple[int, int], dict] = {(0, 0): {0: b"coap://127.0.0.1:1", 1: b"\x01", 2: b"\x03"},
                                                    (3, 0): {}}
        self.requests: list[dict] = []
        self.mute: set[str] = set()  # paths whose requests are never answered
        self.battery = 100
        self.finish_code = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.root = self.call(self._start())

    def call(self, coroutine, timeout: float = WAIT):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _start(self):
        root = DeviceRoot(self)
        self.context = await aiocoap.Context.create_server_context(root, bind=("127.0.0.1", 0),
                                                                   transports=["udp6"])
        self.port = self.context.request_interfaces[0].token_interface.message_interface._local_port()
        return root

    def close(self) -> None:
        try:
            self.call(self.context.shutdown(), timeout=5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)

    # Device -> server

    async def _send(self, code, port: int, path: tuple, query=(), payload=b"", content_format=None,
                    timeout=WAIT):
        message = aiocoap.Message(code=code, uri=f"coap://127.0.0.1:{port}", payload=payload)
        message.opt.uri_path = path
        message.opt.uri_query = tuple(query)
        if content_format is not None:
            message.opt.content_format = content_format
        return await asyncio.wait_for(self.context.request(message).response, timeout)

    def send(self, code, port, path, **kwargs):
        return self.call(self._send(code, port, path, **kwargs), timeout=WAIT + 1)

    def bootstrap_request(self, port: int, pct: int | None = None, timeout: float = WAIT):
        query = [f"ep={self.ep}"] + ([f"pct={pct}"] if pct is not None else [])
        return self.send(aiocoap.POST, port, ("bs",), query=query, timeout=timeout)

    LINKS = b'</>;rt="oma.lwm2m";ct=11542,</1/1>,</3/0>;ver=1.2,</3303/0>,</5>'

    def register(self, port: int, query=None, payload=LINKS, content_format=40):
        query = query if query is not None else [f"ep={self.ep}", "lt=300", "lwm2m=1.1", "b=UQ"]
        return self.send(aiocoap.POST, port, ("rd",), query=query, payload=payload, content_format=content_format)

    def set_battery(self, level: int) -> None:
        def change():
            self.battery = level
            self.root.updated_state()
        self.loop.call_soon_threadsafe(change)

    # Server -> device

    def bs_accounts(self) -> list[tuple[int, int]]:
        return [key for key, res in self.objects.items() if key[0] == 0 and as_bool(res.get(1, b"\x00"))]

    def write(self, path: tuple[int, ...], payload: bytes, fmt, partial: bool = False) -> None:
        if fmt == 11542:
            if len(path) == 1:
                for kind, inst, body in tlv_read(payload):
                    assert kind == 0, "object write carries object-instance TLVs"
                    self.write_resources((path[0], inst), body)
            else:
                entries = tlv_read(payload)
                if len(entries) == 1 and entries[0][0] == 0:
                    assert entries[0][1] == path[1], "wrapped instance id matches the path"
                    payload = entries[0][2]
                if len(path) == 2:
                    self.write_resources(path, payload, replace=not partial)
                else:
                    self.write_resources(path[:2], payload, replace=False)
        elif fmt in (110, 112):
            pack = json.loads(payload) if fmt == 110 else [
                {{-2: "bn", 0: "n", 2: "v", 3: "vs", 4: "vb", 8: "vd"}.get(k, k): v for k, v in record.items()}
                for record in cbor2.loads(payload)]
            base = ""
            for record in pack:
                base = record.get("bn", base)
                ids = [int(p) for p in (base + record.get("n", "")).split("/") if p]
                value = next(record[k] for k in ("v", "vs", "vb", "vd", "vlo") if k in record)
                instance = self.objects.setdefault((ids[0], ids[1]), {})
                if len(ids) == 4:
                    instance.setdefault(ids[2], {})[ids[3]] = value
                else:
                    instance[ids[2]] = value
        elif fmt == 0:
            self.objects.setdefault(path[:2], {})[path[2]] = payload.decode()
        else:
            raise ValueError(f"format {fmt}")

    def write_resources(self, key: tuple[int, int], body: bytes, replace: bool = True) -> None:
        instance = {} if replace else dict(self.objects.get(key, {}))
        for kind, rid, value in tlv_read(body):
            if kind == 3:
                instance[rid] = value
            elif kind == 2:
                instance[rid] = {riid: v for _, riid, v in tlv_read(value)}
        self.objects[key] = instance

    def consistent(self) -> str | None:
        servers = {as_int(res[10]) for key, res in self.objects.items()
                   if key[0] == 0 and not as_bool(res.get(1, b"\x00")) and 10 in res}
        matched = [key for key, res in self.objects.items() if key[0] == 1 and as_int(res.get(0, b"\xff")) in servers]
        if not matched:
            return "no /1 instance matches a /0 server account"
        if len(self.bs_accounts()) > 1:
            return "more than one Bootstrap-Server account"
        return None


class DeviceRoot(resource.ObservableResource):
    """Every path of the fake device; only /3/0/9 accepts observations."""

    def __init__(self, device: FakeDevice):
        super().__init__()
        self.device = device
        self.observers = 0

    async def add_observation(self, request, serverobservation):
        if tuple(request.opt.uri_path) == ("3", "0", "9"):
            await super().add_observation(request, serverobservation)

    def update_observation_count(self, newcount):
        self.observers = newcount

    async def render(self, request):
        device = self.device
        path = tuple(int(p) for p in request.opt.uri_path if p.isdigit())
        raw_path = "/" + "/".join(request.opt.uri_path)
        device.requests.append({
            "method": request.code.name, "path": raw_path,
            "query": list(request.opt.uri_query), "accept": request.opt.accept,
            "format": request.opt.content_format, "observe": request.opt.observe,
            "token": request.token.hex(), "payload": request.payload,
            "remote_port": request.remote.sockaddr[1]})
        code = request.code
        if raw_path in device.mute:
            await asyncio.sleep(3600)
        if code == aiocoap.POST and raw_path == "/bs":
            problem = device.consistent()
            device.finish_code = "4.06" if problem else "2.04"
            if problem:
                return aiocoap.Message(code=aiocoap.NOT_ACCEPTABLE, payload=problem.encode())
            return aiocoap.Message(code=aiocoap.CHANGED)
        if code == aiocoap.DELETE:
            keep = set(device.bs_accounts()) | {(3, 0)}
            for key in list(device.objects):
                if key not in keep and key[:len(path)] == path[:2]:
                    del device.objects[key]
            return aiocoap.Message(code=aiocoap.DELETED)
        if code == aiocoap.PUT and request.opt.uri_query and not request.payload:
            return aiocoap.Message(code=aiocoap.CHANGED)  # Write-Attributes
        if code == aiocoap.PUT:
            device.write(path, request.payload, request.opt.content_format)
            return aiocoap.Message(code=aiocoap.CHANGED)
        if code == aiocoap.POST and path == (3303,):
            device.write((3303, 0), request.payload, request.opt.content_format)
            return aiocoap.Message(code=aiocoap.CREATED, location_path=("3303", "0"))
        if code == aiocoap.POST and len(path) == 2 and request.payload:  # Write (partial update)
            device.write(path, request.payload, request.opt.content_format, partial=True)
            return aiocoap.Message(code=aiocoap.CHANGED)
        if code == aiocoap.POST and path == (3, 0, 4):
            return aiocoap.Message(code=aiocoap.CHANGED)  # Execute (Reboot), arguments in the log
        if code == aiocoap.GET:
            return self.read(path, request.opt.accept)
        return aiocoap.Message(code=aiocoap.METHOD_NOT_ALLOWED)

    def read(self, path, accept):
        device = self.device
        if accept == 40 and path == ():
            links = ['lwm2m="1.1"']
            for (obj, inst), res in sorted(device.objects.items()):
                attrs = ""
                if obj == 0 and 10 in res:
                    attrs = f";ssid={as_int(res[10])}"
                if obj == 0:
                    attrs += f';uri="{as_text(res[0])}"'
                if obj == 1:
                    attrs = f";ssid={as_int(res[0])}"
                links.append(f"</{obj}/{inst}>{attrs}")
            return aiocoap.Message(code=aiocoap.CONTENT, payload=",".join(links).encode(), content_format=40)
        if accept == 40 and path == (3,):
            return aiocoap.Message(code=aiocoap.CONTENT, payload=b"</3>;ver=1.2,</3/0>,</3/0/9>;pmax=60,</3/0/13>", content_format=40)
        if path == (1,) and accept == 110:
            pack = []
            for (obj, inst), res in sorted(device.objects.items()):
                if obj == 1:
                    pack += [{"bn": f"/1/{inst}/", "n": "0", "v": as_int(res[0])}, {"n": "1", "v": as_int(res[1])}]
            return aiocoap.Message(code=aiocoap.CONTENT, payload=json.dumps(pack).encode(), content_format=110)
        if path == (3, 0):
            if accept in (None, 11542):
                return aiocoap.Message(code=aiocoap.CONTENT, payload=DEVICE_TLV, content_format=11542)
            pack = [{"bn": "/3/0/", "n": "0", "vs": "Open Mobile Alliance"}, {"n": "7/0", "v": 3800},
                    {"n": "9", "v": device.battery}, {"n": "16", "vs": "U"}]
            if accept == 110:
                return aiocoap.Message(code=aiocoap.CONTENT, payload=json.dumps(pack).encode(), content_format=110)
            if accept == 112:
                labels = {"bn": -2, "n": 0, "v": 2, "vs": 3}
                return aiocoap.Message(code=aiocoap.CONTENT, payload=cbor2.dumps([{labels[k]: v for k, v in r.items()} for r in pack]),
                                       content_format=112)
            return aiocoap.Message(code=aiocoap.NOT_ACCEPTABLE)
        if path == (3, 0, 9):
            return aiocoap.Message(code=aiocoap.CONTENT, payload=str(device.battery).encode(), content_format=0)
        return aiocoap.Message(code=aiocoap.NOT_FOUND)


@pytest.fixture
def make_device():
    devices = []

    def make(ep: str) -> FakeDevice:
        device = FakeDevice(ep)
        devices.append(device)
        return device

    yield make
    for device in devices:
        device.close()


def coap_code(response) -> str:
    return response.code.dotted


# MARK: - Bootstrap server


def test_bootstrap_plain_style_provisions_and_runs_again_on_every_request(start_peer, make_device, tmp_path):
    events_file = tmp_path / "bs-events.jsonl"
    bs = start_peer("bootstrap_server", "--server-uri", "coap://127.0.0.1:5690", "--ssid", "101",
                    "--lifetime", "300", "--finish-expect", "2.04", "--events", events_file)
    device = make_device("dev-plain")
    device.objects[(1, 7)] = {0: b"\x05"}  # stale server instance: Delete / removes it

    assert coap_code(device.bootstrap_request(bs.port, pct=11542)) == "2.04"
    finish = bs.wait_event("finish", path=events_file)
    assert finish["code"] == "2.04" and finish["as_expected"] is True and finish["ep"] == "dev-plain"

    request = bs.wait_event("bootstrap-request", path=events_file)
    assert request["ep"] == "dev-plain" and request["pct"] == 11542
    assert request["remote"] == f"127.0.0.1:{device.port}"
    responses = bs.events("response", path=events_file)
    assert [(r["op"], r["path"], r["code"]) for r in responses] == [
        ("delete", "/", "2.02"), ("write", "/0/1", "2.04"), ("write", "/1/1", "2.04"), ("finish", "/bs", "2.04")]

    # What the device holds: its bootstrap account kept, the stale /1/7 gone, the new account.
    assert set(device.objects) == {(0, 0), (0, 1), (1, 1), (3, 0)}
    security, server = device.objects[(0, 1)], device.objects[(1, 1)]
    assert as_text(security[0]) == "coap://127.0.0.1:5690" and not as_bool(security[1])
    assert as_int(security[2]) == 3 and as_int(security[10]) == 101 and security[3] == b""
    assert as_int(server[0]) == 101 and as_int(server[1]) == 300 and as_text(server[7]) == "U"
    assert as_bool(server[6]) is True
    # Every command came from the bootstrap server's listening socket.
    assert {r["remote_port"] for r in device.requests} == {bs.port}
    assert [r["format"] for r in device.requests if r["method"] == "PUT"] == [11542, 11542]

    # A second Bootstrap-Request runs the whole plan again (SenML CBOR this time: pct=112).
    device.objects[(1, 9)] = {0: b"\x05"}
    assert coap_code(device.bootstrap_request(bs.port, pct=112)) == "2.04"
    assert bs.wait_event("finish", count=2, path=events_file)["session"] == 2
    assert (1, 9) not in device.objects and device.objects[(1, 1)][1] == 300
    assert [r["format"] for r in device.requests if r["method"] == "PUT"] == [11542, 11542, 112, 112]
    assert [r["method"] for r in device.requests].count("DELETE") == 2

    assert bs.terminate() == 0
    assert bs.events("stopped", path=events_file)[-1]["finishes"] == ["2.04", "2.04"]


def test_bootstrap_plan_file_discover_read_senml_and_rejected_finish(start_peer, make_device, tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"endpoints": {"dev-plan": [
        {"op": "discover", "path": "/"},
        {"op": "write", "path": "/0/2", "format": "senml-cbor",
         "value": {"0": "coap://127.0.0.1:5691", "1": False, "2": 3, "10": 7}},
        {"op": "write", "path": "/1", "format": "senml-json", "value": {"2": {"0": 7, "1": 60, "7": "U"}}},
        {"op": "read", "path": "/1", "format": "senml-json"},
        {"op": "delete", "path": "/1/2"},
        {"op": "finish"},
    ]}}))
    bs = start_peer("bootstrap_server", "--plan", plan, "--finish-expect", "2.04")
    device = make_device("dev-plan")

    assert coap_code(device.bootstrap_request(bs.port)) == "2.04"
    finish = bs.wait_event("finish")
    # The plan deleted /1/2 before finishing: the device's consistency check refuses it.
    assert finish["code"] == "4.06" and finish["as_expected"] is False
    assert finish["diagnostic"] == "no /1 instance matches a /0 server account"

    discover, write_sec, write_srv, read, delete, _ = bs.events("response")
    assert discover["links"][0] == {"target": None, "lwm2m": "1.1"}
    assert {"target": "/0/0", "uri": "coap://127.0.0.1:1"} in discover["links"]
    assert (write_sec["code"], write_sec["format"], write_srv["format"]) == ("2.04", 112, 110)
    assert read["code"] == "2.05" and read["value"] == {"/1/2/0": 7, "/1/2/1": 60}
    assert delete["code"] == "2.02"
    assert device.objects[(0, 2)] == {0: "coap://127.0.0.1:5691", 1: False, 2: 3, 10: 7}
    puts = [r for r in device.requests if r["method"] == "PUT"]
    assert json.loads(puts[1]["payload"])[0] == {"bn": "/1/2/", "n": "0", "v": 7}

    # An endpoint the plan does not name is refused.
    stranger = make_device("stranger")
    assert coap_code(stranger.bootstrap_request(bs.port)) == "4.00"
    assert bs.wait_event("bootstrap-request", ep="stranger")["code"] == "4.00"
    assert bs.terminate() == 3  # --finish-expect 2.04 was not met


def test_bootstrap_step_timeout_aborts_the_session(start_peer, make_device, tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"op": "wait", "seconds": 0.2}, {"op": "read", "path": "/2", "timeout": 0.5},
                                {"op": "finish"}]))
    bs = start_peer("bootstrap_server", "--plan", plan)
    device = make_device("dev-mute")
    device.mute.add("/2")
    started = time.monotonic()
    assert coap_code(device.bootstrap_request(bs.port)) == "2.04"
    aborted = bs.wait_event("session-aborted")
    assert aborted["step"] == 1 and 0.6 < time.monotonic() - started < 5
    assert bs.events("response") == [bs.wait_event("response", op="read", error="timeout", code=None)]
    assert not bs.events("finish") and not [r for r in device.requests if r["path"] == "/bs"]


def test_bootstrap_ignores_the_first_requests_then_serves_the_1nce_table(start_peer, make_device):
    bs = start_peer("bootstrap_server", "--style", "1nce", "--ignore-requests", "1",
                    "--server-uri", "coaps://127.0.0.1:5684", "--psk-identity", "dev-1nce-id",
                    "--psk-key", "00112233445566778899aabbccddeeff", "--lifetime", "86400")
    # A raw Bootstrap-Request sent twice with one message ID: dropped, retransmission dropped too.
    raw = coapwire.encode(coapwire.CON, coapwire.POST, 0x4242, b"\x01",
                          [(coapwire.URI_PATH, b"bs"), (coapwire.URI_QUERY, b"ep=raw")])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.4)
        for _ in range(2):
            probe.sendto(raw, ("127.0.0.1", bs.port))
        with pytest.raises(socket.timeout):
            probe.recvfrom(64)  # no ACK, no response
    assert bs.wait_event("bootstrap-request-ignored", count=2)["retransmission"] is True
    assert bs.events("bootstrap-request-ignored")[0] | {"ts": 0} == {
        "event": "bootstrap-request-ignored", "ep": "raw", "remote": bs.events("bootstrap-request-ignored")[0]["remote"],
        "mid": 0x4242, "retransmission": False, "left": 0, "ts": 0}

    device = make_device("dev-1nce")
    assert coap_code(device.bootstrap_request(bs.port)) == "2.04"
    assert bs.wait_event("finish")["code"] == "2.04"
    assert [(r["op"], r["path"]) for r in bs.events("response")] == [
        ("write", "/0/0"), ("write", "/0/1"), ("write", "/1/0"), ("finish", "/bs")]
    assert not [r for r in device.requests if r["method"] == "DELETE"]  # the 1NCE flow deletes nothing
    dm, bsacct, server = device.objects[(0, 0)], device.objects[(0, 1)], device.objects[(1, 0)]
    assert as_text(dm[0]) == "coaps://127.0.0.1:5684" and not as_bool(dm[1]) and as_int(dm[2]) == 0
    assert dm[3] == b"dev-1nce-id" and dm[5] == bytes.fromhex("00112233445566778899aabbccddeeff")
    assert as_int(dm[10]) == 1111 and 4 not in dm
    assert as_text(bsacct[0]) == f"coap://127.0.0.1:{bs.port}" and as_bool(bsacct[1]) and as_int(bsacct[10]) == 2222
    assert as_int(bsacct[2]) == 3 and 3 not in bsacct  # NoSec account: no credentials, as in the table
    assert {k: as_int(v) for k, v in server.items()} == {0: 1111, 1: 86400, 2: 1}


def test_bootstrap_wakaama_style_with_wrapped_tlv(start_peer, make_device):
    bs = start_peer("bootstrap_server", "--style", "wakaama", "--wrap", "--format", "tlv",
                    "--bootstrap-uri", "coap://127.0.0.1:5783", "--endpoint", "dev-w")
    device = make_device("dev-w")
    assert coap_code(device.bootstrap_request(bs.port, pct=110)) == "2.04"  # --format tlv wins over pct
    assert bs.wait_event("finish")["code"] == "2.04"
    assert [(r["op"], r["path"]) for r in bs.events("response")] == [
        ("delete", "/0"), ("delete", "/1"), ("write", "/0/1"), ("write", "/0/0"), ("write", "/1/1"), ("finish", "/bs")]
    puts = [r for r in device.requests if r["method"] == "PUT"]
    assert puts[0]["format"] == 11542 and puts[0]["payload"][:1] == b"\x08" and puts[0]["payload"][1] == 1
    assert as_bool(device.objects[(0, 0)][1]) and as_text(device.objects[(0, 0)][0]) == "coap://127.0.0.1:5783"
    assert coap_code(make_device("other").bootstrap_request(bs.port)) == "4.00"


# MARK: - Management server


def registered(ms, device, **query) -> dict:
    response = device.register(ms.port, **query)
    assert coap_code(response) == "2.01", response.payload
    reply = ms.command("wait-registered", ep=device.ep, timeout=5)
    assert reply["ok"], reply
    return reply["registration"]


def test_management_registration_lifecycle(start_peer, make_device):
    ms = start_peer("management_server", "--reject-registrations", "1", "--reject-code", "4.03")
    device = make_device("dev-reg")

    assert coap_code(device.register(ms.port)) == "4.03"
    rejected = ms.wait_event("register-rejected")
    assert rejected["ep"] == "dev-reg" and rejected["code"] == "4.03"
    assert ms.command("wait-registered", ep="dev-reg", timeout=0.3) == {
        "id": 1, "op": "wait-registered", "ok": False, "error": "dev-reg did not register within 0.3s"}

    response = device.register(ms.port)
    assert coap_code(response) == "2.01" and tuple(response.opt.location_path) == ("rd", "1")
    event = ms.wait_event("register")
    assert event["ep"] == "dev-reg" and event["lt"] == 300 and event["lwm2m"] == "1.1"
    assert event["binding"] == "UQ" and event["queue"] is True and event["location"] == "/rd/1"
    assert event["objects"] == {"1": [1], "3": [0], "3303": [0], "5": []} and event["versions"] == {"3": "1.2"}
    assert event["remote"].startswith("127.0.0.1:")
    reply = ms.command("wait-registered", ep="dev-reg")
    assert reply["ok"] and reply["registration"]["id"] == "1"
    assert [r["ep"] for r in ms.command("registrations")["registrations"]] == ["dev-reg"]

    # Bad registrations are refused with the spec's codes; the registration above is untouched.
    assert coap_code(device.register(ms.port, query=["lt=60", "lwm2m=1.1"])) == "4.00"  # no ep
    assert coap_code(device.register(ms.port, query=["ep=x", "lwm2m=9.9"])) == "4.12"
    assert coap_code(device.register(ms.port, query=["ep=x"], content_format=0)) == "4.00"
    assert [e["code"] for e in ms.events("register-rejected")] == ["4.03", "4.00", "4.12", "4.00"]
    # Defaults: no lt, no lwm2m, no b -> 86400, 1.0, U.
    other = make_device("dev-defaults")
    assert coap_code(other.register(ms.port, query=["ep=dev-defaults"])) == "2.01"
    defaults = ms.wait_event("register", ep="dev-defaults")
    assert (defaults["lt"], defaults["lwm2m"], defaults["binding"], defaults["queue"]) == (86400, "1.0", "U", False)

    # Update (new lifetime, no payload), unknown registration, De-register.
    assert coap_code(device.send(aiocoap.POST, ms.port, ("rd", "1"), query=["lt=60"])) == "2.04"
    update = ms.wait_event("update")
    assert update["lt"] == 60 and update["payload"] is False and update["objects"]["3"] == [0]
    assert coap_code(device.send(aiocoap.POST, ms.port, ("rd", "99"))) == "4.04"
    assert coap_code(device.send(aiocoap.DELETE, ms.port, ("rd", "1"))) == "2.02"
    assert ms.wait_event("deregister")["ep"] == "dev-reg"
    assert [r["ep"] for r in ms.command("registrations")["registrations"]] == ["dev-defaults"]
    assert ms.command("read", ep="dev-reg", path="/3/0")["error"] == "endpoint 'dev-reg' is not registered"
    assert ms.terminate() == 0


def test_management_follows_the_device_to_its_new_address_on_update(start_peer, make_device):
    ms = start_peer("management_server")
    before = make_device("dev-nat")
    registration = registered(ms, before)
    after = make_device("dev-nat")  # the same device seen from a new address:port (NAT rebinding)
    assert coap_code(after.send(aiocoap.POST, ms.port, ("rd", registration["id"]))) == "2.04"
    update = ms.wait_event("update")
    assert update["remote_changed"] is True and update["remote"] == f"127.0.0.1:{after.port}"
    assert ms.command("read", ep="dev-nat", path="/3/0/9", accept=0)["code"] == "2.05"
    assert [r["path"] for r in after.requests] == ["/3/0/9"] and before.requests == []
    assert after.requests[0]["remote_port"] == ms.port


def test_management_registration_expires_without_update(start_peer, make_device):
    ms = start_peer("management_server", "--expiry-grace", "0.3")
    device = make_device("dev-short")
    registration = registered(ms, device, query=["ep=dev-short", "lt=1", "lwm2m=1.1"])
    assert registration["lt"] == 1
    time.sleep(0.6)
    assert coap_code(device.send(aiocoap.POST, ms.port, ("rd", registration["id"]))) == "2.04"  # re-arms
    expired = ms.wait_event("registration-expired", timeout=5)
    assert expired["ep"] == "dev-short" and ms.command("registrations")["registrations"] == []
    assert time.time() - ms.wait_event("update")["ts"] >= 1.2
    assert coap_code(device.send(aiocoap.POST, ms.port, ("rd", registration["id"]))) == "4.04"


def test_management_read_write_execute_discover_attributes_create_delete(start_peer, make_device):
    ms = start_peer("management_server")
    device = make_device("dev-dm")
    registered(ms, device)

    tlv = ms.command("read", ep="dev-dm", path="/3/0", accept=11542)
    assert (tlv["ok"], tlv["code"], tlv["format"]) == (True, "2.05", 11542)
    assert tlv["value"] == DEVICE_VALUES
    expected = {"/3/0/0": "Open Mobile Alliance", "/3/0/7/0": 3800, "/3/0/9": 100, "/3/0/16": "U"}
    for accept in (110, "senml-cbor"):
        reply = ms.command("read", ep="dev-dm", path="/3/0", accept=accept)
        assert reply["code"] == "2.05" and reply["value"] == expected, reply
    assert ms.command("read", ep="dev-dm", path="/3/0", accept="text")["code"] == "4.06"
    assert ms.command("read", ep="dev-dm", path="/3/0/9", accept=0)["value"] == {"/3/0/9": 100}

    reply = ms.command("write", ep="dev-dm", path="/3/0", value={"13": 1700000000, "14": "+01:00"})
    assert reply["code"] == "2.04"
    assert as_int(device.objects[(3, 0)][13]) == 1700000000 and device.objects[(3, 0)][14] == b"+01:00"
    reply = ms.command("write", ep="dev-dm", path="/3/0/15", value="Europe/Berlin", format="text")
    assert reply["code"] == "2.04" and device.objects[(3, 0)][15] == "Europe/Berlin"
    reply = ms.command("write", ep="dev-dm", path="/3/0", value={"14": "+02:00"}, format="senml-json", method="update")
    assert reply["code"] == "2.04"
    assert device.requests[-1]["method"] == "POST" and device.objects[(3, 0)][14] == "+02:00"

    assert ms.command("execute", ep="dev-dm", path="/3/0/4", args="0='now'")["code"] == "2.04"
    assert (device.requests[-1]["method"], device.requests[-1]["payload"]) == ("POST", b"0='now'")

    discover = ms.command("discover", ep="dev-dm", path="/3")
    assert discover["code"] == "2.05" and discover["links"][2] == {"target": "/3/0/9", "pmax": "60"}

    reply = ms.command("write-attributes", ep="dev-dm", path="/3/0/9", attributes={"pmin": 1, "pmax": 5, "gt": None})
    assert reply["code"] == "2.04" and device.requests[-1]["query"] == ["pmin=1", "pmax=5", "gt"]

    created = ms.command("create", ep="dev-dm", path="/3303", value={"0": {"5700": 21.5, "5701": "Cel"}})
    assert created["code"] == "2.01" and created["location"] == "/3303/0"
    assert device.objects[(3303, 0)][5700] == bytes.fromhex("41ac0000") and device.objects[(3303, 0)][5701] == b"Cel"
    assert ms.command("delete", ep="dev-dm", path="/3303/0")["code"] == "2.02"
    assert (3303, 0) not in device.objects

    assert ms.command("read", ep="dev-dm", path="/3/0/55")["code"] == "4.04"
    # A device with an alternate root path ("</lwm2m>;rt=...") is addressed under it.
    alt = make_device("dev-alt")
    registered(ms, alt, payload=b'</lwm2m>;rt="oma.lwm2m",</lwm2m/3/0>')
    assert ms.command("read", ep="dev-alt", path="/3/0/9", accept=0)["value"] == {"/3/0/9": 100}
    assert alt.requests[-1]["path"] == "/lwm2m/3/0/9"
    assert ms.command("frobnicate")["error"] == "unknown op 'frobnicate'"
    assert ms.command("write", ep="dev-dm", path="/3/0")["error"] == "missing field 'value'"
    assert ms.command("write", ep="dev-dm", path="/3/0/9", value="x", format="cbor")["ok"] is False
    # Everything reached the device from the server's own listening socket.
    assert {r["remote_port"] for r in device.requests} == {ms.port}


def test_management_observe_notifications_and_cancel(start_peer, make_device):
    ms = start_peer("management_server")
    device = make_device("dev-obs")
    registered(ms, device)

    first = ms.command("observe", ep="dev-obs", path="/3/0/9", accept=0)
    assert first["ok"] and first["observing"] is True and first["value"] == {"/3/0/9": 100}
    observation = first["observation"]
    assert device.root.observers == 1

    device.set_battery(50)
    note = ms.wait_event("notify", observation=observation)
    assert note["value"] == {"/3/0/9": 50} and note["ep"] == "dev-obs" and note["code"] == "2.05"
    device.set_battery(40)
    assert ms.wait_event("notify", count=2, observation=observation)["value"] == {"/3/0/9": 40}

    cancel = ms.command("cancel-observe", observation=observation)
    assert cancel["ok"] and cancel["mode"] == "get" and cancel["code"] == "2.05", cancel
    observe_token = device.requests[-2]["token"]
    assert device.requests[-1]["observe"] == 1 and device.requests[-1]["token"] == observe_token
    assert cancel["token_reused"] is True
    assert ms.wait_event("observe-ended", observation=observation)["reason"] == "cancelled"
    assert device.root.observers == 0  # aiocoap's server side honours the Observe=1 GET

    device.set_battery(30)
    time.sleep(0.5)
    assert len(ms.events("notify")) == 2  # nothing after the cancellation
    assert ms.command("cancel-observe", observation=observation)["ok"] is False

    # "reset": the server forgets the token and answers the next notification with a Reset.
    second = ms.command("observe", ep="dev-obs", path="/3/0/9", accept=0)
    assert second["observing"] and second["value"] == {"/3/0/9": 30} and device.root.observers == 1
    assert ms.command("cancel-observe", observation=second["observation"], mode="reset")["mode"] == "reset"
    device.set_battery(20)
    deadline = time.monotonic() + 5
    while device.root.observers and time.monotonic() < deadline:
        time.sleep(0.05)
    assert device.root.observers == 0
    assert ms.wait_event("observe-reset", observation=second["observation"])["observe"] is not None
    assert len(ms.events("notify")) == 2

    # Observing a resource that does not accept observations answers without an observation.
    plain = ms.command("observe", ep="dev-obs", path="/3/0", accept=11542)
    assert plain["code"] == "2.05" and plain["observing"] is False and "observation" not in plain
