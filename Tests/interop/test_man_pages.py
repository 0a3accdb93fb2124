"""Issue 15: `--help` for every command and subcommand of lwm2m-agent and lwm2m-agentd, and the
manual pages lwm2m-agent(1) and lwm2m-agentd(8) generated from the same text (docs/man/,
docs/operations.md "Manual pages").

The options each command must mention are listed here from the commands' argument parsers (not
from the help text), so a new option without help fails here. The checked-in pages must equal what
`lwm2m-agent help --man DIR` writes now, so --help and the pages never drift apart; groff renders
them with every warning on (-ww) and must print none."""
import re
import subprocess
from pathlib import Path

import pytest

from conftest import require_tool

REPO = Path(__file__).resolve().parents[2]

DTLS = ["--psk-identity", "--psk-key-file", "--ca", "--server-cert", "--cert", "--key", "--sni",
        "--cipher-suites", "--dtls-min-timeout", "--dtls-max-timeout", "--rpk-key", "--server-public-key"]
FACTORY = ["--config", "--json", "--no-qr"]
ACCOUNT = ["--uri", "--security-mode", "--psk-identity", "--psk-key-file", "--psk-key-stdin", "--generate-key",
           "--regenerate-key", "--csr-out", "--public-key-out", "--client-certificate-file",
           "--server-certificate-file", "--certificate-usage", "--sni", "--server-public-key-file"]

# (arguments before --help, the options the command's parser accepts)
COMMANDS = [
    ([], []),
    (["coap"], ["--payload", "--payload-file", "--content-format", "--accept", "--non", "--block-size",
                "--ack-timeout", "--timeout", "--verbose"] + DTLS),
    (["coap", "get", "coap://127.0.0.1/"], ["--payload", "--non"] + DTLS),
    (["coap", "ping"], ["--timeout"]),
    (["status"], ["--config", "--json", "--timeout"]),
    (["state"], ["--config", "--json"]),
    (["state", "show"], ["--config", "--json"]),
    (["factory-reset"], ["--config"]),
    (["factory"], FACTORY),
    (["factory", "set-endpoint"], FACTORY),
    (["factory", "set-bootstrap"], FACTORY + ACCOUNT),
    (["factory", "set-bootstrap-certificate"], FACTORY),
    (["factory", "add-server"], FACTORY + ACCOUNT + ["--lifetime", "--binding"]),
    (["factory", "set-server-certificate"], FACTORY),
    (["factory", "remove-server"], FACTORY),
    (["factory", "csr"], FACTORY + ["--csr-out"]),
    (["factory", "show"], FACTORY),
    (["factory", "verify"], FACTORY),
    (["factory", "wipe"], FACTORY),
    (["board"], ["--config", "--board", "--board-dir", "--root"]),
    (["board", "show"], ["--config", "--board", "--board-dir", "--root"]),
    (["board", "list"], ["--config", "--board-dir", "--root"]),
    (["firmware"], []),
    (["firmware", "keygen"], ["--private-key-out", "--public-key-out"]),
    (["firmware", "sign"], ["--key", "--board", "--version", "--out"]),
    (["firmware", "verify"], ["--public-key", "--board", "--json"]),
    (["firmware", "fetch"], ["--output", "--resume", "--http-ca", "--block-size", "--ack-timeout",
                             "--max-retransmit", "--connect-timeout", "--stall-timeout", "--max-size", "--timeout",
                             "--progress", "--report-memory"] + DTLS),
    (["version"], []),
    (["help"], []),
    (["gpio"], ["--chip", "--active-low", "--bias", "--hold", "--seconds", "--delay"]),  # hidden
]

# Subcommands the overview and each group must list.
GROUPS = {
    (): ["coap", "status", "state", "factory-reset", "factory", "board", "firmware", "version", "help"],
    ("factory",): ["set-endpoint", "set-bootstrap", "set-bootstrap-certificate", "add-server",
                   "set-server-certificate", "remove-server", "csr", "show", "verify", "wipe"],
    ("board",): ["show", "list"],
    ("firmware",): ["keygen", "sign", "verify", "fetch"],
}


def run(bin_dir, program, *args):
    return subprocess.run([str(bin_dir / program), *args], capture_output=True, text=True, timeout=20)


def command_name(words):
    """The command's name as its usage line starts: `lwm2m-agent factory set-endpoint`."""
    return " ".join(["lwm2m-agent"] + [w for w in words[:2] if "://" not in w and w not in ("get",)])


