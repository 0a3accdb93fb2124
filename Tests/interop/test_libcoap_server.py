"""C'. Our client (`lwm2m-agent coap ...`) against libcoap's example server (coap-server)."""

from __future__ import annotations

import random
import re

import pytest

from conftest import SEED


@pytest.fixture
def server(start_coap_server):
    return start_coap_server()


def test_discovery_and_index(server, agent):
    run = agent("get", server.uri("/.well-known/core"), "--verbose", "--timeout", "10", timeout=20)
    assert run.returncode == 0, run.describe()
    assert re.match(r"2\.05 Content .*Content-Format=40", run.err), run.describe()
    for link in ("</time>", "</async>", "</example_data>"):
        assert link in run.out, run.out
    index = agent("get", server.uri("/"), "--timeout", "10", timeout=20)
    assert index.returncode == 0 and index.out.startswith("This is a test server made with libcoap"), index.describe()


def test_put_block1_then_get_block2(server, agent, tmp_path):
    payload = random.Random(SEED + 40_000).randbytes(20_000)
    source = tmp_path / "payload.bin"
    source.write_bytes(payload)
    run = agent("put", server.uri("/example_data"), "--payload-file", source, "--block-size", "256",
                "--verbose", "--timeout", "20", timeout=30)
    assert run.returncode == 0, run.describe()
    assert re.match(r"2\.0[14] ", run.err), run.describe()  # 2.01 Created the first time
    for block_size in ("1024", "64"):
        back = agent("get", server.uri("/example_data"), "--block-size", block_size, "--timeout", "20", timeout=30)
        assert back.returncode == 0, back.describe()
        assert back.stdout == payload, f"--block-size {block_size}: {len(back.stdout)} bytes"


def test_async_separate_response(server, agent):
    # coap-server's /async?N answers after N seconds: empty ACK first, then a separate response.
    run = agent("get", server.uri("/async?2"), "--verbose", "--timeout", "15", timeout=25)
    assert run.returncode == 0, run.describe()
    assert run.stdout == b"done"
    assert run.elapsed >= 1.9, run.elapsed


def test_error_codes_exit_1(server, agent):
    # coap-server's /example_data has no DELETE handler: 4.05, with libcoap's diagnostic payload.
    run = agent("delete", server.uri("/example_data"), "--verbose", "--timeout", "10", timeout=20)
    assert (run.returncode, run.stdout) == (1, b"Method Not Allowed"), run.describe()
    assert run.err.startswith("4.05 "), run.describe()
    run = agent("get", server.uri("/nothing"), "--verbose", "--timeout", "10", timeout=20)
    assert run.returncode == 1 and run.err.startswith("4.04 "), run.describe()
