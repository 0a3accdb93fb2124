"""The one runner of the guides in docs/guides/: reads the blocks a guide marks with
``<!-- guide-test: ACTION [NAME] [tcp=P,Q] -->`` (the actions run, file, start, output, stop and
block are documented once, in docs/guides/README.md, "How the guides are tested"), runs them as
a user would (one shell session, background "terminals" by name) and checks each output the
guide shows against what the real commands printed.

- ``Guide.parse``: the marked steps by ``## `` section; malformed markers fail with file:line.
- ``GuideSession``: ``run_section`` (a section's steps in order) or by name (``run``, ``start``,
  ``expect``, ``stop``, ``write``, ``block``, ``refused``), ``unused`` for tests that go by name.
- ``Matching``: how output lines match, per guide (whole line or part of one, numbers as shown or
  free); ``…`` is anything.
- ``Substitutions``: the only changes made to a guide's text (printed with ``-s``): the runner's
  ``checkout_rules()`` and what the test module adds (directories, ``port_rules``).
- ``secret_forms``, ``files_containing``: the secrets scans the tests make after a guide.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from conftest import BIN_DIR, REPO, Run
from leshan_server import JAVA_LIBS, LESHAN_DIR
from test_factory import listening

MARKER = re.compile(r"<!-- guide-test: (.*?) -->")
ACTIONS = {"run", "file", "start", "output", "stop", "block"}
NAMED = {"file", "start", "stop", "block"}  # actions whose name (PATH for file) is required
NUMBER = r"\d+(?:\.\d+)*"
WAIT = 30.0         # seconds a background output may take to appear
START_WAIT = 90.0   # the first output of a background process (a JVM's start on a loaded machine)
RUN_TIMEOUT = 120.0


# MARK: - The guide's blocks


@dataclass
class Step:
    """One marked block (or a ``stop`` marker) of a guide."""
    guide: Path
    action: str
    name: str | None  # run/output: optional; file: its PATH
    options: list[str]
    body: str | None
    language: str
    line: int  # of the marker, for messages

    def where(self) -> str:
        what = " ".join([self.action] + ([self.name] if self.name else []) + self.options)
        return f"{self.guide.relative_to(REPO)}:{self.line} ({what})"


@dataclass
class Guide:
    """A guide's marked steps, by ``## `` section, in order."""
    path: Path
    sections: dict[str, list[Step]]

    @classmethod
    def parse(cls, path: Path) -> "Guide":
        sections: dict[str, list[Step]] = {}
        current = None
        lines = path.read_text().splitlines()
        index = 0
        while index < len(lines):
            line = lines[index]
            if line.startswith("## "):
                current = line[3:].strip()
                sections[current] = []
            marker = MARKER.fullmatch(line.strip())
            if marker is None:
                index += 1
                continue
            marker_line = index + 1
            where = f"{path.name}:{marker_line}"
            action, *args = marker.group(1).split()
            assert action in ACTIONS, f"{where}: unknown guide-test action {action!r}"
            assert current is not None, f"{where}: marker before the first section"
            name = args.pop(0) if args and "=" not in args[0] else None
            assert name is not None or action not in NAMED, f"{where}: {action} needs a name"
            assert all(o.startswith("tcp=") for o in args) and (not args or action == "start"), \
                f"{where}: unknown option in {marker.group(1)!r}"
            body, language = None, ""
            if action != "stop":
                assert index + 1 < len(lines) and lines[index + 1].startswith("```"), \
                    f"{where}: a fenced block must follow the marker"
                language = lines[index + 1][3:].strip()
                assert action not in ("run", "start") or language == "sh", f"{where}: {action} takes a sh block"
                end = index + 2
                while end < len(lines) and not lines[end].startswith("```"):
                    end += 1
                body = "\n".join(lines[index + 2:end]) + "\n"
                index = end
            sections[current].append(Step(path, action, name, args, body, language, marker_line))
            index += 1
        guide = cls(path, sections)
        for action in ("run", "file", "block"):
            names = [s.name for s in guide.steps if s.action == action and s.name]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            assert not duplicates, f"{path.name}: two {action} blocks named {duplicates}"
        return guide

    @property
    def steps(self) -> list[Step]:
        return [step for steps in self.sections.values() for step in steps]

    def section(self, prefix: str) -> list[Step]:
        matches = [title for title in self.sections if title.startswith(prefix)]
        assert len(matches) == 1, f"{self.path.name}: one section starting with {prefix!r} expected, found {matches}"
        steps = self.sections[matches[0]]
        assert steps, f"{self.path.name}: section {matches[0]!r} has no guide-test blocks"
        return steps

    def find(self, action: str, name: str) -> list[Step]:
        return [step for step in self.steps if step.action == action and step.name == name]

    def one(self, action: str, name: str) -> Step:
        found = self.find(action, name)
        assert len(found) == 1, f"{self.path.name}: one `{action} {name}` block expected, found {len(found)}"
        return found[0]


