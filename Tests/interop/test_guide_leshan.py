"""docs/guides/leshan.md, run as written: every block the guide marks with an HTML comment
``<!-- guide-test: ACTION ... -->`` (the line right before a fenced block) is taken from the
markdown and run, in the guide's order, against a real Eclipse Leshan (started by the guide's own
``java ... LeshanHarness`` command) and a real swtpm, so the guide cannot drift from what the
agent, the factory CLI and Leshan do.

Actions (one module-wide shell session, like a user's terminals):

``run``            the block is a bash script (``set -eo pipefail``); it must exit 0. Variables it
                   exports and the directory it ``cd``s to carry over to later blocks.
``file PATH``      the block is a file to save at PATH.
``start NAME``     the block runs in the background as NAME (a terminal of its own); with
                   ``tcp=P,Q`` the step waits until those TCP ports listen.
``output [NAME]``  the block is what the previous ``run`` block printed (stdout and stderr), or
                   what background NAME printed since its last checked output (waited for).
                   Each line must match a whole output line, in order, other lines may come in
                   between; ``…`` in a line matches anything, a line of only ``…`` is a comment.
``stop NAME``      Ctrl-C: SIGINT to NAME's process group; it must exit 0. (No block.)

Only the substitutions in ``substitutions()`` are made, to the guide's text, before use: the
checkout, the binaries under test and Leshan's jar directory, the working directory
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
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import BIN_DIR, REPO, free_udp_port, require_path, require_tool
from leshan_server import JAVA_LIBS, LESHAN_DIR, classpath
from test_factory import listening, two_free_ports

GUIDE = REPO / "docs" / "guides" / "leshan.md"
GUIDE_DIR = "/tmp/leshan-guide"
LESHAN_JAR = "leshan-2.0.0-M18-cf4.0.0-M6.jar"
MARKER = re.compile(r"<!-- guide-test: (.*?) -->")
ACTIONS = {"run", "file", "start", "output", "stop"}
WAIT = 30.0          # seconds an output of a background process may take to appear
LESHAN_WAIT = 90.0   # the JVM's start on a loaded machine


# MARK: - The guide's blocks


@dataclass
class Step:
    action: str
    args: list[str]
    body: str | None
    line: int  # of the marker in the guide, for messages

    def where(self) -> str:
        return f"{GUIDE.relative_to(REPO)}:{self.line} ({self.action} {' '.join(self.args)})".rstrip()


def parse_guide(text: str) -> dict[str, list[Step]]:
    """The marked steps of each ``## `` section, in order."""
    sections: dict[str, list[Step]] = {}
    current = None
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
        marker = MARKER.fullmatch(line.strip())
        if marker:
            action, *args = marker.group(1).split()
            assert action in ACTIONS, f"{GUIDE.name}:{index + 1}: unknown guide-test action {action!r}"
            assert current is not None, f"{GUIDE.name}:{index + 1}: marker before the first section"
            body = None
            if action != "stop":
                assert index + 1 < len(lines) and lines[index + 1].startswith("```"), \
                    f"{GUIDE.name}:{index + 1}: a fenced block must follow the marker"
                end = index + 2
                while end < len(lines) and not lines[end].startswith("```"):
                    end += 1
                body = "\n".join(lines[index + 2:end]) + "\n"
                sections[current].append(Step(action, args, body, index + 1))
                index = end + 1
                continue
            sections[current].append(Step(action, args, body, index + 1))
        index += 1
    return sections


def substitutions(workdir: Path, ports: dict[str, int]) -> list[tuple[str, str]]:
    """(regular expression, replacement) pairs applied to every marked block, in order: the only
    changes made to the guide's text."""
    def port(number: int) -> str:
        return rf"(?<!\d){number}(?!\d)"
    return [
        (r"~/lwm2m-agent", str(REPO)),
        (r"\$REPO/\.build/release", str(BIN_DIR)),
        (r"\$REPO/\.\./shared/leshan/", f"{LESHAN_DIR}/"),
        (r"/usr/share/java/", f"{JAVA_LIBS}/"),
        (re.escape(GUIDE_DIR), str(workdir)),
        (port(5683), str(ports["dm-coap"])),
        (port(5684), str(ports["dm-coaps"])),
        (port(5783), str(ports["bs-coap"])),
        (port(5784), str(ports["bs-coaps"])),
        (port(8081), str(ports["http"])),
        (port(2321), str(ports["swtpm"])),
        (port(2322), str(ports["swtpm"] + 1)),
        (r"(?s)( LeshanHarness .*?)\s*\Z", rf"\1 --parent {os.getpid()}\n"),  # the block's last command
    ]


