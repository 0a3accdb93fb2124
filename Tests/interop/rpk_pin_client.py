"""A DTLS 1.2 Raw Public Key (RFC 7250) CoAP client that pins the server's key, for the Leshan RPK
tests: GnuTLS (libgnutls.so.30, the library the agent's RPK backend uses too) through ctypes.

Neither independent RPK client on Debian pins a server key: coap-client-gnutls 4.3.1 accepts
whatever key the server presents (its callback only logs "CN 'RPK'"), and gnutls-cli's TOFU store
fails on a raw public key ("ASN1 parser: Error in TAG"). This one does what /0/x/4 asks of an
LwM2M client: during the handshake (the certificate verify callback) the key the server presents
must be exactly the pinned SubjectPublicKeyInfo, else the handshake is aborted with an alert.

    python3 rpk_pin_client.py --key KEY.p8.pem --pub SPKI.pem [--pin SERVER.spki.der] \
        [--method get|post|put|delete] [--payload TEXT] [--format N] coaps://HOST:PORT/path?query

Prints one JSON object: {"handshake": "ok" | error text, "server-spki-sha256": hex of what the
server presented, "pinned": bool, "code": "4.04" | null}. Exit status 0 when a CoAP answer came.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import hashlib
import json
import os
import socket
import sys
import urllib.parse

GNUTLS_CLIENT = 1 << 1
GNUTLS_DATAGRAM = 1 << 2
GNUTLS_ENABLE_RAWPK = 1 << 18
GNUTLS_CRD_CERTIFICATE = 1
GNUTLS_X509_FMT_PEM = 1
GNUTLS_E_AGAIN = -28
GNUTLS_E_INTERRUPTED = -52
GNUTLS_E_CERTIFICATE_ERROR = -43
RPK_ONLY = b"NORMAL:-CTYPE-ALL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK"
METHODS = {"get": 1, "post": 2, "put": 3, "delete": 4}


class Datum(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_ubyte)), ("size", ctypes.c_uint)]


def load_gnutls() -> ctypes.CDLL:
    lib = ctypes.CDLL(ctypes.util.find_library("gnutls") or "libgnutls.so.30")
    lib.gnutls_strerror.restype = ctypes.c_char_p
    lib.gnutls_certificate_get_peers.restype = ctypes.POINTER(Datum)
    lib.gnutls_certificate_get_peers.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint)]
    lib.gnutls_session_get_ptr.restype = ctypes.c_void_p
    for name in ("gnutls_init", "gnutls_priority_set_direct", "gnutls_credentials_set", "gnutls_handshake",
                 "gnutls_transport_set_int2", "gnutls_record_send", "gnutls_record_recv",
                 "gnutls_certificate_set_rawpk_key_file", "gnutls_error_is_fatal"):
        getattr(lib, name).restype = ctypes.c_long if "record" in name else ctypes.c_int
    lib.gnutls_record_send.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.gnutls_record_recv.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.gnutls_certificate_set_rawpk_key_file.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint,
        ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint]
    return lib


def coap_request(method: str, uri: urllib.parse.SplitResult, payload: bytes | None, content_format: int | None,
                 mid: int) -> bytes:
    """A confirmable CoAP request without token (RFC 7252 section 3)."""
    options: list[tuple[int, bytes]] = []
    options += [(11, urllib.parse.unquote(seg).encode()) for seg in uri.path.split("/") if seg]
    if content_format is not None:
        options.append((12, content_format.to_bytes(2, "big").lstrip(b"\0")))
    options += [(15, urllib.parse.unquote(q).encode()) for q in uri.query.split("&") if q]
    out = bytearray([0x40, METHODS[method], mid >> 8, mid & 0xFF])
    previous = 0
    for number, value in options:
        delta, length = number - previous, len(value)
        previous = number
        ext = b""
        nibbles = []
        for n in (delta, length):
            if n < 13:
                nibbles.append(n)
            elif n < 269:
                nibbles.append(13)
                ext += bytes([n - 13])
            else:
                nibbles.append(14)
                ext += (n - 269).to_bytes(2, "big")
        out += bytes([nibbles[0] << 4 | nibbles[1]]) + ext + value
    if payload:
        out += b"\xff" + payload
    return bytes(out)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--key", required=True, help="the client's private key, PKCS#8 PEM")
    parser.add_argument("--pub", required=True, help="the client's public key, SPKI PEM")
    parser.add_argument("--pin", help="the server's SubjectPublicKeyInfo (DER) it must present")
    parser.add_argument("--method", default="get", choices=sorted(METHODS))
    parser.add_argument("--payload")
    parser.add_argument("--format", type=int)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("uri")
    args = parser.parse_args(argv)
    uri = urllib.parse.urlsplit(args.uri)
    pin = open(args.pin, "rb").read() if args.pin else None
    result: dict = {"handshake": None, "server-spki-sha256": None, "pinned": pin is not None, "code": None}

    lib = load_gnutls()
    cred = ctypes.c_void_p()
    assert lib.gnutls_certificate_allocate_credentials(ctypes.byref(cred)) == 0
    ret = lib.gnutls_certificate_set_rawpk_key_file(cred, args.pub.encode(), args.key.encode(), GNUTLS_X509_FMT_PEM,
                                                    None, 0, None, 0, 0, 0)
    if ret < 0:
        raise SystemExit(f"gnutls_certificate_set_rawpk_key_file: {lib.gnutls_strerror(ret).decode()}")

    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
    def verify(session):
        """During the handshake: the server's raw public key against the pin."""
        count = ctypes.c_uint(0)
        peers = lib.gnutls_certificate_get_peers(session, ctypes.byref(count))
        if not peers or count.value != 1:
            return -1
        spki = ctypes.string_at(peers[0].data, peers[0].size)
        result["server-spki-sha256"] = hashlib.sha256(spki).hexdigest()
        return 0 if pin is None or spki == pin else -1

    lib.gnutls_certificate_set_verify_function(cred, verify)
    session = ctypes.c_void_p()
    assert lib.gnutls_init(ctypes.byref(session), GNUTLS_CLIENT | GNUTLS_DATAGRAM | GNUTLS_ENABLE_RAWPK) == 0
    error = ctypes.c_char_p()
    assert lib.gnutls_priority_set_direct(session, RPK_ONLY, ctypes.byref(error)) == 0
    assert lib.gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred) == 0
    sock = socket.socket(socket.AF_INET6 if ":" in (uri.hostname or "") else socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((uri.hostname, uri.port or 5684))
    lib.gnutls_transport_set_int2(session, sock.fileno(), sock.fileno())
    lib.gnutls_handshake_set_timeout(session, ctypes.c_uint(int(args.timeout * 1000)))
    lib.gnutls_dtls_set_timeouts(session, ctypes.c_uint(1000), ctypes.c_uint(int(args.timeout * 1000)))
    while True:
        ret = lib.gnutls_handshake(session)
        if ret >= 0 or lib.gnutls_error_is_fatal(ret):
            break
    if ret < 0:
        result["handshake"] = lib.gnutls_strerror(ret).decode()
        print(json.dumps(result))
        return 2
    result["handshake"] = "ok"
    mid = int.from_bytes(os.urandom(2), "big")
    request = coap_request(args.method, uri, args.payload.encode() if args.payload else None, args.format, mid)
    assert lib.gnutls_record_send(session, request, len(request)) == len(request)
    sock.settimeout(args.timeout)
    buffer = ctypes.create_string_buffer(2048)
    lib.gnutls_record_set_timeout(session, ctypes.c_uint(int(args.timeout * 1000)))
    while True:
        n = lib.gnutls_record_recv(session, buffer, len(buffer))
        if n in (GNUTLS_E_AGAIN, GNUTLS_E_INTERRUPTED):
            continue
        if n < 4:
            break
        message = buffer.raw[:n]
        kind, code = message[0] >> 4 & 3, message[1]
        ours = kind == 2 and int.from_bytes(message[2:4], "big") == mid  # the piggybacked answer
        if code >= 64 and (ours or kind in (0, 1)):  # or a separate response
            result["code"] = f"{code >> 5}.{code & 31:02d}"
            break
    lib.gnutls_bye(session, 1)  # GNUTLS_SHUT_WR
    print(json.dumps(result))
    return 0 if result["code"] else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
