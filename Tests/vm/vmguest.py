"""The VM test guest for pytest (docs/vm-tests.md): builds or reuses the assets (Tests/vm/setup.sh,
Tests/vm/mkinitramfs.sh), adds one test's files (agent.conf, hooks) as a second cpio archive, boots
qemu (Tests/vm/run-vm.sh) as a background process and reads the guest's serial console.

Used by Tests/interop/test_vm_board.py (and the GPIO tests of issue 13). Needs conftest.py's Proc.
"""

from __future__ import annotations

import base64
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import Proc, ProcessExited, skip_or_fail

VM_DIR = Path(__file__).resolve().parent
REPO = VM_DIR.parents[1]
GUEST_ADDRESS = "10.0.2.15"  # qemu user-mode networking (slirp)
HOST_ADDRESS = "10.0.2.2"    # the host's loopback as the guest sees it
SETUP_MISSING = 2            # setup.sh's exit status when a prerequisite is not installed


@dataclass
class VMAssets:
    """The kernel cache directory and the base initramfs (uncompressed: faster to boot under TCG)."""
    kernel_dir: Path
    initramfs: Path
    setup_seconds: float
    initramfs_seconds: float
    initramfs_bytes: int


def prepare_assets(bin_dir: Path, workdir: Path) -> VMAssets:
    """Runs setup.sh (a no-op when the kernel cache exists) and builds the base initramfs around
    ``bin_dir``'s lwm2m-agentd. A missing prerequisite (qemu, busybox, kernel headers) skips,
    and fails under CI=true (skip_or_fail); any other setup error fails."""
    if shutil.which("qemu-system-x86_64") is None:
        skip_or_fail("qemu-system-x86_64 not found (scripts/setup.sh installs qemu-system-x86)")
    start = time.monotonic()
    setup = subprocess.run([VM_DIR / "setup.sh", "--print-dir"], capture_output=True, text=True, timeout=900)
    setup_seconds = time.monotonic() - start
    if setup.returncode == SETUP_MISSING:
        skip_or_fail(f"VM setup: {setup.stderr.strip()[-800:]}")
    if setup.returncode != 0:
        raise AssertionError(f"Tests/vm/setup.sh failed ({setup.returncode}):\n{setup.stderr[-4000:]}")
    if "cached:" not in setup.stderr:
        print(setup.stderr.strip())  # a cold setup's steps and timings, for CI's log
    kernel_dir = Path(setup.stdout.strip().splitlines()[-1])
    initramfs = workdir / "base.cpio"
    start = time.monotonic()
    build = subprocess.run([VM_DIR / "mkinitramfs.sh", kernel_dir, bin_dir, initramfs], capture_output=True,
                           text=True, timeout=300)
    initramfs_seconds = time.monotonic() - start
    if build.returncode == SETUP_MISSING:
        skip_or_fail(f"VM initramfs: {build.stderr.strip()[-800:]}")
    if build.returncode != 0:
        raise AssertionError(f"Tests/vm/mkinitramfs.sh failed ({build.returncode}):\n{build.stderr[-4000:]}")
    print(f"[vm] setup {setup_seconds:.1f} s, initramfs {initramfs_seconds:.1f} s: {build.stdout.strip()}")
    return VMAssets(kernel_dir, initramfs, setup_seconds, initramfs_seconds, initramfs.stat().st_size)


def cpio_archive(files: dict[str, bytes | str], mode: int = 0o644) -> bytes:
    """A newc cpio archive (the initramfs format) holding ``files`` (guest path → content) and
    their parent directories."""
    entries: list[tuple[str, int, bytes]] = []
    seen: set[str] = set()
    for path, content in sorted(files.items()):
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts)):
            directory = "/".join(parts[:depth])
            if directory not in seen:
                seen.add(directory)
                entries.append((directory, 0o040755, b""))
        data = content.encode() if isinstance(content, str) else content
        file_mode = 0o100755 if path.endswith(".sh") else 0o100000 | mode
        entries.append(("/".join(parts), file_mode, data))
    out = bytearray()

    def add(name: str, entry_mode: int, data: bytes, ino: int) -> None:
        encoded = name.encode() + b"\0"
        fields = [ino, entry_mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0]
        out.extend(b"070701" + b"".join(f"{value:08X}".encode() for value in fields) + encoded)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, entry_mode, data) in enumerate(entries, start=1):
        add(name, entry_mode, data, ino)
    add("TRAILER!!!", 0, b"", 0)
    return bytes(out)


