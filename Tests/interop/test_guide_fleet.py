"""The fleet guides' own text, run by guide_runner.py (the marker syntax: docs/guides/README.md):
docs/guides/1nce-style.md and docs/guides/factory-line.md. The tests run the guides' blocks by
name, in the guide's order, with the checks in between that are specific to each guide (the
restart, the board's file, the missing ICCID, the wrong label, the keys Leshan saw, the secrets).

Output blocks match part of a line, numbers free: these guides show a real run's pids, times and
sizes. Substitutions (``localize``, besides the runner's checkout rules): ``HOME`` is the test's
temporary directory (so ``~/1nce-demo`` lands there), ``/home/me`` in configuration files
becomes that directory too, and every port the guide names is mapped to a free one.

Peers: swtpm (the board's TPM), the project's LwM2M peers behind the OpenSSL DTLS relay
(1nce-style.md), Eclipse Leshan through the session's shared harness (factory-line.md). Missing
peers skip with the reason, and fail under ``CI=true`` (conftest.skip_or_fail).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from pathlib import Path

import pytest

from conftest import REPO, free_udp_port, require_tool
from guide_runner import Guide, GuideSession, Matching, Substitutions, files_containing, port_rules, secret_forms
from leshan_server import leshan  # noqa: F401 (fixture: the session's shared Leshan)
from test_factory import two_free_ports

GUIDES = REPO / "docs" / "guides"
MATCHING = Matching(whole_lines=False, free_numbers=True)


def localize(home: Path, ports: dict[int, int]) -> Substitutions:
    """The only changes made to a fleet guide's text: its directory and its port numbers."""
    return Substitutions([("/home/me", str(home)), *port_rules(ports)])


def wait_for_text(path: Path, pattern: str, timeout: float = 20) -> re.Match:
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text(errors="replace") if path.exists() else ""
        match = re.search(pattern, text, re.M)
        if match:
            return match
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name}: {pattern!r} not seen within {timeout}s:\n{text[-3000:]}")
        time.sleep(0.05)


@pytest.fixture
def session(tmp_path):
    """Opens a guide's session in the test's temporary directory; closes it (and every process
    its blocks started) when the test ends."""
    sessions: list[GuideSession] = []

    def open_guide(name: str, ports: dict[int, int]) -> GuideSession:
        guide = GuideSession(Guide.parse(GUIDES / name), tmp_path, localize(tmp_path, ports), MATCHING)
        sessions.append(guide)
        guide.run_section("What you need")  # PATH and LWM2M_SRC, as the guide exports them
        return guide
    yield open_guide
    for guide in sessions:
        guide.close()


# MARK: - docs/guides/1nce-style.md


