"""Peer server processes (peers/bootstrap_server.py, peers/management_server.py) for the interop
tests: stdout/stderr to files as conftest.Proc, stdin a pipe for the management server's JSON
commands, JSON-line events read back from stdout. The ``start_peer`` fixture lives in conftest.py.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time

from conftest import HERE, Proc

PEERS = HERE / "peers"
WAIT = 10.0  # seconds, any single wait


class PeerProc(Proc):
    """A peer server process: stdout/stderr to files (as conftest.Proc), stdin a pipe for commands."""

    def __init__(self, name: str, argv: list, workdir):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.stdout_path = workdir / f"{name}.stdout"
        self.stderr_path = workdir / f"{name}.stderr"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.popen = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=out, stderr=err,
                                          start_new_session=True)
        self.returncode = None
        self.next_id = 1
        self.port = None

    def wait_ready(self) -> None:
        ready = self.wait_line(lambda line: line.get("event") == "ready")
        self.port = int(ready["listen"].rsplit(":", 1)[1])

    def lines(self, path=None) -> list[dict]:
        text = (path or self.stdout_path).read_text(errors="replace")
        out = []
        for line in text.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def events(self, name: str | None = None, path=None) -> list[dict]:
        return [line for line in self.lines(path) if "event" in line and (name is None or line["event"] == name)]

    def wait_line(self, predicate, timeout: float = WAIT, path=None) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines(path):
                if predicate(line):
                    return line
            if not self.alive():
                raise AssertionError(f"{self.name} exited ({self.popen.returncode}): {self.stderr()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no matching line within {timeout}s")
            time.sleep(0.02)

    def wait_event(self, name: str, count: int = 1, timeout: float = WAIT, path=None, **fields) -> dict:
        """The ``count``-th event ``name`` whose fields include ``fields``."""
        def matches(line):
            return line.get("event") == name and all(line.get(k) == v for k, v in fields.items())

        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.lines(path) if matches(line)]
            if len(found) >= count:
                return found[count - 1]
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: {count} x {name} {fields} not seen within {timeout}s; "
                                     f"saw {[line.get('event') for line in self.lines(path)]}")
            time.sleep(0.02)

    def command(self, op: str, wait: float = WAIT, **fields) -> dict:
        """Sends one command (``fields`` may include the command's own "timeout") and waits up to
        ``wait`` seconds for its reply."""
        command_id = self.next_id
        self.next_id += 1
        self.popen.stdin.write((json.dumps({"id": command_id, "op": op, **fields}) + "\n").encode())
        self.popen.stdin.flush()
        return self.wait_line(lambda line: line.get("id") == command_id and "event" not in line, wait)

    def terminate(self) -> int:
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout=WAIT)
