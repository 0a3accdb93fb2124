"""The GPIO layer on a real kernel (issue 13; docs/vm-tests.md, docs/boards.md "The GPIO layer"):
the guest's gpio-sim chip "gw" (label gw-gpio: RELAY1 RELAY2 DIN1 DIN2 LED_STATUS at 0..4,
MODEM_PWR at 7 hogged output-high by the kernel) driven through the agent's own GPIO module
(Sources/GPIO, libgpiod v1) by ``lwm2m-agent board show`` and the hidden ``lwm2m-agent gpio``
probe, inside the guest over the control channel.

The guest runs no agent here: a hook holds init before it would start lwm2m-agentd, so every line
but the hog is free (the daemon of issue 13 requests the board's lines itself; its tests are
test_vm_gpio.py). The other consumers are the kernel's hog and ``gpioset`` (libgpiod's tool).
Timings: boot to the control channel ~5-15 s under TCG; the module ~1 min.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass

import pytest

from conftest import REPO, Processes

sys.path.insert(0, str(REPO / "Tests" / "vm"))
from vmguest import Guest  # noqa: E402

BOARD = "gpio-sim-vm"
LINES = {"RELAY1": 0, "RELAY2": 1, "DIN1": 2, "DIN2": 3, "LED_STATUS": 4, "MODEM_PWR": 7}
# init sources /etc/vm-test/*.sh before it would start the agent: this one never returns.
HOLD_HOOK = "echo VM-HOLD: no agent in this guest\nwhile :; do sleep 3600; done\n"


@dataclass
class GPIOGuest:
    guest: Guest
    chip: str   # gpiochipN
    sim: str    # /sys/devices/platform/gpio-sim.K/gpiochipN

    def agent(self, arguments: str, timeout: float = 30.0) -> tuple[int, str]:
        return self.guest.run(f"lwm2m-agent {arguments}", timeout=timeout)

    def sim_value(self, line: str) -> str:
        return self.guest.check(f"cat {self.sim}/sim_gpio{LINES[line]}/value").strip()

    def pull(self, line: str, direction: str) -> None:
        self.guest.check(f"echo {direction} > {self.sim}/sim_gpio{LINES[line]}/pull")


@pytest.fixture(scope="module")
def gpio_guest(vm_assets, tmp_path_factory):
    assets = vm_assets
    processes = Processes(tmp_path_factory.mktemp("vm-gpio-layer"))
    try:
        guest = Guest("vm-gpio-layer", assets, {"etc/vm-test/hold.sh": HOLD_HOOK}, processes.workdir)
        processes.background.append(guest)
        guest.wait_console(r"VM-HOLD", timeout=120)
        guest.check("true")
        chip, label, sim = guest.fact("gpio-chip").split()
        assert label == "gw-gpio", guest.fact("gpio-chip")
        yield GPIOGuest(guest, chip, sim), processes
    finally:
        processes.cleanup()


@pytest.fixture
def vm(gpio_guest, request) -> GPIOGuest:
    booted, processes = gpio_guest
    request.node._interop_processes = processes  # a failure's report carries the console
    yield booted
    booted.guest.run("killall gpioset gpiomon lwm2m-agent 2>/dev/null; true")


def wait_output(vm: GPIOGuest, command: str, pattern: str, timeout: float = 20.0) -> str:
    """Runs ``command`` in the guest until its output matches ``pattern``; the output."""
    deadline = time.monotonic() + timeout
    while True:
        text = vm.guest.run(command)[1]
        if re.search(pattern, text):
            return text
        assert time.monotonic() < deadline, f"{command}: no {pattern!r} within {timeout}s:\n{text}"
        time.sleep(0.2)


def wait_file(vm: GPIOGuest, path: str, pattern: str, timeout: float = 20.0) -> str:
    return wait_output(vm, f"cat {path} 2>/dev/null", pattern, timeout)


def board_show_gpio(vm: GPIOGuest) -> dict[str, str]:
    """The `gpio NAME:`/`led NAME:` lines of the guest's `board show` GPIO part, by section."""
    output = vm.guest.check(f"lwm2m-agent board show --board {BOARD}")
    part = output.split("gpio lines on this machine", 1)
    assert len(part) == 2, output
    return {match.group(1): match.group(2)
            for match in re.finditer(r"^  ((?:gpio|led) [\w-]+): (.*)$", part[1], re.MULTILINE)}


# MARK: - board show


