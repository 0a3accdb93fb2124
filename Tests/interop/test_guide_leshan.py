"""docs/guides/leshan.md, run as written by guide_runner.py (the marker syntax:
docs/guides/README.md): the guide's blocks, in the guide's order, against a real Eclipse Leshan
(started by the guide's own ``java ... LeshanHarness`` command) and a real swtpm, so the guide
cannot drift from what the agent, the factory CLI and Leshan do. Output blocks match whole lines,
numbers as shown.

Substitutions (``substitutions()``, besides the runner's checkout rules): the working directory
/tmp/leshan-guide → a temporary directory, Leshan's and swtpm's fixed ports → free ones, and
``--parent PID`` appended to Leshan's command (the JVM exits if pytest dies).

Each numbered part of the guide is one test; "Before you start" runs once per module (javac,
the CA, Leshan's start: 4-7 s on the shared 2-core machine; the whole module 9-13 s), "A TPM for
parts 3 and 4" once for parts 3 and 4. Needs Leshan (see leshan_server.py), swtpm, openssl, curl: skipped with the reason when
missing, failed under CI=true. Besides the guide's outputs, the tests check what the guide
claims in prose: no PSK or private key in the agent's log, state directory or factory file; the
public-key hash ``factory`` prints is the CSR's.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from conftest import REPO, free_udp_port, require_path, require_tool
from guide_runner import Guide, GuideSession, Matching, Substitutions, files_containing, port_rules, secret_forms
from leshan_server import LESHAN_DIR, classpath
from test_factory import two_free_ports

GUIDE = REPO / "docs" / "guides" / "leshan.md"
GUIDE_DIR = "/tmp/leshan-guide"
LESHAN_JAR = "leshan-2.0.0-M18-cf4.0.0-M6.jar"


def substitutions(workdir: Path, ports: dict[str, int]) -> Substitutions:
    """The guide's directory and ports → the test's; Leshan told to exit with pytest."""
    return Substitutions([
        (re.escape(GUIDE_DIR), str(workdir)),
        *port_rules({5683: ports["dm-coap"], 5684: ports["dm-coaps"], 5783: ports["bs-coap"],
                     5784: ports["bs-coaps"], 8081: ports["http"], 2321: ports["swtpm"], 2322: ports["swtpm"] + 1}),
        (r"(?s)( LeshanHarness .*?)\s*\Z", rf"\1 --parent {os.getpid()}\n"),  # the block's last command
    ])


# MARK: - Fixtures


@pytest.fixture(scope="module")
def guide(bin_dir, tmp_path_factory):
    """The session after "Before you start": Leshan runs with the guide's CA."""
    classpath()  # skips (fails under CI) without Leshan, Java or the Debian jars
    require_path(LESHAN_DIR / LESHAN_JAR, "the guide names this jar; update docs/guides/leshan.md for another")
    for tool in ("curl", "openssl"):
        require_tool(tool, "scripts/setup.sh installs it")
    workdir = tmp_path_factory.mktemp("leshan-guide")
    swtpm_port, _ = two_free_ports()
    ports = {"dm-coap": free_udp_port(), "dm-coaps": free_udp_port(), "bs-coap": free_udp_port(),
             "bs-coaps": free_udp_port(), "http": two_free_ports()[0], "swtpm": swtpm_port}
    session = GuideSession(Guide.parse(GUIDE), workdir, substitutions(workdir, ports), Matching(whole_lines=True))
    try:
        started = time.monotonic()
        session.run_section("Before you start")
        print(f"\nguide set-up (javac, CA, Leshan started): {time.monotonic() - started:.1f} s")
        yield session
    finally:
        session.close()


@pytest.fixture(scope="module")
def guide_tpm(guide):
    """The session after "A TPM for parts 3 and 4": swtpm runs."""
    require_tool("swtpm", "apt-get install swtpm swtpm-tools, or scripts/setup.sh")
    if "swtpm" not in guide.background:
        guide.run_section("A TPM")
    return guide


# MARK: - The parts


def test_guide_sections_are_all_run():
    """Every section with marked blocks is run by a test here: a new part needs a test."""
    sections = Guide.parse(GUIDE).sections
    with_blocks = sorted(title.split(" ")[0] for title, steps in sections.items() if steps)
    assert with_blocks == ["1.", "2.", "3.", "4.", "A", "Before"], with_blocks
    assert sum(len(steps) for steps in sections.values()) > 40


def test_1_direct_registration_read_write_observe(guide):
    guide.run_section("1. ")
    log = guide.log("agent-direct")
    assert "registration failed" not in log and "<3>" not in log, log


def test_2_bootstrap_then_registration_and_restart_without_bootstrap(guide):
    guide.run_section("2. ")
    first, second = guide.finished[-1], guide.background["agent-bootstrap"]
    assert first.name == "agent-bootstrap" and "bootstrap finished" in "\n".join(first.lines())
    restarted = "\n".join(second.lines())
    assert "bootstrap pending" not in restarted and "bootstrap finished" not in restarted, restarted


def test_3_psk_sealed_in_the_tpm(guide_tpm):
    guide = guide_tpm
    guide.run_section("3. ")
    keys = [bytes.fromhex((guide.workdir / name).read_text().strip()) for name in ("bs.psk", "dm.psk")]
    secrets = [form for key in keys for form in secret_forms(key)]
    state = guide.workdir / "state-psk"
    assert sorted(str(p.relative_to(state)) for p in state.rglob("*.blob")) == \
        ["sealed/factory/bootstrap/secret-key.blob", "sealed/lwm2m/0-1-5/1.blob"]
    assert files_containing([state, guide.background["agent-psk"].log], secrets) == []
    for step, output in guide.outputs:  # nor in what the agent's commands printed
        if "lwm2m-agent" in (step.body or ""):
            assert not any(key.hex() in output.lower() for key in keys), step.where()


def test_4_x509_with_the_factory_csr(guide_tpm):
    guide = guide_tpm
    outputs = guide.run_section("4. ")
    printed = re.search(r"^public-key-sha256: ([0-9a-f]{64})$", outputs[0], re.M)
    from_csr = re.search(r"^([0-9a-f]{64})  -$", outputs[1], re.M)
    assert printed and from_csr and printed.group(1) == from_csr.group(1), outputs[:2]
    state = guide.workdir / "state-x509"
    assert sorted(str(p.relative_to(state)) for p in state.rglob("*.blob")) == \
        ["keys/factory/bootstrap/key.blob", "sealed/lwm2m/0-1-5/1.blob"]
    # The LwM2M server's private key the bootstrap server wrote is sealed, nowhere in clear.
    dm_key = (guide.workdir / "gw-guide-4-dm.key.der").read_bytes()
    assert files_containing([state, guide.background["agent-x509"].log], secret_forms(dm_key)) == []
    # Without a bootstrap server: the TPM key only, no sealed secret at all.
    direct = guide.workdir / "state-x509-direct"
    assert sorted(str(p.relative_to(direct)) for p in direct.rglob("*.blob")) == ["keys/factory/server-1/key.blob"]
