"""The fleet guides' own text, run: docs/guides/1nce-style.md and docs/guides/factory-line.md.

Each guide marks the blocks it wants run with an HTML comment on the line before the fence:
``<!-- guide-test: NAME -->`` (a command or configuration block, run or written as it stands)
and ``<!-- guide-output: NAME -->`` (what the guide says the user will see; every line of it
must show up in what the real run printed, numbers free; ``…`` any text). A block marked
``<!-- guide-server: NAME -->`` is the operator's server set-up, not run: the test uses the
session's shared Leshan instead (started the same way). The tests read those blocks out of
the markdown and change only two things, in one place (``Localizer``), printed with ``-s``:

* directories: ``HOME`` is the test's temporary directory (so ``~/1nce-demo`` lands there), and
  ``/home/me`` in configuration files becomes that directory too;
* port numbers: every port the guide names is mapped to a free one.

Peers: swtpm (the board's TPM), the project's LwM2M peers behind the OpenSSL DTLS relay
(1nce-style.md), Eclipse Leshan through the session's shared harness (factory-line.md). Missing
peers skip with the reason, and fail under ``CI=true`` (conftest.skip_or_fail).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO, Run, free_udp_port, require_tool
from leshan_server import leshan  # noqa: F401 (fixture: the session's shared Leshan)

GUIDES = REPO / "docs" / "guides"
MARKER = re.compile(r"^<!-- guide-(test|output): ([\w.-]+) -->\n```(\w*)\n(.*?)^```", re.M | re.S)


@dataclass
class Block:
    kind: str  # "test" or "output"
    name: str
    language: str
    text: str


def guide_blocks(guide: Path) -> dict[tuple[str, str], Block]:
    """The marked blocks of ``guide`` by (kind, name); a name used twice is an error."""
    blocks: dict[tuple[str, str], Block] = {}
    for match in MARKER.finditer(guide.read_text()):
        block = Block(match.group(1), match.group(2), match.group(3), match.group(4))
        assert (block.kind, block.name) not in blocks, f"{guide.name}: two guide-{block.kind} blocks named {block.name}"
        blocks[(block.kind, block.name)] = block
    return blocks


def free_tcp_pair() -> int:
    """A TCP port whose successor is free too (swtpm: server port, control port + 1)."""
    for _ in range(100):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two consecutive free TCP ports")


class Localizer:
    """The only changes made to a guide's text: its directory and its port numbers."""

    def __init__(self, home: Path, ports: dict[int, int]):
        self.home = home
        self.ports = ports
        self.replacements: list[tuple[str, str]] = [("/home/me", str(home))]
        print(f"\nguide substitutions: HOME={home}, /home/me -> {home}, ports {ports}")

    def __call__(self, text: str) -> str:
        for old, new in self.replacements:
            text = text.replace(old, new)
        for old, new in self.ports.items():
            text = re.sub(rf"(?<![0-9]){old}(?![0-9])", str(new), text)
        return text

    def env(self, bin_dir: Path) -> dict[str, str]:
        return {**os.environ, "HOME": str(self.home), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                "LWM2M_SRC": str(REPO)}


