"""Firmware Update (object 5) through the real ``lwm2m-agentd`` with the real installers: RAUC
(``installer = rauc``) across the reboot, and SWUpdate (``installer = swupdate``).

RAUC as on a device, on this host (RAUC's own test setup: no real bootloader, no real reboot):

- a keyring made by openssl (a self-signed P-256 certificate), a bundle made by ``rauc bundle``
  (plain format: a loop-mounted squashfs; verity bundles need device-mapper, absent here);
- a system.conf with two file-backed raw slots (A/B) and ``bootloader=custom``: a backend script
  the test owns, keeping the primary slot and the slots' good/bad states in files and logging every
  call (so the test sees rauc's ``set-state B bad``, ``set-primary B`` and the agent's mark-good);
- ``rauc service`` on a private D-Bus system bus (``dbus-daemon`` with its own config); the agent
  reaches it through ``rauc-command = env DBUS_SYSTEM_BUS_ADDRESS=… rauc``;
- the reboot: the agent asks for it through the board's ``[reboot] method = command`` (a stand-in
  that records it) and exits; the test then does what the bootloader would (boots the primary
  slot B, or falls back to A) by restarting ``rauc service --override-boot-slot=…``, and restarts
  the agent, which is still Updating, runs ``rauc status`` and marks B good (or finds A booted).

The agent runs in a mount namespace of its own with a file bind-mounted over
/proc/sys/kernel/random/boot_id: each "boot" of the test writes a new boot ID there, so the agent
tells a reboot from a mere restart (the reboot command failed, the service manager restarted it)
as on a device; after a restart on the same boot it must keep waiting, not report a fallback.

So the management server can observe the report, the backend holds ``rauc status`` (blocks while
a ``hold`` file exists, as a slow bootloader environment would) until the restarted agent has
registered and the server observes /5/0/3 and /5/0/5; then the hold is lifted and the server must
get State 0 + Update Result 1 by notification, exactly once; a further restart must not confirm
or report again. The fallback test instead starts the agent before rauc's service (the status
cannot be read: asked again confirm-retry (3 s here) later) and expects State 2 + Update Result 8, once.

SWUpdate: a CMS-signed .swu made by the test (openssl cms, cpio) with a raw image for a file
"partition"; ``swupdate-reboot = no`` (a raw image written to a partition that is not the running
system needs no reboot), so the report follows the install at once. A .swu signed by another
certificate ends with 5 and the partition stays untouched. With ``swupdate-reboot = yes`` and no
confirm hook, success needs a real reboot (a new boot ID), not a restart of the agent.

About 55 s in all (30 s of it the fallback test's retry), root, rauc, squashfs-tools, dbus-daemon,
swupdate, cpio, unshare.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import time
import uuid
from pathlib import Path

from agentconfig import write_config
from conftest import require_path, require_tool, skip_or_fail
from test_firmware_agent import EP, image_bytes, notified, read_int, start_http_server, wait_notified, wait_state

BUNDLE_VERSION = "2.1.0"


def require_rauc() -> None:
    for tool in ("rauc", "mksquashfs", "dbus-daemon", "openssl"):
        require_tool(tool, "scripts/setup.sh installs rauc, squashfs-tools, dbus")
    require_path("/dev/loop-control", "rauc loop-mounts the bundle")
    if os.geteuid() != 0:
        skip_or_fail("rauc install needs root (loop devices)")


def run(argv: list, timeout: float = 30, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{shlex.join(str(a) for a in argv)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def new_boot(boot_id: Path) -> None:
    """A reboot as the agent can tell it: a new kernel boot ID (see ``start_booted_agent``)."""
    boot_id.write_text(f"{uuid.uuid4()}\n")


def start_booted_agent(procs, bin_dir, config: Path, boot_id: Path, name: str = "agentd"):
    """``lwm2m-agentd --config CONFIG`` in a mount namespace of its own where ``boot_id`` is bind-
    mounted over /proc/sys/kernel/random/boot_id: the test's reboots change the boot ID the agent
    sees, as a real reboot changes the kernel's (the host's is left alone)."""
    require_tool("unshare", "util-linux")
    script = 'mount --bind "$0" /proc/sys/kernel/random/boot_id && exec "$1" --config "$2"'
    return procs.start(name, ["unshare", "--mount", "sh", "-c", script, boot_id, bin_dir / "lwm2m-agentd", config])


def booted_agents(procs, bin_dir, boot_id: Path):
    """``start_agent(config, name)`` for ``start_booted_agent``."""
    def start(config: Path, name: str = "agentd"):
        return start_booted_agent(procs, bin_dir, config, boot_id, name)
    return start


class RaucRig:
    """RAUC's pieces for one test in ``root``: keyring, bundles, slots, backend, bus, service."""

    def __init__(self, procs, root: Path):
        self.procs = procs
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        for name, subject in (("vendor", "/CN=lwm2m test bundle signer"), ("stranger", "/CN=stranger")):
            run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", root / f"{name}.key", "-out", root / f"{name}.pem", "-days", "30", "-subj", subject])
        content = root / "content"
        content.mkdir()
        self.rootfs = image_bytes(192 << 10, seed=14)
        (content / "rootfs.img").write_bytes(self.rootfs)
        (content / "manifest.raucm").write_text(
            f"[update]\ncompatible=lwm2m-test\nversion={BUNDLE_VERSION}\n\n"
            "[bundle]\nformat=plain\n\n[image.rootfs]\nfilename=rootfs.img\n")
        for name in ("vendor", "stranger"):
            run(["rauc", "bundle", f"--cert={root / f'{name}.pem'}", f"--key={root / f'{name}.key'}",
                 content, root / f"{name}.raucb"])
        for slot in ("a", "b"):
            (root / f"slot-{slot}.img").write_bytes(bytes(1 << 20))
        (root / "mnt").mkdir()
        (root / "data").mkdir()
        backend = root / "bootloader.sh"
        backend.write_text(f"""#!/bin/sh
# RAUC custom bootloader backend (the test's bootloader): state in files, every call logged.
echo "$*" >> {root}/backend.log
case "$1" in
get-primary)
  i=0
  while [ -e {root}/hold ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  cat {root}/primary 2>/dev/null || echo A ;;
set-primary) echo "$2" > {root}/primary ;;
get-state) cat {root}/state-$2 2>/dev/null || echo good ;;
set-state) echo "$3" > {root}/state-$2 ;;
*) exit 1 ;;
esac
""")
        backend.chmod(0o755)
        (root / "system.conf").write_text(f"""[system]
compatible=lwm2m-test
bootloader=custom
mountprefix={root}/mnt
data-directory={root}/data

[handlers]
bootloader-custom-backend={backend}

[keyring]
path={root}/vendor.pem

[slot.rootfs.0]
device={root}/slot-a.img
type=raw
bootname=A

[slot.rootfs.1]
device={root}/slot-b.img
type=raw
bootname=B
""")
        self.bus_address = f"unix:path={root}/bus"
        (root / "bus.conf").write_text(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>{self.bus_address}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/><allow own="*"/><allow send_type="method_call"/>
    <allow send_destination="*"/><allow receive_sender="*"/>
  </policy>
</busconfig>
""")
        self.boot_id = root / "boot_id"
        procs.start("dbus-daemon", ["dbus-daemon", f"--config-file={root / 'bus.conf'}", "--nofork"])
        self.wait_until("the private bus", lambda: (root / "bus").exists())
        self.service = None

    @property
    def command(self) -> list[str]:
        """rauc as the agent runs it (``rauc-command``): env(1) points it at the private bus."""
        return ["env", f"DBUS_SYSTEM_BUS_ADDRESS={self.bus_address}", "rauc"]

    def boot(self, slot: str) -> None:
        """A boot: a new boot ID, and ``rauc service`` (re)started as if the bootloader had booted
        ``slot``."""
        new_boot(self.boot_id)
        self.start_service(slot)

    def stop_service(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None

    def start_service(self, slot: str) -> None:
        """``rauc service`` as on a boot of ``slot`` (``--override-boot-slot``), once it answers."""
        self.stop_service()
        self.service = self.procs.start(f"rauc-service-{slot}", self.command + [
            "service", f"--conf={self.root / 'system.conf'}", f"--override-boot-slot={slot}"])
        self.wait_until(f"rauc service booted on {slot}", lambda: self.status().get("RAUC_SYSTEM_BOOTED_BOOTNAME") == slot)

    def status(self) -> dict[str, str]:
        """``rauc status --output-format=shell`` as a dict ({} while the service is not up)."""
        done = subprocess.run(self.command + ["status", "--output-format=shell"], capture_output=True, text=True,
                              timeout=30)
        if done.returncode != 0:
            return {}
        return {key: shlex.split(value)[0] if value else "" for key, _, value in
                (line.partition("=") for line in done.stdout.splitlines() if "=" in line)}

    def slot_status(self, bootname: str) -> str:
        status = self.status()
        for number in status.get("RAUC_SLOTS", "").split():
            if status.get(f"RAUC_SLOT_BOOTNAME_{number}") == bootname:
                return status[f"RAUC_SLOT_BOOT_STATUS_{number}"]
        raise AssertionError(f"no slot {bootname} in {status}")

    def backend_calls(self) -> list[str]:
        path = self.root / "backend.log"
        return path.read_text().splitlines() if path.exists() else []

    def backend_writes(self) -> list[str]:
        """The backend calls that change something (set-primary, set-state), in order."""
        return [call for call in self.backend_calls() if call.startswith("set-")]

    def hold(self) -> None:
        (self.root / "hold").touch()

    def release(self) -> None:
        (self.root / "hold").unlink()

    def slot(self, name: str) -> bytes:
        return (self.root / f"slot-{name}.img").read_bytes()[:len(self.rootfs)]

    @staticmethod
    def wait_until(what: str, condition, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
            time.sleep(0.05)


def board_with_reboot_stand_in(tmp_path: Path, first_fails: bool = False) -> tuple[Path, Path]:
    """A board file whose reboot method is a command (a stand-in that records the reboot in
    ``marker``); ``first_fails``: the first call fails (exit 1, "failed" recorded)."""
    marker = tmp_path / "rebooted"
    reboot = tmp_path / "stand-in-reboot"
    fail_once = (f"if [ ! -e {tmp_path}/reboot-failed ]; then touch {tmp_path}/reboot-failed; "
                 f"echo failed >> {marker}; exit 1; fi\n") if first_fails else ""
    reboot.write_text(f"#!/bin/sh\n{fail_once}echo reboot >> {marker}\n")
    reboot.chmod(0o755)
    board = tmp_path / "test-board.conf"
    board.write_text(f"[board]\nname = test-board\n\n[reboot]\nmethod = command\ncommand = {reboot}\n")
    return board, marker


def agent_config(tmp_path: Path, port: int, firmware: dict[str, str], first_reboot_fails: bool = False) -> tuple[Path, Path]:
    board, marker = board_with_reboot_stand_in(tmp_path, first_reboot_fails)
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{port}", "lifetime": 60}}, board=board)
    with config.open("a") as out:
        out.write("\n[firmware]\n" + "".join(f"{key} = {value}\n" for key, value in firmware.items()))
    return config, marker


def rauc_firmware(rig: RaucRig) -> dict[str, str]:
    return {"installer": "rauc", "rauc-command": " ".join(rig.command), "installer-timeout": "60"}


def observe_both(ms) -> tuple[int, int, int, int]:
    """Observes State and Update Result; returns (state observation, result observation, the
    values the observe answers carried)."""
    state_reply = ms.command("observe", ep=EP, path="/5/0/3", accept="text")
    result_reply = ms.command("observe", ep=EP, path="/5/0/5", accept="text")
    assert state_reply["observing"] and result_reply["observing"], (state_reply, result_reply)

    def value(reply) -> int:
        v = reply["value"]
        return int(next(iter(v.values())) if isinstance(v, dict) else v)
    return state_reply["observation"], result_reply["observation"], value(state_reply), value(result_reply)


def update_and_reboot(ms, agent, marker: Path, tmp_path: Path) -> None:
    """Executes Update; the agent installs, de-registers, runs the board's reboot command, exits."""
    reply = ms.command("execute", ep=EP, path="/5/0/2")
    assert reply["ok"] and reply["code"] == "2.04", reply
    ms.wait_event("deregister", ep=EP, timeout=60)
    RaucRig.wait_until("the board's reboot command", marker.exists, timeout=10)
    agent.popen.wait(timeout=10)
    assert "firmware: installed; a reboot activates it" in agent.stderr(), agent.stderr()[-3000:]
    assert "state 3" in (tmp_path / "state" / "firmware" / "state").read_text()


def confirm_after_reboot(ms, rig: RaucRig, start_agent, config: Path, registrations: int,
                         state: int, result: int):
    """The restarted agent (``start_agent(config, name)``), Updating, held at ``rauc status`` until
    the server observes; then the report arrives by notification. Returns the agent."""
    rig.hold()
    agent = start_agent(config, name=f"agentd-{registrations}")
    ms.wait_event("register", ep=EP, count=registrations, timeout=20)
    agent.wait_for(r"firmware: confirming the install of version \S+ after the restart", timeout=10)
    state_obs, result_obs, state_now, result_now = observe_both(ms)
    assert (state_now, result_now) == (3, 0), "the restarted agent is still Updating until rauc tells"
    rig.release()
    assert wait_notified(ms, state_obs, state) == [state]
    assert wait_notified(ms, result_obs, result) == [result]
    time.sleep(1.0)  # nothing more comes
    assert notified(ms, state_obs) == [state] and notified(ms, result_obs) == [result]
    assert (read_int(ms, "/5/0/3"), read_int(ms, "/5/0/5")) == (state, result)
    return agent


def restart_reports_nothing_new(ms, rig: RaucRig, start_agent, config: Path, old_agent, registrations: int,
                                state: int, result: int) -> None:
    """Another restart (SIGTERM, start): the outcome stands; no confirmation, no notification."""
    calls = rig.backend_calls()
    assert old_agent.stop() == 0
    ms.wait_event("deregister", ep=EP, count=registrations - 1, timeout=10)
    agent = start_agent(config, name=f"agentd-{registrations}")
    ms.wait_event("register", ep=EP, count=registrations, timeout=20)
    state_obs, result_obs, state_now, result_now = observe_both(ms)
    assert (state_now, result_now) == (state, result)
    time.sleep(1.5)
    assert notified(ms, state_obs) == [] and notified(ms, result_obs) == [], "reported again after a restart"
    assert "confirming the install" not in agent.stderr()
    assert rig.backend_calls() == calls, "the agent asked rauc again"


# MARK: - RAUC


def test_rauc_push_update_reboot_mark_good_reported_once(start_peer, procs, bin_dir, tmp_path):
    """Push the bundle (Block1) → Update → rauc writes slot B and makes it primary → the agent asks
    for the reboot → the bootloader boots B → the restarted agent marks B good and reports State 0,
    Update Result 1, once; another restart reports nothing."""
    require_rauc()
    rig = RaucRig(procs, tmp_path / "rig")
    rig.boot("A")
    start_agent = booted_agents(procs, bin_dir, rig.boot_id)
    ms = start_peer("management_server")
    config, marker = agent_config(tmp_path, ms.port, rauc_firmware(rig))
    agent = start_agent(config)
    ms.wait_event("register", ep=EP)
    state_obs, result_obs, _, _ = observe_both(ms)
    bundle = rig.root / "vendor.raucb"
    reply = ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(bundle), timeout=50)
    assert reply["ok"] and reply["code"] == "2.04", reply
    assert read_int(ms, "/5/0/3") == 2
    assert (tmp_path / "state" / "firmware" / "image").read_bytes() == bundle.read_bytes()

    update_and_reboot(ms, agent, marker, tmp_path)
    assert notified(ms, state_obs) == [1, 2, 3] and notified(ms, result_obs) == []
    assert rig.slot("b") == rig.rootfs and rig.slot("a") != rig.rootfs
    assert rig.backend_writes() == ["set-state B bad", "set-primary B"], rig.backend_calls()
    # The version (unknown: no signed manifest), the slot that must boot, the boot ID of the install.
    record = (tmp_path / "state" / "firmware" / "install.record").read_text().splitlines()
    assert record == ["unknown", "B", rig.boot_id.read_text().strip()], record
    assert marker.read_text() == "reboot\n"

    # The bootloader boots the new primary.
    rig.boot("B")
    agent = confirm_after_reboot(ms, rig, start_agent, config, registrations=2, state=0, result=1)
    # rauc status mark-good, once.
    assert rig.backend_writes() == ["set-state B bad", "set-primary B", "set-state B good"], rig.backend_calls()
    assert rig.slot_status("B") == "good" and rig.status()["RAUC_SYSTEM_BOOTED_BOOTNAME"] == "B"
    assert "firmware: version unknown installed and running" in agent.stderr()
    assert not (tmp_path / "state" / "firmware" / "install.record").exists()
    assert "result 1" in (tmp_path / "state" / "firmware" / "state").read_text()
    restart_reports_nothing_new(ms, rig, start_agent, config, agent, registrations=3, state=0, result=1)
    assert marker.read_text() == "reboot\n"  # one reboot in all