class Guest(Proc):
    """qemu running the guest: a conftest.Proc whose ``stdout()`` is the serial console (so a
    failing test's report shows it), plus the facts the guest printed."""

    def __init__(self, name: str, assets: VMAssets, files: dict[str, bytes | str], workdir: Path):
        self.serial_path = workdir / f"{name}.serial.log"
        self.serial_path.write_bytes(b"")
        # The base archive, then this guest's files; qemu reads the whole file at start-up. The
        # 44 MB copy is deleted when qemu is gone; the small archive of this guest's files stays.
        overlay = cpio_archive(files)
        (workdir / f"{name}.overlay.cpio").write_bytes(overlay)
        initrd = workdir / f"{name}.initrd.cpio"
        with open(initrd, "wb") as out, open(assets.initramfs, "rb") as base:
            shutil.copyfileobj(base, out)
            out.write(overlay)
        self.initrd_path = initrd
        # The control socket's path stays short (a Unix socket path has at most 107 bytes).
        self.control_path = Path(tempfile.mkdtemp(prefix="vmctl-")) / "ttyS1"
        self._control: socket.socket | None = None
        self._control_buffer = b""
        self._next_command = 1
        self.started_at = time.monotonic()
        self.exited_at: float | None = None
        super().__init__(name, [VM_DIR / "run-vm.sh", "--control", self.control_path, assets.kernel_dir, initrd,
                                self.serial_path], workdir)

    def run(self, script: str, timeout: float = 30.0) -> tuple[int, str]:
        """Runs ``script`` with the guest's sh over the control channel (ttyS1) and returns its exit
        status and output (stdout and stderr). One command at a time; a background process must
        redirect its output (``cmd >/dev/null 2>&1 &``) or the call waits for it."""
        deadline = time.monotonic() + timeout
        if self._control is None:
            while True:
                try:
                    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    control.connect(str(self.control_path))
                    self._control = control
                    break
                except OSError:
                    control.close()
                    if not self.alive() or time.monotonic() > deadline:
                        raise AssertionError(f"no control channel at {self.control_path} (qemu alive: {self.alive()})")
                    time.sleep(0.05)
        command_id = self._next_command
        self._next_command += 1
        self._control.sendall(f"{command_id} {base64.b64encode(script.encode()).decode()}\n".encode())
        prefix = f"VMCTL {command_id} ".encode()
        while True:
            while b"\n" in self._control_buffer:
                line, self._control_buffer = self._control_buffer.split(b"\n", 1)
                if line.startswith(prefix):
                    status, _, output = line[len(prefix):].partition(b" ")
                    return int(status), base64.b64decode(output).decode(errors="replace")
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.alive():
                raise AssertionError(f"guest command {script!r}: no answer within {timeout}s "
                                     f"(qemu alive: {self.alive()})")
            self._control.settimeout(remaining)
            try:
                chunk = self._control.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise AssertionError(f"guest command {script!r}: control channel closed")
            self._control_buffer += chunk

    def check(self, script: str, timeout: float = 30.0) -> str:
        """``run``, asserting exit status 0; returns the output."""
        status, output = self.run(script, timeout)
        assert status == 0, f"guest command {script!r} exited {status}: {output}"
        return output

    def kill(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        super().kill()
        shutil.rmtree(self.control_path.parent, ignore_errors=True)
        self.initrd_path.unlink(missing_ok=True)

    def stdout(self) -> str:
        return self.serial_path.read_bytes().decode(errors="replace")

    def console(self) -> str:
        return self.stdout()

    def wait_console(self, pattern: str, timeout: float) -> re.Match:
        """Waits for ``pattern`` on the serial console; fails if qemu exits or time runs out."""
        return self.wait_for(pattern, stream="stdout", timeout=timeout)

    def facts(self) -> dict[str, list[str]]:
        """The guest's ``VM-FACT key value`` lines: key → values in order."""
        facts: dict[str, list[str]] = {}
        for match in re.finditer(r"^VM-FACT (\S+) ?(.*?)\s*$", self.console(), re.M):
            facts.setdefault(match.group(1), []).append(match.group(2))
        return facts

    def fact(self, key: str) -> str:
        values = self.facts().get(key)
        assert values, f"the guest printed no VM-FACT {key}:\n{self.console()[-3000:]}"
        return values[0]

    def meminfo_kib(self, key: str = "MemTotal") -> int:
        for line in self.facts().get("meminfo", []):
            match = re.fullmatch(rf"{key}:\s+(\d+) kB", line)
            if match:
                return int(match.group(1))
        raise AssertionError(f"no {key} in the guest's meminfo facts:\n{self.console()[-3000:]}")

    def wait_exit(self, timeout: float) -> int:
        """Waits for qemu to exit (poll every 20 ms); returns its status and records the time."""
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() > deadline:
                raise TimeoutError(f"qemu still running {timeout}s later; console tail:\n{self.console()[-3000:]}")
            time.sleep(0.02)
        self.exited_at = time.monotonic()
        self.initrd_path.unlink(missing_ok=True)
        return self.popen.returncode


def host_meminfo_kib(key: str = "MemTotal") -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {key} in the host's /proc/meminfo")


__all__ = ["VMAssets", "Guest", "prepare_assets", "cpio_archive", "host_meminfo_kib", "GUEST_ADDRESS",
           "HOST_ADDRESS", "ProcessExited", "REPO", "VM_DIR"]
