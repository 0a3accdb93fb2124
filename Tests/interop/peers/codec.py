"""LwM2M content: paths, JSON value model, and encode/decode in TLV, SenML JSON/CBOR, text, opaque.

JSON value model (plan files, stdin commands, events):
  string -> str, integer/unsigned/time -> int, float -> float, boolean -> bool,
  object link -> "3:0", opaque -> {"hex": "0a0b"} (also accepted: {"base64": "..."}, or a plain
  str which is taken as its UTF-8 bytes when the resource type is opaque).
Nested values at a path (what a Write carries):
  object path "/0"          {"1": {"0": "coap://...", "1": false}}   instance id -> resources
  instance path "/0/1"      {"0": "coap://...", "1": false}          resource id -> value
  resource path "/3/0/7"    3700, or {"0": 3700, "1": 5000} for a multiple-instance resource
  resource instance path    3700
Decoded content is a flat dict of full path -> value: {"/3/0/0": "Open Mobile Alliance", ...}.
Types come from objects.py; a value of an unknown resource is typed by its JSON type (TLV decode
of an unknown resource gives opaque).
"""

from __future__ import annotations

import base64

import objects
import senml
import tlv

TEXT, LINK_FORMAT, OPAQUE, SENML_JSON, SENML_CBOR, TLV = 0, 40, 42, 110, 112, 11542
FORMATS = {"text": TEXT, "link-format": LINK_FORMAT, "opaque": OPAQUE, "senml-json": SENML_JSON,
           "senml-cbor": SENML_CBOR, "tlv": TLV}
FORMAT_NAMES = {number: name for name, number in FORMATS.items()}


class CodecError(ValueError):
    pass


def format_number(fmt) -> int:
    """A content format given as a name ("tlv") or a number (11542 or "11542")."""
    if isinstance(fmt, int):
        return fmt
    if str(fmt).isdigit():
        return int(fmt)
    if fmt not in FORMATS:
        raise CodecError(f"unknown content format {fmt!r}")
    return FORMATS[fmt]


# MARK: - Paths


def parse_path(path: str) -> tuple[int, ...]:
    parts = [part for part in path.strip().split("/") if part != ""]
    try:
        ids = tuple(int(part) for part in parts)
    except ValueError:
        raise CodecError(f"not an LwM2M path: {path!r}") from None
    if len(ids) > 4 or any(not 0 <= i <= 65535 for i in ids):
        raise CodecError(f"not an LwM2M path: {path!r}")
    return ids


def path_str(ids: tuple[int, ...]) -> str:
    return "/" + "/".join(str(i) for i in ids)


# MARK: - JSON values


def is_opaque_json(value) -> bool:
    return isinstance(value, dict) and (set(value) == {"hex"} or set(value) == {"base64"})


def opaque_bytes(value) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, dict) and "hex" in value:
        return bytes.fromhex(value["hex"])
    if isinstance(value, dict) and "base64" in value:
        return base64.b64decode(value["base64"])
    if isinstance(value, str):
        return value.encode()
    raise CodecError(f"not an opaque value: {value!r}")


def to_json(value):
    return {"hex": value.hex()} if isinstance(value, (bytes, bytearray)) else value


def type_of(ids: tuple[int, ...], value=None) -> str:
    """The type of the resource at ``ids`` (object, instance, resource[, instance])."""
    known = objects.resource_type(ids[0], ids[2]) if len(ids) >= 3 else None
    if known:
        return known[0]
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "opaque"


def is_multiple(ids: tuple[int, ...], value) -> bool:
    known = objects.resource_type(ids[0], ids[2])
    if known:
        return known[1]
    return isinstance(value, dict) and not is_opaque_json(value)


def native(ids: tuple[int, ...], value):
    """A JSON value made ready for the encoders: typed, opaque as bytes."""
    kind = type_of(ids, value)
    if kind in ("opaque", "none"):
        return kind, opaque_bytes(value) if value is not None else b""
    return kind, value


def flatten(ids: tuple[int, ...], value) -> dict[tuple[int, ...], object]:
    """Leaf paths (resource or resource instance) -> JSON value, from a nested value at ``ids``."""
    if len(ids) == 0:
        raise CodecError("cannot write the root path")
    if len(ids) == 4 or (len(ids) == 3 and not is_multiple(ids, value)):
        return {ids: value}
    if not isinstance(value, dict):
        raise CodecError(f"{path_str(ids)} needs a JSON object keyed by id, got {value!r}")
    leaves = {}
    for key, child in value.items():
        leaves.update(flatten(ids + (int(key),), child))
    return leaves


# MARK: - Encoding


def _tlv_resource(ids: tuple[int, ...], leaves: dict) -> bytes:
    """The TLV of resource ``ids`` (obj, inst, res) from the leaves under it."""
    mine = {path: value for path, value in leaves.items() if path[:3] == ids}
    if ids in mine and len(mine) == 1 and not is_multiple(ids, mine[ids]):
        return tlv.entry(tlv.RESOURCE, ids[2], tlv.encode_value(*native(ids, mine[ids])))
    inner = b"".join(tlv.entry(tlv.RESOURCE_INSTANCE, path[3], tlv.encode_value(*native(path, value)))
                     for path, value in sorted(mine.items()))
    return tlv.entry(tlv.MULTIPLE_RESOURCE, ids[2], inner)


def _tlv_instance_body(ids: tuple[int, ...], leaves: dict) -> bytes:
    resources = sorted({path[:3] for path in leaves if path[:2] == ids})
    return b"".join(_tlv_resource(res, leaves) for res in resources)


