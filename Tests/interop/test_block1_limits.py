"""Block1 uploads (RFC 7959 §2.5) against ``lwm2m-demo``: hostile peers that start
uploads and never finish them must not take the daemon's memory (issue 10, defect 4), and a
FETCH (LwM2M Read-Composite) whose path list needs Block1 must complete (defect 5).

The memory test drives several hundred unfinished uploads, with distinct paths and queries, from
several source ports, each block answered before the next is sent (as a real client would), and
reads the daemon's VmRSS from /proc before and after. Before the fix every upload was kept (up
to 1 MiB each, for EXCHANGE_LIFETIME): RSS grew by more than the bytes sent. The FETCH test uses
aiocoap, an independent client that switches to Block1 by itself for a large request body."""

from __future__ import annotations

import asyncio
import json
import socket
import time

from aiocoap import Context, Message
from aiocoap.numbers.codes import Code

import coapwire as cw
from conftest import vm_rss_kib

SENML_JSON = 110
MAX_AGE = 14
SERVICE_UNAVAILABLE = cw.code(5, 3)
REQUEST_ENTITY_TOO_LARGE = cw.code(4, 13)
REQUEST_ENTITY_INCOMPLETE = cw.code(4, 8)
BLOCK_SIZE = 1024  # SZX 6


def block1(num: int, more: bool) -> bytes:
    return cw.uint_bytes(num << 4 | (0x8 if more else 0) | 6)


class Uploader:
    """One UDP socket (one source port) driving many Block1 PUTs at once, one block per upload
    per round, each round waiting for every answer (CON requests, retried on silence)."""

    def __init__(self, address: tuple, index: int, uploads: int):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.connect(address)
        self.mid = index << 12
        # Distinct path and query per upload: /demo/up<socket>/<n>?k=<n>
        self.uploads = [(f"up{index}", str(n), f"k={index}-{n}") for n in range(uploads)]
        self.active = set(range(uploads))
        self.replies: dict[int, cw.Message] = {}

    def close(self) -> None:
        self.sock.close()

    def request(self, n: int, num: int, more: bool, payload: bytes) -> bytes:
        self.mid = (self.mid + 1) & 0xFFFF
        segment, leaf, query = self.uploads[n]
        options = cw.uri_path_options(f"/demo/{segment}/{leaf}") + [
            (cw.URI_QUERY, query.encode()), (cw.BLOCK1, block1(num, more))]
        return cw.encode(cw.CON, cw.PUT, self.mid, n.to_bytes(2, "big"), options, payload)

    def round(self, num: int, more: bool, payload: bytes) -> dict[int, cw.Message]:
        """Sends block ``num`` of every active upload; returns the answers by upload."""
        pending = {n: self.request(n, num, more, payload) for n in sorted(self.active)}
        answers: dict[int, cw.Message] = {}
        for _attempt in range(4):
            for datagram in pending.values():
                self.sock.send(datagram)
            deadline = time.monotonic() + 2.0
            while pending and time.monotonic() < deadline:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    reply = cw.decode(self.sock.recv(2048))
                except (socket.timeout, BlockingIOError):
                    break
                n = int.from_bytes(reply.token, "big")
                if n in pending and reply.mtype == cw.ACK:
                    del pending[n]
                    answers[n] = reply
            if not pending:
                break
        assert not pending, f"{len(pending)} blocks never answered (e.g. upload {next(iter(pending))})"
        for n, reply in answers.items():
            if reply.code != cw.CONTINUE:
                self.active.discard(n)
        return answers