def test_rauc_pull_update_fallback_to_the_old_slot_is_update_failed_once(start_peer, procs, bin_dir, tmp_path):
    """Pull the bundle over http → Update → rauc writes B → reboot → B does not come up, the
    bootloader falls back to A → the restarted agent, started before rauc's service (cannot tell
    yet: asked again confirm-retry = 3 s later), finds A booted: Update Result 8 (State 2, the image kept),
    reported once, nothing marked good; another restart reports nothing."""
    require_rauc()
    rig = RaucRig(procs, tmp_path / "rig")
    rig.boot("A")
    start_agent = booted_agents(procs, bin_dir, rig.boot_id)
    port = start_http_server(procs, rig.root / "vendor.raucb")
    ms = start_peer("management_server")
    config, marker = agent_config(tmp_path, ms.port, rauc_firmware(rig) | {"confirm-retry": "3"})
    agent = start_agent(config)
    ms.wait_event("register", ep=EP)
    reply = ms.command("write", ep=EP, path="/5/0/1", value=f"http://127.0.0.1:{port}/fw", format="text")
    assert reply["ok"] and reply["code"] == "2.04", reply
    wait_state(ms, 2)
    update_and_reboot(ms, agent, marker, tmp_path)
    assert rig.slot("b") == rig.rootfs

    # B failed to boot: the bootloader marks it bad, makes A primary again and boots A. The agent
    # starts before rauc's service: it cannot tell yet, stays Updating and asks again in 3 s.
    (rig.root / "primary").write_text("A\n")
    rig.stop_service()
    new_boot(rig.boot_id)
    agent = start_agent(config, name="agentd-2")
    ms.wait_event("register", ep=EP, count=2, timeout=20)
    agent.wait_for(r"firmware: cannot tell yet whether the install took \(rauc status: exit status 1.*asking again in 3 s", timeout=20)
    asked = time.monotonic()
    state_obs, result_obs, state_now, result_now = observe_both(ms)
    assert (state_now, result_now) == (3, 0)
    rig.start_service("A")
    assert wait_notified(ms, state_obs, 2, timeout=40) == [2]
    assert wait_notified(ms, result_obs, 8) == [8]
    print(f"\nasked rauc again {time.monotonic() - asked:.1f} s after its first unanswered status")
    time.sleep(1.0)
    assert notified(ms, state_obs) == [2] and notified(ms, result_obs) == [8]
    assert (read_int(ms, "/5/0/3"), read_int(ms, "/5/0/5")) == (2, 8)
    assert rig.backend_writes() == ["set-state B bad", "set-primary B"], rig.backend_calls()  # nothing marked
    assert rig.slot_status("B") == "bad"
    assert "booted slot A, not the installed B: the bootloader fell back" in agent.stderr()
    assert not (tmp_path / "state" / "firmware" / "install.record").exists()
    assert (tmp_path / "state" / "firmware" / "image").exists()  # Downloaded: Update may run again
    restart_reports_nothing_new(ms, rig, start_agent, config, agent, registrations=3, state=2, result=8)


