"""The GPIO objects on a real kernel (issue 13; docs/boards.md "GPIO", docs/vm-tests.md): the real
``lwm2m-agentd`` in the qemu guest, on board gpio-sim-vm, requests the lines of the guest's
gpio-sim chip "gw" through libgpiod and serves them as Digital Input (3200), Push Button (3347),
Digital Output (3201) and Light Control (3311) to the project's aiocoap management server on the
host. The host drives the simulated hardware over the control channel: an input follows its
``sim_gpioN/pull`` (pull-up → 1), an output's level is ``sim_gpioN/value``.

Lines of the chip (Tests/vm/guest/init): 0 RELAY1, 1 RELAY2, 2 DIN1, 3 DIN2, 4 LED_STATUS,
7 MODEM_PWR (hogged by the kernel, ``reserved = yes`` in the board file).

One guest serves the object tests (module fixture ``vm``); the crash/restart and busy-line test
boots its own (init restarts the agent there, and gpioset holds RELAY2 before the agent starts).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO, Processes
from peerproc import PeerProc
from vmagent import (BOARD, ENDPOINT, REQUEST_TIMEOUT, SENML_JSON, boot, read, read_values, wait_registered)
from vmguest import Guest

RELAY1, RELAY2, DIN1, DIN2, LED_STATUS, MODEM_PWR = 0, 1, 2, 3, 4, 7
NOTIFY_TIMEOUT = 10.0  # an edge to its notification on the host, TCG on a loaded machine
QUIET = 1.5            # seconds without a notification that count as "none came"


@dataclass
class GPIOGuest:
    processes: Processes
    ms: PeerProc
    guest: Guest
    registration: dict
    sim: str  # /sys/devices/platform/gpio-sim.N/gpiochipM

    def pull(self, offset: int, up: bool) -> None:
        self.guest.check(f"echo pull-{'up' if up else 'down'} > {self.sim}/sim_gpio{offset}/pull")

    def pulses(self, offset: int, levels: list[bool]) -> None:
        """Several pulls in one guest shell: edges a few milliseconds apart (a bouncing contact)."""
        self.guest.check("; ".join(f"echo pull-{'up' if up else 'down'} > {self.sim}/sim_gpio{offset}/pull"
                                   for up in levels))

    def value(self, offset: int) -> int:
        return int(self.guest.check(f"cat {self.sim}/sim_gpio{offset}/value").strip())


def sim_path(guest: Guest) -> str:
    return guest.fact("gpio-chip").split()[2]


@pytest.fixture(scope="module")
def vm(bin_dir, vm_assets, tmp_path_factory):
    processes = Processes(tmp_path_factory.mktemp("vm-gpio"))
    try:
        ms, guest = boot(processes, vm_assets, "vm-gpio", bin_dir)
        registration = wait_registered(ms, guest)
        yield GPIOGuest(processes, ms, guest, registration, sim_path(guest))
    finally:
        processes.cleanup()


@pytest.fixture
def gw(vm, request) -> GPIOGuest:
    request.node._interop_processes = vm.processes  # a failure's report carries the console
    return vm


# MARK: - Server operations


def write(ms: PeerProc, path: str, value, fmt: str = "tlv") -> dict:
    return ms.command("write", ep=ENDPOINT, path=path, value=value, format=fmt, timeout=REQUEST_TIMEOUT,
                      wait=REQUEST_TIMEOUT + 5)


def execute(ms: PeerProc, path: str) -> dict:
    return ms.command("execute", ep=ENDPOINT, path=path, timeout=REQUEST_TIMEOUT, wait=REQUEST_TIMEOUT + 5)


def value_of(ms: PeerProc, path: str):
    return read_values(ms, path)[path]


class Observation:
    """One observation at the management server, and the values its notifications carried."""

    def __init__(self, ms: PeerProc, path: str):
        self.ms, self.path = ms, path
        reply = ms.command("observe", ep=ENDPOINT, path=path, accept=SENML_JSON, timeout=REQUEST_TIMEOUT,
                           wait=REQUEST_TIMEOUT + 5)
        assert reply.get("code") == "2.05" and reply.get("observing"), reply
        self.id = reply["observation"]
        self.initial = reply["value"][path]
        self.seen = 0

    def values(self) -> list:
        return [event["value"][self.path] for event in self.ms.events("notify") if event.get("observation") == self.id]

    def next(self, timeout: float = NOTIFY_TIMEOUT):
        """The next notification's value (after those already taken)."""
        self.seen += 1
        event = self.ms.wait_event("notify", count=self.seen, timeout=timeout, observation=self.id)
        assert event.get("code") == "2.05", event
        return event["value"][self.path]

    def none_within(self, seconds: float) -> None:
        time.sleep(seconds)
        extra = self.values()[self.seen:]
        assert extra == [], f"{self.path}: unexpected notifications {extra}"

    def cancel(self) -> None:
        self.ms.command("cancel-observe", observation=self.id, mode="reset")


