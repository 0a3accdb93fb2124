"""Firmware Update (issue 14) over bad links: the real ``lwm2m-agentd`` with its peers behind
relays that lose datagrams or cut connections.

- push: the aiocoap management server writes a 256 KiB package to /5/0/0 block-wise (Block1)
  through lossy_relay.py dropping 30 % of the datagrams both ways; blocks and 2.31s are lost and
  retransmitted (the agent sees repeated blocks) and the package still arrives exactly once per
  block: Update installs the exact bytes (the hook records size and SHA-256), and the observed
  State and Update Result notifications reach the server through the same link;
- pull over CoAP (Block2) from fw_coap_server.py through 30 % loss on both links (the server's
  and the image server's): blocks the agent gives up on resume where the stored bytes end (the
  agent's automatic resume), the exact image is installed, notifications arrive;
- pull over HTTP and HTTPS (a CA made here, ``http-ca``) through a TCP relay that cuts the
  connection three times mid-body: the agent resumes with ``Range: bytes=N-`` / ``If-Range``
  exactly where the stored bytes end (the image server's log shows the ranges), installs the
  exact bytes.

The loss tests give the peers short CoAP timers (the agent ``ack-timeout = 0.025`` and
``max-retransmit = 8``, the management server 0.03 s with doubling capped at 0.06 s and 20
retransmissions) so that 256 blocks through 30 % loss take seconds, not minutes, and a
confirmable notification is not given up; nothing in the assertions is relaxed.
"""

from __future__ import annotations

import hashlib
import random
import re
import socket
import struct
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import coapwire as cw
from agentconfig import write_config
from conftest import HERE, require_tool
from test_firmware_agent import (EP, blocks_asked, dedup, hook_script, image_bytes, notified, observe, read_int,
                                 wait_state, write_uri)
from test_firmware_agent import start_coap_server as start_fw_coap
from test_firmware_pull_http import make_ca, make_server_cert

DROP = 0.3
AGENT_ACK_TIMEOUT = 0.025
AGENT_MAX_RETRANSMIT = 8  # a confirmable notification is lost for good once in ~400 (0.51^9), not ~30
LOSSY_SERVER = ("--ack-timeout", "0.03", "--max-retransmit", "20", "--retransmit-cap", "0.06",
                "--request-timeout", "60")


def lossy_agent(start_agent, tmp_path: Path, server_port: int, **firmware):
    """The daemon registered at 127.0.0.1:server_port with short CoAP timers and the hook installer."""
    hook, record = hook_script(tmp_path, delay=0.1)
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{server_port}", "lifetime": 60}},
                          ack_timeout=AGENT_ACK_TIMEOUT, max_retransmit=AGENT_MAX_RETRANSMIT)
    settings = {"installer": "script", "script": str(hook), **firmware}
    with config.open("a") as out:
        out.write("\n[firmware]\n" + "".join(f"{k.replace('_', '-')} = {v}\n" for k, v in settings.items()))
    return start_agent(config), record


def installed(record: Path) -> tuple[str, str]:
    """(version, SHA-256) of the one install the hook recorded."""
    lines = record.read_text().splitlines()
    assert len(lines) == 1, lines
    words = lines[0].split()
    assert words[0] == "install", lines
    return words[2], words[3]


def update(ms) -> None:
    reply = ms.command("execute", ep=EP, path="/5/0/2", timeout=50, wait=60)
    assert reply["ok"] and reply["code"] == "2.04", reply
    wait_state(ms, 0, timeout=60)
    assert read_int(ms, "/5/0/5") == 1