def test_1nce_style_guide(procs, bin_dir, tmp_path, session):
    require_tool("swtpm", "apt-get install swtpm swtpm-tools, or scripts/setup.sh")
    require_tool("openssl")
    tpm, _ = two_free_ports()
    guide = session("1nce-style.md", {2321: tpm, 2322: tpm + 1,
                                      **{port: free_udp_port() for port in (5693, 5694, 5793, 5794)}})
    demo = tmp_path / "1nce-demo"

    guide.start("board")  # swtpm stays up (listening: tcp=): stopped when the session closes
    wait_for_text(demo / "iccid", r"^89\d+$", timeout=10)
    config = guide.write("~/1nce-demo/agent.conf")
    assert config == demo / "agent.conf"

    guide.run("factory")
    bs_psk = (demo / "portal.psk").read_text().strip()

    servers = guide.start("local-1nce")
    for log in ("dm.log", "bs.log"):
        wait_for_text(demo / log, r'"event": "ready"')
    assert "Traceback" not in (demo / "dm.log").read_text()
    for log in ("dm-relay.log", "bs-relay.log"):
        wait_for_text(demo / log, r"^listening ")

    agent = guide.start("agent")
    agent.wait_for(r"server 1111: registered", timeout=30)
    assert (bin_dir / "lwm2m-agentd").resolve() in agent.executables(), agent.executables()  # the binary under test
    guide.expect("agent")
    guide.run("status")
    guide.run("bs-log")
    guide.stop("agent")  # Ctrl-C
    wait_for_text(demo / "dm.log", r'"event": "deregister"')

    again = guide.start("agent")
    again.wait_for(r"server 1111: registered", timeout=30)
    count = guide.run("restart-check")
    assert count.strip() == "2", count
    assert "bootstrap pending" in again.text()
    guide.stop("agent")

    # The board's file (paths moved here) loads with the factory file the line wrote.
    board_state = tmp_path / "board-state"
    board_state.mkdir(mode=0o700)
    (board_state / "factory.conf").write_bytes((demo / "state" / "factory.conf").read_bytes())
    board = tmp_path / "board-agent.conf"
    board.write_text(guide.block("board-agent.conf")
                     .replace("/run/lwm2m-agent/iccid", str(demo / "iccid"))
                     .replace("/var/lib/lwm2m-agent", str(board_state)))
    checked = procs.run([bin_dir / "lwm2m-agent", "state", "show", "--config", board, "--json"], timeout=20)
    assert checked.returncode == 0, checked.describe()
    document = json.loads(checked.out)
    assert document["endpoint"] == "8988228066602034567", document

    # Without the ICCID the daemon does not start.
    (demo / "iccid").write_text("")
    refused = procs.run([bin_dir / "lwm2m-agentd", "--config", config], timeout=20)
    assert refused.returncode == 1, refused.describe()
    guide.expect("no-iccid", refused.err)

    # Neither PSK in the state directory, the logs, or anything the commands printed.
    relay_argv = " ".join(Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
                          for p in os.listdir("/proc") if p.isdigit() and _in_group(int(p), servers.popen.pid))
    keys = [bs_psk] + re.findall(r"--psk dm-\d+:([0-9a-f]{32})", relay_argv)
    assert len(keys) == 2, relay_argv
    secrets = [form for key in keys for form in secret_forms(bytes.fromhex(key))]
    assert files_containing([demo / "state", agent.log, again.log], secrets) == []
    sealed = sorted(str(b.relative_to(demo / "state")) for b in (demo / "state" / "sealed").rglob("*.blob"))
    assert "sealed/factory/bootstrap/secret-key.blob" in sealed and any(n.startswith("sealed/lwm2m/0-0-5/") for n in sealed), sealed
    for step, output in guide.outputs:
        assert not any(secret in output.encode() for secret in secrets), step.where()
    for run in procs.runs:
        assert not any(secret in run.stdout or secret in run.stderr for secret in secrets), run.describe()
    assert guide.unused() == []


def _in_group(pid: int, group: int) -> bool:
    try:
        return os.getpgid(pid) == group
    except OSError:
        return False


# MARK: - docs/guides/factory-line.md


