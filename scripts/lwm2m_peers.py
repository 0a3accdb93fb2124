"""The aiocoap peer servers (Tests/interop/peers) as processes for the demo and the benchmarks:
JSON events on stdout, JSON commands on stdin."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PEERS = REPO / "Tests" / "interop" / "peers"
WAIT = 15.0


class Peer:
    """A peer server: JSON events on stdout, JSON commands on stdin."""

    def __init__(self, name: str, script: str, workdir: Path, *args: str):
        self.name = name
        self.out = workdir / f"{name}.jsonl"
        self.err = workdir / f"{name}.log"
        self.proc = subprocess.Popen([sys.executable, str(PEERS / script), "--listen", "127.0.0.1:0", *args],
                                     stdin=subprocess.PIPE, stdout=open(self.out, "wb"), stderr=open(self.err, "wb"))
        self.next_id = 1
        self.port = int(self.wait(lambda line: line.get("event") == "ready")["listen"].rsplit(":", 1)[1])

    def lines(self) -> list[dict]:
        result = []
        for text in self.out.read_text(errors="replace").splitlines():
            try:
                result.append(json.loads(text))
            except ValueError:
                pass
        return result

    def wait(self, predicate, timeout: float = WAIT, count: int = 1) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines() if predicate(line)]
            if len(found) >= count:
                return found[count - 1]
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited: {self.err.read_text()[-2000:]}")
            time.sleep(0.02)
        raise SystemExit(f"{self.name}: timed out waiting ({timeout} s)")

    def command(self, op: str, **fields) -> dict:
        command_id = self.next_id
        self.next_id += 1
        self.proc.stdin.write((json.dumps({"id": command_id, "op": op, **fields}) + "\n").encode())
        self.proc.stdin.flush()
        return self.wait(lambda line: line.get("id") == command_id and "event" not in line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def start_dtls_relay(target: int, psk: list[str], procs: list, *args: str) -> int:
    """Starts Tests/interop/dtls_relay.py (OpenSSL) in front of 127.0.0.1:target with the given
    `IDENTITY:HEXKEY` PSKs (and extra arguments); returns its port. The process goes to `procs`."""
    argv = [sys.executable, str(REPO / "Tests" / "interop" / "dtls_relay.py"), "--listen", "127.0.0.1:0",
            "--target", f"127.0.0.1:{target}", *args]
    for entry in psk:
        argv += ["--psk", entry]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    procs.append(proc)
    return int(proc.stdout.readline().split()[2])


def start_swtpm(workdir: Path, procs: list) -> str:
    """Starts a private swtpm (TPM 2.0 simulator) on two consecutive free TCP ports (server,
    control) with its state in `workdir/swtpm`; returns the agent's `tpm-tcti` value."""
    import socket

    state = workdir / "swtpm"
    state.mkdir(exist_ok=True)

    def listening(port: int) -> bool:
        # From /proc/net/tcp rather than a connection: swtpm serves one connection at a time.
        wanted = f":{port:04X}"
        with open("/proc/net/tcp") as table:
            return any(line.split()[1].endswith(wanted) and line.split()[3] == "0A" for line in list(table)[1:])

    for _ in range(10):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            server = probe.getsockname()[1]
        proc = subprocess.Popen(["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}",
                                 "--server", f"type=tcp,port={server},bindaddr=127.0.0.1",
                                 "--ctrl", f"type=tcp,port={server + 1},bindaddr=127.0.0.1",
                                 "--flags", "not-need-init,startup-clear"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        deadline = time.monotonic() + 5
        while proc.poll() is None and time.monotonic() < deadline:
            if listening(server) and listening(server + 1):
                return f"swtpm:host=127.0.0.1,port={server}"
            time.sleep(0.05)
        proc.kill()
    raise SystemExit("swtpm did not start")