# MARK: - The instances


def test_board_lines_become_instances_and_the_reserved_line_is_left_alone(gw):
    """3200/0 DIN1, 3347/0 DIN2, 3201/0-1 RELAY1-2, 3311/0 LED_STATUS; MODEM_PWR (reserved) is
    never requested: the kernel's hog keeps it, and the agent holds the other five lines."""
    objects = gw.registration["objects"]
    assert objects.get("3200") == [0] and objects.get("3347") == [0], objects
    assert objects.get("3201") == [0, 1] and objects.get("3311") == [0], objects
    console = gw.guest.console()
    assert "[gpio modem-power] MODEM_PWR: reserved, not requested" in console, console[-3000:]
    info = gw.guest.check("gpioinfo gw-gpio")
    consumers = {match.group(1): match.group(2)
                 for match in re.finditer(r'line\s+\d+:\s+"([^"]+)"\s+("[^"]*"|unused)', info)}
    assert consumers == {"RELAY1": '"lwm2m-agentd"', "RELAY2": '"lwm2m-agentd"', "DIN1": '"lwm2m-agentd"',
                         "DIN2": '"lwm2m-agentd"', "LED_STATUS": '"lwm2m-agentd"', "MODEM_PWR": '"MODEM_PWR"'}, info
    assert gw.value(MODEM_PWR) == 1  # still the hog's
    values = read_values(gw.ms, "/3201")
    assert values["/3201/0/5750"] == "Relay 1" and values["/3201/1/5750"] == "Relay 2", values
    assert read_values(gw.ms, "/3200/0")["/3200/0/5750"] == "Digital input 1"


def test_every_line_the_board_names_is_on_the_guest_chip(gw):
    """The board file names only lines of the guest's chip, and exactly its `reserved = yes`
    lines are the kernel-held ones."""
    info = gw.guest.check("gpioinfo gw-gpio")
    lines = {match.group(1) for match in re.finditer(r'line\s+\d+:\s+"([^"]+)"', info)}
    sections = board_file_lines(REPO / "board" / f"{BOARD}.conf")
    named = {keys["line"]: keys for keys in sections.values() if "line" in keys}
    assert named and set(named) <= lines, (sorted(named), sorted(lines))
    reserved = {name for name, keys in named.items() if keys.get("reserved") == "yes"}
    assert reserved == {"MODEM_PWR"}, reserved


# MARK: - Digital Input (3200)


def test_digital_input_notifies_state_and_counts_the_selected_edges(gw):
    """Observe /3200/0/5500 and /3200/0/5501, toggle DIN1's simulated pull: each edge is a State
    notification with the line's value; the Counter counts rising edges (Edge Selection 2, the
    default), then only falling (1), then both (3); Counter Reset (5505) makes it 0."""
    ms = gw.ms
    gw.pull(DIN1, False)
    assert value_of(ms, "/3200/0/5504") == 2
    execute(ms, "/3200/0/5505")
    state, counter = Observation(ms, "/3200/0/5500"), Observation(ms, "/3200/0/5501")
    try:
        assert (state.initial, counter.initial) == (False, 0)
        transcript = []

        def edge(up: bool, counted: bool, expected_counter: int) -> None:
            gw.pull(DIN1, up)
            assert state.next() is up
            if counted:
                assert counter.next() == expected_counter
            transcript.append(f"DIN1 pull-{'up' if up else 'down'} → 5500={up} 5501={expected_counter}")

        edge(True, True, 1)
        edge(False, False, 1)
        edge(True, True, 2)
        edge(False, False, 2)
        assert write(ms, "/3200/0/5504", 1).get("code") == "2.04"
        edge(True, False, 2)
        edge(False, True, 3)
        assert write(ms, "/3200/0/5504", 3).get("code") == "2.04"
        edge(True, True, 4)
        edge(False, True, 5)
        counter.none_within(0.5)  # the uncounted edges sent no Counter notification
        assert value_of(ms, "/3200/0/5501") == 5
        assert execute(ms, "/3200/0/5505").get("code") == "2.04"
        assert counter.next() == 0
        print("[vm] notification transcript (/3200/0):\n  " + "\n  ".join(transcript))
    finally:
        write(ms, "/3200/0/5504", 2)
        state.cancel()
        counter.cancel()


