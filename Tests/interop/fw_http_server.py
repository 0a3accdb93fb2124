#!/usr/bin/env python3
"""A small HTTP(S) server for the firmware pull tests (test_firmware_pull_http.py), on Python's
http.server with byte-range support written here.

    fw_http_server.py PORT IMAGE [--no-range] [--drop-after BYTES] [--stall-after BYTES] [--rate BYTES_PER_S]
                      [--basic-auth USER:PASS] [--cert CERT.pem --key KEY.pem]

  GET /fw   IMAGE with ETag (quoted first 16 hex digits of its SHA-256), Content-Length and
            Accept-Ranges. "Range: bytes=N-" → 206 with Content-Range, unless "If-Range" names
            another ETag (→ 200, the whole current image). Anything else → 404.

--no-range: Range is ignored (always 200, as servers without range support do). --no-length: no
Content-Length (the body ends with the connection, as HTTP/1.0 servers do): the size is not announced.
--drop-after BYTES: the first response is cut after BYTES body bytes (the connection is closed):
a link lost mid-download. --stall-after BYTES: every response stops after BYTES body bytes
and the connection stays open, silent (a stalled link). --rate: bodies go out in 4 KiB pieces at
about BYTES_PER_S (a slow link, so a test can interrupt a transfer at a chosen byte). IMAGE is re-read for every request (a test may replace it).
--basic-auth USER:PASS: every request without those credentials (HTTP Basic) gets 401.
With --cert/--key the server speaks HTTPS. Prints ``ready 127.0.0.1 PORT`` once listening;
logs every request as ``GET range=... if-range=... status=... sent=...`` on standard error
once its body is sent, and as ``request range=... if-range=... status=...`` before it is.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.server
import ssl
import time
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("image")
    parser.add_argument("--no-range", action="store_true")
    parser.add_argument("--no-length", action="store_true")
    parser.add_argument("--drop-after", type=int, default=-1)
    parser.add_argument("--stall-after", type=int, default=-1)
    parser.add_argument("--basic-auth")
    parser.add_argument("--rate", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    state = {"dropped": False}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):  # the request log below replaces http.server's
            pass

        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != "/fw":  # a query (a signed URL's token) is ignored
                self.send_error(404)
                print(f"GET {self.path} status=404", file=sys.stderr, flush=True)
                return
            if args.basic_auth:
                expected = "Basic " + base64.b64encode(args.basic_auth.encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="fw"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    print(f"GET {self.path} status=401", file=sys.stderr, flush=True)
                    return
            with open(args.image, "rb") as f:
                body = f.read()
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            range_header = self.headers.get("Range")
            if_range = self.headers.get("If-Range")
            start = 0
            status = 200
            if range_header and not args.no_range and (if_range is None or if_range == etag):
                unit, _, spec = range_header.partition("=")
                first, _, last = spec.partition("-")
                if unit.strip() == "bytes" and first.isdigit() and not last:
                    start = int(first)
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        print(f"GET range={range_header} if-range={if_range} status=416", file=sys.stderr, flush=True)
                        return
                    status = 206
            part = body[start:]
            # Logged before the body goes out (a client or relay cutting the connection makes
            # the write below fail, and the "GET ..." line after it is then never printed).
            print(f"request range={range_header} if-range={if_range} status={status}", file=sys.stderr, flush=True)
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("ETag", etag)
            self.send_header("Accept-Ranges", "none" if args.no_range else "bytes")
            if args.no_length:
                self.close_connection = True  # the body ends when the connection does
                self.send_header("Connection", "close")
            else:
                self.send_header("Content-Length", str(len(part)))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.end_headers()
            sent = len(part)
            if args.stall_after >= 0:
                self.wfile.write(part[:args.stall_after])
                self.wfile.flush()
                print(f"GET range={range_header} stalled after {args.stall_after}", file=sys.stderr, flush=True)
                time.sleep(60)
                return
            if args.drop_after >= 0 and not state["dropped"]:
                state["dropped"] = True
                sent = min(sent, args.drop_after)
                self.wfile.write(part[:sent])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
            elif args.rate > 0:
                print(f"GET range={range_header} if-range={if_range} status={status} start", file=sys.stderr, flush=True)
                try:
                    for at in range(0, len(part), 4096):
                        self.wfile.write(part[at:at + 4096])
                        self.wfile.flush()
                        time.sleep(4096 / args.rate)
                except OSError:  # the client went away (a test killed it)
                    print(f"GET range={range_header} if-range={if_range} status={status} aborted", file=sys.stderr, flush=True)
                    return
            else:
                self.wfile.write(part)
            print(f"GET range={range_header} if-range={if_range} status={status} sent={sent}", file=sys.stderr, flush=True)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"ready 127.0.0.1 {args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
