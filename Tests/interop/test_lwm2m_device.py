"""The demo's LwM2M Device object read by libcoap's coap-client in three content formats and
decoded here with independent decoders (Python's json, cbor2, and a TLV reader written from the
LwM2M TS layout), so our encoders are checked against someone else's reading of the spec."""

from __future__ import annotations

import json

import cbor2

BOUND = "10"


def read(procs, coap_client, daemon, tmp_path, path: str, accept: int) -> bytes:
    out = tmp_path / f"payload-{accept}"
    run = procs.run([coap_client, "-B", BOUND, "-A", str(accept), "-o", out, daemon.uri(path)], timeout=20)
    assert run.returncode == 0, run.describe()
    return out.read_bytes()


def tlv_entries(data: bytes) -> list[tuple[int, int, bytes]]:
    """(identifier type, id, value) for each TLV at this level (TS 1.1 §7.4.3)."""
    entries, i = [], 0
    while i < len(data):
        kind = data[i]
        i += 1
        id_len = 2 if kind & 0x20 else 1
        ident = int.from_bytes(data[i:i + id_len], "big")
        i += id_len
        length_size = (kind >> 3) & 3
        if length_size:
            length = int.from_bytes(data[i:i + length_size], "big")
            i += length_size
        else:
            length = kind & 7
        entries.append((kind >> 6, ident, data[i:i + length]))
        i += length
    assert i == len(data)
    return entries


def test_device_object_senml_json(start_daemon, procs, coap_client, tmp_path):
    pack = json.loads(read(procs, coap_client, start_daemon(), tmp_path, "/3/0", 110))
    assert pack[0]["bn"] == "/3/0/"
    values = {record["n"]: record for record in pack}
    assert values["16"]["vs"] == "U"
    assert values["6/0"]["v"] == 1 and values["6/1"]["v"] == 5
    assert isinstance(values["13"]["v"], int) and values["13"]["v"] > 1_700_000_000  # current time


def test_device_object_senml_cbor(start_daemon, procs, coap_client, tmp_path):
    pack = cbor2.loads(read(procs, coap_client, start_daemon(), tmp_path, "/3/0", 112))
    # RFC 8428 §6 integer labels: bn -2, n 0, v 2, vs 3.
    names = {}
    base = ""
    for record in pack:
        base = record.get(-2, base)
        names[base + record.get(0, "")] = record
    assert names["/3/0/16"][3] == "U"
    assert names["/3/0/7/1"][2] == 5000


def test_device_object_tlv(start_daemon, procs, coap_client, tmp_path):
    entries = tlv_entries(read(procs, coap_client, start_daemon(), tmp_path, "/3/0", 11542))
    by_id = {ident: (kind, value) for kind, ident, value in entries}
    assert by_id[16] == (3, b"U")  # resource with value
    kind, voltages = by_id[7]
    assert kind == 2  # multiple resource, holding resource instances
    instances = {ident: int.from_bytes(value, "big", signed=True) for _, ident, value in tlv_entries(voltages)}
    assert instances == {0: 3700, 1: 5000}


def test_device_object_write_and_execute(start_daemon, procs, coap_client, tmp_path):
    daemon = start_daemon()
    run = procs.run([coap_client, "-B", BOUND, "-m", "put", "-t", "0", "-e", "1234567890",
                     daemon.uri("/3/0/13")], timeout=20)
    assert run.returncode == 0, run.describe()
    assert read(procs, coap_client, daemon, tmp_path, "/3/0/13", 0) == b"1234567890"
    denied = procs.run([coap_client, "-B", BOUND, "-m", "put", "-t", "0", "-e", "x", "-v", "7",
                        daemon.uri("/3/0/0")], timeout=20)
    assert "4.05" in denied.stdout.decode(errors="replace") + denied.stderr.decode(errors="replace"), denied.describe()