# MARK: - Matching an output block


@dataclass(frozen=True)
class Matching:
    """How a guide's output lines match real output lines: ``whole_lines`` (else anywhere in a
    line, the expected line's own indentation ignored) and ``free_numbers`` (any number where
    the guide shows one, for guides that show a real run's pids, times and sizes)."""
    whole_lines: bool = True
    free_numbers: bool = False

    def pattern(self, expected: str) -> re.Pattern:
        def literal(text: str) -> str:
            pieces = re.split(NUMBER, text) if self.free_numbers else [text]
            return NUMBER.join(re.escape(piece) for piece in pieces)
        return re.compile(".*".join(literal(part) for part in expected.split("…")))

    def matches(self, pattern: re.Pattern, actual: str) -> bool:
        return bool(pattern.fullmatch(actual) if self.whole_lines else pattern.search(actual))

    def find(self, expected: str, actual: list[str], start: int = 0) -> tuple[int, str | None]:
        """Matches the expected lines in order in ``actual[start:]``: (index after the last match,
        None) or (start, the first expected line not found)."""
        position = start
        for line in expected.splitlines():
            if not line.strip() or line.strip() == "…":
                continue
            pattern = self.pattern(line if self.whole_lines else line.strip())
            while position < len(actual) and not self.matches(pattern, actual[position]):
                position += 1
            if position == len(actual):
                return start, line
            position += 1
        return position, None


# MARK: - Substitutions


def port_rules(ports: dict[int, int]) -> list[tuple[str, str]]:
    """Each port number the guide names (not part of a longer number) → the test's free port."""
    return [(rf"(?<!\d){old}(?!\d)", str(new)) for old, new in ports.items()]


def checkout_rules() -> list[tuple[str, str]]:
    """The guides' checkout, its release binaries and Leshan's jars → the ones under test."""
    return [
        (r"\$REPO/\.build/release", str(BIN_DIR)),
        (r"\$HOME/lwm2m-agent/\.build/release", str(BIN_DIR)),
        (r"~/lwm2m-agent|\$HOME/lwm2m-agent", str(REPO)),
        (r"\$REPO/\.\./shared/leshan/", f"{LESHAN_DIR}/"),
        (r"/usr/share/java/", f"{JAVA_LIBS}/"),
    ]


class Substitutions:
    """(regular expression, replacement) pairs applied in order to every block before use: the
    only changes made to a guide's text. ``checkout_rules()`` first, then the guide's own."""

    def __init__(self, rules: list[tuple[str, str]]):
        self.rules = checkout_rules() + rules

    def __call__(self, text: str) -> str:
        for pattern, replacement in self.rules:
            text = re.sub(pattern, replacement, text)
        return text

    def __str__(self) -> str:
        return "\n".join(f"  {pattern} -> {replacement}" for pattern, replacement in self.rules)


# MARK: - The session


@dataclass
class Background:
    """A ``start`` block's process group and its log (stdout and stderr)."""
    name: str
    popen: subprocess.Popen
    log: Path
    checked: int = 0  # lines already matched by output steps

    def lines(self) -> list[str]:
        text = self.log.read_bytes().decode(errors="replace")
        return text[:text.rfind("\n") + 1].splitlines()  # complete lines only

    def text(self) -> str:
        return "\n".join(self.lines())

    def executables(self) -> set[Path]:
        """The programs the group runs now (from /proc: which binary a block's command found)."""
        found = set()
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.getpgid(int(pid)) == self.popen.pid:
                    found.add(Path(os.readlink(f"/proc/{pid}/exe")))
            except OSError:
                continue
        return found

    def signal(self, number: int) -> None:
        try:
            os.killpg(self.popen.pid, number)
        except ProcessLookupError:
            pass

    def wait_for(self, pattern: str, timeout: float = WAIT) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.text(), re.M)
            if match:
                return match
            assert self.popen.poll() is None, f"{self.name} exited {self.popen.returncode} before {pattern!r}"
            assert time.monotonic() < deadline, f"{self.name}: {pattern!r} not within {timeout} s:\n{self.text()[-3000:]}"
            time.sleep(0.05)


