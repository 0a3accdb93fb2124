#!/usr/bin/env python3
"""Issue 13's figure: edge → notification datagram latency, measured INSIDE the VM guest (one
clock), over >= 200 edges (docs/vm-tests.md, "Benchmark: edge → notification").

The host boots the test guest (Tests/vm: Debian's kernel under qemu TCG, gpio-sim chip "gw") with
the agent of BIN_DIR (a release build: scripts/bench-gpio-vm.sh builds it) on board gpio-sim-vm,
registered at the project's management server on the host (Tests/interop/peers); the server
observes /3200/0/5500 (DIN1's Digital Input State, no pmin); then, over the control channel, the
guest runs lwm2m-edge-probe on DIN1's gpio-sim pull file: it flips the pull N times and times each
edge to the notification datagram leaving eth0 (the kernel's packet timestamp). Printed: the
probe's summary, and the host's count of the notifications the server received (every edge's
notification must have arrived).

    python3 Tests/vm/bench_gpio.py --bin-dir .build/release [--edges 200] [--interval-ms 20]
        [--timeout-ms 1000] [--path /3200/0/5500] [--pmax S] [--workdir DIR]

Exit status: 0 measured, every edge's notification seen in the guest and on the host; 1 edges
lost or the counts disagree, or the registration lacks the observed object; 2 a prerequisite is
missing (qemu, kernel headers, the probe binary).

--path/--pmax exist to try the tooling on another resource (e.g. --path /3/0/13 --pmax 1: Current
Time, a notification per second): the sniffer is then exercised, but the figure means nothing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

VM_DIR = Path(__file__).resolve().parent
REPO = VM_DIR.parents[1]
sys.path.insert(0, str(REPO / "Tests" / "interop"))
sys.path.insert(0, str(VM_DIR))

import pytest  # noqa: E402  (conftest's skip_or_fail raises pytest's outcomes)

from agentconfig import write_config  # noqa: E402
from peerproc import PEERS, PeerProc  # noqa: E402
from vmguest import HOST_ADDRESS, Guest, prepare_assets  # noqa: E402

ENDPOINT = "gw-vm-bench"
BOARD = "gpio-sim-vm"
INPUT_LINE = "DIN1"          # [gpio din1] of board/gpio-sim-vm.conf: Digital Input 3200/0
BOOT_TIMEOUT = 180.0
REQUEST_TIMEOUT = 20.0
SETTLE = 3.0                 # seconds for the last notifications to reach the host


class BenchError(Exception):
    """A failure to report (exit 1), not a traceback."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", required=True, type=Path,
                        help="lwm2m-agentd, lwm2m-agent and lwm2m-edge-probe (a release build)")
    parser.add_argument("--edges", type=int, default=200, help="edges to measure (the figure needs >= 200)")
    parser.add_argument("--interval-ms", type=int, default=20, help="pause after each edge's notification")
    parser.add_argument("--timeout-ms", type=int, default=1000, help="an edge without notification by then is lost")
    parser.add_argument("--path", default="/3200/0/5500", help="the resource the server observes")
    parser.add_argument("--pmax", type=int, help="write pmax to the observed path first (trying the tooling)")
    parser.add_argument("--workdir", type=Path, help="keep the console, the server's events, the samples here")
    args = parser.parse_args(argv)
    if not 1 <= args.edges <= 100_000:
        parser.error("--edges: 1...100000")
    return args


