"""A deliberately small, independent CoAP (RFC 7252) message codec for the interop tests.

Written from the RFC, not from our Swift sources, so the wire tests hand-build bytes the way an
independent peer would. Also used to decode the datagrams traced by ``lossy_relay.py``.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

# Message types (RFC 7252 §3).
CON, NON, ACK, RST = 0, 1, 2, 3
TYPE_NAMES = {CON: "CON", NON: "NON", ACK: "ACK", RST: "RST"}

# Option numbers (RFC 7252 §5.10, RFC 7641, RFC 7959, RFC 8613).
IF_MATCH = 1
URI_HOST = 3
ETAG = 4
OBSERVE = 6
URI_PORT = 7
OSCORE = 9
URI_PATH = 11
CONTENT_FORMAT = 12
URI_QUERY = 15
ACCEPT = 17
BLOCK2 = 23
BLOCK1 = 27
SIZE2 = 28
SIZE1 = 60


def code(cls: int, detail: int) -> int:
    """The code byte c.dd."""
    return cls << 5 | detail


EMPTY = code(0, 0)
GET, POST, PUT, DELETE = code(0, 1), code(0, 2), code(0, 3), code(0, 4)
CREATED, DELETED, VALID, CHANGED, CONTENT, CONTINUE = (
    code(2, 1), code(2, 2), code(2, 3), code(2, 4), code(2, 5), code(2, 31))
BAD_REQUEST, BAD_OPTION, NOT_FOUND, METHOD_NOT_ALLOWED = code(4, 0), code(4, 2), code(4, 4), code(4, 5)


def code_str(value: int) -> str:
    return f"{value >> 5}.{value & 0x1F:02d}"


def uint_bytes(value: int) -> bytes:
    """Minimal-length big-endian encoding of an option uint (0 is the empty string)."""
    return b"" if value == 0 else value.to_bytes((value.bit_length() + 7) // 8, "big")


def uint_value(value: bytes) -> int:
    return int.from_bytes(value, "big") if value else 0


def block_value(raw: bytes) -> tuple[int, bool, int]:
    """(block number, more flag, block size in bytes) of a Block1/Block2 option value."""
    n = uint_value(raw)
    return n >> 4, bool(n & 0x8), 16 << (n & 0x7)


def _nibble(value: int) -> tuple[int, bytes]:
    if value < 13:
        return value, b""
    if value < 269:
        return 13, bytes([value - 13])
    return 14, (value - 269).to_bytes(2, "big")


def encode(mtype: int, code_byte: int, mid: int, token: bytes = b"",
           options: list[tuple[int, bytes]] | tuple = (), payload: bytes = b"",
           token_length: int | None = None) -> bytes:
    """Encodes a message. ``options`` are (number, value) pairs, sorted stably by number.
    ``token_length`` overrides the TKL field (to build malformed messages)."""
    tkl = len(token) if token_length is None else token_length
    out = bytearray([0x40 | mtype << 4 | tkl, code_byte, mid >> 8 & 0xFF, mid & 0xFF])
    out += token
    last = 0
    for number, value in sorted(options, key=lambda item: item[0]):
        delta_nibble, delta_ext = _nibble(number - last)
        length_nibble, length_ext = _nibble(len(value))
        out.append(delta_nibble << 4 | length_nibble)
        out += delta_ext + length_ext + value
        last = number
    if payload:
        out += b"\xff" + payload
    return bytes(out)


def uri_path_options(path: str) -> list[tuple[int, bytes]]:
    return [(URI_PATH, segment.encode()) for segment in path.strip("/").split("/") if segment]


@dataclass
class Message:
    version: int
    mtype: int
    code: int
    mid: int
    token: bytes
    options: list[tuple[int, bytes]] = field(default_factory=list)
    payload: bytes = b""

    def option(self, number: int) -> bytes | None:
        for num, value in self.options:
            if num == number:
                return value
        return None

    def all(self, number: int) -> list[bytes]:
        return [value for num, value in self.options if num == number]

    @property
    def code_str(self) -> str:
        return code_str(self.code)

    @property
    def type_name(self) -> str:
        return TYPE_NAMES[self.mtype]

    @property
    def is_empty(self) -> bool:
        return self.code == EMPTY

    @property
    def path(self) -> str:
        return "/" + "/".join(value.decode(errors="replace") for value in self.all(URI_PATH))

    def __str__(self) -> str:
        opts = " ".join(f"{num}={value.hex() or '-'}" for num, value in self.options)
        return (f"{self.type_name} {self.code_str} mid={self.mid} token={self.token.hex() or '-'} "
                f"[{opts}] payload={len(self.payload)}B")


def decode(data: bytes) -> Message:
    """Decodes a well-formed message; raises ValueError on any format error."""
    if len(data) < 4:
        raise ValueError("shorter than the 4-byte header")
    version, mtype, tkl = data[0] >> 6, data[0] >> 4 & 0x3, data[0] & 0xF
    if version != 1:
        raise ValueError(f"version {version}")
    if tkl > 8:
        raise ValueError(f"token length {tkl}")
    if len(data) < 4 + tkl:
        raise ValueError("truncated token")
    message = Message(version, mtype, data[1], data[2] << 8 | data[3], bytes(data[4:4 + tkl]))
    index, number = 4 + tkl, 0

    def extended(nibble: int) -> int:
        nonlocal index
        if nibble < 13:
            return nibble
        if nibble == 13:
            if index >= len(data):
                raise ValueError("truncated option")
            index += 1
            return data[index - 1] + 13
        if nibble == 14:
            if index + 1 >= len(data):
                raise ValueError("truncated option")
            index += 2
            return (data[index - 2] << 8 | data[index - 1]) + 269
        raise ValueError("reserved nibble 15")

    while index < len(data):
        byte = data[index]
        index += 1
        if byte == 0xFF:
            if index >= len(data):
                raise ValueError("payload marker without payload")
            message.payload = bytes(data[index:])
            break
        number += extended(byte >> 4)
        length = extended(byte & 0xF)
        if index + length > len(data):
            raise ValueError("truncated option value")
        message.options.append((number, bytes(data[index:index + length])))
        index += length
    if message.code == EMPTY and len(data) != 4:
        raise ValueError("empty message with content")
    return message


# MARK: - A socket to one daemon

QUIET = 0.3  # seconds of silence that count as "no reply"


class Wire:
    """A UDP socket talking to one daemon."""

    def __init__(self, address: tuple):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.connect(address)

    def close(self) -> None:
        self.sock.close()

    def send(self, datagram: bytes) -> None:
        self.sock.send(datagram)

    def receive(self, timeout: float = 2.0) -> bytes | None:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65536)
        except socket.timeout:
            return None

    def exchange(self, datagram: bytes, timeout: float = 2.0) -> bytes:
        self.send(datagram)
        reply = self.receive(timeout)
        assert reply is not None, f"no reply within {timeout}s to {datagram.hex()}"
        return reply

    def drain(self, quiet: float = QUIET) -> list[bytes]:
        replies = []
        while (reply := self.receive(quiet)) is not None:
            replies.append(reply)
        return replies