def test_digital_input_polarity_reverses_the_state_without_counting(gw):
    ms = gw.ms
    gw.pull(DIN1, False)
    before = value_of(ms, "/3200/0/5501")
    state = Observation(ms, "/3200/0/5500")
    try:
        assert state.initial is False
        assert write(ms, "/3200/0/5502", True).get("code") == "2.04"
        assert state.next() is True  # the line is still low: reversed, the State is true
        gw.pull(DIN1, True)
        assert state.next() is False
        assert value_of(ms, "/3200/0/5501") == before  # a falling State edge; rising is selected
    finally:
        write(ms, "/3200/0/5502", False)
        gw.pull(DIN1, False)
        state.cancel()


def test_debounce_filters_short_pulses_and_bounces(gw):
    """Debounce 400 ms (5503): a pulse shorter than the period changes nothing; a bouncing contact
    (five edges within milliseconds, ending high) is one transition, reported no sooner than the
    period after the last edge, and counted once."""
    ms = gw.ms
    gw.pull(DIN1, False)
    assert write(ms, "/3200/0/5503", 400).get("code") == "2.04"
    before = value_of(ms, "/3200/0/5501")
    state = Observation(ms, "/3200/0/5500")
    try:
        gw.pulses(DIN1, [True, False])
        state.none_within(QUIET)
        assert value_of(ms, "/3200/0/5501") == before

        gw.pulses(DIN1, [True, False, True, False, True])
        returned = time.monotonic()
        time.sleep(0.2)
        assert state.values()[state.seen:] == [], "notified inside the debounce period"
        assert state.next() is True
        print(f"[vm] bouncing contact → one notification {time.monotonic() - returned:.2f} s after the edges")
        state.none_within(QUIET)
        assert value_of(ms, "/3200/0/5501") == before + 1
        bad = write(ms, "/3200/0/5503", 60001)
        assert bad.get("code") == "4.00", bad
    finally:
        write(ms, "/3200/0/5503", 0)
        gw.pull(DIN1, False)
        state.cancel()


def test_input_state_is_not_writable(gw):
    reply = write(gw.ms, "/3200/0/5500", True)
    assert reply.get("code") == "4.05", reply
    reply = write(gw.ms, "/3200/0/5504", 7)
    assert reply.get("code") == "4.00", reply


# MARK: - Push Button (3347)


def test_push_button_counts_presses(gw):
    ms = gw.ms
    gw.pull(DIN2, False)
    counter = Observation(ms, "/3347/0/5501")
    try:
        start = counter.initial
        for press in range(1, 4):
            gw.pull(DIN2, True)
            gw.pull(DIN2, False)
            assert counter.next() == start + press
        assert value_of(ms, "/3347/0/5500") is False
        assert value_of(ms, "/3347/0/5750") == "Button 1"
    finally:
        counter.cancel()


# MARK: - Digital Output (3201)


def test_output_write_drives_the_simulated_line(gw):
    ms = gw.ms
    assert gw.value(RELAY1) == 0 and value_of(ms, "/3201/0/5550") is False
    assert write(ms, "/3201/0/5550", True).get("code") == "2.04"
    assert gw.value(RELAY1) == 1
    assert write(ms, "/3201/1/5550", True).get("code") == "2.04"
    assert gw.value(RELAY2) == 1
    assert write(ms, "/3201/0/5550", False).get("code") == "2.04"
    assert gw.value(RELAY1) == 0 and gw.value(RELAY2) == 1
    # Polarity reversed: State false drives the line high.
    assert write(ms, "/3201/1/5551", True).get("code") == "2.04"
    assert gw.value(RELAY2) == 0 and value_of(ms, "/3201/1/5550") is True
    assert write(ms, "/3201/1/5550", False).get("code") == "2.04"
    assert gw.value(RELAY2) == 1
    assert write(ms, "/3201/1/5551", False).get("code") == "2.04"
    assert gw.value(RELAY2) == 0
    assert write(ms, "/3201/0/5550", "on", fmt="text").get("code") == "4.00"
    assert gw.value(RELAY1) == 0


