"""The live Device object (/3/0, issue 12) of ``lwm2m-agentd --config`` over the wire, read by the
independent aiocoap management server (peers/management_server.py): values compared with this
machine's kernel, observations of Current Time and Memory Free firing on real changes, Current
Time writes refused with a clear code, UTC Offset / Timezone writes applied to a fixture root's
/etc/localtime (board ``[clock] timezone = localtime``) or refused with 4.05 (``none``), and
Reboot: 2.04, then the De-register, then the board's reboot command.

The agent reads the real machine, except in the time-zone tests (``zone_root``: this machine's
/proc, /sys and /usr, an /etc of their own), with the generic board unless a test gives it a board
file (``board = PATH``: the [clock] and [reboot] sections). No test lets the agent set the clock,
change this machine's time zone or reboot it: Current Time writes go to a board whose clock is not
settable, or to a daemon started without CAP_SYS_TIME (setpriv), and carry the current time;
Reboot runs a stand-in command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from agentconfig import write_config
from conftest import require_tool, skip_or_fail

EP = "gw-e2e-1"
SENML_JSON = 110
TEXT = 0


def meminfo() -> dict[str, int]:
    values = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, _, rest = line.partition(":")
        values[name] = int(rest.split()[0])
    return values


def kilobytes(kib: int) -> int:
    """/proc/meminfo's kB are KiB; the Device object's are 1000 bytes (OMA 3.xml)."""
    return kib * 1024 // 1000


def os_release_version() -> str | None:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
        for key in ("VERSION", "VERSION_ID", "BUILD_ID"):
            if fields.get(key):
                return fields[key].strip("\"'")
    return None


def first_line(path: str) -> str | None:
    try:
        text = Path(path).read_bytes().split(b"\0")[0].decode().strip()
    except OSError:
        return None
    return text.splitlines()[0].strip() if text else None


def system_power_supplies() -> list[str]:
    base = Path("/sys/class/power_supply")
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir()
                  if (p / "type").exists() and first_line(str(p / "scope")) != "Device")


def board_file(tmp_path: Path, **sections: dict) -> Path:
    path = tmp_path / "test-board.conf"
    lines = ["[board]", "name = test-board"]
    for name, values in sections.items():
        lines += ["", f"[{name}]"] + [f"{key} = {value}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def start(start_peer, start_agent, tmp_path, ms=None, name="agentd", **agent):
    ms = ms or start_peer("management_server")
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}}, **agent)
    since = len(ms.events("register"))
    proc = start_agent(config, name=name)
    ms.wait_event("register", count=since + 1, ep=EP, timeout=20)
    return ms, proc, config


def read(ms, path: str, accept: int = SENML_JSON) -> dict:
    reply = ms.command("read", ep=EP, path=path, accept=accept)
    assert reply["code"] == "2.05", reply
    return reply["value"]


def write(ms, path: str, value, fmt: str = "text") -> dict:
    return ms.command("write", ep=EP, path=path, value=value, format=fmt)


def test_read_matches_this_machines_kernel(start_peer, start_agent, bin_dir, tmp_path):
    ms, agent, _ = start(start_peer, start_agent, tmp_path)
    before = meminfo()
    value = read(ms, "/3/0")
    after = meminfo()

    # Memory: MemTotal exactly, MemAvailable as it was around the read.
    assert value["/3/0/21"] == kilobytes(before["MemTotal"]), (value, before)
    low, high = sorted((kilobytes(before["MemAvailable"]), kilobytes(after["MemAvailable"])))
    assert low - 50_000 <= value["/3/0/10"] <= high + 50_000, (value["/3/0/10"], low, high)
    # Time, time zone, offset of this machine.
    assert abs(value["/3/0/13"] - time.time()) <= 5, value
    zone = first_line("/etc/timezone") or os.path.realpath("/etc/localtime").split("zoneinfo/")[-1]
    assert value["/3/0/15"] == zone, value
    offset = time.strftime("%z")
    assert value["/3/0/14"] == f"{offset[:3]}:{offset[3:]}", value
    # Versions: the OS's (os-release) for the device firmware, the agent's for the software.
    assert value.get("/3/0/3") == os_release_version(), value
    version = subprocess.run([bin_dir / "lwm2m-agentd", "--version"], capture_output=True, text=True,
                             timeout=10).stdout.split()[-1]
    assert value["/3/0/19"] == version, value
    assert value["/3/0/17"] == "Gateway" and value["/3/0/16"] == "U", value
    # Identity from the device tree or DMI when this machine has them, absent otherwise.
    model = first_line("/proc/device-tree/model") or first_line("/sys/class/dmi/id/product_name")
    assert value.get("/3/0/1") == model, value
    assert value.get("/3/0/0") == first_line("/sys/class/dmi/id/sys_vendor"), value
    # Power: the kernel's power supplies, or nothing at all. Never an invented battery.
    power = {path: v for path, v in value.items() if re.match(r"/3/0/(6|7|8|9|20)(/|$)", path)}
    if not system_power_supplies():
        assert power == {}, power
    else:
        assert all(0 <= v <= 7 for path, v in power.items() if path.startswith("/3/0/6/")), power
    # Error Code: [0] unless a real condition holds (then only the codes the agent knows).
    codes = [v for path, v in value.items() if path.startswith("/3/0/11/")]
    assert codes == [0] or set(codes) <= {1, 2, 5, 16}, codes
    assert agent.alive()


def test_observe_current_time_advances(start_peer, start_agent, tmp_path):
    ms, _, _ = start(start_peer, start_agent, tmp_path)
    reply = ms.command("write-attributes", ep=EP, path="/3/0/13", attributes={"pmin": 1, "pmax": 3})
    assert reply["code"] == "2.04", reply
    first = ms.command("observe", ep=EP, path="/3/0/13", accept=TEXT)
    assert first["code"] == "2.05" and first["observing"], first
    notes = [ms.wait_event("notify", count=n, observation=first["observation"], timeout=10) for n in (1, 2, 3)]
    values = [first["value"]["/3/0/13"]] + [n["value"]["/3/0/13"] for n in notes]
    assert all(b > a for a, b in zip(values, values[1:])), values  # the clock moves: every notification is newer
    assert values[-1] - values[0] <= 12, values
    gaps = [b["ts"] - a["ts"] for a, b in zip(notes, notes[1:])]
    assert all(0.8 <= gap <= 3.5 for gap in gaps), gaps  # not before pmin, a change each second


def test_observe_memory_free_with_step(start_peer, start_agent, tmp_path):
    ms, _, _ = start(start_peer, start_agent, tmp_path)
    reply = ms.command("write-attributes", ep=EP, path="/3/0/10", attributes={"pmin": 1, "pmax": 120, "st": 20000})
    assert reply["code"] == "2.04", reply
    first = ms.command("observe", ep=EP, path="/3/0/10", accept=TEXT)
    assert first["code"] == "2.05" and first["observing"], first
    start_value = first["value"]["/3/0/10"]
    # Take 200 MB (and touch it): MemAvailable drops by far more than st.
    ballast = bytearray(200 * 1024 * 1024)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    # A notification comes (on a shared machine other processes move memory too, so which
    # change triggers it is not fixed; a value that never changes would never notify).
    ms.wait_event("notify", observation=first["observation"], timeout=15)
    time.sleep(1.5)
    del ballast
    values = [n["value"]["/3/0/10"] for n in ms.events("notify") if n.get("observation") == first["observation"]]
    # st: each notification differs from the previous notified value by at least the step.
    notified = [start_value] + values
    assert all(abs(b - a) >= 20000 for a, b in zip(notified, notified[1:])), notified


def test_current_time_write_is_refused_clearly(start_peer, start_agent, tmp_path):
    # The generic board does not set the clock: 4.05, and the time keeps running.
    ms, agent, _ = start(start_peer, start_agent, tmp_path)
    reply = write(ms, "/3/0/13", int(time.time()))
    assert reply["code"] == "4.05", reply
    assert abs(read(ms, "/3/0/13", TEXT)["/3/0/13"] - time.time()) <= 5
    agent.stop()


def test_current_time_write_without_cap_sys_time_is_a_server_error(start_peer, start_agent, procs, bin_dir, tmp_path):
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        skip_or_fail("setpriv (util-linux) is needed to start the agent without CAP_SYS_TIME")
    probe = subprocess.run([setpriv, "--bounding-set=-sys_time", "grep", "CapEff", "/proc/self/status"],
                           capture_output=True, text=True, timeout=10)
    effective = int(probe.stdout.split()[-1], 16) if probe.returncode == 0 else None
    if effective is None or effective & (1 << 25):
        skip_or_fail(f"setpriv could not drop CAP_SYS_TIME here: {probe.stdout} {probe.stderr}")
    board = board_file(tmp_path, clock={"settable": "yes"})
    ms = start_peer("management_server")
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}},
                          board=board)
    procs.start("agentd", [setpriv, "--bounding-set=-sys_time", bin_dir / "lwm2m-agentd", "--config", config])
    ms.wait_event("register", ep=EP, timeout=20)
    # The current time: harmless even if the clock were set.
    reply = write(ms, "/3/0/13", int(time.time()))
    assert reply["code"] == "5.00", reply
    assert "CAP_SYS_TIME" in reply["payload"] and "clock_settime" in reply["payload"], reply


def zone_root(tmp_path: Path) -> Path:
    """A system root for the daemon (``LWM2M_SYSTEM_ROOT``): this machine's /proc, /sys and /usr
    (its time-zone database), and an /etc of its own with /etc/localtime → Europe/Berlin and a
    Debian /etc/timezone, so a test may let the agent change the zone without touching this
    machine's."""
    root = tmp_path / "root"
    root.mkdir()
    for name in ("proc", "sys", "usr"):
        (root / name).symlink_to(f"/{name}")
    (root / "etc").mkdir()
    (root / "etc" / "localtime").symlink_to("/usr/share/zoneinfo/Europe/Berlin")
    (root / "etc" / "timezone").write_text("Europe/Berlin\n")
    return root