@dataclass
class GuideSession:
    """One user's terminals: a shell state (exported variables, current directory; ``HOME`` is
    ``workdir``) shared by the ``run`` blocks, and the background processes by name."""
    guide: Guide
    workdir: Path
    substitute: Substitutions
    matching: Matching = Matching()
    background: dict[str, Background] = field(default_factory=dict)
    finished: list[Background] = field(default_factory=list)
    outputs: list[tuple[Step, str]] = field(default_factory=list)  # every run block's, in order

    def __post_init__(self):
        self.shell = self.workdir / ".guide-shell"
        self.shell.mkdir()
        (self.shell / "env.sh").write_text("")
        (self.shell / "cwd").write_text(str(self.workdir))
        self.env = {**os.environ, "HOME": str(self.workdir)}
        self.last_run: tuple[Step, str] | None = None
        self.run_outputs: dict[str, str] = {}
        self.used: set[int] = set()  # lines of the steps run, checked or read
        print(f"\n{self.guide.path.name}: HOME={self.workdir}, substitutions:\n{self.substitute}")

    # Steps in the guide's order (a section), or by name.

    def run_section(self, prefix: str) -> list[str]:
        """Runs a section's steps in order; returns the output of each ``run`` step."""
        outputs = []
        for step in self.guide.section(prefix):
            output = self.execute(step)
            if step.action == "run":
                outputs.append(output)
        return outputs

    def execute(self, step: Step) -> str | None:
        self.used.add(step.line)
        body = self.substitute(step.body) if step.body is not None else None
        if step.action == "file":
            path = self.path(step.name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
        elif step.action == "run":
            output = self.run_block(step, body)
            self.last_run = (step, output)
            if step.name:
                self.run_outputs[step.name] = output
            return output
        elif step.action == "start":
            self.start_block(step, body)
        elif step.action == "output":
            self.check_output(step, body)
        elif step.action == "stop":
            self.stop(step.name, step.where())
        return None

    def run(self, name: str) -> str:
        """Runs block ``run NAME`` and checks its ``output NAME`` blocks; returns what it printed."""
        output = self.execute(self.guide.one("run", name))
        for step in self.guide.find("output", name):
            self.execute(step)
        return output

    def refused(self, name: str) -> Run:
        """Runs block ``run NAME`` where the test has made it fail: it must exit non-zero; its
        stdout and stderr apart (the shell state is not saved)."""
        step = self.guide.one("run", name)
        self.used.add(step.line)
        argv = ["bash", "-c", self.script(self.substitute(step.body), save=False)]
        start = time.monotonic()
        done = subprocess.run(argv, env=self.env, stdin=subprocess.DEVNULL, capture_output=True, timeout=RUN_TIMEOUT)
        run = Run(argv, done.returncode, done.stdout, done.stderr, time.monotonic() - start)
        self.outputs.append((step, run.out + run.err))
        assert run.returncode != 0, f"{step.where()} did not fail:\n{run.describe()}"
        return run

    def start(self, name: str) -> Background:
        """Starts block ``start NAME`` (again, when the previous one has ended)."""
        self.execute(self.guide.one("start", name))
        return self.background[name]

    def expect(self, name: str, actual: str | None = None) -> None:
        """Checks block ``output NAME`` against ``actual`` (what the test ran itself), or what the
        background or run block NAME printed."""
        step = self.guide.one("output", name)
        self.used.add(step.line)
        if actual is None:
            self.execute(step)
        else:
            self.match(step, self.substitute(step.body), actual.splitlines(), "what the test ran")

    def block(self, name: str) -> str:
        """The text of ``block NAME`` (not run), substituted."""
        step = self.guide.one("block", name)
        self.used.add(step.line)
        return self.substitute(step.body)

    def unused(self) -> list[str]:
        """The marked steps this session has not run, checked or read: a test that runs blocks by
        name ends with ``assert session.unused() == []``, so a newly marked block needs a test."""
        return [step.where() for step in self.guide.steps if step.line not in self.used]

    def write(self, path: str) -> Path:
        """Saves block ``file PATH``; returns where."""
        self.execute(self.guide.one("file", path))
        return self.path(path)

    def log(self, name: str) -> str:
        return self.background[name].text()

    # What the steps do.

    def path(self, text: str) -> Path:
        text = self.substitute(text)
        return self.workdir / text[2:] if text.startswith("~/") else Path(text)

    def script(self, body: str, save: bool) -> str:
        state = self.shell
        lines = ["set -eo pipefail", f'. "{state}/env.sh"', f'cd "$(cat "{state}/cwd")"', body]
        if save:
            lines += [f'export -p > "{state}/env.sh.new" && mv "{state}/env.sh.new" "{state}/env.sh"',
                      f'pwd > "{state}/cwd"']
        return "\n".join(lines) + "\n"

    def run_block(self, step: Step, body: str) -> str:
        done = subprocess.run(["bash", "-c", self.script(body, save=True)], env=self.env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT)
        output = done.stdout.decode(errors="replace")
        self.outputs.append((step, output))
        assert done.returncode == 0, (f"{step.where()} exited {done.returncode}:\n--- block ---\n{body}"
                                      f"--- output ---\n{output[-4000:]}")
        return output

    def start_block(self, step: Step, body: str) -> None:
        """The block runs in a process group of its own; bash then waits for what it put in the
        background with ``&`` (a block that starts servers that way stays "running")."""
        name = step.name
        previous = self.background.get(name)
        assert previous is None or previous.popen.poll() is not None, f"{step.where()}: {name} still runs"
        if previous is not None:
            self.finished.append(previous)
        count = sum(1 for p in self.finished if p.name == name)
        log = self.workdir / f"{name}{'.' + str(count) if count else ''}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(["bash", "-c", self.script(body + "wait\n", save=False)], env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.background[name] = Background(name, popen, log)
        for option in step.options:  # tcp=P,Q
            ports = [int(p) for p in self.substitute(option[4:]).split(",")]
            deadline = time.monotonic() + 10
            while not all(listening(p) for p in ports):
                assert popen.poll() is None, f"{step.where()}: {name} exited {popen.returncode}:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"{step.where()}: {name} does not listen on {ports}"
                time.sleep(0.05)
        assert popen.poll() is None, f"{step.where()}: {name} exited {popen.returncode}:\n{log.read_text()[-4000:]}"

    def check_output(self, step: Step, body: str) -> None:
        if step.name is None:
            assert self.last_run is not None, f"{step.where()}: output of which run block?"
            ran, output = self.last_run
            self.match(step, body, output.splitlines(), f"the output of {ran.where()}")
        elif step.name in self.background:
            self.wait_for_lines(step, body, self.background[step.name])
        else:
            assert step.name in self.run_outputs, f"{step.where()}: {step.name} has not run"
            self.match(step, body, self.run_outputs[step.name].splitlines(), f"the output of run {step.name}")

    def match(self, step: Step, body: str, lines: list[str], what: str) -> None:
        _, missing = self.matching.find(body, lines)
        shown = "\n".join(lines)[-4000:]
        assert missing is None, f"{step.where()}: {what} has no line matching\n  {missing}\n--- it printed ---\n{shown}"

    def wait_for_lines(self, step: Step, body: str, process: Background) -> None:
        wait = START_WAIT if process.checked == 0 else WAIT
        deadline = time.monotonic() + wait
        while True:
            lines = process.lines()
            position, missing = self.matching.find(body, lines, process.checked)
            if missing is None:
                process.checked = position
                return
            exited = process.popen.poll() is not None
            if exited or time.monotonic() > deadline:
                shown = "\n".join(lines[process.checked:][-60:])
                state = f"exited {process.popen.returncode}" if exited else f"still running after {wait:.0f} s"
                raise AssertionError(f"{step.where()}: {process.name} ({state}) printed no line matching\n"
                                     f"  {missing}\n--- {process.name} since the last check ---\n{shown}")
            time.sleep(0.1)

    def stop(self, name: str, where: str | None = None) -> None:
        """Ctrl-C in NAME's terminal: it must exit 0 within 15 s."""
        where = where or f"stop {name}"
        process = self.background.get(name)
        assert process is not None, f"{where}: {name} was not started"
        process.signal(signal.SIGINT)
        try:
            status = process.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.signal(signal.SIGKILL)
            raise AssertionError(f"{where}: {process.name} did not stop within 15 s after Ctrl-C")
        assert status == 0, f"{where}: {process.name} exited {status}:\n{process.log.read_text()[-4000:]}"

    def close(self) -> None:
        for process in self.background.values():
            if process.popen.poll() is None:
                process.signal(signal.SIGTERM)
                try:
                    process.popen.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.signal(signal.SIGKILL)
                    process.popen.wait(timeout=5)
            process.signal(signal.SIGKILL)  # what the block left in the background, if bash is gone


# MARK: - Secrets


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