def test_board_show_resolves_every_board_line_on_the_guest_chip(vm):
    shown = board_show_gpio(vm)
    print(f"[vm] board show, GPIO part: {shown}")
    for section, line in [("gpio relay1", "RELAY1"), ("gpio relay2", "RELAY2"), ("gpio din1", "DIN1"),
                          ("gpio din2", "DIN2"), ("led status", "LED_STATUS")]:
        assert shown.get(section) == f"{line} → {vm.chip} (gw-gpio) line {LINES[line]}, free", (section, shown)
    assert shown.get("gpio modem-power") == \
        f"MODEM_PWR → {vm.chip} (gw-gpio) line 7, busy: used by MODEM_PWR (reserved: never requested)", shown


def test_board_show_names_the_process_holding_a_line(vm):
    vm.guest.check("gpioset --mode=signal gw-gpio 1=1 >/dev/null 2>&1 &")
    wait_output(vm, "gpioinfo gw-gpio", r'"RELAY2"\s+"gpioset"')
    shown = board_show_gpio(vm)
    assert shown.get("gpio relay2") == f"RELAY2 → {vm.chip} (gw-gpio) line 1, busy: used by gpioset", shown
    assert shown.get("gpio relay1", "").endswith(", free"), shown


# MARK: - Requests and their errors


def test_a_line_held_by_another_consumer_gives_the_clear_error(vm):
    vm.guest.check("gpioset --mode=signal gw-gpio 1=1 >/dev/null 2>&1 &")
    wait_output(vm, "gpioinfo gw-gpio", r'"RELAY2"\s+"gpioset"')
    status, output = vm.agent("gpio set RELAY2 0 --chip gw-gpio")
    assert status == 1 and output.strip() == "lwm2m-agent: GPIO line RELAY2 is busy: requested by gpioset", output
    assert vm.sim_value("RELAY2") == "1"  # gpioset's level stands
    status, output = vm.agent("gpio get RELAY2")  # found by name on any chip, same refusal
    assert status == 1 and "GPIO line RELAY2 is busy: requested by gpioset" in output, output
    # The kernel's hog.
    status, output = vm.agent("gpio set MODEM_PWR 0 --chip gw-gpio")
    assert status == 1 and output.strip() == "lwm2m-agent: GPIO line MODEM_PWR is busy: requested by MODEM_PWR", output
    assert vm.sim_value("MODEM_PWR") == "1"


def test_lookup_errors_name_the_line_and_the_chip(vm):
    status, output = vm.agent("gpio find NO_SUCH_LINE")
    assert status == 1 and output.strip() == "lwm2m-agent: GPIO line NO_SUCH_LINE not found on any GPIO chip", output
    status, output = vm.agent("gpio find RELAY1 --chip no-such-chip")
    assert status == 1 and "GPIO chip no-such-chip not found" in output, output
    # The same line through each way of naming its chip.
    for chip in ("gw-gpio", vm.chip, f"/dev/{vm.chip}", vm.chip.removeprefix("gpiochip")):
        status, output = vm.agent(f"gpio find DIN2 --chip {chip}")
        assert status == 0 and output.strip() == f"DIN2: {vm.chip} (gw-gpio) line 3 free input", (chip, output)


def test_an_output_drives_the_line_and_is_released(vm):
    vm.guest.check("lwm2m-agent gpio set RELAY1 1 --chip gw-gpio --hold 4000 >/tmp/set.out 2>&1 &")
    text = wait_file(vm, "/tmp/set.out", r"set to|lwm2m-agent:")
    assert f"RELAY1 ({vm.chip} gw-gpio line 0) set to 1" in text, text
    assert vm.sim_value("RELAY1") == "1"
    info = vm.guest.check("gpioinfo gw-gpio")
    assert re.search(r'"RELAY1"\s+"lwm2m-agent"\s+output', info), info
    # Held: a second request is refused, naming us.
    status, output = vm.agent("gpio set RELAY1 0 --chip gw-gpio")
    assert status == 1 and "GPIO line RELAY1 is busy: requested by lwm2m-agent" in output, output
    # Released when the probe exits (release(), deinit): free again.
    deadline = time.monotonic() + 15
    while re.search(r'"RELAY1"\s+"lwm2m-agent"', vm.guest.check("gpioinfo gw-gpio")):
        assert time.monotonic() < deadline, "RELAY1 still requested after the probe's hold"
        time.sleep(0.3)
    # Active-low: logical 1 is the physical low level.
    status, output = vm.agent("gpio set RELAY1 1 --chip gw-gpio --active-low --hold 10")
    assert status == 0 and "set to 1" in output, output
    vm.guest.check("lwm2m-agent gpio set RELAY2 1 --chip gw-gpio --active-low --hold 4000 >/tmp/set2.out 2>&1 &")
    wait_file(vm, "/tmp/set2.out", r"set to")
    assert vm.sim_value("RELAY2") == "0"