def offset_now(zone: str) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo
    text = datetime.now(ZoneInfo(zone)).strftime("%z")
    return f"{text[:3]}:{text[3:]}"


def test_timezone_writes_are_applied_to_etc_localtime(start_peer, start_agent, tmp_path, monkeypatch):
    """[clock] timezone = localtime: a Timezone write replaces the root's /etc/localtime symlink
    and /etc/timezone; a whole-hour UTC Offset write applies Etc/GMT∓H; both read back from the
    system (also after a restart: the system is the only record)."""
    root = zone_root(tmp_path)
    monkeypatch.setenv("LWM2M_SYSTEM_ROOT", str(root))
    board = board_file(tmp_path, clock={"settable": "no", "timezone": "localtime"})
    ms, agent, _ = start(start_peer, start_agent, tmp_path, board=board)
    value = read(ms, "/3/0")
    assert value["/3/0/15"] == "Europe/Berlin" and value["/3/0/14"] == offset_now("Europe/Berlin"), value

    assert write(ms, "/3/0/15", "America/St_Johns")["code"] == "2.04"
    assert os.readlink(root / "etc" / "localtime") == "/usr/share/zoneinfo/America/St_Johns"
    assert (root / "etc" / "timezone").read_text() == "America/St_Johns\n"
    assert sorted(p.name for p in (root / "etc").iterdir()) == ["localtime", "timezone"]  # no temporary left
    value = read(ms, "/3/0")
    assert value["/3/0/15"] == "America/St_Johns" and value["/3/0/14"] == offset_now("America/St_Johns"), value

    # A whole-hour offset: the zone Etc/GMT-2 (POSIX signs are inverted).
    assert write(ms, "/3/0/14", "+02:00")["code"] == "2.04"
    assert os.readlink(root / "etc" / "localtime") == "/usr/share/zoneinfo/Etc/GMT-2"
    value = read(ms, "/3/0")
    assert value["/3/0/14"] == "+02:00" and value["/3/0/15"] == "Etc/GMT-2", value

    for path, bad, why in (("/3/0/14", "-03:30", "only whole-hour offsets can be applied; write the Timezone (/3/0/15)"),
                           ("/3/0/15", "Mars/Olympus_Mons", "no time zone"),
                           ("/3/0/15", "../../etc/passwd", "IANA"),
                           ("/3/0/14", "+5", "ISO 8601"), ("/3/0/14", "+14:60", "ISO 8601")):
        reply = write(ms, path, bad)
        assert reply["code"] == "4.00" and why in reply["payload"], (bad, reply)
    assert os.readlink(root / "etc" / "localtime") == "/usr/share/zoneinfo/Etc/GMT-2"

    assert agent.stop() == 0
    ms.wait_event("deregister", ep=EP)
    start(start_peer, start_agent, tmp_path, ms=ms, name="agentd-restarted", board=board)
    value = read(ms, "/3/0")
    assert value["/3/0/15"] == "Etc/GMT-2" and value["/3/0/14"] == "+02:00", value
    assert not (tmp_path / "state" / "device-time.conf").exists()