@pytest.mark.parametrize("words,options", COMMANDS, ids=[" ".join(c[0]) or "lwm2m-agent" for c in COMMANDS])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_answers_help(bin_dir, words, options, flag):
    result = run(bin_dir, "lwm2m-agent", *words, flag)
    shown = f"{words} {flag}: exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, shown
    assert result.stderr == "", shown
    name = command_name(words if words[:1] != ["coap"] else words[:1])
    assert result.stdout.startswith(f"usage: {name}"), shown
    for option in options:
        assert option in result.stdout, f"{option} missing from\n{shown}"
    assert "exit status:" in result.stdout, shown
    for subcommand in GROUPS.get(tuple(words), []):
        assert re.search(rf"\n  {re.escape(subcommand)}[ \n]", result.stdout), f"{subcommand} not listed\n{shown}"


def test_help_command_prints_the_same_text(bin_dir):
    for words in (["factory", "add-server"], ["firmware", "fetch"], ["status"]):
        direct = run(bin_dir, "lwm2m-agent", *words, "--help")
        via_help = run(bin_dir, "lwm2m-agent", "help", *words)
        assert via_help.returncode == 0 and via_help.stdout == direct.stdout, (words, via_help.stdout, direct.stdout)
    unknown = run(bin_dir, "lwm2m-agent", "help", "no-such-command")
    assert unknown.returncode == 2 and "no-such-command" in unknown.stderr, unknown.stderr


def test_minus_h_as_an_option_value_is_not_a_help_request(bin_dir):
    # `--payload -h` sends the two bytes "-h": the command runs (nothing answers: exit 3).
    result = run(bin_dir, "lwm2m-agent", "coap", "post", "coap://127.0.0.1:9/", "--payload", "-h",
                 "--timeout", "0.3", "--ack-timeout", "0.1")
    assert result.returncode == 3, (result.returncode, result.stdout, result.stderr)
    assert "usage:" not in result.stdout


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_daemon_answers_help(bin_dir, flag):
    result = run(bin_dir, "lwm2m-agentd", flag)
    assert result.returncode == 0 and result.stderr == "", (result.returncode, result.stderr)
    assert result.stdout.startswith("usage: lwm2m-agentd --config FILE"), result.stdout
    for word in ("--config", "--log-level", "--version", "SIGHUP", "SIGUSR1", "exit status:"):
        assert word in result.stdout, f"{word} missing:\n{result.stdout}"


def test_checked_in_man_pages_are_generated_from_the_help(bin_dir, tmp_path):
    result = run(bin_dir, "lwm2m-agent", "help", "--man", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for page in ("lwm2m-agent.1", "lwm2m-agentd.8"):
        generated = (tmp_path / page).read_text()
        checked_in = (REPO / "docs" / "man" / page).read_text()
        assert generated == checked_in, (
            f"docs/man/{page} differs from the --help text: regenerate it with "
            f"`$(swift build --show-bin-path)/lwm2m-agent help --man docs/man`")


@pytest.mark.parametrize("page", ["lwm2m-agent.1", "lwm2m-agentd.8"])
def test_man_pages_render_without_warnings(page):
    require_tool("groff", "groff-base renders the manual pages")
    path = REPO / "docs" / "man" / page
    groff = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(path)], capture_output=True, text=True,
                           timeout=20)
    assert groff.returncode == 0 and groff.stderr == "", groff.stderr
    rendered = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou", str(path)], capture_output=True, text=True,
                              timeout=20)
    assert rendered.returncode == 0, rendered.stderr
    text = rendered.stdout
    assert "NAME" in text and "SYNOPSIS" in text and "EXIT STATUS" in text, text
    if page == "lwm2m-agent.1":
        # Every visible command and subcommand has its section, with its options; the hidden gpio has none.
        for words, options in COMMANDS:
            if words[:1] in (["gpio"], ["help"]) or len(words) != 2 or words[0] == "coap":
                continue
            assert f"lwm2m-agent {words[0]} {words[1]}" in text, words
            for option in options:
                assert option in text, (words, option)
        assert "lwm2m-agent gpio" not in text
    else:
        for option in ("--config FILE", "--log-level LEVEL", "--version", "SIGUSR1"):
            assert option in text, option


def test_man_l_renders_the_pages():
    require_tool("man", "man-db reads the manual pages")
    for page in ("lwm2m-agent.1", "lwm2m-agentd.8"):
        result = subprocess.run(["man", "--warnings", "-l", "-P", "cat", str(REPO / "docs" / "man" / page)],
                                capture_output=True, text=True, timeout=20, env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin"})
        assert result.returncode == 0 and result.stderr == "", result.stderr
        assert page.split(".")[0].upper() in result.stdout