def run_block(procs, block: Block, local: Localizer, bin_dir: Path, timeout: float = 60, succeeds: bool = True):
    """A ``sh`` block run by bash -e as the user would paste it; returns the Run (exit 0
    expected, or non-zero with ``succeeds=False``)."""
    assert block.language == "sh", block
    script = "set -e\n" + local(block.text)
    start = time.monotonic()
    done = subprocess.run(["bash", "-c", script], cwd=local.home, env=local.env(bin_dir), capture_output=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    run = Run(["bash", "-c", script], done.returncode, done.stdout, done.stderr, time.monotonic() - start)
    procs.runs.append(run)
    assert (run.returncode == 0) == succeeds, run.describe()
    return run


def start_background_block(block: Block, local: Localizer, bin_dir: Path, cleanup: list) -> subprocess.Popen:
    """A ``sh`` block whose commands end in ``&``, run by one bash that then waits: its process
    group (bash and every server it started) is killed when the test ends."""
    script = "set -e\n" + local(block.text) + "\nwait\n"
    shell = subprocess.Popen(["bash", "-c", script], cwd=local.home, env=local.env(bin_dir), start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cleanup.append(shell)
    return shell


def kill_group(shell: subprocess.Popen) -> None:
    try:
        os.killpg(shell.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    shell.wait(timeout=5)


def command_of(block: Block, local: Localizer) -> list[str]:
    """The one command of a block (the daemon start), as argv with ``~`` expanded."""
    lines = [line for line in local(block.text).splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) == 1, block
    return [os.path.expanduser(word) if word.startswith("~") else word
            for word in shlex.split(lines[0].replace("~", str(local.home)))]


def assert_shown(expected: Block, actual: str, local: Localizer) -> None:
    """Every line of a guide-output block appears in ``actual`` (any numbers; ``…`` any text)."""
    missing = []
    for line in local(expected.text).splitlines():
        if not line.strip():
            continue
        pattern = r"\d+(?:\.\d+)*".join(".*".join(re.escape(text) for text in part.split("…"))
                                        for part in re.split(r"\d+(?:\.\d+)*", line.strip()))
        if not re.search(pattern, actual):
            missing.append(line)
    assert not missing, f"guide-output {expected.name}: lines not in the real output:\n" + "\n".join(missing) \
        + f"\n--- real output ---\n{actual[-4000:]}"


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


def secret_forms(hex_key: str) -> list[bytes]:
    return [bytes.fromhex(hex_key), hex_key.lower().encode(), hex_key.upper().encode()]


def files_containing(roots: list[Path], secrets: list[bytes]) -> list[str]:
    found = []
    for root in roots:
        for path in ([root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]):
            content = path.read_bytes()
            found += [f"{path}: {secret[:4].hex()}…" for secret in secrets if secret in content]
    return found


@pytest.fixture
def background():
    shells: list[subprocess.Popen] = []
    yield shells
    for shell in shells:
        kill_group(shell)


# MARK: - docs/guides/1nce-style.md


def test_1nce_style_guide(procs, bin_dir, tmp_path, background):
    require_tool("swtpm", "apt-get install swtpm swtpm-tools, or scripts/setup.sh")
    require_tool("openssl")
    blocks = guide_blocks(GUIDES / "1nce-style.md")
    tpm = free_tcp_pair()
    local = Localizer(tmp_path, {2321: tpm, 2322: tpm + 1, **{port: free_udp_port() for port in (5693, 5694, 5793, 5794)}})
    demo = tmp_path / "1nce-demo"

    start_background_block(blocks["test", "board"], local, bin_dir, background)  # swtpm stays up: killed at the end
    wait_for_text(demo / "iccid", r"^89\d+$", timeout=10)
    wait_for_text(Path("/proc/net/tcp"), rf":{tpm:04X} 00000000:0000 0A", timeout=10)
    config = demo / "agent.conf"
    config.write_text(local(blocks["test", "agent.conf"].text))

    factory = run_block(procs, blocks["test", "factory"], local, bin_dir)
    assert_shown(blocks["output", "factory"], factory.out, local)
    bs_psk = (demo / "portal.psk").read_text().strip()

    servers = start_background_block(blocks["test", "local-1nce"], local, bin_dir, background)
    for log in ("dm.log", "bs.log"):
        wait_for_text(demo / log, r'"event": "ready"')
    assert "Traceback" not in (demo / "dm.log").read_text()
    for log in ("dm-relay.log", "bs-relay.log"):
        wait_for_text(demo / log, r"^listening ")

    argv = command_of(blocks["test", "start"], local)
    assert Path(argv[0]).name == "lwm2m-agentd"
    agent = procs.start("agentd", [bin_dir / "lwm2m-agentd", *argv[1:]])
    agent.wait_for(r"server 1111: registered", timeout=30)
    status = run_block(procs, blocks["test", "status"], local, bin_dir)
    assert_shown(blocks["output", "status"], status.out, local)
    assert_shown(blocks["output", "start"], agent.stderr(), local)
    shown = run_block(procs, blocks["test", "bs-log"], local, bin_dir)
    assert_shown(blocks["output", "bs-log"], shown.out, local)
    agent.popen.send_signal(signal.SIGINT)  # Ctrl-C
    assert agent.popen.wait(timeout=10) == 0
    wait_for_text(demo / "dm.log", r'"event": "deregister"')

    again = procs.start("agentd-restarted", [bin_dir / "lwm2m-agentd", *argv[1:]])
    again.wait_for(r"server 1111: registered", timeout=30)
    count = run_block(procs, blocks["test", "restart-check"], local, bin_dir)
    assert count.out.strip() == "2", count.describe()
    assert "bootstrap pending" in again.stderr()
    again.popen.send_signal(signal.SIGINT)
    assert again.popen.wait(timeout=10) == 0

    # The board's file (paths moved here) loads with the factory file the line wrote.
    board_state = tmp_path / "board-state"
    board_state.mkdir(mode=0o700)
    (board_state / "factory.conf").write_bytes((demo / "state" / "factory.conf").read_bytes())
    board = tmp_path / "board-agent.conf"
    board.write_text(local(blocks["test", "board-agent.conf"].text)
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
    assert_shown(blocks["output", "no-iccid"], refused.err, local)

    # Neither PSK in the state directory, the logs, or anything the commands printed.
    relay_argv = " ".join(Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
                          for p in os.listdir("/proc") if p.isdigit() and _in_group(int(p), servers.pid))
    keys = [bs_psk] + re.findall(r"--psk dm-\d+:([0-9a-f]{32})", relay_argv)
    assert len(keys) == 2, relay_argv
    secrets = [form for key in keys for form in secret_forms(key)]
    logs = [agent.stderr_path, agent.stdout_path, again.stderr_path, again.stdout_path]
    assert files_containing([demo / "state", *logs], secrets) == []
    sealed = sorted(str(b.relative_to(demo / "state")) for b in (demo / "state" / "sealed").rglob("*.blob"))
    assert "sealed/factory/bootstrap/secret-key.blob" in sealed and any(n.startswith("sealed/lwm2m/0-0-5/") for n in sealed), sealed
    for run in procs.runs:
        assert not any(secret in run.stdout or secret in run.stderr for secret in secrets), run.describe()


def _in_group(pid: int, group: int) -> bool:
    try:
        return os.getpgid(pid) == group
    except OSError:
        return False


# MARK: - docs/guides/factory-line.md


def test_factory_line_guide(procs, bin_dir, tmp_path, background, leshan):
    require_tool("swtpm", "apt-get install swtpm swtpm-tools, or scripts/setup.sh")
    require_tool("curl", "apt-get install curl")
    blocks = guide_blocks(GUIDES / "factory-line.md")
    tpm = free_tcp_pair()
    ports = leshan.ports
    local = Localizer(tmp_path, {2321: tpm, 2322: tpm + 1, 5684: ports["dm-coaps"], 5784: ports["bs-coaps"],
                                 8081: ports["http"]})
    line = tmp_path / "line"
    # Step 1 (not run): the shared Leshan was started by leshan_server.py with a CA made by the
    # same openssl commands; the line's CA is that one.
    assert ("server", "operator") not in blocks and "guide-server: operator" in (GUIDES / "factory-line.md").read_text()
    (line / "ca").mkdir(parents=True)
    for name in ("ca.pem", "ca.key"):
        (line / "ca" / name).write_bytes((leshan.pki / name).read_bytes())
    print(f"line CA: the shared Leshan's ({leshan.pki}/ca.pem)")

    start_background_block(blocks["test", "board"], local, bin_dir, background)
    wait_for_text(line / "serial", r"^[0-9a-f]{16}$", timeout=10)
    wait_for_text(Path("/proc/net/tcp"), rf":{tpm:04X} 00000000:0000 0A", timeout=10)
    (line / "agent.conf").write_text(local(blocks["test", "agent.conf"].text))

    station = run_block(procs, blocks["test", "station"], local, bin_dir)
    assert_shown(blocks["output", "station"], station.out, local)
    printed_hash = re.search(r"^public-key-sha256: ([0-9a-f]{64})$", station.out, re.M).group(1)
    assert "\u2580" in station.out or "\u2584" in station.out or "\u2588" in station.out, "no QR code printed"

    checks = run_block(procs, blocks["test", "checks"], local, bin_dir)
    assert_shown(blocks["output", "checks"], checks.out, local)
    assert (line / "label.txt").read_text().strip() == printed_hash

    ep = "gw-" + (line / "serial").read_text().strip()
    # A label that does not match the certificate stops the operator before it registers anything.
    label = (line / "label.txt").read_text()
    (line / "label.txt").write_text("0" * 64 + "\n")
    refused = run_block(procs, blocks["test", "operator"], local, bin_dir, succeeds=False)
    assert "label does not match the certificate" in refused.err, refused.describe()
    assert not re.search(rf"^API \w+ \{{[^}}\n]*\bep={ep}\b", leshan.proc.stdout(), re.M)
    (line / "label.txt").write_text(label)
    operator = run_block(procs, blocks["test", "operator"], local, bin_dir)
    assert_shown(blocks["output", "operator"], operator.out, local)

    line_test = run_block(procs, blocks["test", "line-test"], local, bin_dir)
    assert_shown(blocks["output", "line-test"], line_test.out, local)
    leshan.wait_event("unregistered", ep, timeout=10)  # the copy de-registered when stopped
    assert not (line / "line-test").exists() and not (line / "state" / "configuration.json").exists()

    since = leshan.mark()
    argv = command_of(blocks["test", "start"], local)
    agent = procs.start("agentd", [bin_dir / "lwm2m-agentd", *argv[1:]])
    leshan.wait_event("registered", ep, since=since, timeout=30)
    agent.wait_for(r"registered", timeout=10)
    assert_shown(blocks["output", "start"], agent.stderr(), local)
    read = run_block(procs, blocks["test", "operator-read"], local, bin_dir)
    assert_shown(blocks["output", "operator-read"], read.out, local)
    agent.popen.send_signal(signal.SIGINT)
    assert agent.popen.wait(timeout=10) == 0

    # No private key anywhere but in the TPM's blob; the key blob is not a PEM/DER private key.
    state = line / "state"
    assert (state / "keys" / "factory" / "bootstrap" / "key.blob").is_file()
    for path in [p for p in state.rglob("*") if p.is_file()] + [agent.stderr_path, agent.stdout_path]:
        assert b"PRIVATE KEY" not in path.read_bytes(), path
    entry = re.search(rf"^API psk \{{[^}}\n]*\bep={ep}\b[^}}\n]*\}}", leshan.proc.stdout(), re.M)
    assert entry, "the operator's psk call is not in Leshan's log"
    dm_psk = re.search(r"\bkey=([0-9a-f]{32})\b", entry.group(0)).group(1)
    assert files_containing([state, agent.stderr_path, agent.stdout_path], secret_forms(dm_psk)) == []
    assert len(list((state / "sealed").rglob("*.blob"))) >= 1  # the server PSK, sealed as it arrived