def test_rauc_refuses_a_bundle_signed_by_another_key(start_peer, procs, bin_dir, tmp_path):
    """A bundle whose signature does not verify with the keyring: Update Result 5 at once, no
    slot written, no reboot."""
    require_rauc()
    rig = RaucRig(procs, tmp_path / "rig")
    rig.boot("A")
    start_agent = booted_agents(procs, bin_dir, rig.boot_id)
    ms = start_peer("management_server")
    config, marker = agent_config(tmp_path, ms.port, rauc_firmware(rig))
    start_agent(config)
    ms.wait_event("register", ep=EP)
    state_obs, result_obs, _, _ = observe_both(ms)
    reply = ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(rig.root / "stranger.raucb"), timeout=50)
    assert reply["ok"] and reply["code"] == "2.04", reply
    assert ms.command("execute", ep=EP, path="/5/0/2")["code"] == "2.04"
    assert wait_notified(ms, result_obs, 5) == [5]
    assert (read_int(ms, "/5/0/3"), read_int(ms, "/5/0/5")) == (0, 5)
    assert rig.slot("b") == bytes(len(rig.rootfs))
    assert not (rig.root / "primary").exists() and not marker.exists()
    assert not (tmp_path / "state" / "firmware" / "image").exists()  # 5: the image is discarded


