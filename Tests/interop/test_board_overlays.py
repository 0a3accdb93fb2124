"""The device-tree overlays of overlays/ and the board files of board/ (docs/boards.md).

Every overlay compiles with ``dtc -@ -I dts -O dtb`` (Debian ``device-tree-compiler``, installed by
scripts/setup.sh) without a warning, and every GPIO line a board file names (``[gpio NAME] line``,
``[led NAME] line``) is declared exactly once by the overlays that board lists, read back from the
COMPILED overlays, or by the board's own device tree / the VM guest where no overlay is needed (the
lists below, with their sources). Without dtc the tests are skipped, and fail under CI=true.
"""

from __future__ import annotations

import configparser
import re
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, require_tool

BOARDS = REPO / "board"
OVERLAYS = REPO / "overlays"

# Line names a board's base device tree (or the VM guest) declares, for boards whose file names
# lines without an overlay.
BASE_LINE_NAMES = {
    # arch/arm64/boot/dts/freescale/imx8mp-evk.dts: gpio-line-names of the PCA6416 on I2C3.
    "imx8mp-evk": ["EXT_PWREN1", "EXT_PWREN2", "CAN1/I2C5_SEL", "PDM/CAN2_SEL", "FAN_EN", "PWR_MEAS_IO1",
                   "PWR_MEAS_IO2", "EXP_P0_7"] + [f"EXP_P1_{n}" for n in range(8)],
    # The VM guest's init (Tests/vm/guest/init, helper "vm") creates gpio-sim chip "gw" through configfs
    # with these line names; MODEM_PWR is hogged. The lead connects this list to the guest at merge.
    "gpio-sim-vm": ["RELAY1", "RELAY2", "DIN1", "DIN2", "LED_STATUS", "MODEM_PWR"],
}


def board_files() -> list[Path]:
    return sorted(BOARDS.glob("*.conf"))


def overlay_files() -> list[Path]:
    return sorted(OVERLAYS.glob("*.dts"))


def read_board(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, comment_prefixes=("#", ";"), strict=True)
    parser.read_string(path.read_text(), source=str(path))
    return parser


def used_lines(board: configparser.ConfigParser) -> list[str]:
    return [board[section]["line"] for section in board.sections()
            if section.split(" ")[0] in ("gpio", "led") and "line" in board[section]]


def compile_overlay(dtc: str, source: Path, out_dir: Path) -> Path:
    output = out_dir / (source.stem + ".dtbo")
    done = subprocess.run([dtc, "-@", "-I", "dts", "-O", "dtb", "-o", str(output), str(source)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"dtc failed on {source.name}:\n{done.stderr}"
    assert "warning" not in done.stderr.lower(), f"dtc warns on {source.name}:\n{done.stderr}"
    return output


def decompiled(dtc: str, dtbo: Path) -> str:
    done = subprocess.run([dtc, "-I", "dtb", "-O", "dts", str(dtbo)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def line_names(dts: str) -> list[str]:
    """Every string of every gpio-line-names property in decompiled ``dts``."""
    names = []
    for value in re.findall(r"gpio-line-names\s*=\s*([^;]*);", dts):
        for string in re.findall(r'"((?:[^"\\]|\\.)*)"', value):
            names += string.split("\\0")  # dtc 1.6 prints a string list as one "a\0b" literal
    return names


def test_every_overlay_compiles(tmp_path):
    dtc = require_tool("dtc", "Debian package device-tree-compiler; scripts/setup.sh installs it")
    sources = overlay_files()
    assert len(sources) >= 4, sources
    for source in sources:
        dts = decompiled(dtc, compile_overlay(dtc, source, tmp_path))
        assert "__fixups__" in dts or "__symbols__" in dts, f"{source.name}: not compiled as an overlay (/plugin/)"


def test_every_line_a_board_names_is_declared_once(tmp_path):
    dtc = require_tool("dtc", "Debian package device-tree-compiler; scripts/setup.sh installs it")
    checked = 0
    for path in board_files():
        board = read_board(path)
        name = board["board"]["name"]
        overlays = board["board"].get("overlays", "").split()
        declared: list[str] = list(BASE_LINE_NAMES.get(name, []))
        for overlay in overlays:
            source = OVERLAYS / f"{overlay}.dts"
            assert source.is_file(), f"{path.name} lists overlay {overlay!r}: {source} does not exist"
            declared += line_names(decompiled(dtc, compile_overlay(dtc, source, tmp_path)))
        for line in used_lines(board):
            assert declared.count(line) == 1, (
                f"{path.name} uses line {line!r}, declared {declared.count(line)} times by "
                f"{overlays or 'no overlay'} (+ {name}'s base names)")
            checked += 1
    assert checked >= 15, checked  # Pi 4, Pi 5, BBB, i.MX8MP EVK and the VM board all name lines


def test_line_name_overlays_keep_the_controller_size(tmp_path):
    """gpio-line-names replaces the whole list: one entry per line of the controller."""
    dtc = require_tool("dtc", "Debian package device-tree-compiler; scripts/setup.sh installs it")
    sizes = {"rpi4-gateway-line-names": 58, "rpi5-gateway-line-names": 54, "bbb-gateway-line-names": 32}
    for overlay, size in sizes.items():
        names = line_names(decompiled(dtc, compile_overlay(dtc, OVERLAYS / f"{overlay}.dts", tmp_path)))
        assert len(names) == size, f"{overlay}: {len(names)} names for a {size}-line controller"


def test_tpm_overlay_follows_the_binding(tmp_path):
    """Documentation/devicetree/bindings/tpm/tcg,tpm_tis-spi.yaml: chip then tcg,tpm_tis-spi; CE1."""
    dtc = require_tool("dtc", "Debian package device-tree-compiler; scripts/setup.sh installs it")
    dts = decompiled(dtc, compile_overlay(dtc, OVERLAYS / "tpm-slb9670-spi0-ce1.dts", tmp_path))
    node = re.search(r"tpm@1\s*\{(.*?)\};", dts, re.S)
    assert node, dts
    assert re.search(r'compatible = "infineon,slb9670\\0tcg,tpm_tis-spi";|compatible = "infineon,slb9670", "tcg,tpm_tis-spi";',
                     node.group(1)), node.group(1)
    assert re.search(r"reg = <0x01>;", node.group(1)), node.group(1)
    frequency = int(re.search(r"spi-max-frequency = <(0x[0-9a-f]+)>;", node.group(1)).group(1), 16)
    assert 0 < frequency <= 43_000_000, frequency  # SLB9670: at most 43 MHz
    for path in board_files():
        board = read_board(path)
        if board.has_section("tpm") and board["tpm"].get("interface") == "spi":
            assert "tpm-slb9670-spi0-ce1" in board["board"].get("overlays", "").split(), path.name