def test_timezone_write_that_cannot_be_applied_is_a_server_error(start_peer, start_agent, tmp_path, monkeypatch):
    """/etc/timezone is a directory (replacing it fails even for root): 5.00 with the reason, and
    /etc/localtime is left as it was."""
    root = zone_root(tmp_path)
    (root / "etc" / "timezone").unlink()
    (root / "etc" / "timezone").mkdir()
    monkeypatch.setenv("LWM2M_SYSTEM_ROOT", str(root))
    board = board_file(tmp_path, clock={"timezone": "localtime"})
    ms, agent, _ = start(start_peer, start_agent, tmp_path, board=board)
    reply = write(ms, "/3/0/15", "Asia/Tokyo")
    assert reply["code"] == "5.00" and "cannot set the time zone to Asia/Tokyo" in reply["payload"], reply
    assert os.readlink(root / "etc" / "localtime") == "/usr/share/zoneinfo/Europe/Berlin"
    assert sorted(p.name for p in (root / "etc").iterdir()) == ["localtime", "timezone"]
    assert read(ms, "/3/0")["/3/0/15"] == "Europe/Berlin"
    assert agent.alive()


def test_timezone_writes_are_refused_by_a_board_that_does_not_allow_them(start_peer, start_agent, tmp_path, monkeypatch):
    """[clock] timezone = none (the generic board, every systemd board): 4.05 with the reason;
    nothing changes and the values read are the system's."""
    root = zone_root(tmp_path)
    monkeypatch.setenv("LWM2M_SYSTEM_ROOT", str(root))
    ms, agent, _ = start(start_peer, start_agent, tmp_path)  # the generic board
    for path, value in (("/3/0/15", "America/St_Johns"), ("/3/0/14", "+02:00")):
        reply = write(ms, path, value)
        assert reply["code"] == "4.05", reply
        assert "the board does not let the agent change the time zone (board file [clock] timezone = none)" \
            in reply["payload"], reply
    assert os.readlink(root / "etc" / "localtime") == "/usr/share/zoneinfo/Europe/Berlin"
    assert (root / "etc" / "timezone").read_text() == "Europe/Berlin\n"
    value = read(ms, "/3/0")
    assert value["/3/0/15"] == "Europe/Berlin" and value["/3/0/14"] == offset_now("Europe/Berlin"), value
    assert agent.alive()


