"""LwM2M TLV (content format 11542), written for the test peers from OMA TS 1.1 §7.4.3.

Each TLV is a type byte, an identifier (8 or 16 bit), an optional length field (8, 16 or 24 bit)
and the value. Type byte bits (most significant first):
  7-6  identifier type: 00 object instance, 01 resource instance, 10 multiple resource,
       11 resource with value
  5    0: 8-bit identifier, 1: 16-bit identifier
  4-3  length field size: 00 none (length in bits 2-0), 01 8-bit, 10 16-bit, 11 24-bit
  2-0  the value's length when bits 4-3 are 00

Values: integers are two's complement big-endian in 1, 2, 4 or 8 bytes; unsigned integers the
same widths without sign (written in the width that is also correct when read as signed); floats IEEE 754 in 4 or 8 bytes; booleans one byte 0/1; strings UTF-8;
object links 2 bytes object id + 2 bytes instance id; time is an integer.

This module works on bytes and plain Python values; opaque values are ``bytes`` here (codec.py
maps them to and from JSON).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

OBJECT_INSTANCE = 0
RESOURCE_INSTANCE = 1
MULTIPLE_RESOURCE = 2
RESOURCE = 3

KIND_NAMES = {OBJECT_INSTANCE: "object-instance", RESOURCE_INSTANCE: "resource-instance",
              MULTIPLE_RESOURCE: "multiple-resource", RESOURCE: "resource"}


class TlvError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    kind: int
    ident: int
    value: bytes


# MARK: - Framing


def header(kind: int, ident: int, length: int) -> bytes:
    if not 0 <= ident <= 0xFFFF:
        raise TlvError(f"identifier {ident} out of range")
    if not 0 <= length <= 0xFFFFFF:
        raise TlvError(f"length {length} out of range")
    type_byte = kind << 6
    if ident > 0xFF:
        type_byte |= 0x20
        ident_bytes = ident.to_bytes(2, "big")
    else:
        ident_bytes = ident.to_bytes(1, "big")
    if length <= 7:
        type_byte |= length
        length_bytes = b""
    else:
        size = 1 if length <= 0xFF else 2 if length <= 0xFFFF else 3
        type_byte |= size << 3
        length_bytes = length.to_bytes(size, "big")
    return bytes([type_byte]) + ident_bytes + length_bytes


def entry(kind: int, ident: int, value: bytes) -> bytes:
    return header(kind, ident, len(value)) + value


def parse(data: bytes) -> list[Entry]:
    """The TLVs at one level of ``data`` (children stay encoded in ``Entry.value``)."""
    entries = []
    i = 0
    while i < len(data):
        type_byte = data[i]
        i += 1
        ident_size = 2 if type_byte & 0x20 else 1
        length_size = (type_byte >> 3) & 0x3
        if i + ident_size + length_size > len(data):
            raise TlvError(f"truncated TLV header at offset {i - 1}")
        ident = int.from_bytes(data[i:i + ident_size], "big")
        i += ident_size
        if length_size:
            length = int.from_bytes(data[i:i + length_size], "big")
            i += length_size
        else:
            length = type_byte & 0x7
        if i + length > len(data):
            raise TlvError(f"TLV {ident} claims {length} bytes, {len(data) - i} left")
        entries.append(Entry(type_byte >> 6, ident, bytes(data[i:i + length])))
        i += length
    return entries


# MARK: - Values


def encode_int(value: int) -> bytes:
    for size in (1, 2, 4, 8):
        if -(1 << (8 * size - 1)) <= value < (1 << (8 * size - 1)):
            return value.to_bytes(size, "big", signed=True)
    raise TlvError(f"integer {value} does not fit 64 bits")


def encode_uint(value: int) -> bytes:
    if value < 0:
        raise TlvError(f"unsigned integer {value} is negative")
    for size in (1, 2, 4, 8):
        if value < (1 << (8 * size)):
            return value.to_bytes(size, "big")
    raise TlvError(f"unsigned integer {value} does not fit 64 bits")


def decode_int(data: bytes) -> int:
    if len(data) not in (1, 2, 4, 8):
        raise TlvError(f"integer of {len(data)} bytes")
    return int.from_bytes(data, "big", signed=True)


def decode_uint(data: bytes) -> int:
    if len(data) not in (1, 2, 4, 8):
        raise TlvError(f"unsigned integer of {len(data)} bytes")
    return int.from_bytes(data, "big")


def encode_float(value: float) -> bytes:
    """4 bytes when single precision holds the value exactly, else 8."""
    single = struct.pack(">f", value) if math.isfinite(value) and abs(value) < 3.4e38 else None
    if single is not None and struct.unpack(">f", single)[0] == value:
        return single
    return struct.pack(">d", value)


def decode_float(data: bytes) -> float:
    if len(data) == 4:
        return struct.unpack(">f", data)[0]
    if len(data) == 8:
        return struct.unpack(">d", data)[0]
    raise TlvError(f"float of {len(data)} bytes")


def encode_bool(value: bool) -> bytes:
    return b"\x01" if value else b"\x00"


def decode_bool(data: bytes) -> bool:
    if data not in (b"\x00", b"\x01"):
        raise TlvError(f"boolean {data.hex()}")
    return data == b"\x01"


def encode_objlnk(value: str) -> bytes:
    obj, inst = (int(part) for part in value.split(":"))
    return obj.to_bytes(2, "big") + inst.to_bytes(2, "big")


def decode_objlnk(data: bytes) -> str:
    if len(data) != 4:
        raise TlvError(f"object link of {len(data)} bytes")
    return f"{int.from_bytes(data[:2], 'big')}:{int.from_bytes(data[2:], 'big')}"


def encode_value(kind: str, value) -> bytes:
    """``kind`` is a type name of objects.py; opaque values are bytes."""
    if kind in ("integer", "time"):
        return encode_int(int(value))
    if kind == "unsigned":
        # The sign-safe width: 200 is 00 C8, which a peer decoding it as signed still reads as 200
        # (protocol-pitfalls #24). Only values of 2^63 and above need all 64 bits unsigned.
        value = int(value)
        return encode_int(value) if 0 <= value < (1 << 63) else encode_uint(value)
    if kind == "float":
        return encode_float(float(value))
    if kind == "boolean":
        return encode_bool(bool(value))
    if kind in ("string", "corelnk"):
        return str(value).encode()
    if kind == "objlnk":
        return encode_objlnk(value)
    if kind in ("opaque", "none"):
        return bytes(value)
    raise TlvError(f"unknown type {kind}")


def decode_value(kind: str, data: bytes):
    if kind in ("integer", "time"):
        return decode_int(data)
    if kind == "unsigned":
        return decode_uint(data)
    if kind == "float":
        return decode_float(data)
    if kind == "boolean":
        return decode_bool(data)
    if kind in ("string", "corelnk"):
        return data.decode()
    if kind == "objlnk":
        return decode_objlnk(data)
    return bytes(data)
