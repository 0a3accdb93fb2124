#!/usr/bin/env python3
"""An aiocoap CoAP server, run as its own process by the interop tests.

    aiocoap_server.py PORT        (listens on 127.0.0.1:PORT)

Resources:
  /small       GET  "hello"
  /large       GET  10,000 deterministic bytes (``large_body()``); aiocoap serves Block2 itself
  /sink        PUT  stores the payload (aiocoap reassembles Block1 for resource.Resource), GET returns it
  /slow        GET  answers "slow done" after SLOW_SECONDS, so aiocoap first sends an empty ACK and
                    then the response as a separate CON message
  /echo-query  GET  the Uri-Query options joined with "&"

Prints ``ready 127.0.0.1 PORT`` on standard output once listening; logs each request on standard
error. SIGTERM stops it.
"""

from __future__ import annotations

import asyncio
import hashlib
import signal
import sys

SLOW_SECONDS = 3.0
LARGE_SIZE = 10_000


def large_body() -> bytes:
    """10,000 bytes with no period (SHA-256 chain), so any misplaced block shows up."""
    out = bytearray()
    counter = 0
    while len(out) < LARGE_SIZE:
        out += hashlib.sha256(f"aiocoap large body {counter}".encode()).digest()
        counter += 1
    return bytes(out[:LARGE_SIZE])


def main() -> int:
    import aiocoap
    import aiocoap.resource as resource

    port = int(sys.argv[1])

    def log(resource_path: str, request, note: str = "") -> None:
        # (Site strips the resource's own path from request.opt.uri_path, hence resource_path.)
        print(f"aiocoap-server: {request.code} {resource_path} payload={len(request.payload)}B "
              f"query={list(request.opt.uri_query)} block1={request.opt.block1} {note}",
              file=sys.stderr, flush=True)

    class Small(resource.Resource):
        async def render_get(self, request):
            log("/small", request)
            return aiocoap.Message(payload=b"hello", content_format=0)

    class Large(resource.Resource):
        body = large_body()

        async def render_get(self, request):
            log("/large", request)
            return aiocoap.Message(payload=self.body, content_format=42)

    class Sink(resource.Resource):
        def __init__(self):
            super().__init__()
            self.content = b""

        async def render_get(self, request):
            log("/sink", request)
            return aiocoap.Message(payload=self.content, content_format=42)

        async def render_put(self, request):
            # resource.Resource.needs_blockwise_assembly() is True: this is the whole body.
            log("/sink", request, "(reassembled)")
            self.content = request.payload
            return aiocoap.Message(code=aiocoap.CHANGED)

    class Slow(resource.Resource):
        async def render_get(self, request):
            log("/slow", request, f"(sleeping {SLOW_SECONDS}s)")
            await asyncio.sleep(SLOW_SECONDS)
            return aiocoap.Message(payload=b"slow done", content_format=0)

    class EchoQuery(resource.Resource):
        async def render_get(self, request):
            log("/echo-query", request)
            return aiocoap.Message(payload="&".join(request.opt.uri_query).encode(), content_format=0)

    async def serve() -> None:
        root = resource.Site()
        root.add_resource([".well-known", "core"],
                          resource.WKCResource(root.get_resources_as_linkheader))
        root.add_resource(["small"], Small())
        root.add_resource(["large"], Large())
        root.add_resource(["sink"], Sink())
        root.add_resource(["slow"], Slow())
        root.add_resource(["echo-query"], EchoQuery())
        context = await aiocoap.Context.create_server_context(root, bind=("127.0.0.1", port), transports=["udp6"])  # UDP only: TCP on the port may be taken
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        print(f"ready 127.0.0.1 {port}", flush=True)
        await stop.wait()
        await context.shutdown()
        print("aiocoap-server: stopped", file=sys.stderr, flush=True)

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
