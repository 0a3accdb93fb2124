"""Streamed Block1 uploads (issue 14 groundwork): ``lwm2m-demo`` serves ``/32769/0/0``, the
Package resource of a demo LwM2M object that takes a Write block by block
(``StreamingWritable``; the CoAP engine's ``block1Streaming`` holds no body). Nothing of the
package is kept: the object keeps its size (/32769/0/1) and FNV-1a 32 checksum (/32769/0/2).

- aiocoap, an independent client, PUTs 8 MiB with Block1 (1024-byte blocks); the demo's VmRSS
  is sampled while it runs and must stay flat (an engine reassembling the body would hold the
  8 MiB; before streaming existed the upload was refused with 4.13 at 1 MiB).
- Hand-built blocks: 2.31 per block, a block out of order gets 4.08 and the object hears the
  transfer was abandoned (/32769/0/4), a restart at block 0 restarts, a repeated block (new
  message ID) is answered 2.31 again without being taken twice, a TLV body is refused (4.15).
- Our CLI PUTs 64 KiB through a relay dropping 30 % of the datagrams: the retransmitted blocks
  are deduplicated, each block is taken once.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time

from aiocoap import Context, Message
from aiocoap.numbers.codes import Code

import coapwire as cw
from conftest import vm_rss_kib

PACKAGE = "/32769/0/0"
OCTET_STREAM = 42
TLV = 11542
BLOCK_SIZE = 1024
REQUEST_ENTITY_INCOMPLETE = cw.code(4, 8)
UNSUPPORTED_CONTENT_FORMAT = cw.code(4, 15)


def fnv1a32(data: bytes) -> str:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}"


async def put(uri: str, payload: bytes, timeout: float) -> Message:
    context = await Context.create_client_context()
    try:
        message = Message(code=Code.PUT, uri=uri, payload=payload)
        message.opt.content_format = OCTET_STREAM
        return await asyncio.wait_for(context.request(message).response, timeout)
    finally:
        await context.shutdown()


async def get_text(uri: str) -> str:
    context = await Context.create_client_context()
    try:
        message = Message(code=Code.GET, uri=uri)
        message.opt.accept = 0
        response = await asyncio.wait_for(context.request(message).response, 10)
        assert response.code == Code.CONTENT, response
        return response.payload.decode()
    finally:
        await context.shutdown()


def state(daemon) -> dict[str, str]:
    return {name: asyncio.run(get_text(daemon.uri(f"/32769/0/{rid}")))
            for rid, name in [(1, "size"), (2, "checksum"), (3, "complete"), (4, "abandoned")]}


class RSSSampler(threading.Thread):
    """Samples a process's VmRSS every 20 ms until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[int] = []
        self.running = True

    def run(self) -> None:
        while self.running:
            self.samples.append(vm_rss_kib(self.pid))
            time.sleep(0.02)

    def stop(self) -> list[int]:
        self.running = False
        self.join()
        return self.samples


def test_aiocoap_streams_8_mib_with_flat_rss(start_daemon):
    daemon = start_daemon(log_level="debug")
    body = random.Random(14).randbytes(8 << 20)
    # Warm up: one streamed upload of 64 KiB, so the allocator's pools exist before measuring.
    warm = asyncio.run(put(daemon.uri(PACKAGE), body[:64 << 10], timeout=30))
    assert warm.code == Code.CHANGED, warm
    baseline = vm_rss_kib(daemon.proc.pid)

    sampler = RSSSampler(daemon.proc.pid)
    sampler.start()
    started = time.monotonic()
    response = asyncio.run(put(daemon.uri(PACKAGE), body, timeout=180))
    seconds = time.monotonic() - started
    samples = sampler.stop()
    assert response.code == Code.CHANGED, response
    # One request per 1024-byte block reached the demo (it logs every request at debug level).
    blocks = daemon.log().count(f" {PACKAGE}\n") - 64
    assert blocks == (8 << 20) // BLOCK_SIZE, f"{blocks} blocks, not 1024-byte ones"

    got = state(daemon)
    assert got == {"size": str(8 << 20), "checksum": fnv1a32(body), "complete": "1", "abandoned": "0"}, got
    peak = max(samples)
    print(f"\n8 MiB streamed in {seconds:.1f} s ({(8 << 20) / seconds / 1e6:.2f} MB/s, "
          f"{8192 / seconds:.0f} blocks/s); demo VmRSS baseline {baseline} KiB, peak {peak} KiB "
          f"(+{peak - baseline} KiB), {len(samples)} samples")
    assert len(samples) >= 10, samples
    # Flat: well under the 8 MiB an in-memory reassembly would hold (measured: a few hundred KiB).
    assert peak - baseline < 1024, (baseline, peak)


