"""A. libcoap's coap-client (an independent implementation) against our daemon."""

from __future__ import annotations

import random
import re

import pytest

import coapwire as cw
from conftest import SEED, demo_large, ipv6_loopback_available, skip_or_fail

BOUND = "10"  # coap-client -B: give up after this many seconds


def parse_link_format(text: str) -> dict[str, dict[str, str | None]]:
    """RFC 6690 link format → {target: {param: value-or-None}} (enough for our listing)."""
    links: dict[str, dict[str, str | None]] = {}
    for entry in re.findall(r'<[^>]*>(?:;[^,;"]+(?:="[^"]*"|=[^,;]*)?)*', text):
        target, _, params = entry.partition(">")
        attributes: dict[str, str | None] = {}
        for param in filter(None, params.split(";")):
            name, eq, value = param.partition("=")
            attributes[name] = value.strip('"') if eq else None
        links[target[1:]] = attributes
    return links


def traced_messages(relay, direction: str) -> list[cw.Message]:
    return [cw.decode(bytes.fromhex(record["hex"])) for record in relay.trace() if record["dir"] == direction]


def test_well_known_core_lists_observable_counter(start_daemon, procs, coap_client, tmp_path):
    daemon = start_daemon()
    out = tmp_path / "wkc"
    run = procs.run([coap_client, "-B", BOUND, "-o", out, daemon.uri("/.well-known/core")], timeout=20)
    assert run.returncode == 0, run.describe()
    text = out.read_bytes().decode()
    links = parse_link_format(text)
    assert set(links) >= {"/demo/hello", "/demo/large", "/demo/store", "/demo/counter", "/demo/execute"}, text
    assert "</demo/counter>;obs" in text
    assert "obs" in links["/demo/counter"] and links["/demo/counter"]["obs"] is None
    assert links["/demo/large"].get("sz") == "4096"
    # Of the demo resources, only the counter is observable.
    assert [t for t in ("/demo/hello", "/demo/large", "/demo/store", "/demo/execute") if "obs" in links[t]] == []