def test_factory_line_guide(bin_dir, tmp_path, session, leshan):
    """Seed 004 as factory-line.md walks it: raw public keys, no CA. The TPM makes the key, the
    station prints its SPKI SHA-256 and QR, a wrong label stops the operator before it registers
    anything, the operator registers the key at Leshan's bootstrap server, the board bootstraps
    over RPK (Leshan authenticates the TPM's key, Leshan's key pinned), receives an RPK management
    account (its private key sealed), registers, answers a Read, and after a restart registers
    without a bootstrap. No private key outside the TPM blob; nothing secret in what ran."""
    require_tool("swtpm", "apt-get install swtpm swtpm-tools, or scripts/setup.sh")
    require_tool("curl", "apt-get install curl")
    require_tool("openssl")
    tpm, _ = two_free_ports()
    ports = leshan.ports
    guide = session("factory-line.md", {2321: tpm, 2322: tpm + 1, 5684: ports["dm-coaps"],
                                        5784: ports["bs-coaps"], 8081: ports["http"]})
    line = tmp_path / "line"
    operator = line / "operator"
    # Step 1 (a block, not run): the shared Leshan was started by leshan_server.py with a key and
    # CA made by the same openssl commands; the operator's directory holds that Leshan's files.
    assert "LeshanHarness" in guide.block("operator-servers")
    operator.mkdir(parents=True)
    for name in ("leshan-server.key.der", "ca.pem", "ca.key"):
        (operator / name).write_bytes((leshan.pki / name).read_bytes())
    print(f"operator: the shared Leshan's key and CA ({leshan.pki})")
    guide.run("server-key")

    guide.start("board")
    wait_for_text(line / "serial", r"^[0-9a-f]{16}$", timeout=10)
    guide.write("~/line/agent.conf")

    station = guide.run("station")
    printed_hash = re.search(r"^public-key-sha256: ([0-9a-f]{64})$", station, re.M).group(1)
    assert "\u2580" in station or "\u2584" in station or "\u2588" in station, "no QR code printed"
    # The printed hash is the SHA-256 of the exported key's DER SubjectPublicKeyInfo, and of the
    # /0/x/3 the board will present (the factory's copy in the state directory).
    device_spki = _spki_der(line / "device.pub")
    assert hashlib.sha256(device_spki).hexdigest() == printed_hash
    state = line / "state"
    assert (state / "certificates" / "bootstrap-public-key.der").read_bytes() == device_spki

    guide.run("checks")
    assert (line / "label.txt").read_text().strip() == printed_hash

    ep = "gw-" + (line / "serial").read_text().strip()
    # A label that does not match the public key stops the operator before it registers anything.
    label = (line / "label.txt").read_text()
    (line / "label.txt").write_text("0" * 64 + "\n")
    refused = guide.refused("operator")
    assert "label does not match the public key" in refused.err, refused.describe()
    assert not re.search(rf"^API \w+ \{{[^}}\n]*\bep={ep}\b", leshan.proc.stdout(), re.M)
    (line / "label.txt").write_text(label)
    guide.run("operator")
    assert (operator / "device.spki.der").read_bytes() == device_spki  # what Leshan was given

    guide.run("line-test")
    leshan.wait_event("unregistered", ep, timeout=10)  # the copy de-registered when stopped
    assert not (line / "line-test").exists() and not (state / "configuration.json").exists()

    since = leshan.mark()
    agent = guide.start("agent")
    leshan.wait_event("registered", ep, since=since, timeout=30)
    agent.wait_for(r"registered", timeout=10)
    assert (bin_dir / "lwm2m-agentd").resolve() in agent.executables(), agent.executables()  # the binary under test
    guide.expect("agent")
    # Leshan's bootstrap server authenticated the board by the TPM's key (its identity names the
    # point's x coordinate in decimal), and its LwM2M server by the management key it handed out.
    bootstrap_peer = leshan.wait_event("bs-initiated", ep, since=since)["peer"]
    assert f"public x coord: {int.from_bytes(device_spki[27:59], 'big')}" in bootstrap_peer, bootstrap_peer
    dm_spki = (operator / "dm.spki.der").read_bytes()
    registration = leshan.wait_event("registered", ep, since=since)
    assert f"public x coord: {int.from_bytes(dm_spki[27:59], 'big')}" in registration["identity"], registration
    guide.run("operator-read")
    guide.stop("agent")  # Ctrl-C
    leshan.wait_event("unregistered", ep, since=since, timeout=10)

    since = leshan.mark()
    again = guide.start("again")
    leshan.wait_event("registered", ep, since=since, timeout=30)
    guide.expect("again")
    assert not leshan.events(ep, kind="bs-initiated", since=since)
    assert "bootstrap pending" not in again.text()
    guide.stop("again")

    # No private key anywhere but in the TPM's blob; the key blob is not a PEM/DER private key.
    assert (state / "keys" / "factory" / "bootstrap" / "key.blob").is_file()
    logs = [agent.log, again.log]
    for path in [p for p in state.rglob("*") if p.is_file()] + logs:
        assert b"PRIVATE KEY" not in path.read_bytes(), path
    # The management account's private key (Leshan wrote it as /0/1/5) is sealed as it arrived:
    # its scalar is in no file of the state directory and no log, in no form.
    dm_key = (operator / "dm.key.der").read_bytes()
    assert len(dm_key) == 138 and dm_key[34:36] == b"\x04\x20", dm_key[:40].hex()
    secrets = secret_forms(dm_key[36:68]) + [dm_key]
    assert files_containing([state, *logs], secrets) == []
    sealed = sorted(str(b.relative_to(state)) for b in (state / "sealed").rglob("*.blob"))
    assert any(n.startswith("sealed/lwm2m/0-1-5/") for n in sealed), sealed  # the management key, sealed
    for step, output in guide.outputs:
        assert not any(secret in output.encode() for secret in secrets), step.where()
    assert guide.unused() == []


def _spki_der(pem: Path) -> bytes:
    """A PEM public key as its DER SubjectPublicKeyInfo."""
    body = "".join(line for line in pem.read_text().splitlines() if not line.startswith("-----"))
    return base64.b64decode(body)