class Client:
    """Hand-built Block1 PUTs from one socket, each CON answered before the next is sent."""

    def __init__(self, daemon):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.connect(daemon.address)
        self.sock.settimeout(5)
        self.mid = random.Random(7).randrange(0x10000)

    def close(self) -> None:
        self.sock.close()

    def block(self, body: bytes, num: int, content_format: int = OCTET_STREAM) -> cw.Message:
        self.mid = (self.mid + 1) & 0xFFFF
        chunk = body[num * BLOCK_SIZE:(num + 1) * BLOCK_SIZE]
        more = (num + 1) * BLOCK_SIZE < len(body)
        options = cw.uri_path_options(PACKAGE) + [
            (cw.CONTENT_FORMAT, cw.uint_bytes(content_format)),
            (cw.BLOCK1, cw.uint_bytes(num << 4 | (0x8 if more else 0) | 6))]
        self.sock.send(cw.encode(cw.CON, cw.PUT, self.mid, bytes([num & 0xFF]), options, chunk))
        while True:
            reply = cw.decode(self.sock.recv(2048))
            if reply.mid == self.mid:
                return reply


def test_blocks_order_restart_and_repeats(start_daemon):
    daemon = start_daemon(log_level="info")
    client = Client(daemon)
    try:
        body = random.Random(3).randbytes(10 * BLOCK_SIZE + 100)
        for num in range(3):
            reply = client.block(body, num)
            assert reply.code == cw.CONTINUE, reply
            assert cw.block_value(reply.option(cw.BLOCK1)) == (num, True, BLOCK_SIZE), reply
        # Block 5 instead of 3: 4.08, and the object is told the transfer is abandoned.
        reply = client.block(body, 5)
        assert reply.code == REQUEST_ENTITY_INCOMPLETE, reply
        assert state(daemon)["abandoned"] == "1"
        # Nothing to continue: block 3 is now out of order too (no second abandonment).
        assert client.block(body, 3).code == REQUEST_ENTITY_INCOMPLETE
        # Restart at block 0, with a repeat of block 1 under a new message ID (its 2.31 lost).
        for num in [0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9]:
            assert client.block(body, num).code == cw.CONTINUE, num
        other = random.Random(4).randbytes(len(body))
        reply = client.block(body, 10)
        assert reply.code == cw.CHANGED, reply
        assert cw.block_value(reply.option(cw.BLOCK1)) == (10, False, BLOCK_SIZE), reply
        assert state(daemon) == {"size": str(len(body)), "checksum": fnv1a32(body), "complete": "1",
                                 "abandoned": "1"}
        # Restarting with another body replaces the first entirely.
        for num in range(11):
            client.block(other, num)
        assert state(daemon)["checksum"] == fnv1a32(other)
        # A block-wise TLV body cannot stream: 4.15, the object untouched.
        reply = client.block(body, 0, content_format=TLV)
        assert reply.code == UNSUPPORTED_CONTENT_FORMAT, reply
        assert state(daemon)["checksum"] == fnv1a32(other)
    finally:
        client.close()


def test_streamed_write_through_30_percent_loss(start_daemon, start_relay, agent, tmp_path):
    """64 KiB to /32769/0/0 through a relay dropping 30 % of the datagrams both ways: every lost
    block or lost 2.31 is retransmitted (same message ID) and the demo object takes each block
    exactly once (a block handed over twice would break its offset check: 4.00)."""
    from test_lossy import DROP, assert_lossy, repeat

    daemon = start_daemon(log_level="debug")
    payload = random.Random(1414).randbytes(64 << 10)
    source = tmp_path / "package.bin"
    source.write_bytes(payload)
    relay = start_relay(daemon.port, drop=DROP, seed=14, trace=True)
    runs, last = repeat(
        lambda: agent("put", relay.uri(PACKAGE), "--payload-file", source, "--content-format", str(OCTET_STREAM),
                      "--ack-timeout", "0.3", "--timeout", "90", timeout=100),
        lambda run: run.returncode == 0)
    assert last.returncode == 0, "\n\n".join(run.describe() for run in runs)
    up = [cw.decode(bytes.fromhex(r["hex"])) for r in relay.trace() if r["dir"] == "up"]
    blocks = [m for m in up if m.code == cw.PUT]
    retransmitted = len(blocks) - len({(m.mid, m.token) for m in blocks})
    print(f"\nclient runs: {len(runs)}; {len(blocks)} block datagrams sent for 64 blocks, {retransmitted} retransmissions")
    assert_lossy(relay)
    assert retransmitted >= 1
    # Straight to the demo: the object holds exactly the package, each block taken once.
    assert state(daemon) == {"size": str(len(payload)), "checksum": fnv1a32(payload), "complete": "1",
                             "abandoned": "0"}  # a failed run is restarted at block 0: no abandonment