def test_rauc_restart_without_a_reboot_waits_for_one(start_peer, procs, bin_dir, tmp_path):
    """The board's reboot command fails after the install: the agent stops, its service manager
    restarts it, but the machine did not reboot (same boot ID, slot A still running, B primary).
    That is not a fallback: the agent stays Updating (no Update Result 8, rauc not asked, B not
    marked) until a reboot; the server's Reboot (/3/0/4) then boots B and the agent reports
    State 0 + Update Result 1 once. The bundle travels in the agent's signed package
    (``require-signature``): rauc gets the bundle itself, the version is the manifest's."""
    require_rauc()
    rig = RaucRig(procs, tmp_path / "rig")
    rig.boot("A")
    start_agent = booted_agents(procs, bin_dir, rig.boot_id)
    cli = bin_dir / "lwm2m-agent"
    run([cli, "firmware", "keygen", "--private-key-out", tmp_path / "package.key", "--public-key-out",
         tmp_path / "package.pub"])
    run([cli, "firmware", "sign", rig.root / "vendor.raucb", "--key", tmp_path / "package.key", "--board", "test-board",
         "--version", BUNDLE_VERSION, "--out", tmp_path / "bundle.fw"])
    firmware = rauc_firmware(rig) | {"require-signature": "yes", "vendor-key": str(tmp_path / "package.pub"),
                                     "board-name": "test-board"}
    ms = start_peer("management_server")
    config, marker = agent_config(tmp_path, ms.port, firmware, first_reboot_fails=True)
    agent = start_agent(config)
    ms.wait_event("register", ep=EP)
    reply = ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(tmp_path / "bundle.fw"), timeout=50)
    assert reply["ok"] and reply["code"] == "2.04", reply
    assert ms.command("read", ep=EP, path="/5/0/7", accept="text")["value"] in ({"/5/0/7": BUNDLE_VERSION}, BUNDLE_VERSION)
    assert (tmp_path / "state" / "firmware" / "image").read_bytes() == (rig.root / "vendor.raucb").read_bytes()
    update_and_reboot(ms, agent, marker, tmp_path)
    assert "reboot failed" in agent.stderr() and marker.read_text() == "failed\n"
    assert rig.status()["RAUC_BOOT_PRIMARY"] == "rootfs.1"  # B waits for the next boot

    # The service manager restarts the agent; the machine has not rebooted.
    calls = rig.backend_calls()
    agent = start_agent(config, name="agentd-2")
    ms.wait_event("register", ep=EP, count=2, timeout=20)
    state_obs, result_obs, state_now, result_now = observe_both(ms)
    time.sleep(2.0)
    assert (read_int(ms, "/5/0/3"), read_int(ms, "/5/0/5")) == (3, 0), agent.stderr()[-2000:]
    assert (state_now, result_now) == (3, 0) and notified(ms, state_obs) == [] and notified(ms, result_obs) == []
    assert rig.backend_calls() == calls, "rauc was asked before the reboot"
    assert f"firmware: no reboot since the install of version {BUNDLE_VERSION}" in agent.stderr()
    # The install record: the manifest's version, the slot that must boot, the boot ID of the install.
    record = (tmp_path / "state" / "firmware" / "install.record").read_text().splitlines()
    assert record == [BUNDLE_VERSION, "B", rig.boot_id.read_text().strip()], record

    # The server reboots the device; the bootloader boots B.
    reply = ms.command("execute", ep=EP, path="/3/0/4")
    assert reply["ok"] and reply["code"] == "2.04", reply
    ms.wait_event("deregister", ep=EP, count=2, timeout=20)
    agent.popen.wait(timeout=10)
    assert marker.read_text() == "failed\nreboot\n"
    rig.boot("B")
    agent = confirm_after_reboot(ms, rig, start_agent, config, registrations=3, state=0, result=1)
    assert rig.backend_writes() == ["set-state B bad", "set-primary B", "set-state B good"], rig.backend_calls()
    assert f"firmware: version {BUNDLE_VERSION} installed and running" in agent.stderr()