def test_unfinished_block1_uploads_keep_the_daemon_rss_bounded(start_daemon):
    """300 uploads of 256 blocks (256 KiB) each from 6 source ports, none finished: 75 MiB sent.
    Unbounded, the daemon kept all of it (RSS +100 MiB); capped, it keeps at most the
    configured budget (16 uploads, 4 MiB by default) and refuses the others with 5.03 and a
    Max-Age telling when to retry."""
    daemon = start_daemon(log_level="notice")
    pid = daemon.proc.pid
    # Warm up (first requests allocate the daemon's buffers), then take the baseline.
    warm = Uploader(daemon.address, 15, 4)
    for num in range(3):
        warm.round(num, True, bytes(BLOCK_SIZE))
    warm.close()
    time.sleep(0.2)
    baseline = vm_rss_kib(pid)

    blocks, sockets, per_socket = 256, 6, 50
    uploaders = [Uploader(daemon.address, index, per_socket) for index in range(sockets)]
    first_answers: list[cw.Message] = []
    sent_bytes = 0
    try:
        for num in range(blocks):
            payload = bytes([num & 0xFF]) * BLOCK_SIZE
            for uploader in uploaders:
                if not uploader.active:
                    continue
                sent_bytes += len(uploader.active) * BLOCK_SIZE
                answers = uploader.round(num, True, payload)
                if num == 0:
                    first_answers += answers.values()
        peak = vm_rss_kib(pid)
        assert daemon.proc.alive(), daemon.log()[-3000:]
        accepted = [m for m in first_answers if m.code == cw.CONTINUE]
        refused = [m for m in first_answers if m.code != cw.CONTINUE]
        still_open = sum(len(u.active) for u in uploaders)
        growth_mib = (peak - baseline) / 1024
        summary = (f"RSS {baseline} KiB -> {peak} KiB (+{growth_mib:.1f} MiB) after {sent_bytes >> 20} MiB "
                   f"of unfinished uploads; block 0 accepted {len(accepted)}, refused {len(refused)}; "
                   f"{still_open} uploads open at the end")
        print(summary)
        # The bound: the default budget is 4 MiB of bodies (an array may hold up to twice its
        # count while growing), plus allocator slack; unbounded, the daemon held it all.
        assert growth_mib < 20, summary
        assert refused, summary
        for message in refused:
            assert message.code == SERVICE_UNAVAILABLE, f"{message} {message.payload!r}"
            max_age = cw.uint_value(message.option(MAX_AGE) or b"")
            assert 1 <= max_age <= 248, f"Max-Age {max_age}: {message}"
        # The daemon still serves, and a request body in one block is still accepted.
        probe = Uploader(daemon.address, 14, 1)
        try:
            probe.sock.send(cw.encode(cw.CON, cw.PUT, 0x7777, b"\x01", cw.uri_path_options("/demo/store"),
                                      b"small body"))
            probe.sock.settimeout(2)
            reply = cw.decode(probe.sock.recv(2048))
            assert reply.code == cw.CHANGED, str(reply)
        finally:
            probe.close()
    finally:
        for uploader in uploaders:
            uploader.close()


def test_block1_refusals_on_the_wire(start_daemon):
    """Over the caps: a new upload gets 5.03 Service Unavailable with Max-Age (RFC 7252
    §5.9.3.4: retry then), nothing is kept of it (its block 1 is 4.08), and the uploads
    already in progress complete."""
    daemon = start_daemon(log_level="notice")
    uploaders = [Uploader(daemon.address, index, 4) for index in range(5)]
    try:
        codes = [uploader.round(0, True, bytes(BLOCK_SIZE)) for uploader in uploaders]
        first = [message for answers in codes for message in answers.values()]
        assert sum(m.code == cw.CONTINUE for m in first) == 16, [str(m) for m in first]  # default cap
        refused = [m for m in first if m.code == SERVICE_UNAVAILABLE]
        assert len(refused) == 4, [str(m) for m in first]
        assert all(1 <= cw.uint_value(m.option(MAX_AGE) or b"") <= 248 for m in refused), [str(m) for m in refused]
        # The refused upload was not kept: its next block is out of sequence.
        last = uploaders[-1]
        assert not last.active
        last.active = {0}
        assert last.round(1, True, bytes(BLOCK_SIZE))[0].code == REQUEST_ENTITY_INCOMPLETE
        # An accepted one runs to its end (the demo answers 4.04 for the unknown path: the body
        # reached the application).
        keeper = uploaders[0]
        keeper.active = {0}
        keeper.round(1, True, bytes(BLOCK_SIZE))
        final = keeper.round(2, False, b"end")[0]
        assert final.code not in (cw.CONTINUE, REQUEST_ENTITY_INCOMPLETE, SERVICE_UNAVAILABLE), str(final)
        assert cw.block_value(final.option(cw.BLOCK1))[:2] == (2, False), str(final)
    finally:
        for uploader in uploaders:
            uploader.close()


