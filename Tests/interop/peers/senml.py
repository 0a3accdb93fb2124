"""SenML JSON (content format 110) and SenML CBOR (112) as LwM2M 1.1 uses them (RFC 8428,
OMA TS 1.1 §7.4.7), written for the test peers.

A record here is ``(name, key, value)``: ``name`` the full path ("/3/0/0", base name already
applied), ``key`` one of v (number), vs (string), vb (boolean), vd (opaque, ``bytes``), vlo (object
link "3:0"). Time ("t"/"bt") is read and ignored. In JSON, vd is base64url (RFC 4648 §5); CBOR uses
the RFC 8428 integer labels (bn -2, bt -3, n 0, v 2, vs 3, vb 4, t 6, vd 8); "vlo" has no integer
label and stays a text key.
"""

from __future__ import annotations

import base64
import json

import cbor2

CBOR_LABELS = {"bn": -2, "bt": -3, "n": 0, "v": 2, "vs": 3, "vb": 4, "t": 6, "vd": 8, "vlo": "vlo"}
CBOR_NAMES = {label: name for name, label in CBOR_LABELS.items()}
VALUE_KEYS = ("v", "vs", "vb", "vd", "vlo")

Record = tuple  # (name, key, value)


class SenmlError(ValueError):
    pass


def _pack(records: list[Record], base: str, opaque) -> list[dict]:
    """Dict records with ``base`` as the first record's base name and names relative to it."""
    out = []
    for index, (name, key, value) in enumerate(records):
        if key not in VALUE_KEYS:
            raise SenmlError(f"unknown value key {key}")
        if not name.startswith(base):
            raise SenmlError(f"{name} is not under base name {base}")
        record = {}
        if index == 0 and base:
            record["bn"] = base
        if name != base:
            record["n"] = name[len(base):]
        record[key] = opaque(value) if key == "vd" else value
        out.append(record)
    return out


def common_base(names: list[str]) -> str:
    """The longest common path prefix of ``names`` ending in "/" ("" if none)."""
    if len(names) == 1:
        return names[0]
    prefix = names[0]
    for name in names[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    return prefix[:prefix.rfind("/") + 1] if "/" in prefix else ""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    text = text.replace("+", "-").replace("/", "_")  # accept standard base64 too
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_json(records: list[Record]) -> bytes:
    base = common_base([name for name, _, _ in records]) if records else ""
    return json.dumps(_pack(records, base, b64url), separators=(",", ":")).encode()


def encode_cbor(records: list[Record]) -> bytes:
    base = common_base([name for name, _, _ in records]) if records else ""
    packed = _pack(records, base, bytes)
    return cbor2.dumps([{CBOR_LABELS[key]: value for key, value in record.items()} for record in packed])


def _unpack(pack, opaque) -> list[Record]:
    if not isinstance(pack, list):
        raise SenmlError("a SenML pack is an array")
    records = []
    base = ""
    for record in pack:
        if not isinstance(record, dict):
            raise SenmlError(f"record {record!r} is not a map")
        base = record.get("bn", base)
        name = base + record.get("n", "")
        keys = [key for key in VALUE_KEYS if key in record]
        if len(keys) > 1:
            raise SenmlError(f"record {name} has several values {keys}")
        if keys:
            key = keys[0]
            value = opaque(record[key]) if key == "vd" else record[key]
            records.append((name, key, value))
        elif "n" in record or "bn" not in record:
            records.append((name, None, None))  # e.g. a Read-Composite/Delete request record
    return records


def decode_json(payload: bytes) -> list[Record]:
    return _unpack(json.loads(payload), unb64url)


def decode_cbor(payload: bytes) -> list[Record]:
    pack = cbor2.loads(payload)
    if not isinstance(pack, list):
        raise SenmlError("a SenML pack is an array")
    named = [{CBOR_NAMES.get(label, label): value for label, value in record.items()}
             if isinstance(record, dict) else record for record in pack]
    return _unpack(named, bytes)