def test_an_input_reads_its_level_and_reports_edges_without_blocking(vm):
    vm.pull("DIN1", "pull-down")
    assert vm.agent("gpio get DIN1 --chip gw-gpio") == (0, "DIN1 = 0")
    vm.pull("DIN1", "pull-up")
    assert vm.agent("gpio get DIN1 --chip gw-gpio") == (0, "DIN1 = 1")
    assert vm.agent("gpio get DIN1 --chip gw-gpio --active-low") == (0, "DIN1 = 0")
    # Bias flags reach the kernel: gpio-sim turns a requested pull into the simulated one.
    assert vm.agent("gpio get DIN1 --chip gw-gpio --bias pull-down") == (0, "DIN1 = 0")
    assert vm.agent("gpio get DIN1 --chip gw-gpio --bias pull-up") == (0, "DIN1 = 1")
    vm.pull("DIN1", "pull-down")

    vm.guest.check("lwm2m-agent gpio watch DIN1 --chip gw-gpio --seconds 8 >/tmp/watch.out 2>&1 &")
    ready = wait_file(vm, "/tmp/watch.out", r"ready|lwm2m-agent:")
    # The descriptor is non-blocking and draining an empty queue returns at once.
    match = re.search(r"ready: level 0, nonblocking true, initial events 0, drained in (\d+) ms", ready)
    assert match and int(match.group(1)) < 200, ready
    for direction in ("pull-up", "pull-down", "pull-up"):
        vm.pull("DIN1", direction)
        time.sleep(0.3)
    text = wait_file(vm, "/tmp/watch.out", r"done at \d+ ns", timeout=30)
    events = re.findall(r"event (rising|falling) at (\d+) ns, level now ([01])", text)
    print(f"[vm] DIN1 events: {events}")
    assert [kind for kind, _, _ in events] == ["rising", "falling", "rising"], text
    stamps = [int(ns) for _, ns, _ in events]
    done = int(re.search(r"done at (\d+) ns", text).group(1))
    # Kernel timestamps on CLOCK_MONOTONIC (kernel >= 5.7), in order, within the watch.
    assert stamps == sorted(stamps) and done - 10_000_000_000 < stamps[0] and stamps[-1] < done, (stamps, done)


def test_an_active_low_input_reports_logical_edges(vm):
    vm.pull("DIN2", "pull-down")
    vm.guest.check("lwm2m-agent gpio watch DIN2 --chip gw-gpio --active-low --seconds 6 >/tmp/watch2.out 2>&1 &")
    ready = wait_file(vm, "/tmp/watch2.out", r"ready|lwm2m-agent:")
    assert "ready: level 1," in ready, ready  # physical low = logical high
    vm.pull("DIN2", "pull-up")
    time.sleep(0.3)
    vm.pull("DIN2", "pull-down")
    text = wait_file(vm, "/tmp/watch2.out", r"done at", timeout=30)
    assert re.findall(r"event (rising|falling)", text) == ["falling", "rising"], text


def test_edges_queued_while_the_loop_is_busy_are_drained_in_one_read(vm):
    """The agent's loop may be busy when edges come: they queue in the kernel, and the next wake-up
    drains them all at once, in order, none lost (nothing read twice, no blocking read)."""
    vm.pull("DIN1", "pull-down")
    vm.guest.check("lwm2m-agent gpio watch DIN1 --chip gw-gpio --delay 4000 --seconds 2 >/tmp/burst.out 2>&1 &")
    wait_file(vm, "/tmp/burst.out", r"ready|lwm2m-agent:")
    vm.guest.check("; ".join(f"echo {direction} > {vm.sim}/sim_gpio{LINES['DIN1']}/pull"
                             for direction in ["pull-up", "pull-down"] * 3))
    text = wait_file(vm, "/tmp/burst.out", r"done at", timeout=30)
    batches = re.findall(r"batch of (\d+)", text)
    assert batches and batches[0] == "6", text
    assert re.findall(r"event (rising|falling)", text) == ["rising", "falling"] * 3, text
    stamps = [int(ns) for ns in re.findall(r"at (\d+) ns, level", text)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 6, stamps