@pytest.mark.parametrize("block_size", [64, None], ids=["b64", "default"])
def test_block2_get_large(start_daemon, start_relay, procs, coap_client, tmp_path, block_size):
    daemon = start_daemon()
    relay = start_relay(daemon.port, drop=0.0, trace=True)  # transparent, only to see the blocks
    out = tmp_path / "large"
    argv = [coap_client, "-B", BOUND, "-o", out]
    if block_size:
        argv += ["-b", str(block_size)]
    run = procs.run(argv + [relay.uri("/demo/large")], timeout=30)
    assert run.returncode == 0, run.describe()
    body = out.read_bytes()
    expected = demo_large()
    assert len(body) == 4096
    assert body == expected
    assert run.stdout == b""

    relay.stop()
    responses = [m for m in traced_messages(relay, "down") if m.code == cw.CONTENT]
    blocks = [cw.block_value(m.option(cw.BLOCK2)) for m in responses]
    size = block_size or 1024  # our daemon's preferred (largest) block size
    assert [num for num, _, _ in blocks] == list(range(4096 // size)), blocks
    assert all(bsize == size for _, _, bsize in blocks), blocks
    assert [more for _, more, _ in blocks] == [True] * (4096 // size - 1) + [False]
    assert b"".join(m.payload for m in responses) == expected


def test_block1_put_store_then_get(start_daemon, start_relay, procs, coap_client, agent, tmp_path):
    daemon = start_daemon()
    relay = start_relay(daemon.port, drop=0.0, trace=True)
    payload = random.Random(SEED).randbytes(5000)
    source = tmp_path / "payload.bin"
    source.write_bytes(payload)
    run = procs.run([coap_client, "-B", BOUND, "-m", "put", "-b", "128", "-f", source,
                     relay.uri("/demo/store")], timeout=30)
    assert run.returncode == 0, run.describe()
    assert not re.search(r"^[45]\.\d\d", run.err, re.M), run.describe()

    # Read back with libcoap (Block2, 1024-byte blocks) and with our own client.
    out = tmp_path / "store"
    run = procs.run([coap_client, "-B", BOUND, "-o", out, daemon.uri("/demo/store")], timeout=30)
    assert run.returncode == 0, run.describe()
    assert out.read_bytes() == payload
    ours = agent("get", daemon.uri("/demo/store"), "--timeout", "20")
    assert ours.returncode == 0, ours.describe()
    assert ours.stdout == payload

    relay.stop()
    puts = [m for m in traced_messages(relay, "up") if m.code == cw.PUT]
    answers = [m for m in traced_messages(relay, "down")]
    assert len(puts) == 40  # ceil(5000 / 128), nothing lost on the transparent relay
    assert [cw.block_value(m.option(cw.BLOCK1)) for m in puts] == \
        [(n, n < 39, 128) for n in range(40)]
    assert b"".join(m.payload for m in puts) == payload
    assert [m.code_str for m in answers] == ["2.31"] * 39 + ["2.04"]
    assert cw.block_value(answers[-1].option(cw.BLOCK1)) == (39, False, 128)


def test_observe_counter_notifications_increase(start_daemon, procs, coap_client):
    daemon = start_daemon(tick=0.5)
    # 7 s at 0.5 s per tick: ~14 notifications, crossing counter 10 (sent confirmable: libcoap must
    # acknowledge it, and the observation must go on afterwards).
    run = procs.run([coap_client, "-B", "12", "-s", "7", "-w", daemon.uri("/demo/counter")], timeout=25)
    assert run.returncode == 0, run.describe()
    # -w puts each notification on its own line; coap-client 4.3.1 also writes one extra newline
    # when it quits, after the deregistration (whose response it no longer waits for).
    lines = run.out.rstrip("\n").split("\n")
    assert lines and all(re.fullmatch(r"\d+", line) for line in lines), run.describe()
    values = [int(line) for line in lines]
    assert len(values) >= 4, values
    assert all(b > a for a, b in zip(values, values[1:])), values
    # Loopback loses nothing: every tick arrives, one apart.
    assert all(b == a + 1 for a, b in zip(values, values[1:])), values
    assert 10 in values and max(values) > 10, values
    # coap-client deregisters (GET with Observe: 1) when -s expires; it quits without waiting for
    # the answer, so give the daemon a moment to log it.
    daemon.proc.wait_for(r"observation \S+ ended: deregistered", timeout=3)


@pytest.mark.parametrize(("method", "path", "code"), [
    ("get", "/demo/nothing", "4.04"),
    ("get", "/nothing/at/all", "4.04"),
    ("post", "/demo/hello", "4.05"),
    ("delete", "/demo/large", "4.05"),
])
def test_error_responses(start_daemon, procs, coap_client, method, path, code):
    daemon = start_daemon()
    # -v 7 makes libcoap log the received message: "v:1 t:ACK c:4.04 i:... {token} [ ] :: '...'"
    run = procs.run([coap_client, "-B", BOUND, "-v", "7", "-m", method, daemon.uri(path)], timeout=20)
    logged = run.out + run.err
    received = re.findall(r"v:1 t:(\w+) c:(\d\.\d\d) ", logged)
    assert ("ACK", code) in received, run.describe()
    assert all(c == code for t, c in received if c.startswith(("2.", "4.", "5."))), received
    # Without -v, coap-client reports the error code and diagnostic payload on stderr, not stdout.
    quiet = procs.run([coap_client, "-B", BOUND, "-m", method, daemon.uri(path)], timeout=20)
    assert quiet.stdout == b"", quiet.describe()
    assert re.match(rf"{re.escape(code)} ", quiet.err), quiet.describe()


def test_ipv6_loopback_get_hello(start_daemon, procs, coap_client, tmp_path):
    if not ipv6_loopback_available():
        skip_or_fail("::1 is not available on this host (cannot bind a UDP socket to it)")
    daemon = start_daemon(host="::1")
    assert daemon.uri("/demo/hello").startswith("coap://[::1]:")
    out = tmp_path / "hello"
    run = procs.run([coap_client, "-B", BOUND, "-o", out, daemon.uri("/demo/hello")], timeout=20)
    assert run.returncode == 0, run.describe()
    assert out.read_bytes() == b"Hello from lwm2m-agentd"
    # Block2 over IPv6 as well.
    out = tmp_path / "large"
    run = procs.run([coap_client, "-B", BOUND, "-b", "256", "-o", out, daemon.uri("/demo/large")], timeout=20)
    assert run.returncode == 0, run.describe()
    assert out.read_bytes() == demo_large()
    # The daemon saw the requests come from an IPv6 peer.
    assert re.search(r"serving demo resources on coap://\[::1\]:\d+", daemon.log()), daemon.log()
    assert re.search(r"^<7>lwm2m-demo: \[::1\]:\d+ .*/demo/hello$", daemon.log(), re.M), daemon.log()


def test_non_confirmable_requests(start_daemon, start_relay, procs, coap_client, tmp_path):
    daemon = start_daemon()
    relay = start_relay(daemon.port, drop=0.0, trace=True)
    out = tmp_path / "large"
    run = procs.run([coap_client, "-N", "-B", BOUND, "-b", "64", "-o", out, relay.uri("/demo/large")], timeout=20)
    assert run.returncode == 0, run.describe()
    assert out.read_bytes() == demo_large()

    payload = random.Random(SEED + 3).randbytes(3000)
    source = tmp_path / "payload.bin"
    source.write_bytes(payload)
    run = procs.run([coap_client, "-N", "-B", BOUND, "-m", "put", "-b", "128", "-f", source,
                     relay.uri("/demo/store")], timeout=20)
    assert run.returncode == 0, run.describe()
    relay.stop()
    # RFC 7252 §5.2.3: a NON request gets a NON response. No ACKs anywhere.
    up, down = traced_messages(relay, "up"), traced_messages(relay, "down")
    assert {m.type_name for m in up} == {"NON"} and {m.type_name for m in down} == {"NON"}
    assert len([m for m in down if m.code == cw.CONTENT]) == 64
    assert [m.code_str for m in down if m.code != cw.CONTENT] == ["2.31"] * 23 + ["2.04"]

    out = tmp_path / "store"
    run = procs.run([coap_client, "-B", BOUND, "-o", out, daemon.uri("/demo/store")], timeout=20)
    assert out.read_bytes() == payload, run.describe()


def test_execute_and_delete(start_daemon, procs, coap_client, tmp_path):
    daemon = start_daemon()
    out = tmp_path / "executed"
    for expected, flags in (("executions=1", ["-N"]), ("executions=2", []), ("executions=3", [])):
        # (-o: on stdout coap-client 4.3.1 adds a newline of its own in some modes.)
        run = procs.run([coap_client, *flags, "-B", BOUND, "-m", "post", "-o", out, daemon.uri("/demo/execute")],
                        timeout=20)
        assert (run.returncode, out.read_bytes()) == (0, expected.encode()), run.describe()
    run = procs.run([coap_client, "-B", BOUND, "-v", "7", "-m", "delete", daemon.uri("/demo/store")], timeout=20)
    assert re.search(r"t:ACK c:2\.02 ", run.out + run.err), run.describe()
    out = tmp_path / "store"
    run = procs.run([coap_client, "-B", BOUND, "-v", "7", "-o", out, daemon.uri("/demo/store")], timeout=20)
    # 2.05 without a payload: libcoap logs no " :: payload" part, and -o writes no file at all.
    assert re.search(r"^v:1 t:ACK c:2\.05 i:\w+ \{\w*\} \[[^\]]*\]$", run.out + run.err, re.M), run.describe()
    assert not out.exists() or out.read_bytes() == b""


def test_concurrent_block2_clients(start_daemon, procs, coap_client, tmp_path):
    """Twelve coap-client processes at once, each its own Block2 transfer of /demo/large (more
    than the daemon's 8 cached representations), with block sizes from 16 to 1024 bytes."""
    daemon = start_daemon()
    sizes = [16, 32, 64, 128, 256, 512, 1024, 16, 32, 64, 128, 256]
    clients = [procs.start(f"coap-client-{i}", [coap_client, "-B", "20", "-b", size, "-o", tmp_path / f"out{i}",
                                                daemon.uri("/demo/large")])
               for i, size in enumerate(sizes)]
    for client in clients:
        client.popen.wait(timeout=30)
    expected = demo_large()
    for i, client in enumerate(clients):
        assert client.popen.returncode == 0, client.stderr()
        assert (tmp_path / f"out{i}").read_bytes() == expected, f"client {i} (-b {sizes[i]})"