# MARK: - FETCH with Block1 (defect 5)


async def _fetch(uri: str, body: bytes) -> Message:
    context = await Context.create_client_context()
    try:
        message = Message(code=Code.FETCH, uri=uri, payload=body)
        message.opt.content_format = SENML_JSON
        message.opt.accept = SENML_JSON
        return await asyncio.wait_for(context.request(message).response, 20)
    finally:
        await context.shutdown()


def senml_names(records: list[dict]) -> dict[str, dict]:
    base, result = "", {}
    for record in records:
        base = record.get("bn", base)
        result[base + record.get("n", "")] = record
    return result


def test_read_composite_with_a_block1_path_list(start_daemon):
    """A Read-Composite (FETCH /, SenML JSON path list) whose body is larger than one block:
    aiocoap sends it with Block1. Before the fix the upload was keyed by its partial body, so
    block 1 never matched block 0 and got 4.08 Request Entity Incomplete."""
    daemon = start_daemon(log_level="debug")
    paths = ["/3/0", "/3311/0"] + ["/3/0/0", "/3/0/1", "/3/0/9", "/3311/0/5851"] * 40
    body = json.dumps([{"n": path} for path in paths]).encode()
    assert len(body) > 2 * BLOCK_SIZE
    response = asyncio.run(_fetch(daemon.uri("/"), body))
    assert response.code == Code.CONTENT, f"{response.code} {response.payload!r}"
    assert response.opt.content_format == SENML_JSON
    values = senml_names(json.loads(response.payload))
    assert values["/3/0/0"]["vs"] == "Open Source Gateways"
    assert values["/3311/0/5851"]["v"] == 50
    assert "/3/0/9" in values and "/3311/0/5850" in values


def test_block1_fetch_on_the_wire(start_daemon):
    """The same with hand-built datagrams, to see each block's answer: 2.31 Continue for blocks
    0 and 1 (4.08 for block 1 before the fix), then 2.05 with the composite values."""
    daemon = start_daemon(log_level="notice")
    body = json.dumps([{"n": "/3/0/0"}, {"n": "/3311/0/5851"}] * 80).encode()
    chunks = [body[i:i + BLOCK_SIZE] for i in range(0, len(body), BLOCK_SIZE)]
    assert len(chunks) >= 3
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(daemon.address)
        sock.settimeout(3)
        answers = []
        for num, chunk in enumerate(chunks):
            more = num < len(chunks) - 1
            options = [(cw.CONTENT_FORMAT, cw.uint_bytes(SENML_JSON)), (cw.BLOCK1, block1(num, more))]
            sock.send(cw.encode(cw.CON, cw.code(0, 5), 0x5100 + num, bytes([0x51, num]), options, chunk))
            answers.append(cw.decode(sock.recv(4096)))
        for num, answer in enumerate(answers[:-1]):
            assert answer.code == cw.CONTINUE, f"block {num}: {answer} {answer.payload!r}"
            assert cw.block_value(answer.option(cw.BLOCK1))[:2] == (num, True), str(answer)
        final = answers[-1]
        assert final.code == cw.CONTENT, f"{final} {final.payload!r}"
        values = senml_names(json.loads(final.payload))
        assert values["/3/0/0"]["vs"] == "Open Source Gateways" and values["/3311/0/5851"]["v"] == 50