def guest_config(workdir: Path, server_port: int) -> str:
    """One NoSec server at the host's management server; log level info (what a gateway runs:
    debug would put a console line in the measured path)."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = write_config(workdir, servers={101: {"uri": f"coap://{HOST_ADDRESS}:{server_port}", "lifetime": 600}},
                        endpoint_name=ENDPOINT, state_dir="/var/lib/lwm2m-agent", ack_timeout=2, board=BOARD,
                        log_level="info")
    return path.read_text()


def command(ms: PeerProc, op: str, **fields) -> dict:
    reply = ms.command(op, ep=ENDPOINT, timeout=REQUEST_TIMEOUT, wait=REQUEST_TIMEOUT + 5, **fields)
    if not reply.get("ok"):
        raise BenchError(f"{op} {fields}: {reply}")
    return reply


def pull_file(guest: Guest, line_name: str) -> str:
    """The gpio-sim pull attribute of ``line_name`` on chip gw (its offset from configfs)."""
    sim = guest.fact("gpio-chip").split()[2]
    offset = guest.check(f"for d in /sys/kernel/config/gpio-sim/gw/bank0/line*; do "
                         f"[ \"$(cat $d/name)\" = {line_name} ] && echo ${{d##*line}}; done; true").strip()
    if not offset.isdigit():
        raise BenchError(f"no line {line_name} on the guest's gpio-sim chip gw: {offset!r}")
    return f"{sim}/sim_gpio{offset}/pull"


def run(args: argparse.Namespace, workdir: Path) -> int:
    bin_dir = args.bin_dir.resolve()
    for name in ("lwm2m-agentd", "lwm2m-edge-probe"):
        if not (bin_dir / name).is_file():
            print(f"bench: no {name} in {bin_dir} (scripts/bench-gpio-vm.sh builds it)", file=sys.stderr)
            return 2
    if bin_dir.name == "debug" or "/debug/" in str(bin_dir):
        print(f"bench: WARNING {bin_dir} looks like a debug build: not the figure", file=sys.stderr)
    assets = prepare_assets(bin_dir, workdir)
    background = []
    try:
        ms = PeerProc("management_server", [sys.executable, PEERS / "management_server.py", "--listen", "127.0.0.1:0"],
                      workdir)
        background.append(ms)
        ms.wait_ready()
        config = guest_config(workdir / "guest", ms.port)
        guest = Guest("vm-bench", assets, {"etc/lwm2m-agent/agent.conf": config}, workdir)
        background.append(guest)
        started = time.monotonic()
        try:
            registration = ms.command("wait-registered", ep=ENDPOINT, timeout=BOOT_TIMEOUT,
                                      wait=BOOT_TIMEOUT + 5)["registration"]
        except (AssertionError, KeyError) as error:
            raise BenchError(f"the guest's agent did not register: {error}\n--- console ---\n"
                             f"{guest.console()[-3000:]}") from None
        print(f"[bench] guest registered {time.monotonic() - started:.1f} s after qemu started; "
              f"objects {sorted(registration['objects'], key=int)}")
        object_id, instance = args.path.strip("/").split("/")[:2]
        if int(instance) not in registration["objects"].get(object_id, []):
            raise BenchError(f"the registration lacks /{object_id}/{instance} (objects "
                             f"{registration['objects']}): this agent has no such object instance "
                             f"(/3200: issue 13's Digital Input on [gpio din1] of board {BOARD})")

        pull = pull_file(guest, INPUT_LINE)
        guest.check(f"echo pull-down > {pull}")  # the probe's first edge is a rising one
        if args.pmax is not None:
            command(ms, "write-attributes", path=args.path, attributes={"pmax": args.pmax})
        if object_id == "3200":
            # The debounce period in force is part of the figure (the board's, 0 for gpio-sim-vm's din1).
            debounce = ms.command("read", ep=ENDPOINT, path=f"/3200/{instance}/5503", accept=0,
                                  timeout=REQUEST_TIMEOUT, wait=REQUEST_TIMEOUT + 5)
            print(f"[bench] /3200/{instance}/5503 Debounce: {debounce.get('value', debounce)} (ms)")
        observation = command(ms, "observe", path=args.path)
        if not observation.get("observing"):
            raise BenchError(f"observe {args.path}: {observation}")
        obs_id = observation["observation"]
        time.sleep(0.5)
        before = len(ms.events("notify"))
        before_obs = len([e for e in ms.events("notify") if e.get("observation") == obs_id])

        rss = "grep -E '^(VmRSS|VmHWM):' /proc/$(pidof lwm2m-agentd)/status | tr -s ' \\t' ' ' | tr '\\n' ' '"
        print(f"[bench] agent before the edges: {guest.check(rss).strip()}")
        probe = (f"lwm2m-edge-probe --pull {pull} --port {ms.port} --edges {args.edges} "
                 f"--interval-ms {args.interval_ms} --timeout-ms {args.timeout_ms} --samples")
        budget = args.edges * (args.interval_ms + args.timeout_ms) / 1000 + 60
        print(f"[bench] guest: {probe}")
        status, output = guest.run(probe + " 2>&1", timeout=budget)
        time.sleep(SETTLE)
        (workdir / "probe.out").write_text(output)
        notes = [e for e in ms.events("notify")[before:] if e.get("observation") == obs_id]
        summaries = [line for line in output.splitlines() if line.startswith("edge-")]
        if status not in (0, 1) or not summaries:
            raise BenchError(f"the probe exited {status}:\n{output[-3000:]}")
        for line in summaries:
            print(line)
        print(f"[bench] agent after the edges: {guest.check(rss).strip()}")
        match = re.search(r"^edge-to-notification n=(\d+) .*lost=(\d+)", output, re.M)
        matched, lost = int(match.group(1)), int(match.group(2))
        values = [e.get("value") for e in notes]
        print(f"host: {len(notes)} notifications of observation {obs_id} ({args.path}) received during the "
              f"probe's {args.edges} edges (before: {before_obs}); guest matched {matched}, lost {lost}")
        if lost or (args.pmax is None and (len(notes) < matched or len(notes) < args.edges)):
            print(f"bench: FAILED: {lost} edges lost in the guest, {len(notes)} notifications on the host for "
                  f"{args.edges} edges; last values {values[-4:]}", file=sys.stderr)
            return 1
        return 0
    finally:
        for proc in reversed(background):
            proc.kill()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    keep = args.workdir is not None
    workdir = args.workdir.resolve() if keep else Path(tempfile.mkdtemp(prefix="bench-gpio-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, workdir)
    except (BenchError, AssertionError, TimeoutError) as error:
        print(f"bench: {error}", file=sys.stderr)
        keep = True
        return 1
    except (pytest.skip.Exception, pytest.fail.Exception) as outcome:  # prepare_assets: a missing prerequisite
        print(f"bench: {outcome}", file=sys.stderr)
        return 2
    finally:
        if keep:
            print(f"[bench] kept in {workdir}: probe.out (the samples), vm-bench.serial.log (the console), "
                  f"management_server.stdout (the server's events)", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