def wait_last_notified(ms, observation: int, last: int, timeout: float = 30.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        values = dedup(notified(ms, observation))
        if values and values[-1] == last:
            return values
        assert time.monotonic() < deadline, f"notifications {values}, waiting for {last}"
        time.sleep(0.1)


def assert_lossy_states(values: list[int]) -> None:
    """State notifications through loss: in the order [1, 2, 3, 0], ending with Idle, but a
    state may be missing — a confirmable notification still being retransmitted when the next
    state comes is replaced by the newer one (RFC 7641 §4.5.2: the latest state is what counts)."""
    order = [1, 2, 3, 0]
    assert values and values[-1] == 0, values
    assert [order.index(v) for v in values] == sorted({order.index(v) for v in values}), values


def transmissions(relay, direction: str) -> Counter:
    """How often each CON request (by client port and MID) went through the relay, not dropped."""
    sends = Counter()
    for record in relay.trace():
        if record["dir"] == direction and not record["dropped"]:
            message = cw.decode(bytes.fromhex(record["hex"]))
            if message.mtype == cw.CON and message.code != cw.EMPTY and message.code < 32:
                sends[(record["client"], message.mid)] += 1
    return sends


def assert_really_lossy(stats: dict) -> None:
    assert stats["drop_probability"] == DROP
    assert stats["up"]["dropped"] >= 10 and stats["down"]["dropped"] >= 10, stats
    assert stats["drop_ratio"] >= 0.2, stats


# MARK: - CoAP through 30 % loss


def test_push_through_30_percent_loss_installs_the_exact_bytes(start_peer, start_agent, start_relay, tmp_path):
    ms = start_peer("management_server", *LOSSY_SERVER)
    relay = start_relay(ms.port, drop=DROP, seed=14, trace=True)
    agent, record = lossy_agent(start_agent, tmp_path, relay.port)
    ms.wait_event("register", ep=EP, timeout=30)
    state_obs = observe(ms, "/5/0/3")
    result_obs = observe(ms, "/5/0/5")
    image = image_bytes(256 << 10, seed=1401)
    package = tmp_path / "package.bin"
    package.write_bytes(image)
    reply = ms.command("write_file", wait=100, ep=EP, path="/5/0/0", file=str(package), timeout=90)
    assert reply["ok"] and reply["code"] == "2.04", reply
    print(f"\npush of {len(image)} bytes through {DROP:.0%} loss: {reply['seconds']} s")
    assert read_int(ms, "/5/0/3") == 2
    update(ms)
    assert installed(record)[1] == hashlib.sha256(image).hexdigest()
    assert_lossy_states(wait_last_notified(ms, state_obs, 0))
    assert wait_last_notified(ms, result_obs, 1) == [1]
    stats = relay.stop()
    assert_really_lossy(stats)
    # Blocks whose 2.31 was lost reached the agent twice (same message ID): it answered them
    # again without storing them again (the image above is exact).
    puts = transmissions(relay, "down")
    repeated = [key for key, count in puts.items() if count > 1]
    print(f"relay: {stats['total_received']} datagrams, {stats['total_dropped']} dropped; "
          f"{len(puts)} server requests, {len(repeated)} of them reached the agent more than once")
    assert len(puts) >= 256 and len(repeated) >= 10, (len(puts), len(repeated))
    assert agent.alive()


def test_coap_pull_through_30_percent_loss_resumes_and_installs_the_exact_bytes(
        start_peer, start_agent, start_relay, procs, tmp_path):
    image = image_bytes(256 << 10, seed=1402)
    (tmp_path / "fw.bin").write_bytes(image)
    fw_port = start_fw_coap(procs, tmp_path / "fw.bin")
    fw_relay = start_relay(fw_port, drop=DROP, seed=15, trace=True)
    ms = start_peer("management_server", *LOSSY_SERVER)
    ms_relay = start_relay(ms.port, drop=DROP, seed=16)
    agent, record = lossy_agent(start_agent, tmp_path, ms_relay.port)
    ms.wait_event("register", ep=EP, timeout=30)
    state_obs = observe(ms, "/5/0/3")
    result_obs = observe(ms, "/5/0/5")
    started = time.monotonic()
    reply = write_uri(ms, f"coap://127.0.0.1:{fw_relay.port}/fw")
    assert reply["ok"] and reply["code"] == "2.04", reply
    wait_state(ms, 2, timeout=90)
    print(f"\npull of {len(image)} bytes through {DROP:.0%} loss: {time.monotonic() - started:.1f} s")
    update(ms)
    assert installed(record)[1] == hashlib.sha256(image).hexdigest()
    assert_lossy_states(wait_last_notified(ms, state_obs, 0))
    assert wait_last_notified(ms, result_obs, 1) == [1]
    stats = fw_relay.stop()
    assert_really_lossy(stats)
    asked = blocks_asked(fw_port)
    resumes = [int(m) for m in re.findall(r"firmware: downloading \S+ from byte (\d+)", agent.stderr())]
    print(f"relay: {stats['total_received']} datagrams, {stats['total_dropped']} dropped; "
          f"{len(asked)} block requests served for 256 blocks; resumed at bytes {resumes}")
    # Every block was asked for; a resumed run starts at the block where the stored bytes end
    # (never at block 0 again).
    assert sorted(set(asked)) == list(range(256)), sorted(set(asked))[:10]
    assert all(0 < offset < len(image) and offset % 1024 == 0 for offset in resumes), resumes
    assert agent.alive()


# MARK: - HTTP(S) through a link cut mid-body


class CuttingRelay(threading.Thread):
    """A TCP relay 127.0.0.1:port → 127.0.0.1:target that cuts its first ``len(cuts)``
    connections after forwarding cuts[i] bytes from the server (closing both sides; every other
    cut with a reset), and relays later connections whole. ``forwarded[i]`` is what connection i
    passed to the client, ``heads[i]`` its first bytes."""

    def __init__(self, target: int, cuts: list[int]):
        super().__init__(daemon=True)
        self.target = target
        self.cuts = cuts
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.forwarded: list[int] = []
        self.heads: list[bytes] = []
        self.stopping = False

    def run(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            index = len(self.forwarded)
            self.forwarded.append(0)
            self.heads.append(b"")
            server = socket.create_connection(("127.0.0.1", self.target))
            cut = self.cuts[index] if index < len(self.cuts) else None
            threading.Thread(target=self.relay, args=(client, server, index, cut), daemon=True).start()

    def relay(self, client, server, index: int, cut: int | None) -> None:
        """Both directions of one connection on one thread (a socket closed while another thread
        blocks in recv on it would stay open)."""
        import selectors
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, server)
        selector.register(server, selectors.EVENT_READ, client)
        try:
            while not self.stopping:
                for key, _ in selector.select(timeout=0.2):
                    source, sink = key.fileobj, key.data
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is server:
                        if cut is not None:
                            data = data[:cut - self.forwarded[index]]
                        if len(self.heads[index]) < 4096:
                            self.heads[index] += data[:4096]
                        self.forwarded[index] += len(data)
                    sink.sendall(data)
                    if cut is not None and self.forwarded[index] >= cut:
                        if index % 2:  # a reset rather than an orderly close
                            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        return
        except OSError:
            pass
        finally:
            selector.close()
            for sock in (client, server):
                try:
                    sock.close()
                except OSError:
                    pass

    def stop(self) -> None:
        self.stopping = True
        self.join(timeout=2)
        self.listener.close()


def start_fw_http(procs, image: Path, *extra) -> tuple[object, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = procs.start("fw-http", [sys.executable, HERE / "fw_http_server.py", port, image, *extra])
    proc.wait_for(r"ready 127\.0\.0\.1", stream="stdout", timeout=20)
    return proc, port


def served(proc) -> list[dict]:
    """fw_http_server.py's request log (before each body): range, if-range, status."""
    out = []
    for line in proc.stderr().splitlines():
        match = re.match(r"request range=(\S+) if-range=(\S+) status=(\d+)", line)
        if match:
            out.append({"range": match.group(1), "if_range": match.group(2), "status": int(match.group(3))})
    return out


def http_pull_with_cuts(start_peer, start_agent, procs, tmp_path, scheme: str, *server_args, **firmware):
    image = image_bytes(3 << 20, seed=1403 if scheme == "http" else 1404)
    (tmp_path / "fw.bin").write_bytes(image)
    server, port = start_fw_http(procs, tmp_path / "fw.bin", *server_args)
    rng = random.Random(1405)
    cuts = sorted(rng.randrange(64 << 10, 900 << 10) for _ in range(3))
    relay = CuttingRelay(port, cuts)
    relay.start()
    try:
        ms = start_peer("management_server")
        hook, record = hook_script(tmp_path, delay=0.1)
        config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
        settings = {"installer": "script", "script": str(hook), **firmware}
        with config.open("a") as out:
            out.write("\n[firmware]\n" + "".join(f"{k.replace('_', '-')} = {v}\n" for k, v in settings.items()))
        agent = start_agent(config)
        ms.wait_event("register", ep=EP)
        state_obs = observe(ms, "/5/0/3")
        reply = write_uri(ms, f"{scheme}://127.0.0.1:{relay.port}/fw")
        assert reply["ok"] and reply["code"] == "2.04", reply
        wait_state(ms, 2, timeout=60)
        update(ms)
        assert installed(record)[1] == hashlib.sha256(image).hexdigest()
        assert wait_last_notified(ms, state_obs, 0) == [1, 2, 3, 0]
    finally:
        relay.stop()
    requests = served(server)
    print(f"\n{scheme} pull of {len(image)} bytes, connections cut after {cuts} bytes from the server: "
          f"requests {[(r['range'], r['status']) for r in requests]}")
    assert len(relay.forwarded) == 4, relay.forwarded
    assert [r["status"] for r in requests] == [200, 206, 206, 206], requests
    assert requests[0]["range"] == "None"
    starts = [int(r["range"].removeprefix("bytes=").rstrip("-")) for r in requests[1:]]
    assert starts == sorted(starts) and 0 < starts[0] and starts[-1] < len(image), starts
    etag = '"' + hashlib.sha256(image).hexdigest()[:16] + '"'
    assert all(r["if_range"] == etag for r in requests[1:]), requests
    assert agent.alive() and "firmware: download complete" in agent.stderr()
    return relay, starts


def test_http_pull_through_cut_connections_resumes_with_range(start_peer, start_agent, procs, tmp_path):
    relay, starts = http_pull_with_cuts(start_peer, start_agent, procs, tmp_path, "http")
    # Each resume asks exactly for the byte after the last one stored. A connection closed in
    # order (FIN: cuts 0 and 2) delivered every body byte the relay forwarded after the header;
    # one reset (RST: cut 1) may lose what the agent had not read yet (the kernel drops it).
    body = [relay.forwarded[i] - (relay.heads[i].index(b"\r\n\r\n") + 4) for i in range(3)]
    got = [starts[0], starts[1] - starts[0], starts[2] - starts[1]]
    assert got[0] == body[0] and 0 < got[1] <= body[1] and got[2] == body[2], (starts, body)


def test_https_pull_with_the_configured_ca_through_cut_connections(start_peer, start_agent, procs, tmp_path):
    require_tool("openssl", "apt install openssl")
    ca_key, ca_cert = make_ca(tmp_path, "updates-ca")
    key, cert = make_server_cert(tmp_path, ca_key, ca_cert)
    http_pull_with_cuts(start_peer, start_agent, procs, tmp_path, "https", "--cert", cert, "--key", key,
                        http_ca=str(ca_cert))