# MARK: - SWUpdate


class SWUpdateRig:
    """A signing certificate (and a stranger's), a raw image, a file "partition", .swu files."""

    def __init__(self, root: Path):
        self.root = root
        (root / "build").mkdir(parents=True)
        (root / "tmp").mkdir()
        for name, subject in (("vendor", "/CN=swu signer"), ("stranger", "/CN=stranger")):
            run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", root / f"{name}.key",
                 "-out", root / f"{name}.pem", "-days", "30", "-subj", subject,
                 "-addext", "extendedKeyUsage=emailProtection", "-addext", "keyUsage=digitalSignature"])
        self.image = image_bytes(160 << 10, seed=15)
        (root / "build" / "rootfs.img").write_bytes(self.image)
        self.partition = root / "partition.img"
        self.partition.write_bytes(bytes(1 << 20))
        (root / "build" / "sw-description").write_text(f"""software =
{{
    version = "{BUNDLE_VERSION}";
    hardware-compatibility: [ "1.0" ];
    images: (
        {{
            filename = "rootfs.img";
            device = "{self.partition}";
            type = "raw";
            sha256 = "{hashlib.sha256(self.image).hexdigest()}";
        }}
    );
}}
""")

    def swu(self, signer: str) -> Path:
        build = self.root / "build"
        run(["openssl", "cms", "-sign", "-in", build / "sw-description", "-out", build / "sw-description.sig",
             "-signer", self.root / f"{signer}.pem", "-inkey", self.root / f"{signer}.key",
             "-outform", "DER", "-nosmimecap", "-binary"])
        out = self.root / f"{signer}.swu"
        with out.open("wb") as archive:
            subprocess.run(["cpio", "-o", "-H", "crc"], input=b"sw-description\nsw-description.sig\nrootfs.img\n",
                           stdout=archive, stderr=subprocess.DEVNULL, cwd=build, check=True, timeout=30)
        return out

    def firmware(self, reboot: bool = False) -> dict[str, str]:
        # swupdate keeps its IPC sockets in $TMPDIR: a private one, so parallel runs do not collide.
        return {"installer": "swupdate", "swupdate-command": f"env TMPDIR={self.root / 'tmp'} swupdate",
                "swupdate-options": f"-k {self.root / 'vendor.pem'} -H test-board:1.0",
                "swupdate-reboot": "yes" if reboot else "no", "installer-timeout": "60"}


