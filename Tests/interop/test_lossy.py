"""D. Transfers through lossy_relay.py, which drops 30 % of the datagrams in each direction.

Per confirmable message, one attempt gets through when request and answer both survive
(0.7 x 0.7 = 0.49); with MAX_RETRANSMIT = 4 a message is lost after 5 failed attempts, probability
0.51^5 ~ 3.5 %, so a 10-20-block transfer fails as a whole with probability 30-50 %. Each client
run may therefore be repeated at most twice (MAX_RUNS = 3).

Determinism: the relay draws from one seeded RNG per direction, one draw per datagram, and every
exchange here is strictly sequential (one CON outstanding, NSTART = 1, answers in < 1 ms against
timeouts of >= 300 ms), so a seed fixes exactly which requests and answers are lost, run after run.
The default seeds below were picked (by replaying that model, then checked against real runs)
so that each transfer meets real loss yet completes in one run: 25-35 % of the datagrams dropped,
in both directions, some message needing 3-4 retransmissions, and bounded time with libcoap's
2 s ACK_TIMEOUT. LWM2M_LOSSY_SEED overrides all three, to explore other patterns: then some seeds
need the retries, and with only ~10-20 datagrams in the libcoap test about a third of all seeds
drop fewer than 20 % and fail the "really lossy" check below (a property of the seed, not a bug).
Every test asserts the relay really dropped >= 20 % of what it saw, in both directions, so none
can pass on a loss-free path.
"""

from __future__ import annotations

import os
import random
from collections import Counter

import pytest

from aiocoap_server import large_body
from coapwire import CON, decode
from conftest import SEED, demo_large

DROP = 0.3
MAX_RUNS = 3  # one run plus at most two retries

_override = os.environ.get("LWM2M_LOSSY_SEED")
GET_SEED = int(_override or 7)       # 34 datagrams, 11 dropped; one block needed 4 retransmissions
PUT_SEED = int(_override or 7)       # 69 datagrams, 21 dropped; one block needed 4 retransmissions
LIBCOAP_SEED = int(_override or 28)  # 15 datagrams, 5 dropped; ~15 s of libcoap back-off


def assert_lossy(relay) -> None:
    """The relay really lost >= 20 % of the datagrams, both ways, and the client recovered by
    retransmitting."""
    stats = relay.stop()
    assert stats["drop_probability"] == DROP
    assert stats["up"]["dropped"] >= 1 and stats["down"]["dropped"] >= 1, stats
    assert stats["drop_ratio"] >= 0.20, stats
    # Upstream CON requests, by (client port, MID): how often each was transmitted.
    sends = Counter()
    for record in relay.trace():
        if record["dir"] == "up":
            message = decode(bytes.fromhex(record["hex"]))
            if message.mtype == CON:
                sends[(record["client"], message.mid)] += 1
    assert max(sends.values()) >= 2, "no retransmission seen"
    print(f"relay: {stats['total_dropped']}/{stats['total_received']} datagrams dropped "
          f"({stats['drop_ratio']:.0%}); up {stats['up']}, down {stats['down']}; "
          f"most transmissions of one request: {max(sends.values())}")


def repeat(run_once, ok) -> tuple[list, object]:
    """Runs ``run_once`` until ``ok(result)``, at most MAX_RUNS times; returns (all results, last)."""
    results = []
    for _ in range(MAX_RUNS):
        result = run_once()
        results.append(result)
        if ok(result):
            break
    return results, results[-1]


@pytest.fixture
def server(start_aiocoap):
    return start_aiocoap()


def test_lossy_get_large_from_aiocoap(server, start_relay, agent):
    relay = start_relay(server.port, drop=DROP, seed=GET_SEED, trace=True)
    expected = large_body()
    runs, last = repeat(
        lambda: agent("get", relay.uri("/large"), "--ack-timeout", "0.3", "--timeout", "40", timeout=50),
        lambda run: run.returncode == 0)
    assert last.returncode == 0, "\n\n".join(run.describe() for run in runs)
    assert last.stdout == expected
    assert all(run.returncode == 3 for run in runs[:-1]), [run.describe() for run in runs]
    print(f"client runs: {len(runs)}")
    assert_lossy(relay)


def test_lossy_put_sink_to_aiocoap(server, start_relay, agent, tmp_path):
    payload = random.Random(SEED + 5000).randbytes(5000)
    source = tmp_path / "payload.bin"
    source.write_bytes(payload)
    relay = start_relay(server.port, drop=DROP, seed=PUT_SEED, trace=True)
    runs, last = repeat(
        lambda: agent("put", relay.uri("/sink"), "--payload-file", source, "--block-size", "256",
                      "--ack-timeout", "0.3", "--timeout", "60", timeout=70),
        lambda run: run.returncode == 0)
    assert last.returncode == 0, "\n\n".join(run.describe() for run in runs)
    print(f"client runs: {len(runs)}")
    # Read back directly (no relay): the server holds exactly what we sent.
    back = agent("get", server.uri("/sink"), "--timeout", "20", timeout=30)
    assert back.returncode == 0, back.describe()
    assert back.stdout == payload
    assert "PUT /sink payload=5000B" in server.proc.stderr()
    assert_lossy(relay)


def test_lossy_libcoap_client_get_demo_large(start_daemon, start_relay, procs, coap_client, tmp_path):
    daemon = start_daemon()
    relay = start_relay(daemon.port, drop=DROP, seed=LIBCOAP_SEED, trace=True)
    out = tmp_path / "large"

    def run_once():
        out.unlink(missing_ok=True)
        # libcoap keeps RFC defaults (ACK_TIMEOUT 2 s); -B bounds how long it waits in total.
        return procs.run([coap_client, "-B", "60", "-o", out, relay.uri("/demo/large")], timeout=75)

    runs, last = repeat(run_once, lambda run: out.exists() and out.read_bytes() == demo_large())
    assert out.exists() and out.read_bytes() == demo_large(), "\n\n".join(run.describe() for run in runs)
    assert last.returncode == 0, last.describe()
    print(f"client runs: {len(runs)}")
    assert_lossy(relay)
