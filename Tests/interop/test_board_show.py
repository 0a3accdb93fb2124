"""``lwm2m-agent board show|list`` and the daemon's board choice, over the real binaries on the
fixture trees of Tests/BoardTests/Fixtures (copies of a machine's /proc and /sys files) and the
board files of board/ (docs/boards.md)."""

from __future__ import annotations

import re

from agentconfig import write_config
from conftest import REPO

BOARDS = REPO / "board"
FIXTURES = REPO / "Tests" / "BoardTests" / "Fixtures"


def board_cli(procs, bin_dir, *args):
    return procs.run([bin_dir / "lwm2m-agent", "board", *args], timeout=10)


def test_board_show_on_a_raspberry_pi_4_tree(procs, bin_dir):
    shown = board_cli(procs, bin_dir, "show", "--board-dir", BOARDS, "--root", FIXTURES / "rpi4")
    assert shown.returncode == 0, shown.describe()
    lines = shown.out.splitlines()
    assert lines[0] == "board: raspberrypi-4-slb9670", shown.out
    assert f"file: {BOARDS}/raspberrypi-4-slb9670.conf" in lines
    assert 'chosen because: /proc/device-tree/compatible entry 0 "raspberrypi,4-model-b" is in its compatible list' in lines
    assert '  model: "Raspberry Pi 4 Model B Rev 1.4" (from /proc/device-tree/model)' in lines
    assert '  serial: "10000000a1b2c3d4" (from /proc/device-tree/serial-number)' in lines
    assert "tpm: /dev/tpmrm0 on spi" in lines
    assert "thermal zones: cpu-thermal" in lines
    assert any(line.startswith("gpio relay1: line RELAY1") for line in lines), shown.out


def test_board_show_by_dmi_and_the_generic_fallback(procs, bin_dir):
    vm = board_cli(procs, bin_dir, "show", "--board-dir", BOARDS, "--root", FIXTURES / "qemu-pc")
    assert vm.returncode == 0, vm.describe()
    assert "board: gpio-sim-vm" in vm.out and "chosen because: DMI matched sys_vendor:QEMU" in vm.out, vm.out
    assert 'model: "Standard PC (i440FX + PIIX, 1996)" (from /sys/class/dmi/id/product_name)' in vm.out
    bare = board_cli(procs, bin_dir, "show", "--board-dir", BOARDS, "--root", FIXTURES / "bare")
    assert bare.returncode == 0, bare.describe()
    assert "board: generic-linux" in bare.out
    assert f"the generic Linux board ({BOARDS}/generic-linux.conf)" in bare.out
    # No board directory at all: the copy compiled into the binary.
    builtin = board_cli(procs, bin_dir, "show", "--board-dir", "/nonexistent/boards", "--root", FIXTURES / "rpi4")
    assert builtin.returncode == 0, builtin.describe()
    assert "file: (compiled in)" in builtin.out and "board: generic-linux" in builtin.out


def test_board_show_reads_board_and_board_dir_from_agent_conf(procs, bin_dir, tmp_path):
    config = write_config(tmp_path, servers={201: {"uri": "coap://127.0.0.1:9"}}, board="beaglebone-black",
                          board_dir=BOARDS)
    shown = board_cli(procs, bin_dir, "show", "--config", config, "--root", FIXTURES / "rpi4")
    assert shown.returncode == 0, shown.describe()
    assert "board: beaglebone-black" in shown.out and "chosen because: board = beaglebone-black (configured)" in shown.out
    # --board overrides the configuration.
    shown = board_cli(procs, bin_dir, "show", "--config", config, "--board", "imx8mp-evk")
    assert "board: imx8mp-evk" in shown.out, shown.describe()


def test_board_list_marks_what_matches_here(procs, bin_dir):
    listed = board_cli(procs, bin_dir, "list", "--board-dir", BOARDS, "--root", FIXTURES / "rpi5")
    assert listed.returncode == 0, listed.describe()
    assert re.search(r"^\* raspberrypi-5-slb9670 ", listed.out, re.M), listed.out
    assert re.search(r"^  raspberrypi-4-slb9670 ", listed.out, re.M), listed.out
    assert listed.out.rstrip().endswith("chosen here: raspberrypi-5-slb9670")


def test_a_bad_board_file_is_refused_naming_file_and_line(procs, bin_dir, tmp_path):
    boards = tmp_path / "boards"
    boards.mkdir()
    (boards / "gw.conf").write_text("[board]\nname = gw\n\n[gpio relay]\nline = RELAY1\nobject = relay\n")
    shown = board_cli(procs, bin_dir, "show", "--board-dir", boards, "--board", "gw")
    assert shown.returncode == 1, shown.describe()
    assert f'{boards}/gw.conf: line 6: object "relay": expected digital-input, digital-output, push-button' in shown.err
    unknown = board_cli(procs, bin_dir, "show", "--board-dir", BOARDS, "--board", "no-such-board")
    assert unknown.returncode == 1 and 'no board "no-such-board"' in unknown.err and "raspberrypi-4-slb9670" in unknown.err
    usage = board_cli(procs, bin_dir, "show", "--board", "../../etc/passwd")
    assert usage.returncode == 2 and "expected a board name" in usage.err, usage.describe()


def test_the_daemon_logs_its_board_and_refuses_a_bad_one(procs, bin_dir, start_agent, tmp_path):
    config = write_config(tmp_path, servers={201: {"uri": "coap://127.0.0.1:9"}}, board="raspberrypi-4-slb9670",
                          board_dir=BOARDS)
    agent = start_agent(config)
    agent.wait_for(r"board raspberrypi-4-slb9670 \(%s/raspberrypi-4-slb9670\.conf\): board = raspberrypi-4-slb9670 "
                   r"\(configured\)" % re.escape(str(BOARDS)))
    assert agent.stop() == 0

    # A board value that is not a name or a path: refused at start, naming the line of agent.conf.
    bad_value = write_config(tmp_path, servers={201: {"uri": "coap://127.0.0.1:9"}}, board="../x")
    lines = bad_value.read_text().splitlines()
    line = lines.index("board = ../x") + 1
    run = procs.run([bin_dir / "lwm2m-agentd", "--config", bad_value], timeout=10)
    assert run.returncode == 1, run.describe()
    assert f"line {line}: board \"../x\": expected a board name" in run.err, run.err

    # A board file with a mistake: refused at start, naming the board file and its line.
    boards = tmp_path / "boards"
    boards.mkdir()
    (boards / "gw.conf").write_text("[board]\nname = gw\n[reboot]\nmethod = command\ncommand = reboot\n")
    bad_board = write_config(tmp_path, servers={201: {"uri": "coap://127.0.0.1:9"}}, board="gw", board_dir=boards)
    run = procs.run([bin_dir / "lwm2m-agentd", "--config", bad_board], timeout=10)
    assert run.returncode == 1, run.describe()
    assert f"board: {boards}/gw.conf: line 5: command \"reboot\": give the program's absolute path" in run.err, run.err
