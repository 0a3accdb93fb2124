"""The fleet guides' own text, run by guide_runner.py (the marker syntax: docs/guides/README.md):
docs/guides/1nce-style.md and docs/guides/factory-line.md. The tests run the guides' blocks by
name, in the guide's order, with the checks in between that are specific to each guide (the
restart, the board's file, the missing ICCID, the wrong label, the secrets).

Output blocks match part of a line, numbers free: these guides show a real run's pids, times and
sizes. Substitutions (``localize``, besides the runner's checkout rules): ``HOME`` is the test's
temporary directory (so ``~/1nce-demo`` lands there), ``/home/me`` in configuration files
becomes that directory too, and every port the guide names is mapped to a free one.

Peers: swtpm (the board's TPM), the project's LwM2M peers behind the OpenSSL DTLS relay
(1nce-style.md), Eclipse Leshan through the session's shared harness (factory-line.md). Missing
peers skip with the reason, and fail under ``CI=true`` (conftest.skip_or_fail).
"""

from __future__ import annotations

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
    require_tool("swtpm", "apt-get install swtpm swtpm-tools, or scripts/setup.sh")
    require_tool("curl", "apt-get install curl")
    tpm, _ = two_free_ports()
    ports = leshan.ports
    guide = session("factory-line.md", {2321: tpm, 2322: tpm + 1, 5684: ports["dm-coaps"],
                                        5784: ports["bs-coaps"], 8081: ports["http"]})
    line = tmp_path / "line"
    # Step 1 (a block, not run): the shared Leshan was started by leshan_server.py with a CA made
    # by the same openssl commands; the line's CA is that one.
    assert "LeshanHarness" in guide.block("operator-servers")
    (line / "ca").mkdir(parents=True)
    for name in ("ca.pem", "ca.key"):
        (line / "ca" / name).write_bytes((leshan.pki / name).read_bytes())
    print(f"line CA: the shared Leshan's ({leshan.pki}/ca.pem)")

    guide.start("board")
    wait_for_text(line / "serial", r"^[0-9a-f]{16}$", timeout=10)
    guide.write("~/line/agent.conf")

    station = guide.run("station")
    printed_hash = re.search(r"^public-key-sha256: ([0-9a-f]{64})$", station, re.M).group(1)
    assert "\u2580" in station or "\u2584" in station or "\u2588" in station, "no QR code printed"

    guide.run("checks")
    assert (line / "label.txt").read_text().strip() == printed_hash

    ep = "gw-" + (line / "serial").read_text().strip()
    # A label that does not match the certificate stops the operator before it registers anything.
    label = (line / "label.txt").read_text()
    (line / "label.txt").write_text("0" * 64 + "\n")
    refused = guide.refused("operator")
    assert "label does not match the certificate" in refused.err, refused.describe()
    assert not re.search(rf"^API \w+ \{{[^}}\n]*\bep={ep}\b", leshan.proc.stdout(), re.M)
    (line / "label.txt").write_text(label)
    guide.run("operator")

    guide.run("line-test")
    leshan.wait_event("unregistered", ep, timeout=10)  # the copy de-registered when stopped
    assert not (line / "line-test").exists() and not (line / "state" / "configuration.json").exists()

    since = leshan.mark()
    agent = guide.start("agent")
    leshan.wait_event("registered", ep, since=since, timeout=30)
    agent.wait_for(r"registered", timeout=10)
    assert (bin_dir / "lwm2m-agentd").resolve() in agent.executables(), agent.executables()  # the binary under test
    guide.expect("agent")
    guide.run("operator-read")
    guide.stop("agent")

    # No private key anywhere but in the TPM's blob; the key blob is not a PEM/DER private key.
    state = line / "state"
    assert (state / "keys" / "factory" / "bootstrap" / "key.blob").is_file()
    for path in [p for p in state.rglob("*") if p.is_file()] + [agent.log]:
        assert b"PRIVATE KEY" not in path.read_bytes(), path
    entry = re.search(rf"^API psk \{{[^}}\n]*\bep={ep}\b[^}}\n]*\}}", leshan.proc.stdout(), re.M)
    assert entry, "the operator's psk call is not in Leshan's log"
    dm_psk = re.search(r"\bkey=([0-9a-f]{32})\b", entry.group(0)).group(1)
    assert files_containing([state, agent.log], secret_forms(bytes.fromhex(dm_psk))) == []
    assert len(list((state / "sealed").rglob("*.blob"))) >= 1  # the server PSK, sealed as it arrived
    assert guide.unused() == []