class FileOpens:
    """Counts the opens of one file (inotify IN_OPEN; IN_CLOSE_NOWRITE is watched too so that
    consecutive opens are not coalesced into one event)."""

    IN_OPEN, IN_CLOSE_NOWRITE = 0x20, 0x10

    def __init__(self, path: Path):
        import ctypes
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, ctypes.get_errno()
        watch = self.libc.inotify_add_watch(self.fd, str(path).encode(), self.IN_OPEN | self.IN_CLOSE_NOWRITE)
        assert watch >= 0, ctypes.get_errno()

    def take(self) -> int:
        """The opens since the last call."""
        import struct
        opens = 0
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return opens
            offset = 0
            while offset < len(data):
                _, mask, _, length = struct.unpack_from("iIII", data, offset)
                opens += 1 if mask & self.IN_OPEN else 0
                offset += 16 + length

    def close(self):
        os.close(self.fd)


def test_reads_within_a_second_share_one_reading(start_peer, start_agent, tmp_path, monkeypatch):
    """A Read returns platform values at most 1 s old (docs/lwm2m-responder.md): a burst of Reads
    of /3/0 reads the system's zone (like /proc/meminfo and the power supplies) about once per
    second, not once per Read; a zone changed behind the agent's back shows in the first Read
    that begins 1 s later; a zone the agent writes shows at once."""
    root = zone_root(tmp_path)
    monkeypatch.setenv("LWM2M_SYSTEM_ROOT", str(root))
    board = board_file(tmp_path, clock={"settable": "no", "timezone": "localtime"})
    ms, agent, _ = start(start_peer, start_agent, tmp_path, board=board)
    assert read(ms, "/3/0")["/3/0/15"] == "Europe/Berlin"
    opens = FileOpens(root / "etc" / "timezone")
    try:
        reads, began = 50, time.monotonic()
        for _ in range(reads):
            assert read(ms, "/3/0")["/3/0/15"] == "Europe/Berlin"
        elapsed = time.monotonic() - began
        seen = opens.take()
    finally:
        opens.close()
    # Every Read used to open /etc/timezone twice (the name, and the offset's zone file by that
    # name): 100 opens. Now one reading window per second (two opens) and the 1 s sampling
    # rounds (two opens each) in the burst's seconds.
    windows = int(elapsed) + 2
    assert seen <= 2 * (windows + windows), (seen, reads, elapsed)

    # Changed behind the agent's back: a Read that begins 1 s later reads it.
    (root / "etc" / "timezone").write_text("America/St_Johns\n")
    time.sleep(1.05)
    assert read(ms, "/3/0")["/3/0/15"] == "America/St_Johns"
    # Written by the server: read back at once (the agent drops its readings when it writes).
    assert write(ms, "/3/0/15", "Asia/Tokyo")["code"] == "2.04"
    value = read(ms, "/3/0")
    assert value["/3/0/15"] == "Asia/Tokyo" and value["/3/0/14"] == offset_now("Asia/Tokyo"), value
    assert agent.alive()


