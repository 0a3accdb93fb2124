"""Firmware Update (object 5) driven by Eclipse Leshan 2.0.0-M18, the server operators use: the
real ``lwm2m-agentd`` registered with the session's shared Leshan (leshan_server.py), the
script-hook installer of test_firmware_agent.py recording the SHA-256 of the image it gets.

- Leshan's view: the registration announces 5 in version 1.1, a model Leshan has (no unknown
  object), and Read of /5/0 in TLV, SenML JSON, SenML CBOR and LwM2M JSON decodes with it
  (State, Update Result, Protocol Support, Delivery Method);
- push: Leshan writes a 2 MiB opaque value to /5/0/0 (Californium cuts it into 1024-byte Block1
  blocks), observes /5/0/3 and /5/0/5, executes /5/0/2: the notifications Leshan receives are
  State 1, 2, 3, 0 and Update Result 1, in order, and the hook got exactly those bytes;
- what an operator meets: a push Leshan gives up (its request timeout) or cancels is pushed
  again from block 0; TLV/SenML pushes larger than a block are refused with 4.15, smaller ones
  work in every format; an empty Package or Package URI resets;
- pull: Leshan writes a ``coap://`` Package URI of the harness's own Californium CoAP server
  (Block2, an ETag): download, Update, Update Result 1, the exact bytes; killed mid-pull, the
  restarted agent resumes where its bytes end (Californium serves that block without state);
- the push again with 30 % of the datagrams dropped each way between the agent and Leshan
  (lossy_relay.py in front of Leshan's lossy-link endpoint): Californium retransmits, the agent
  answers repeated blocks from its duplicate cache, the image is exact.

One Leshan for the whole session (its start is the slow part); each test has its own endpoint
name and agent. How an operator does the same in Leshan's web UI: docs/firmware-update.md,
"Driving it from Leshan".
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import threading
import time
from collections import Counter
from pathlib import Path

from coapwire import CON, decode
from conftest import vm_rss_kib
from leshan_agent import LIFETIME, agent_config
from leshan_server import ep, leshan  # noqa: F401 (fixtures)
from test_block1_streaming import RSSSampler
from test_firmware_agent import dedup, hook_script, image_bytes

PUSH_SIZE = 2 << 20      # 2048 blocks of 1024 bytes
PULL_SIZE = 1 << 20
LOSSY_SIZE = 160 << 10   # 160 blocks: ~10-20 s through the relay (see lossyLink in LeshanHarness.java)
DROP = 0.3
LOSSY_SEED = int(os.environ.get("LWM2M_LOSSY_SEED") or 11)  # as test_lossy.py: the env overrides
FORMATS = {"TLV": 11542, "SENML_JSON": 110, "SENML_CBOR": 112, "JSON": 11543}


def ok(reply: dict, code: str) -> dict:
    assert reply["code"] == code, reply
    return reply


def register(leshan, ep, start_agent, tmp_path: Path, uri: str | None = None, **server):
    """The agent with one factory account (Leshan's LwM2M server, or ``uri``) and the script
    hook as installer; returns (agent, registration, hook record)."""
    hook, record = hook_script(tmp_path)
    config = agent_config(tmp_path, ep, None,
                          servers={1: {"uri": uri or leshan.dm_uri(), "lifetime": LIFETIME, **server}})
    with config.open("a") as out:
        out.write(f"\n[firmware]\ninstaller = script\nscript = {hook}\n")
    since = leshan.mark()
    agent = start_agent(config)
    registration = leshan.wait_event("registered", ep, since=since, timeout=30)
    return agent, registration, record


def read_int(leshan, ep, path: str) -> int:
    return int(ok(leshan.call("read", ep=ep, path=path, format="TEXT"), "CONTENT")["content"][path])


def notified(leshan, ep, path: str, since: int) -> list[int]:
    """The values of ``path`` in the notifications Leshan received since ``since``, in order."""
    return [int(e["content"][path]) for e in leshan.events(ep, kind="notify", since=since)
            if e["path"] == path and path in e.get("content", {})]


def wait_notified(leshan, ep, path: str, since: int, last: int, timeout: float = 30.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        values = notified(leshan, ep, path, since)
        if values and values[-1] == last:
            return values
        assert time.monotonic() < deadline, f"{path}: notified {values}, waiting for {last}"
        time.sleep(0.1)


def installed(record: Path, image: bytes) -> None:
    """The hook ran once, with the image whose bytes are ``image``."""
    lines = record.read_text().splitlines()
    assert len(lines) == 1, lines
    words = lines[0].split()
    assert words[0] == "install" and words[-1] == hashlib.sha256(image).hexdigest(), lines


def update(leshan, ep, record: Path, image: bytes) -> None:
    """Execute /5/0/2 from Leshan; State back to 0 with Update Result 1; the hook got ``image``."""
    ok(leshan.call("exec", ep=ep, path="/5/0/2"), "CHANGED")
    deadline = time.monotonic() + 30
    while (state := read_int(leshan, ep, "/5/0/3")) != 0:
        assert state == 3 and time.monotonic() < deadline, f"State {state}"
        time.sleep(0.2)
    assert read_int(leshan, ep, "/5/0/5") == 1
    installed(record, image)


def push(leshan, ep, package: Path, seconds: int, format: str = "OPAQUE") -> dict:
    """Leshan writes the file's bytes to /5/0/0 as one opaque value in ``format`` (Block1 on the
    wire when larger than a block), giving the whole transfer ``seconds``."""
    return leshan.call("writefile", timeout=seconds + 10, ep=ep, path="/5/0/0", file=package, format=format,
                       **{"request-timeout": seconds})


def leshan_log(leshan, since: int) -> str:
    with open(leshan.proc.stdout_path, "rb") as f:
        f.seek(since)
        return f.read().decode(errors="replace")


# MARK: - Leshan's view of the object


def test_leshan_knows_object_5_and_reads_it_in_every_format(leshan, ep, start_agent, tmp_path):
    agent, registration, record = register(leshan, ep, start_agent, tmp_path)
    assert registration["versions"].get("5") == "1.1", registration
    assert registration["unknown-models"] == [], registration
    assert "</5>;ver=1.1" in registration["links"] and "</5/0>" in registration["links"], registration
    contents = {}
    for name, code in FORMATS.items():
        reply = ok(leshan.call("read", ep=ep, path="/5/0", format=name), "CONTENT")
        assert reply["ct"] == code and reply["node"] == "LwM2mObjectInstance", (name, reply)
        content, types = reply["content"], reply["types"]
        assert content["/5/0/3"] == 0 and content["/5/0/5"] == 0, (name, content)  # Idle, initial
        assert content["/5/0/9"] == 2, (name, content)  # Delivery Method: push and pull
        assert content["/5/0/1"] == "", (name, content)  # Package URI: none
        protocols = sorted(v for k, v in content.items() if k.startswith("/5/0/8/"))
        assert protocols and protocols[0] == 0 and set(protocols) <= {0, 1, 2, 3, 4, 5}, (name, content)
        assert types["/5/0/3"] == "INTEGER" and types["/5/0/1"] == "STRING", (name, types)
        assert "/5/0/0" not in content, (name, content)  # Package is write-only
        contents[name] = content
    assert all(c == contents["TLV"] for c in contents.values()), contents
    # A single resource, and the object as a whole (one instance).
    assert ok(leshan.call("read", ep=ep, path="/5/0/9", format="TEXT"), "CONTENT")["content"]["/5/0/9"] == 2
    whole = ok(leshan.call("read", ep=ep, path="/5", format="SENML_CBOR"), "CONTENT")
    assert whole["node"] == "LwM2mObject" and whole["content"]["/5/0/3"] == 0, whole


# MARK: - Push


def test_push_from_leshan_block1_then_update(leshan, ep, start_agent, tmp_path):
    agent, registration, record = register(leshan, ep, start_agent, tmp_path)
    since = leshan.mark()
    for path in ("/5/0/3", "/5/0/5"):
        assert ok(leshan.call("observe", ep=ep, path=path, format="TEXT"), "CONTENT")["content"][path] == 0
    image = image_bytes(PUSH_SIZE, seed=21)
    package = tmp_path / "package.bin"
    package.write_bytes(image)
    output = leshan.output_mark()
    baseline = vm_rss_kib(agent.pid)
    sampler = RSSSampler(agent.pid)
    sampler.start()
    started = time.time()
    reply = ok(push(leshan, ep, package, seconds=60), "CHANGED")
    finished = time.time()
    samples = sampler.stop()
    assert reply["bytes"] == PUSH_SIZE
    # Streamed to disk: the agent's memory stays flat (a reassembly would hold the 2 MiB).
    print(f"agent VmRSS {baseline} KiB before the push, peak {max(samples)} KiB, {len(samples)} samples")
    assert len(samples) >= 10 and max(samples) - baseline < 1024, (baseline, max(samples))
    # Downloading was notified at once, while the blocks were still coming.
    downloading = [e["time"] for e in leshan.events(ep, kind="notify", since=since)
                   if e["path"] == "/5/0/3" and e["content"].get("/5/0/3") == 1]
    assert downloading and downloading[0] < finished, (downloading, finished)
    print(f"push of {PUSH_SIZE} bytes from Leshan: {reply['seconds']:.2f} s; State 1 notified "
          f"{downloading[0] - started:.2f} s after the Write started")
    # Californium sent it block-wise, 1024 bytes a block, every block once (a loss-free link).
    log = leshan_log(leshan, output)
    sent = re.findall(r"^MSG DM-coap -> \S+ CON mid=(\d+) tok=\S+ PUT \S+/5/0/0 opts=.*"
                      r"\"Block1\":\(szx=6/1024, m=(true|false), num=(\d+)\)", log, re.M)
    blocks = list(dict.fromkeys(sent))  # a retransmission (same MID) is the same request
    assert [int(num) for _, _, num in blocks] == list(range(PUSH_SIZE // 1024)), blocks[:3]
    assert [m for _, m, _ in blocks].count("false") == 1 and blocks[-1][1] == "false"
    assert read_int(leshan, ep, "/5/0/3") == 2
    assert (tmp_path / "state" / "firmware" / "image").read_bytes() == image
    update(leshan, ep, record, image)
    # Every change Leshan was told of, in order: Downloading, Downloaded, Updating, Idle; result 1.
    assert dedup(wait_notified(leshan, ep, "/5/0/3", since, 0)) == [1, 2, 3, 0]
    assert dedup(wait_notified(leshan, ep, "/5/0/5", since, 1)) == [1]
    assert not leshan.events(ep, kind="observation-error", since=since)


def test_push_given_up_by_leshan_or_cancelled_then_pushed_again(leshan, ep, start_agent, tmp_path):
    """What an operator meets: Leshan's request timeout (the demo's default is 5 s) ends a large
    push half-way, the agent stays Downloading; the Write again starts over at block 0 and
    stores exactly the image. Cancel (/5/0/10) during a push: Idle with 10, Leshan's Write ends
    with 4.00 at its next block, and a new push works."""
    agent, registration, record = register(leshan, ep, start_agent, tmp_path)
    image = image_bytes(1 << 20, seed=26)
    package = tmp_path / "package.bin"
    package.write_bytes(image)
    # Given up after 1 s: a package far larger than any machine pushes in that time (1 MiB took
    # under 1 s on a quiet machine, and the Write then completed instead of timing out).
    large = tmp_path / "large.bin"
    large.write_bytes(image * 32)
    ok(push(leshan, ep, large, seconds=1), "TIMEOUT")
    assert read_int(leshan, ep, "/5/0/3") == 1
    output = leshan.output_mark()
    ok(push(leshan, ep, package, seconds=60), "CHANGED")
    first = re.search(r"^MSG DM-coap -> .* PUT \S+/5/0/0 opts=.*\"Block1\":\(szx=6/1024, m=true, num=(\d+)\)",
                      leshan_log(leshan, output), re.M)
    assert first and first.group(1) == "0", first
    assert read_int(leshan, ep, "/5/0/3") == 2
    assert (tmp_path / "state" / "firmware" / "image").read_bytes() == image
    (tmp_path / "empty.bin").write_bytes(b"")
    ok(push(leshan, ep, tmp_path / "empty.bin", seconds=10), "CHANGED")  # back to Idle
    assert read_int(leshan, ep, "/5/0/3") == 0

    result = {}
    writer = threading.Thread(target=lambda: result.update(push(leshan, ep, package, seconds=60)))
    writer.start()
    deadline = time.monotonic() + 10
    while read_int(leshan, ep, "/5/0/3") != 1:
        assert time.monotonic() < deadline and writer.is_alive(), result
        time.sleep(0.05)
    ok(leshan.call("exec", ep=ep, path="/5/0/10"), "CHANGED")
    writer.join(timeout=70)
    assert result.get("code") == "BAD_REQUEST", result
    assert (read_int(leshan, ep, "/5/0/3"), read_int(leshan, ep, "/5/0/5")) == (0, 10)
    assert not (tmp_path / "state" / "firmware" / "image").exists()
    ok(push(leshan, ep, package, seconds=60), "CHANGED")
    assert (tmp_path / "state" / "firmware" / "image").read_bytes() == image
    assert (read_int(leshan, ep, "/5/0/3"), read_int(leshan, ep, "/5/0/5")) == (2, 0)
    assert not record.exists()


def test_push_formats_and_resets_from_leshan(leshan, ep, start_agent, tmp_path):
    """Only application/octet-stream streams: a TLV or SenML value cannot be decoded a block at a
    time, so a block-wise Write in those formats is refused with 4.15 at its first block and
    changes nothing; a package that fits one message is an ordinary Write in any format Leshan
    offers. An empty Package or Package URI (how an operator resets) goes back to Idle."""
    agent, registration, record = register(leshan, ep, start_agent, tmp_path)
    firmware = tmp_path / "state" / "firmware"
    large = tmp_path / "large.bin"
    large.write_bytes(image_bytes(64 << 10, seed=24))
    for name in ("TLV", "SENML_CBOR"):
        ok(push(leshan, ep, large, seconds=20, format=name), "UNSUPPORTED_CONTENT_FORMAT")
        assert (read_int(leshan, ep, "/5/0/3"), read_int(leshan, ep, "/5/0/5")) == (0, 0), name
        assert not (firmware / "image.partial").exists() or (firmware / "image.partial").stat().st_size == 0
    small = image_bytes(600, seed=25)  # one message in every format (SenML JSON: base64)
    (tmp_path / "small.bin").write_bytes(small)
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    for name in ("OPAQUE", "TLV", "SENML_JSON", "SENML_CBOR", "CBOR"):
        ok(push(leshan, ep, tmp_path / "small.bin", seconds=10, format=name), "CHANGED")
        assert read_int(leshan, ep, "/5/0/3") == 2, name
        assert (firmware / "image").read_bytes() == small, name
        ok(push(leshan, ep, empty, seconds=10, format=name), "CHANGED")
        assert (read_int(leshan, ep, "/5/0/3"), read_int(leshan, ep, "/5/0/5")) == (0, 0), name
        assert not (firmware / "image").exists(), name
    ok(push(leshan, ep, tmp_path / "small.bin", seconds=10), "CHANGED")
    ok(leshan.call("write", ep=ep, path="/5/0/1", type="s", value="", format="TEXT"), "CHANGED")
    assert read_int(leshan, ep, "/5/0/3") == 0 and not (firmware / "image").exists()
    # Discover as Leshan parses it: every resource served, Protocol Support with its instances.
    links = ok(leshan.call("discover", ep=ep, path="/5"), "CONTENT")["links"]
    protocols = ok(leshan.call("read", ep=ep, path="/5/0/8", format="SENML_JSON"), "CONTENT")["content"]
    assert links[:2] == ["</5>", "</5/0>"] and f"</5/0/8>;dim={len(protocols)}" in links, (links, protocols)
    assert {f"</5/0/{r}>" for r in (0, 1, 2, 3, 5, 6, 7, 9, 10)} <= set(links), links


# MARK: - Pull


def test_pull_from_a_californium_coap_server_then_update(leshan, ep, start_agent, tmp_path):
    image = image_bytes(PULL_SIZE, seed=22)
    (tmp_path / "fw.bin").write_bytes(image)
    name = f"{ep}.bin"
    served = leshan.call("coapfile", name=name, file=tmp_path / "fw.bin")
    assert served["size"] == PULL_SIZE, served
    agent, registration, record = register(leshan, ep, start_agent, tmp_path)
    since = leshan.mark()
    ok(leshan.call("observe", ep=ep, path="/5/0/3", format="TEXT"), "CONTENT")
    output = leshan.output_mark()
    ok(leshan.call("write", ep=ep, path="/5/0/1", type="s", value=served["uri"]), "CHANGED")
    assert wait_notified(leshan, ep, "/5/0/3", since, 2, timeout=60)
    assert read_int(leshan, ep, "/5/0/5") == 0
    package_uri = ok(leshan.call("read", ep=ep, path="/5/0/1", format="TEXT"), "CONTENT")["content"]["/5/0/1"]
    assert package_uri == served["uri"]
    # The agent fetched it from Californium block by block (Block2, 1024 bytes), each block once.
    log = leshan_log(leshan, output)
    asked = blocks_asked(log, name)
    assert asked == list(range(PULL_SIZE // 1024)), asked[:5]
    etags = set(re.findall(rf"^MSG FW-coap -> \S+ ACK .* 2\.05 opts=\{{\"ETag\":0x([0-9A-F]+)", log, re.M))
    assert etags == {served["etag"].upper()}, etags
    assert "firmware: download complete" in agent.stderr()
    update(leshan, ep, record, image)
    assert dedup(wait_notified(leshan, ep, "/5/0/3", since, 0)) == [1, 2, 3, 0]


def test_pull_from_californium_resumes_after_kill_9(leshan, ep, start_agent, tmp_path):
    """The agent killed mid-pull resumes after its restart at the block where its stored bytes
    end: Californium answers a Block2 request for a block it has no transfer state for from the
    whole representation (same ETag), never block 0 again, and the image is exact."""
    image = image_bytes(PULL_SIZE, seed=27)
    (tmp_path / "fw.bin").write_bytes(image)
    name = f"{ep}.bin"
    served = leshan.call("coapfile", name=name, file=tmp_path / "fw.bin")
    agent, registration, record = register(leshan, ep, start_agent, tmp_path)
    output = leshan.output_mark()
    ok(leshan.call("write", ep=ep, path="/5/0/1", type="s", value=served["uri"]), "CHANGED")
    agent.wait_for(r"firmware: downloaded \d+ of \d+ bytes \([3-6]\d %\)", timeout=60)
    os.kill(agent.pid, signal.SIGKILL)
    agent.popen.wait(timeout=10)
    stored = (tmp_path / "state" / "firmware" / "image.partial").stat().st_size
    assert 0 < stored < PULL_SIZE
    asked_before = len(blocks_asked(leshan_log(leshan, output), name))
    since = leshan.mark()
    again = start_agent(tmp_path / "agent.conf", name="agentd-2")
    assert int(again.wait_for(r"firmware: resuming the download at byte (\d+)", timeout=20).group(1)) == stored
    leshan.wait_event("registered", ep, since=since, timeout=30)
    deadline = time.monotonic() + 60
    while read_int(leshan, ep, "/5/0/3") != 2:
        assert time.monotonic() < deadline, f"State {read_int(leshan, ep, '/5/0/3')}"
        time.sleep(0.2)
    after = blocks_asked(leshan_log(leshan, output), name)[asked_before:]
    assert after == list(range(stored // 1024, PULL_SIZE // 1024)), (stored // 1024, after[:5])
    assert (tmp_path / "state" / "firmware" / "image").read_bytes() == image
    update(leshan, ep, record, image)


def blocks_asked(log: str, name: str) -> list[int]:
    """The Block2 numbers the harness's file server was asked for ``name`` (no Block2: 0), one
    per request: a retransmission (same peer and MID) is not counted again."""
    numbers, seen = [], set()
    for line in log.splitlines():
        if line.startswith("MSG FW-coap <- ") and " GET " in line and line.split(" opts=")[0].endswith(f"/{name}"):
            request = tuple(line.split()[3:6:2])  # peer, mid=N
            if request in seen:
                continue
            seen.add(request)
            match = re.search(r"\"Block2\":\(szx=\d+/(\d+), m=\w+, num=(\d+)\)", line)
            assert match is None or match.group(1) == "1024", line
            numbers.append(int(match.group(2)) if match else 0)
    return numbers


# MARK: - Push under loss


def test_push_from_leshan_under_30_percent_loss(leshan, ep, start_agent, start_relay, tmp_path):
    relay = start_relay(leshan.ports["dm-coap-lossy"], drop=DROP, seed=LOSSY_SEED, trace=True)
    # retry-timer 1: a registration lost to the relay is tried again at once, not in 60 s.
    agent, registration, record = register(leshan, ep, start_agent, tmp_path, uri=relay.uri(), retry_timer=1)
    # The push starts once the agent has its 2.01: when the relay loses the Register exchange
    # five times (seeds 1 and 3 do), the agent registers again from a new port and Leshan's
    # requests to the registration it replaces fail. (A request that overtakes the 2.01 is
    # served: test_request_before_registered.py.)
    location = agent.wait_for(r"server 1: registered at /rd/(\S+),", timeout=30).group(1)
    assert leshan.client(ep)["id"] == location, (leshan.client(ep), location)
    image = image_bytes(LOSSY_SIZE, seed=23)
    package = tmp_path / "package.bin"
    package.write_bytes(image)
    reply = ok(push(leshan, ep, package, seconds=90), "CHANGED")
    print(f"push of {LOSSY_SIZE} bytes through 30 % loss: {reply['seconds']:.1f} s")
    assert (tmp_path / "state" / "firmware" / "image").read_bytes() == image
    assert read_int(leshan, ep, "/5/0/3") == 2
    update(leshan, ep, record, image)
    # The link really was lossy both ways, and Leshan (Californium) retransmitted blocks.
    stats = relay.stop()
    assert stats["up"]["dropped"] >= 10 and stats["down"]["dropped"] >= 10, stats
    assert stats["drop_ratio"] >= 0.2, stats
    sends, delivered = Counter(), Counter()
    for datagram in relay.trace():
        if datagram["dir"] == "down":
            message = decode(bytes.fromhex(datagram["hex"]))
            if message.mtype == CON:
                sends[message.mid] += 1
                delivered[message.mid] += not datagram["dropped"]
    retransmitted = sum(1 for count in sends.values() if count > 1)
    assert retransmitted >= 10, sends.most_common(3)
    # Blocks whose answer was lost reached the agent again: it answered them without storing
    # them twice (the image above is exact).
    duplicates = sum(1 for count in delivered.values() if count > 1)
    assert duplicates >= 5, delivered.most_common(3)
    print(f"relay: {stats['total_dropped']}/{stats['total_received']} datagrams dropped "
          f"({stats['drop_ratio']:.0%}); {retransmitted} of Leshan's {len(sends)} requests retransmitted, "
          f"one {max(sends.values())} times; {duplicates} reached the agent more than once")


LOSSY_PULL_SIZE = 64 << 10  # 64 blocks: ~5-15 s through the relay with the tests' ack-timeout


def test_pull_from_californium_under_30_percent_loss(leshan, ep, start_agent, start_relay, tmp_path):
    """Leshan writes a Package URI whose CoAP server (the harness's Californium) sits behind the
    lossy relay, 30 % dropped each way: the agent retransmits its block requests (and resumes
    where a block was given up), Californium answers retransmissions from its deduplication
    cache, and the image stored is exact."""
    image = image_bytes(LOSSY_PULL_SIZE, seed=29)
    (tmp_path / "fw.bin").write_bytes(image)
    name = f"{ep}.bin"
    served = leshan.call("coapfile", name=name, file=tmp_path / "fw.bin")
    port = int(re.match(r"coap://127\.0\.0\.1:(\d+)/", served["uri"]).group(1))
    relay = start_relay(port, drop=DROP, seed=LOSSY_SEED, trace=True)
    agent, registration, record = register(leshan, ep, start_agent, tmp_path)
    since = leshan.mark()
    ok(leshan.call("observe", ep=ep, path="/5/0/3", format="TEXT"), "CONTENT")
    ok(leshan.call("write", ep=ep, path="/5/0/1", type="s", value=relay.uri("/" + name)), "CHANGED")
    assert wait_notified(leshan, ep, "/5/0/3", since, 2, timeout=90)
    assert (tmp_path / "state" / "firmware" / "image").read_bytes() == image
    update(leshan, ep, record, image)
    stats = relay.stop()
    assert stats["up"]["dropped"] >= 5 and stats["down"]["dropped"] >= 5, stats
    # The agent's block requests (up) were retransmitted: same MID sent more than once.
    sends = Counter()
    for datagram in relay.trace():
        if datagram["dir"] == "up":
            message = decode(bytes.fromhex(datagram["hex"]))
            if message.mtype == CON:
                sends[message.mid] += 1
    retransmitted = sum(1 for count in sends.values() if count > 1)
    assert retransmitted >= 5, sends.most_common(3)
    print(f"pull of {LOSSY_PULL_SIZE} bytes through 30 % loss: {stats['total_dropped']}/{stats['total_received']} "
          f"datagrams dropped, {retransmitted} of {len(sends)} block requests retransmitted")