def test_swupdate_raw_image_into_a_partition_reported_at_once(start_peer, start_agent, procs, tmp_path):
    """A .swu signed by a stranger → 5, partition untouched; the vendor's .swu pushed, Update →
    swupdate writes the raw image into the file partition → State 0, Update Result 1 notified once."""
    for tool in ("swupdate", "cpio", "openssl"):
        require_tool(tool, "scripts/setup.sh installs swupdate and cpio")
    rig = SWUpdateRig(tmp_path / "swu")
    stranger, vendor = rig.swu("stranger"), rig.swu("vendor")
    ms = start_peer("management_server")
    config, marker = agent_config(tmp_path, ms.port, rig.firmware())
    agent = start_agent(config)
    ms.wait_event("register", ep=EP)
    state_obs, result_obs, _, _ = observe_both(ms)

    reply = ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(stranger), timeout=50)
    assert reply["ok"] and reply["code"] == "2.04", reply
    assert ms.command("execute", ep=EP, path="/5/0/2")["code"] == "2.04"
    assert wait_notified(ms, result_obs, 5) == [5]
    assert read_int(ms, "/5/0/3") == 0
    assert rig.partition.read_bytes() == bytes(1 << 20)

    reply = ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(vendor), timeout=50)
    assert reply["ok"] and reply["code"] == "2.04", reply
    assert ms.command("execute", ep=EP, path="/5/0/2")["code"] == "2.04"
    assert wait_notified(ms, result_obs, 1) == [5, 0, 1]
    assert wait_notified(ms, state_obs, 0)[-4:] == [1, 2, 3, 0]
    time.sleep(0.5)
    assert notified(ms, result_obs) == [5, 0, 1]
    assert rig.partition.read_bytes()[:len(rig.image)] == rig.image
    assert (read_int(ms, "/5/0/3"), read_int(ms, "/5/0/5")) == (0, 1)
    assert not marker.exists() and agent.alive()  # no reboot for this image