def syscall_counts(summary: str) -> dict[str, tuple[int, int]]:
    """``strace -c`` table → {syscall: (calls, errors)}."""
    counts = {}
    for line in summary.splitlines():
        tokens = line.split()
        if len(tokens) in (5, 6) and tokens[-1].isidentifier() and tokens[3].isdigit():
            counts[tokens[-1]] = (int(tokens[3]), int(tokens[4]) if len(tokens) == 6 else 0)
    return counts


def test_a_served_read_costs_one_system_call_each_way(start_peer, start_agent, tmp_path):
    """A Read of /3/0 costs the daemon one datagram read after its poll (recvmmsg, which also
    tells it the socket is drained) and one send (issue 17; docs/performance.md): no second read
    per request to meet EAGAIN. Counted with strace over a burst of Reads."""
    strace = require_tool("strace", "Debian package strace")
    ms, agent, _ = start(start_peer, start_agent, tmp_path)
    read(ms, "/3/0")
    summary = tmp_path / "strace-summary.txt"
    tracer = subprocess.Popen([strace, "-f", "-c", "-o", str(summary), "-p", str(agent.pid)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        if tracer.poll() is not None:
            skip_or_fail(f"strace cannot attach to the daemon: {tracer.stderr.read().decode(errors='replace').strip()}")
        reads, began = 40, time.monotonic()
        for _ in range(reads):
            read(ms, "/3/0")
        # The 1 s sampling rounds talk to the kernel too (a netlink dump: sendto, recvmsg).
        slack = 2 + 2 * (int(time.monotonic() - began) + 2)
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=10)
    counts = syscall_counts(summary.read_text())
    receives = sum(counts.get(name, (0, 0))[0] for name in ("recvfrom", "recvmmsg", "recv"))
    failed = sum(counts.get(name, (0, 0))[1] for name in ("recvfrom", "recvmmsg", "recv"))
    sends = sum(counts.get(name, (0, 0))[0] for name in ("sendto", "send", "sendmsg", "sendmmsg"))
    # Before: recvfrom twice per Read (the datagram, then EAGAIN): 80 calls, 40 failed.
    assert reads <= receives <= reads + slack and failed <= slack, (receives, failed, counts)
    assert reads <= sends <= reads + slack, (sends, counts)
    assert agent.alive()


def stand_in_reboot(tmp_path: Path, seen: Path, status: int = 0) -> tuple[Path, Path]:
    """A reboot command that copies ``seen`` (the relay's trace so far) and then leaves a marker
    holding its arguments; exits with ``status``."""
    marker = tmp_path / "rebooted"
    script = tmp_path / "stand-in-reboot"
    script.write_text("#!/bin/sh\n"
                      f"cp '{seen}' '{marker}.wire-so-far'\n"
                      f"echo \"reboot $*\" > '{marker}'\n"
                      f"exit {status}\n")
    script.chmod(0o755)
    return script, marker


def test_reboot_answers_then_deregisters_then_runs_the_board_command(start_peer, start_agent, start_relay, tmp_path):
    ms = start_peer("management_server")
    relay = start_relay(ms.port, trace=True)  # loses nothing, logs every datagram in wire order
    script, marker = stand_in_reboot(tmp_path, relay.proc.stderr_path)
    board = board_file(tmp_path, reboot={"method": "command", "command": f"{script} --now"})
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{relay.port}", "lifetime": 60}},
                          board=board)
    agent = start_agent(config)
    ms.wait_event("register", ep=EP, timeout=20)
    reply = ms.command("execute", ep=EP, path="/3/0/4")
    assert reply["code"] == "2.04", reply
    ms.wait_event("deregister", ep=EP, timeout=10)
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.read_text() == "reboot --now\n"
    # On the wire, as the command saw it when it ran: the Execute (POST), its 2.04, then the
    # De-register (DELETE) — all before the reboot command.
    codes = [bytes.fromhex(json.loads(line[6:])["hex"])[1]
             for line in Path(f"{marker}.wire-so-far").read_text().splitlines() if line.startswith("TRACE ")]
    changed, delete = codes.index(0x44), codes.index(0x04)  # 2.04, DELETE
    assert 0x02 in codes[:changed] and changed < delete, [f"{c >> 5}.{c & 31:02d}" for c in codes]
    assert agent.popen.wait(timeout=10) == 0
    assert "reboot requested by a server (/3/0/4): de-registering, then rebooting by command" in agent.stderr()


def test_failing_reboot_command_stops_the_agent_with_a_failure(start_peer, start_agent, tmp_path):
    ms = start_peer("management_server")
    script, marker = stand_in_reboot(tmp_path, ms.stdout_path, status=7)
    board = board_file(tmp_path, reboot={"method": "command", "command": str(script)})
    _, agent, _ = start(start_peer, start_agent, tmp_path, ms=ms, board=board)
    assert ms.command("execute", ep=EP, path="/3/0/4")["code"] == "2.04"
    ms.wait_event("deregister", ep=EP, timeout=10)
    # Exit status 1: the service manager (Restart=on-failure) starts the agent again.
    assert agent.popen.wait(timeout=10) == 1
    assert marker.exists()
    assert re.search(r"reboot failed: .*stand-in-reboot exited with status 7", agent.stderr()), agent.stderr()
