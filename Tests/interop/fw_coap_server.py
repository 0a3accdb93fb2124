#!/usr/bin/env python3
"""An aiocoap server serving a firmware image block by block, run as its own process by the
firmware pull tests (test_firmware_pull_coap.py).

    fw_coap_server.py PORT IMAGE [--die-at-block N] [--swap-at-block N --swap-image IMAGE2] [--no-size2] [--block-delay S]

  /fw   GET  IMAGE in Block2 blocks (1024 bytes, or smaller if asked), each response with an ETag
             (the first 8 bytes of the image's SHA-256) and Size2 on block 0. The resource serves
             the block asked for itself (no blockwise cache in aiocoap), so a client may start at
             any block: that is how a download resumes. --no-size2: no Size2 (the size is not announced).

--die-at-block N: the process exits at once (os._exit, no answer) when block N is asked for the
first time: a peer that dies mid-download. --swap-at-block N: from the first request for block N
on, the image is IMAGE2 (another ETag): a representation that changes mid-transfer.
--block-delay S: every answer waits S seconds (a slow server: a download stays in progress).

IMAGE is re-read when its size or mtime changes (a test replaces it between two runs). Prints
``ready 127.0.0.1 PORT`` once listening; logs ``block N szx S`` for every request on standard error.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys


class Image:
    def __init__(self, path: str) -> None:
        self.path = path
        self.key = None
        self.body = b""
        self.etag = b""

    def load(self) -> None:
        st = os.stat(self.path)
        key = (st.st_size, st.st_mtime_ns)
        if key != self.key:
            with open(self.path, "rb") as f:
                self.body = f.read()
            self.etag = hashlib.sha256(self.body).digest()[:8]
            self.key = key


def main() -> int:
    import aiocoap
    import aiocoap.resource as resource
    from aiocoap.optiontypes import BlockOption

    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("image")
    parser.add_argument("--die-at-block", type=int, default=-1)
    parser.add_argument("--swap-at-block", type=int, default=-1)
    parser.add_argument("--swap-image")
    parser.add_argument("--no-size2", action="store_true", help="never announce the size (no Size2)")
    parser.add_argument("--block-delay", type=float, default=0.0)
    args = parser.parse_args()
    state = {"image": Image(args.image), "swapped": False}

    class Firmware(resource.Resource):
        async def needs_blockwise_assembly(self, request):
            return False

        async def render_get(self, request):
            block = request.opt.block2
            number, szx = (block.block_number, block.size_exponent) if block is not None else (0, 6)
            szx = min(szx, 6)
            print(f"block {number} szx {szx}", file=sys.stderr, flush=True)
            if args.block_delay > 0:
                await asyncio.sleep(args.block_delay)
            if number == args.die_at_block:
                os._exit(3)
            if number == args.swap_at_block and not state["swapped"]:
                state["swapped"] = True
                state["image"] = Image(args.swap_image)
            image = state["image"]
            image.load()
            size = 16 << szx
            start = number * size
            if start > len(image.body) or (start == len(image.body) and start > 0):
                return aiocoap.Message(code=aiocoap.BAD_OPTION, payload=b"block out of range")
            chunk = image.body[start:start + size]
            more = start + size < len(image.body)
            response = aiocoap.Message(code=aiocoap.CONTENT, payload=chunk)
            response.opt.etag = image.etag
            response.opt.block2 = BlockOption.BlockwiseTuple(number, more, szx)
            if number == 0 and not args.no_size2:
                response.opt.size2 = len(image.body)
            return response

    async def serve() -> None:
        root = resource.Site()
        root.add_resource(["fw"], Firmware())
        # UDP only: the default transports also bind TCP on the port, which may be taken (it was
        # chosen free for UDP).
        await aiocoap.Context.create_server_context(root, bind=("127.0.0.1", args.port), transports=["udp6"])
        print(f"ready 127.0.0.1 {args.port}", flush=True)
        await asyncio.get_running_loop().create_future()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