def test_swupdate_needing_a_reboot_is_confirmed_only_after_one(start_peer, procs, bin_dir, tmp_path):
    """``swupdate-reboot = yes`` without a confirm hook (the reboot itself is the confirmation):
    the reboot command fails, the agent is restarted on the same boot: that is no reboot, so no
    success yet (State 3); after the server's Reboot (/3/0/4), a new boot: State 0, Update
    Result 1; a further restart reports nothing new."""
    for tool in ("swupdate", "cpio", "openssl"):
        require_tool(tool, "scripts/setup.sh installs swupdate and cpio")
    rig = SWUpdateRig(tmp_path / "swu")
    boot_id = tmp_path / "boot_id"
    new_boot(boot_id)
    start_agent = booted_agents(procs, bin_dir, boot_id)
    ms = start_peer("management_server")
    config, marker = agent_config(tmp_path, ms.port, rig.firmware(reboot=True), first_reboot_fails=True)
    agent = start_agent(config)
    ms.wait_event("register", ep=EP)
    reply = ms.command("write_file", wait=60, ep=EP, path="/5/0/0", file=str(rig.swu("vendor")), timeout=50)
    assert reply["ok"] and reply["code"] == "2.04", reply
    update_and_reboot(ms, agent, marker, tmp_path)
    assert rig.partition.read_bytes()[:len(rig.image)] == rig.image
    assert "reboot failed" in agent.stderr()

    agent = start_agent(config, name="agentd-2")  # the service manager; no reboot
    ms.wait_event("register", ep=EP, count=2, timeout=20)
    time.sleep(1.5)
    assert (read_int(ms, "/5/0/3"), read_int(ms, "/5/0/5")) == (3, 0), agent.stderr()[-2000:]
    assert "installed and running" not in agent.stderr()

    assert ms.command("execute", ep=EP, path="/3/0/4")["code"] == "2.04"
    ms.wait_event("deregister", ep=EP, count=2, timeout=20)
    agent.popen.wait(timeout=10)
    new_boot(boot_id)
    agent = start_agent(config, name="agentd-3")
    ms.wait_event("register", ep=EP, count=3, timeout=20)
    wait_state(ms, 0, timeout=20)
    assert read_int(ms, "/5/0/5") == 1
    assert agent.stderr().count("firmware: version unknown installed and running") == 1
    assert agent.stop() == 0
    ms.wait_event("deregister", ep=EP, count=3, timeout=10)
    agent = start_agent(config, name="agentd-4")
    ms.wait_event("register", ep=EP, count=4, timeout=20)
    state_obs, result_obs, state_now, result_now = observe_both(ms)
    time.sleep(1.0)
    assert (state_now, result_now) == (0, 1) and notified(ms, state_obs) == [] and notified(ms, result_obs) == []
    assert "confirming the install" not in agent.stderr()