def line_pattern(expected: str) -> re.Pattern:
    """An expected output line as a regular expression: literal, ``…`` matches anything."""
    return re.compile(".*".join(re.escape(part) for part in expected.split("…")))


def find_lines(expected: str, actual: list[str], start: int = 0) -> tuple[int, str | None]:
    """Matches the expected lines in order in ``actual[start:]``: (index after the last match,
    None) or (start, the first expected line not found)."""
    position = start
    for line in expected.splitlines():
        if not line.strip() or line.strip() == "…":
            continue
        pattern = line_pattern(line)
        while position < len(actual) and not pattern.fullmatch(actual[position]):
            position += 1
        if position == len(actual):
            return start, line
        position += 1
    return position, None


# MARK: - The session


@dataclass
class Background:
    name: str
    popen: subprocess.Popen
    log: Path
    checked: int = 0  # lines already matched by output steps

    def lines(self) -> list[str]:
        text = self.log.read_bytes().decode(errors="replace")
        return text[:text.rfind("\n") + 1].splitlines()  # complete lines only

    def signal(self, number: int) -> None:
        try:
            os.killpg(self.popen.pid, number)
        except ProcessLookupError:
            pass


@dataclass
class GuideSession:
    """One user's terminals: a shell state (exported variables, current directory) shared by the
    ``run`` blocks, and the background processes by name."""
    workdir: Path
    rules: list[tuple[str, str]]
    sections: dict[str, list[Step]]
    background: dict[str, Background] = field(default_factory=dict)
    outputs: list[tuple[Step, str]] = field(default_factory=list)
    finished: list[Background] = field(default_factory=list)

    def __post_init__(self):
        self.shell = self.workdir / ".guide-shell"
        self.shell.mkdir()
        (self.shell / "env.sh").write_text("")
        (self.shell / "cwd").write_text(str(self.workdir))

    def substitute(self, text: str) -> str:
        for pattern, replacement in self.rules:
            text = re.sub(pattern, replacement, text)
        return text

    def script(self, body: str, save: bool) -> str:
        state = self.shell
        lines = ["set -eo pipefail", f'. "{state}/env.sh"', f'cd "$(cat "{state}/cwd")"', body]
        if save:
            lines += [f'export -p > "{state}/env.sh.new" && mv "{state}/env.sh.new" "{state}/env.sh"',
                      f'pwd > "{state}/cwd"']
        return "\n".join(lines) + "\n"

    def section(self, prefix: str) -> list[Step]:
        matches = [title for title in self.sections if title.startswith(prefix)]
        assert len(matches) == 1, f"{GUIDE.name}: one section starting with {prefix!r} expected, found {matches}"
        steps = self.sections[matches[0]]
        assert steps, f"{GUIDE.name}: section {matches[0]!r} has no guide-test blocks"
        return steps

    def run_section(self, prefix: str) -> list[str]:
        """Runs the section's steps; returns the output of each ``run`` step."""
        outputs = []
        last_run: str | None = None
        last_step: Step | None = None
        for step in self.section(prefix):
            body = self.substitute(step.body) if step.body is not None else None
            if step.action == "file":
                path = Path(self.substitute(step.args[0]))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(body)
            elif step.action == "run":
                last_run = self.run(step, body)
                last_step = step
                outputs.append(last_run)
            elif step.action == "start":
                self.start(step, body)
            elif step.action == "output":
                if step.args:
                    self.expect_background(step, body)
                else:
                    assert last_run is not None, f"{step.where()}: output of which run block?"
                    _, missing = find_lines(body, last_run.splitlines())
                    assert missing is None, (f"{step.where()}: the output of {last_step.where()} has no line "
                                             f"matching\n  {missing}\n--- it printed ---\n{last_run[-4000:]}")
            elif step.action == "stop":
                self.stop(step)
        return outputs

    def run(self, step: Step, body: str) -> str:
        done = subprocess.run(["bash", "-c", self.script(body, save=True)], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        output = done.stdout.decode(errors="replace")
        self.outputs.append((step, output))
        assert done.returncode == 0, (f"{step.where()} exited {done.returncode}:\n--- block ---\n{body}"
                                      f"--- output ---\n{output[-4000:]}")
        return output

    def start(self, step: Step, body: str) -> None:
        name = step.args[0]
        previous = self.background.get(name)
        assert previous is None or previous.popen.poll() is not None, f"{step.where()}: {name} still runs"
        if previous is not None:
            self.finished.append(previous)
        count = sum(1 for p in self.finished if p.name == name)
        log = self.workdir / f"{name}{'.' + str(count) if count else ''}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(["bash", "-c", self.script(body, save=False)], stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.background[name] = process = Background(name, popen, log)
        for option in step.args[1:]:
            assert option.startswith("tcp="), f"{step.where()}: unknown option {option!r}"
            ports = [int(p) for p in self.substitute(option[4:]).split(",")]
            deadline = time.monotonic() + 10
            while not all(listening(p) for p in ports):
                assert popen.poll() is None, f"{step.where()}: {name} exited {popen.returncode}:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"{step.where()}: {name} does not listen on {ports}"
                time.sleep(0.05)
        assert process.popen.poll() is None or name.startswith("agent"), \
            f"{step.where()}: {name} exited {popen.returncode}:\n{log.read_text()[-4000:]}"

    def expect_background(self, step: Step, body: str) -> None:
        process = self.background.get(step.args[0])
        assert process is not None, f"{step.where()}: {step.args[0]} was not started"
        deadline = time.monotonic() + (LESHAN_WAIT if step.args[0] == "leshan" and process.checked == 0 else WAIT)
        while True:
            lines = process.lines()
            position, missing = find_lines(body, lines, process.checked)
            if missing is None:
                process.checked = position
                return
            exited = process.popen.poll() is not None
            if exited or time.monotonic() > deadline:
                shown = "\n".join(lines[process.checked:][-60:])
                state = f"exited {process.popen.returncode}" if exited else f"still running after {WAIT:.0f} s"
                raise AssertionError(f"{step.where()}: {process.name} ({state}) printed no line matching\n"
                                     f"  {missing}\n--- {process.name} since the last check ---\n{shown}")
            time.sleep(0.1)

    def stop(self, step: Step) -> None:
        process = self.background.get(step.args[0])
        assert process is not None, f"{step.where()}: {step.args[0]} was not started"
        process.signal(signal.SIGINT)
        try:
            status = process.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.signal(signal.SIGKILL)
            raise AssertionError(f"{step.where()}: {process.name} did not stop within 15 s after Ctrl-C")
        assert status == 0, f"{step.where()}: {process.name} exited {status}:\n{process.log.read_text()[-4000:]}"

    def close(self) -> None:
        for process in self.background.values():
            if process.popen.poll() is None:
                process.signal(signal.SIGTERM)
                try:
                    process.popen.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.signal(signal.SIGKILL)
                    process.popen.wait(timeout=5)

    def log(self, name: str) -> str:
        return "\n".join(self.background[name].lines())


def secret_forms(data: bytes) -> list[bytes]:
    """A secret as raw bytes, lower- and upper-case hex."""
    return [data, data.hex().encode(), data.hex().upper().encode()]


def files_containing(paths: list[Path], secrets: list[bytes]) -> list[str]:
    """Which files (under) ``paths`` hold one of ``secrets`` (named by index, never by content)."""
    found = []
    for root in paths:
        for path in [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()):
            content = path.read_bytes()
            found += [f"{path} holds secret form #{index}" for index, secret in enumerate(secrets) if secret in content]
    return found


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
    session = GuideSession(workdir, substitutions(workdir, ports), parse_guide(GUIDE.read_text()))
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
    sections = parse_guide(GUIDE.read_text())
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
