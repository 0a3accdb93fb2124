#!/usr/bin/env python3
"""A terminating DTLS 1.2 relay on OpenSSL (pyOpenSSL), run as its own process by the interop tests:
an independent DTLS server implementation in front of the plain-CoAP aiocoap peer servers.

    dtls_relay.py --listen HOST:PORT --target HOST:PORT
                  [--psk IDENTITY:HEXKEY ...] [--cert CERT.pem --key KEY.pem] [--ca CA.pem]

Each DTLS client gets its own OpenSSL server session (memory BIOs) and its own upstream UDP
socket to the target, so the target sees one distinct peer per client and its requests (an LwM2M
server writing to the device) go back through that client's session. PSK identities not listed,
or a wrong key, fail the handshake; with --ca the client must present a certificate from that CA.

Once bound it prints ``listening HOST PORT`` on standard output; events (handshake done/failed,
with the cipher and the PSK identity) go to standard error as ``DTLS-RELAY {json}`` lines.
SIGTERM/SIGINT stop it.
"""

from __future__ import annotations

import argparse
import json
import selectors
import signal
import socket
import sys
import time

from OpenSSL import SSL
from OpenSSL._util import ffi, lib


def parse_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def event(**fields) -> None:
    print("DTLS-RELAY " + json.dumps(fields), file=sys.stderr, flush=True)


class Session:
    def __init__(self, relay: "Relay", client: tuple[str, int]):
        self.relay = relay
        self.client = client
        self.connection = SSL.Connection(relay.context, None)
        self.connection.set_accept_state()
        # An empty memory BIO means "no datagram yet", not end of file.
        lib.BIO_set_mem_eof_return(self.connection._into_ssl, -1)
        # Memory BIOs cannot report a path MTU (OP_NO_QUERY_MTU): give one.
        self.connection.set_ciphertext_mtu(1400)
        self.upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.upstream.bind(("127.0.0.1", 0))
        self.upstream.setblocking(False)
        relay.selector.register(self.upstream, selectors.EVENT_READ, self)
        self.established = False
        self.failed = False

    def from_client(self, datagram: bytes) -> None:
        self.connection.bio_write(datagram)
        self.pump()

    def pump(self) -> None:
        if self.failed:
            return
        try:
            if not self.established:
                self.connection.do_handshake()
                self.established = True
                event(event="handshake", client=f"{self.client[0]}:{self.client[1]}",
                      cipher=self.connection.get_cipher_name(), identity=self.relay.last_identity)
            while True:
                data = self.connection.recv(65535)
                self.upstream.sendto(data, self.relay.target)
        except SSL.WantReadError:
            pass
        except SSL.ZeroReturnError:
            event(event="closed", client=f"{self.client[0]}:{self.client[1]}")
            self.failed = True
        except SSL.Error as error:
            event(event="failed", client=f"{self.client[0]}:{self.client[1]}", error=str(error))
            self.failed = True
        self.flush()

    def from_target(self, data: bytes) -> None:
        if not self.established or self.failed:
            return
        self.connection.send(data)
        self.flush()

    def flush(self) -> None:
        while True:
            try:
                # Every pending record in one datagram: DTLS allows it, and the MTU above keeps
                # each record small.
                out = self.connection.bio_read(65535)
            except SSL.WantReadError:
                return
            if not out:
                return
            self.relay.sock.sendto(out, self.client)

    def tick(self) -> None:
        if not self.established and not self.failed:
            try:
                self.connection.DTLSv1_handle_timeout()
            except SSL.Error:
                pass
            self.flush()


class Relay:
    def __init__(self, args):
        self.target = parse_address(args.target)
        self.keys = {}
        for entry in args.psk or []:
            identity, _, key = entry.rpartition(":")
            self.keys[identity.encode()] = bytes.fromhex(key)
        self.last_identity = None
        self.context = SSL.Context(SSL.DTLS_SERVER_METHOD)
        self.context.set_options(SSL.OP_NO_QUERY_MTU)
        ciphers = []
        if self.keys:
            ciphers.append("PSK-AES128-CCM8:PSK-AES128-CCM:PSK-AES128-GCM-SHA256:PSK-AES128-CBC-SHA256")
            self._install_psk()
        if args.cert:
            self.context.use_certificate_file(args.cert)
            self.context.use_privatekey_file(args.key)
            ciphers.append("ECDHE-ECDSA-AES128-CCM8:ECDHE-ECDSA-AES128-GCM-SHA256")
        if args.ca:
            self.context.load_verify_locations(args.ca)
            self.context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *a: a[-1])
        # OpenSSL 3 puts the CCM_8 suites (64-bit tags) below security level 1; LwM2M mandates them.
        self.context.set_cipher_list((":".join(ciphers) + ":@SECLEVEL=0").encode())
        host, port = parse_address(args.listen)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.setblocking(False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.sock, selectors.EVENT_READ, None)
        self.sessions: dict[tuple[str, int], Session] = {}

    def _install_psk(self) -> None:
        @ffi.callback("unsigned int(SSL *, const char *, unsigned char *, unsigned int)")
        def server_callback(ssl, identity, psk, max_len):
            name = ffi.string(identity) if identity != ffi.NULL else b""
            self.last_identity = name.decode(errors="replace")
            key = self.keys.get(name)
            if key is None or len(key) > max_len:
                return 0
            ffi.memmove(psk, key, len(key))
            return len(key)

        self._psk_callback = server_callback  # keep it alive
        lib.SSL_CTX_set_psk_server_callback(self.context._context, server_callback)

    def run(self) -> None:
        running = True

        def stop(*_):
            nonlocal running
            running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        host, port = self.sock.getsockname()
        print(f"listening {host} {port}", flush=True)
        while running:
            for key, _ in self.selector.select(timeout=0.05):
                if key.data is None:
                    while True:
                        try:
                            datagram, client = self.sock.recvfrom(65535)
                        except BlockingIOError:
                            break
                        session = self.sessions.get(client)
                        if session is None or session.failed:
                            session = self.sessions[client] = Session(self, client)
                        session.from_client(datagram)
                else:
                    session = key.data
                    while True:
                        try:
                            data, _ = session.upstream.recvfrom(65535)
                        except BlockingIOError:
                            break
                        session.from_target(data)
            for session in list(self.sessions.values()):
                session.tick()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--psk", action="append", help="IDENTITY:HEXKEY (repeatable)")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--ca", help="require a client certificate issued by this CA")
    args = parser.parse_args()
    if not args.psk and not args.cert:
        parser.error("give --psk and/or --cert/--key")
    Relay(args).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