def encode_tlv(ids: tuple[int, ...], leaves: dict, wrap: bool = False) -> bytes:
    """TLV for a write at ``ids``. ``wrap``: put an instance path's resources inside an
    object-instance TLV (both forms are seen on the wire; the object path is always wrapped)."""
    if len(ids) == 1:
        instances = sorted({path[:2] for path in leaves})
        return b"".join(tlv.entry(tlv.OBJECT_INSTANCE, inst[1], _tlv_instance_body(inst, leaves))
                        for inst in instances)
    if len(ids) == 2:
        body = _tlv_instance_body(ids, leaves)
        return tlv.entry(tlv.OBJECT_INSTANCE, ids[1], body) if wrap else body
    if len(ids) == 3:
        return _tlv_resource(ids, leaves)
    if len(ids) == 4:
        return tlv.entry(tlv.RESOURCE_INSTANCE, ids[3], tlv.encode_value(*native(ids, leaves[ids])))
    raise CodecError("nothing to encode at the root path")


SENML_KEYS = {"integer": "v", "unsigned": "v", "time": "v", "float": "v", "string": "vs",
              "corelnk": "vs", "boolean": "vb", "opaque": "vd", "none": "vd", "objlnk": "vlo"}


def senml_records(leaves: dict) -> list[tuple]:
    records = []
    for path, value in sorted(leaves.items()):
        kind, value = native(path, value)
        if kind == "float":
            value = float(value)
        records.append((path_str(path), SENML_KEYS[kind], value))
    return records


def encode(path: str, value, fmt, wrap: bool = False) -> bytes:
    """The payload of a Write of ``value`` (nested JSON, see above) at ``path`` in ``fmt``."""
    ids = parse_path(path)
    fmt = format_number(fmt)
    if fmt in (TEXT, OPAQUE):
        if len(ids) < 3:
            raise CodecError(f"{FORMAT_NAMES[fmt]} carries a single resource, not {path}")
        kind, native_value = native(ids, value)
        if fmt == OPAQUE:
            return opaque_bytes(value)
        if kind == "boolean":
            return b"1" if native_value else b"0"
        return str(native_value).encode()
    leaves = flatten(ids, value)
    if fmt == TLV:
        return encode_tlv(ids, leaves, wrap)
    if fmt == SENML_JSON:
        return senml.encode_json(senml_records(leaves))
    if fmt == SENML_CBOR:
        return senml.encode_cbor(senml_records(leaves))
    raise CodecError(f"cannot encode content format {fmt}")


# MARK: - Decoding


def _decode_tlv_entries(entries: list[tlv.Entry], prefix: tuple[int, ...], out: dict) -> None:
    for item in entries:
        if item.kind == tlv.OBJECT_INSTANCE:
            if len(prefix) == 2 and prefix[1] == item.ident:
                child = prefix  # the instance path's own wrapper
            elif len(prefix) == 1:
                child = prefix + (item.ident,)
            else:
                raise CodecError(f"object-instance TLV {item.ident} under {path_str(prefix)}")
            _decode_tlv_entries(tlv.parse(item.value), child, out)
        elif item.kind in (tlv.RESOURCE, tlv.MULTIPLE_RESOURCE):
            if len(prefix) == 3 and prefix[2] == item.ident:
                ids = prefix
            elif len(prefix) == 2:
                ids = prefix + (item.ident,)
            else:
                raise CodecError(f"resource TLV {item.ident} under {path_str(prefix)}")
            if item.kind == tlv.MULTIPLE_RESOURCE:
                _decode_tlv_entries(tlv.parse(item.value), ids, out)
            else:
                out[path_str(ids)] = _typed(ids, item.value)
        else:  # resource instance
            if len(prefix) == 3:
                ids = prefix + (item.ident,)
            elif len(prefix) == 4 and prefix[3] == item.ident:
                ids = prefix
            else:
                raise CodecError(f"resource-instance TLV {item.ident} under {path_str(prefix)}")
            out[path_str(ids)] = _typed(ids, item.value)


def _typed(ids: tuple[int, ...], data: bytes):
    return to_json(tlv.decode_value(type_of(ids), data))


def decode_tlv(ids: tuple[int, ...], payload: bytes) -> dict[str, object]:
    out: dict[str, object] = {}
    if len(ids) == 0:
        raise CodecError("TLV at the root path has no object id")
    _decode_tlv_entries(tlv.parse(payload), ids, out)
    return out


def decode(path: str, payload: bytes, fmt) -> dict[str, object]:
    """Flat dict full path -> JSON value of a payload read at ``path``."""
    ids = parse_path(path)
    fmt = format_number(fmt) if fmt is not None else None
    if fmt == TLV:
        return decode_tlv(ids, payload)
    if fmt in (SENML_JSON, SENML_CBOR):
        records = senml.decode_json(payload) if fmt == SENML_JSON else senml.decode_cbor(payload)
        return {name: to_json(value) for name, _key, value in records}
    if fmt == TEXT:
        text = payload.decode()
        kind = type_of(ids) if len(ids) >= 3 else "string"
        if kind in ("integer", "unsigned", "time"):
            return {path_str(ids): int(text)}
        if kind == "float":
            return {path_str(ids): float(text)}
        if kind == "boolean":
            return {path_str(ids): text == "1"}
        return {path_str(ids): text}
    if fmt == OPAQUE or fmt is None:
        return {path_str(ids): {"hex": payload.hex()}}
    raise CodecError(f"cannot decode content format {fmt}")
