"""The real agent in the qemu guest (Tests/vm, docs/vm-tests.md), registered at the project's
aiocoap management server on the host: booting it and talking to it, shared by the VM tests
(test_vm_board.py, test_vm_gpio.py). The ``vm_assets`` fixture is in conftest.py."""

from __future__ import annotations

import sys
from pathlib import Path

from agentconfig import write_config
from conftest import REPO, Processes
from peerproc import PEERS, PeerProc

sys.path.insert(0, str(REPO / "Tests" / "vm"))
from vmguest import HOST_ADDRESS, Guest  # noqa: E402

ENDPOINT = "gw-vm-1"
BOARD = "gpio-sim-vm"
BOOT_TIMEOUT = 120.0   # qemu start to registration, TCG on a loaded 2-core machine (typically ~10-20 s)
REQUEST_TIMEOUT = 20.0  # one request to the guest's agent
SENML_JSON = 110
TLV = 11542


def guest_config(workdir: Path, server_port: int, extra: dict) -> str:
    """The guest's agent.conf: one NoSec server account at the host's management server."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = write_config(workdir, servers={101: {"uri": f"coap://{HOST_ADDRESS}:{server_port}", "lifetime": 60}},
                        endpoint_name=ENDPOINT, state_dir="/var/lib/lwm2m-agent", ack_timeout=2, **extra)
    return path.read_text()


def boot(processes: Processes, assets, name: str, bin_dir: Path,
         files: dict[str, bytes | str] | None = None) -> tuple[PeerProc, Guest]:
    """Starts the management server on the host, then the guest whose agent registers there,
    told ``board = gpio-sim-vm`` (the board file is installed in the guest). ``files`` go into the
    guest too (hooks: ``etc/vm-test/NN-name.sh``, sourced by its init before the agent starts)."""
    ms = PeerProc(f"management_server-{name}", [sys.executable, PEERS / "management_server.py", "--listen",
                                                "127.0.0.1:0"], processes.workdir)
    processes.background.append(ms)
    ms.wait_ready()
    assert (REPO / "board" / f"{BOARD}.conf").is_file(), f"board/{BOARD}.conf is missing"
    config = guest_config(processes.workdir / name, ms.port, {"board": BOARD})
    guest = Guest(name, assets, {"etc/lwm2m-agent/agent.conf": config, **(files or {})}, processes.workdir)
    processes.background.append(guest)
    return ms, guest


def wait_registered(ms: PeerProc, guest: Guest) -> dict:
    try:
        reply = ms.command("wait-registered", ep=ENDPOINT, timeout=BOOT_TIMEOUT, wait=BOOT_TIMEOUT + 5)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- guest console ---\n{guest.console()[-4000:]}") from None
    assert reply["ok"], f"{reply}\n--- guest console ---\n{guest.console()[-4000:]}"
    return reply["registration"]


def read(ms: PeerProc, path: str, accept: int = SENML_JSON) -> dict:
    return ms.command("read", ep=ENDPOINT, path=path, accept=accept, timeout=REQUEST_TIMEOUT,
                      wait=REQUEST_TIMEOUT + 5)


def read_values(ms: PeerProc, path: str, accept: int = SENML_JSON) -> dict:
    reply = read(ms, path, accept)
    assert reply.get("code") == "2.05", reply
    return reply["value"]