# MARK: - Light Control (3311)


def test_light_control_switches_the_led_line(gw):
    ms = gw.ms
    values = read_values(ms, "/3311/0")
    assert values["/3311/0/5850"] is False and "/3311/0/5851" not in values, values  # no levels on a line
    assert values["/3311/0/5750"] == "status", values
    assert write(ms, "/3311/0/5850", True).get("code") == "2.04"
    assert gw.value(LED_STATUS) == 1
    time.sleep(2.2)
    assert value_of(ms, "/3311/0/5852") >= 2
    assert write(ms, "/3311/0/5850", False).get("code") == "2.04"
    assert gw.value(LED_STATUS) == 0
    assert value_of(ms, "/3311/0/5852") == 0


# MARK: - Busy lines, crashes and restarts (own guest)


RESTART_HOOK = """# issue 13 test: another consumer holds RELAY2 before the agent starts; init restarts the agent
VM_AGENT_RESTART=1
gpioset --mode=signal gw-gpio 1=1 >/dev/null 2>&1 &
sleep 0.2
"""


def test_busy_line_is_named_and_a_persisted_relay_survives_a_crash(procs, bin_dir, vm_assets):
    """RELAY2 held by gpioset: the agent says so clearly, serves the rest (3201 has only RELAY1's
    instance). RELAY1 (`persist = yes`) written on, then the agent killed (SIGKILL): the kernel
    releases the line (gpio-sim then returns it to its pull, 0: the kernel keeps no value for a
    released line), init restarts the agent, which requests RELAY1 driven 1 again from its state
    file before it registers."""
    ms, guest = boot(procs, vm_assets, "vm-gpio-restart", bin_dir, {"etc/vm-test/50-gpio.sh": RESTART_HOOK})
    registration = wait_registered(ms, guest)
    sim = sim_path(guest)
    console = guest.console()
    busy = re.search(r"\[gpio relay2\] [^\n]*RELAY2[^\n]*busy[^\n]*", console)
    assert busy and "gpioset" in busy.group(0), console[-3000:]
    print(f"[vm] {busy.group(0).strip()}")
    assert registration["objects"].get("3201") == [0], registration["objects"]
    assert guest.check(f"cat {sim}/sim_gpio{RELAY2}/value").strip() == "1"  # gpioset's

    assert write(ms, "/3201/0/5550", True).get("code") == "2.04"
    assert guest.check(f"cat {sim}/sim_gpio{RELAY1}/value").strip() == "1"
    saved = guest.check("cat /var/lib/lwm2m-agent/gpio-outputs")
    assert "relay1 1 0" in saved.splitlines(), saved

    guest.check("kill -9 $(pidof lwm2m-agentd)")
    guest.wait_console(r"VM-AGENT-EXIT 137", timeout=30)
    after_crash = guest.check(f"cat {sim}/sim_gpio{RELAY1}/value").strip()
    print(f"[vm] RELAY1 after the agent was killed: {after_crash} (gpio-sim returns a released line to its pull)")
    assert after_crash == "0"

    again = ms.command("wait-registered", ep=ENDPOINT, after=registration["id"], timeout=120, wait=125)
    assert again.get("ok"), f"{again}\n{guest.console()[-3000:]}"
    assert guest.check(f"cat {sim}/sim_gpio{RELAY1}/value").strip() == "1"
    assert value_of(ms, "/3201/0/5550") is True
    reply = read(ms, "/3201/1")
    assert reply.get("code") == "4.04", reply
    guest.check("touch /run/vm-agent-stop")


def board_file_lines(path: Path) -> dict[str, dict[str, str]]:
    """The [gpio NAME] and [led NAME] sections of a board file: section → keys (a plain INI read)."""
    sections: dict[str, dict[str, str]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        header = re.fullmatch(r"\[(.+)\]", line)
        if header:
            current = header.group(1).strip() if header.group(1).startswith(("gpio ", "led ")) else None
            if current:
                sections[current] = {}
        elif current and "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            sections[current][key] = value
    return sections
