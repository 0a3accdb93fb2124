"""docs/troubleshooting.md against the sources and against the real daemon.

1. The drift test (no peers, no binaries): every failure message the sources can print about
   bootstrap, registration, DTLS, the TPM and the credential store, and every log line of the
   daemon, is extracted from the Swift sources and must be documented in docs/troubleshooting.md.
   What is extracted (``collect_messages``), from the files under ``SCOPE``:
     * the string of every ``log.`` / ``logger.`` / ``early.`` call at error, warning, notice or
       info level (debug lines are for developers);
     * every string literal of the ``description`` of every type named ``…Error`` (and of
       ``ClientEvent``, the bootstrap/registration events the daemon logs, and of
       ``BootstrapInconsistency``, the <why> of "inconsistent configuration: <why>");
     * every string literal passed to the client's failure entry points (``bootstrapFailed``,
       ``registrationAttemptFailed``, ``connectionFailed``, ``registrationFailed``): the
       ``<reason>`` of "bootstrap failed: <reason>";
     * the string literal that constructs a case of one of those error types (``.noTPM("…")``,
       ``.pskRejected(reason: "…")``, ``.missingSecret("…")`` …), except the cases in
       ``DETAIL_CASES`` whose texts are documented as a ``<placeholder>`` of their error's line.
   A message is a template: its literal text with each ``\\(…)`` interpolation as a hole. It is
   documented when some line of a fenced code block or some inline code span of the page holds
   its literal pieces in order (a hole matches anything: the page writes ``<reason>``).
   ``python3 Tests/interop/test_troubleshooting.py`` lists the messages the page lacks (with
   ``--all``: every extracted message and where it comes from).

2. The failures themselves, provoked against real peers, each a few seconds: a wrong PSK against
   the project's OpenSSL DTLS peer (dtls_relay.py), an unreachable bootstrap server, a silent one,
   an unreachable management server, no TPM at the configured TCTI, a sealed secret missing from
   the TPM store (swtpm), blobs sealed by another TPM (a second swtpm), configuration errors, and
   ``lwm2m-agent status`` with no daemon. Each asserts that the line the agent printed is a line of
   the page's entry for that failure (``<!-- entry: NAME -->`` before the entry's code block): the
   entry's lines come from the page, with ``<placeholders>`` matching the variable parts, so the
   page cannot drift from what the agent prints.

3. The page's worked example ("An example: the bootstrap server is down"): its own agent.conf
   (``<!-- example: agent.conf -->``; only the ports and the state directory substituted, in one
   place) runs against the project's management server; the status and log lines it shows
   (``<!-- example: status|log|stopped -->``) must be this run's, numbers aside.

All of it takes about 10 s; swtpm (and systemd-analyze for test_security_model.py) are required
tools: missing, the tests that need them skip, or fail under CI=true.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

from agentconfig import write_config
from conftest import free_udp_port, require_tool, skip_or_fail
from test_factory import start_swtpm, swtpm  # noqa: F401 (swtpm: a fixture, a private swtpm)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DOC = REPO / "docs" / "troubleshooting.md"

# MARK: - Swift sources → message templates

HOLE = "\x00"  # an interpolation in a template

#: Where the messages come from (globs under the repository).
SCOPE = [
    "Sources/lwm2m-agentd/*.swift",            # the daemon's start-up errors
    "Sources/AgentDaemon/*.swift",             # launcher, runtime (bootstrap/registration/DTLS/secrets log lines)
    "Sources/AgentDaemon/Control/*.swift",     # the status socket
    "Sources/AgentDaemon/Systemd/*.swift",     # systemd notifications
    "Sources/LwM2M/Client/**/*.swift",         # bootstrap and registration events and reasons
    "Sources/DTLS/*.swift",                    # handshake failures
    "Sources/DTLSGnuTLS/*.swift",              # raw public keys (GnuTLS)
    "Sources/TPM/*.swift",                     # the TPM store
    "Sources/Credentials/*.swift",             # the credential store protocol
    "Sources/AgentCLI/Factory/*.swift",        # lwm2m-agent factory's TPM errors
    "Sources/Transport/TransportError.swift",  # "cannot connect: <socket error>"
    "Sources/CoAP/RequestFailure.swift",       # "Register: no response (timeout)"
]
#: Error cases whose construction texts are details shown in a placeholder of their error's
#: documented line (the line itself is checked through the type's description): socket system
#: calls, state-file parse details, command-line usage (the commands' --help and
#: docs/factory-provisioning.md), file errors, software-signer internals.
DETAIL_CASES = {"system", "malformed", "usage", "file", "refused"}
LOG_CALL = re.compile(r"\b(?:log|logger|early)\.(?:error|warning|notice|info)\(")
FAILURE_CALL = re.compile(r"\b(?:bootstrapFailed|registrationAttemptFailed|connectionFailed|registrationFailed)\(")
DESCRIBED_TYPE = re.compile(r"\b(?:enum|struct)\s+(\w*Error|ClientEvent|BootstrapInconsistency)\b[^{]*\{")


def read_literal(text: str, i: int) -> tuple[str | None, int]:
    """The Swift string literal starting at ``text[i] == '"'``: (template, index after it).
    Escapes are decoded, each ``\\(…)`` becomes HOLE (string literals inside it belong to the
    interpolation). Multi-line literals are skipped (None): no message is written that way."""
    if i > 0 and text[i - 1] == "#":  # #"…"#: other escape rules; fail loudly rather than misread it
        raise ValueError(f"raw string literal near {text[max(0, i - 60):i + 20]!r}: teach read_literal raw strings")
    if text.startswith('"""', i):
        return None, text.index('"""', i + 3) + 3
    i += 1
    out = []
    while i < len(text):
        char = text[i]
        if char == '"':
            return "".join(out), i + 1
        if char == "\n":
            raise ValueError(f"unterminated string literal near {text[max(0, i - 60):i]!r}")
        if char == "\\":
            escaped = text[i + 1]
            if escaped == "(":
                i = matching_close(text, i + 2)
                out.append(HOLE)
                continue
            if escaped == "u":
                close = text.index("}", i)
                out.append(chr(int(text[i + 3:close], 16)))
                i = close + 1
                continue
            out.append({"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(escaped, escaped))
            i += 2
            continue
        out.append(char)
        i += 1
    raise ValueError("unterminated string literal at the end of the file")


def matching_close(text: str, i: int, pair: str = "()") -> int:
    """``i`` just after an opening ``pair[0]``: the index after its closing ``pair[1]`` (string
    literals skipped)."""
    depth = 1
    while depth:
        char = text[i]
        if char == '"':
            _, i = read_literal(text, i)
            continue
        depth += {pair[0]: 1, pair[1]: -1}.get(char, 0)
        i += 1
    return i


def without_comments(text: str) -> str:
    """``text`` with // and /* */ comments removed (string literals kept as they are)."""
    out, i = [], 0
    while i < len(text):
        if text[i] == '"':
            _, end = read_literal(text, i)
            out.append(text[i:end])
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def literals(text: str, start: int, end: int) -> list[str]:
    """The top-level string literals in ``text[start:end]``."""
    found, i = [], start
    while i < end:
        if text[i] == '"':
            template, i = read_literal(text, i)
            if template is not None:
                found.append(template)
        else:
            i += 1
    return found


def leading_literal(text: str, i: int) -> str | None:
    """The string literal at ``i`` (after blanks and an optional argument label), if any."""
    match = re.compile(r'\s*(?:\w+:\s*)?"').match(text, i)
    return read_literal(text, match.end() - 1)[0] if match else None


class Message(NamedTuple):
    template: str
    source: str   # path:line
    kind: str

    def shown(self) -> str:
        return self.template.replace(HOLE, "<…>")


def meaningful(template: str | None) -> bool:
    """Whether a template says something (three letters or more outside its holes)."""
    return template is not None and sum(c.isalpha() for c in template.replace(HOLE, "")) >= 3


def collect_messages(repo: Path = REPO) -> list[Message]:
    """Every message template in scope (see the module's documentation), deduplicated."""
    files = sorted({path for pattern in SCOPE for path in repo.glob(pattern)})
    assert files, f"no Swift sources under {repo}"
    texts = {path: without_comments(path.read_text()) for path in files}
    found: list[Message] = []
    error_cases: set[str] = set()

    def add(template, path, text, index, kind):
        if meaningful(template):
            found.append(Message(template, f"{path.relative_to(repo)}:{text.count(chr(10), 0, index) + 1}", kind))

    for path, text in texts.items():
        for declaration in DESCRIBED_TYPE.finditer(text):
            body_end = matching_close(text, declaration.end(), "{}")
            body = text[declaration.end():body_end]
            error_cases.update(re.findall(r"^\s*case\s+(\w+)\s*\(", body, re.M))
            getter = re.search(r"var description: String\s*\{", body)
            if getter:
                start = declaration.end() + getter.end() - 1
                for template in literals(text, start, matching_close(text, start + 1, "{}")):
                    add(template, path, text, start, f"{declaration.group(1)}.description")
        for call in LOG_CALL.finditer(text):
            add(leading_literal(text, call.end()), path, text, call.start(), "log line")
        for call in FAILURE_CALL.finditer(text):
            for template in literals(text, call.end(), matching_close(text, call.end())):
                add(template, path, text, call.start(), "failure reason")
    constructed = re.compile(r"\.(" + "|".join(sorted(error_cases - DETAIL_CASES)) + r")\(")
    for path, text in texts.items():
        for construction in constructed.finditer(text):
            add(leading_literal(text, construction.end()), path, text, construction.start(),
                f"error .{construction.group(1)}")
    unique: dict[str, Message] = {}
    for message in found:
        unique.setdefault(message.template, message)
    return list(unique.values())


# MARK: - The page

PLACEHOLDER = re.compile(r"<[^<>\d][^<>]*>")  # <reason>, <ssid>; <4> (a journald priority) is literal text


def documented_lines(doc: Path = DOC) -> list[str]:
    """Every line of every fenced code block and every inline code span of the page."""
    lines, fenced = [], False
    for line in doc.read_text().splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            lines.append(line.strip())
        else:
            lines += re.findall(r"`([^`]+)`", line)
    return lines


def template_regex(template: str) -> re.Pattern:
    """A template's literal pieces in order, anything (a placeholder, or nothing) in its holes."""
    return re.compile(".*?".join(re.escape(piece) for piece in template.split(HOLE)))


def undocumented(messages: list[Message], lines: list[str]) -> list[Message]:
    return [m for m in messages if not any(template_regex(m.template).search(line) for line in lines)]


def entry_lines(name: str, doc: Path = DOC) -> list[str]:
    """The lines of the code block that follows ``<!-- entry: NAME -->`` on the page."""
    text = doc.read_text()
    marker = text.find(f"<!-- entry: {name} -->")
    assert marker >= 0, f"docs/troubleshooting.md has no entry {name!r}"
    block = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S).search(text, marker)
    assert block, f"entry {name!r} has no code block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def line_regex(documented: str) -> re.Pattern:
    """A documented line as a regex for a real one: each <placeholder> matches the variable text."""
    pieces = PLACEHOLDER.split(documented)
    return re.compile(".+?".join(re.escape(piece) for piece in pieces) + r"\Z")


def documented_in(log: str, entry: str) -> tuple[str, str]:
    """(the log line, the page's line it is) for the first line of ``log`` that is one of the lines
    of ``entry``; fails with both when none is."""
    lines = entry_lines(entry)
    for actual in log.splitlines():
        for documented in lines:
            if line_regex(documented).match(actual):
                return actual, documented
    raise AssertionError(f"no line of the log is one of entry {entry!r}'s documented lines:\n"
                         + "\n".join(f"  doc: {line}" for line in lines) + "\n--- log ---\n" + log[-4000:])


# MARK: - 1. Drift


def test_every_bootstrap_dtls_tpm_failure_message_is_documented():
    messages = collect_messages()
    kinds = {m.kind for m in messages}
    # The extraction still finds what it is meant to (a refactoring that hides messages from it
    # must fail here, not silently shrink the check).
    for wanted in ("log line", "failure reason", "ClientEvent.description", "DTLSError.description",
                   "TPMError.description", "CredentialStoreError.description", "error .pskRejected", "error .noTPM"):
        assert wanted in kinds, f"the extraction found no {wanted!r}: {sorted(kinds)}"
    assert len(messages) > 150, len(messages)
    missing = undocumented(messages, documented_lines())
    assert not missing, (f"{len(missing)} of {len(messages)} messages are not in docs/troubleshooting.md "
                         "(add an entry, see its \"Adding an entry\"):\n"
                         + "\n".join(f"  {m.source} [{m.kind}] {m.shown()}" for m in missing))


def test_the_extraction_reads_interpolations_escapes_and_comments():
    text = without_comments('''
        // log.error("in a comment")
        log.warning("\\(id): DTLS \\(resumed ? "session resumed" : "handshake done")\\(took.map { " in \\($0)" } ?? ""): \\(suite)")
        case .a(let x): "quoted \\"\\(x)\\" and \\u{2013} dash"
    ''')
    assert "in a comment" not in text
    first = leading_literal(text, LOG_CALL.search(text).end())
    assert first == f"{HOLE}: DTLS {HOLE}{HOLE}: {HOLE}", repr(first)
    second = literals(text, text.index("case"), len(text))[0]
    assert second == f'quoted "{HOLE}" and \u2013 dash', repr(second)
    assert template_regex(second).search('quoted "<x>" and \u2013 dash')
    assert not template_regex(second).search('quoted <x> and \u2013 dash')
    assert line_regex("<4>lwm2m-agentd: server <ssid>: registered").match("<4>lwm2m-agentd: server 101: registered")
    assert not line_regex("<4>lwm2m-agentd: server <ssid>: registered").match("<3>lwm2m-agentd: server 101: registered")



# MARK: - 2. The failures, provoked

PSK_BS = ("gw-trouble-bs", "000102030405060708090a0b0c0d0e0f")
FAST = {"dtls_timeout_min": 0.2, "dtls_timeout_max": 1}  # a failing handshake gives up in ~2 s


def assert_entry_printed(log: str, entry: str) -> list[str]:
    """Every line of the page's entry ``entry`` is a line the agent printed (placeholders match
    the variable parts): the log lines, for the test's output."""
    seen = []
    for documented in entry_lines(entry):
        regex = line_regex(documented)
        actual = next((line.strip() for line in log.splitlines() if regex.match(line.strip())), None)
        assert actual is not None, (f"entry {entry!r} of docs/troubleshooting.md documents a line the agent did not "
                                    f"print:\n  doc: {documented}\n--- log ---\n{log[-4000:]}")
        seen.append(actual)
    print(f"\n[{entry}]\n" + "\n".join(f"  {line}" for line in seen))
    return seen


def wait_entry(proc, entry: str, timeout: float = 15.0) -> list[str]:
    """Waits until ``proc`` has printed every line of ``entry`` (or exited), then checks them."""
    regexes = [line_regex(documented) for documented in entry_lines(entry)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.alive():
        lines = proc.stderr().splitlines()
        if all(any(r.match(line.strip()) for line in lines) for r in regexes):
            break
        time.sleep(0.05)
    return assert_entry_printed(proc.stderr(), entry)


def psk_bootstrap(config: Path, uri: str, key_file: Path) -> None:
    config.write_text(config.read_text() + f"\n[bootstrap]\nuri = {uri}\nsecurity-mode = psk\n"
                      f"psk-identity = {PSK_BS[0]}\nsecret-key-file = {key_file}\n")


def test_wrong_psk_against_the_openssl_dtls_peer(start_peer, start_agent, start_dtls_relay, tmp_path):
    bs = start_peer("bootstrap_server")
    bs_port = start_dtls_relay(bs.port, "--psk", f"{PSK_BS[0]}:{PSK_BS[1]}")
    (tmp_path / "bs.psk").write_text("ff" * 16 + "\n")  # not the key the server knows
    config = write_config(tmp_path, bootstrap_on_every_start=True, **FAST)
    psk_bootstrap(config, f"coaps://127.0.0.1:{bs_port}", tmp_path / "bs.psk")
    agent = start_agent(config)
    wait_entry(agent, "wrong-psk")
    assert not bs.events("bootstrap-request")


def test_unreachable_silent_bootstrap_and_unreachable_management_server(start_peer, start_agent, tmp_path):
    """Three daemons at once: a bootstrap server whose port is closed (with a factory server to
    fall back to), a bootstrap server that never answers, a management server whose port is closed."""
    factory = start_peer("management_server")
    refused_dir, silent_dir, server_dir = (tmp_path / name for name in ("refused", "silent", "server"))
    for directory in (refused_dir, silent_dir, server_dir):
        directory.mkdir()
    closed = free_udp_port()
    refused = start_agent(write_config(refused_dir, bootstrap=f"coap://127.0.0.1:{closed}", bootstrap_on_every_start=True,
                                       servers={201: {"uri": f"coap://127.0.0.1:{factory.port}", "lifetime": 60}}),
                          name="refused")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent_socket:
        silent_socket.bind(("127.0.0.1", 0))  # bound, never read: no answer, no ICMP either
        silent = start_agent(write_config(silent_dir, bootstrap=f"coap://127.0.0.1:{silent_socket.getsockname()[1]}",
                                          max_retransmit=1), name="silent")
        unreachable = start_agent(write_config(server_dir, servers={101: {"uri": f"coap://127.0.0.1:{free_udp_port()}",
                                                                          "lifetime": 60}}), name="server")
        wait_entry(refused, "bootstrap-refused")
        wait_entry(refused, "fallback")
        factory.wait_event("register", ep="gw-e2e-1", timeout=10)
        wait_entry(silent, "bootstrap-timeout")
        wait_entry(unreachable, "registration-refused")


def test_no_tpm_at_the_configured_tcti(start_agent, tmp_path):
    with socket.socket() as closed:  # a TCP port nothing listens on (bound, not listening)
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        for name, tcti in (("swtpm", f"swtpm:host=127.0.0.1,port={port}"), ("device", f"device:{tmp_path}/no-tpmrm0")):
            directory = tmp_path / name
            directory.mkdir()
            config = write_config(directory, credential_store="tpm", tpm_tcti=tcti,
                                  servers={101: {"uri": f"coap://127.0.0.1:{free_udp_port()}"}})
            agent = start_agent(config, name=name)
            assert agent.popen.wait(timeout=20) == 1, agent.stderr()
            wait_entry(agent, f"no-tpm-{name}")


def test_sealed_secret_missing_or_from_another_tpm_and_a_plain_key_file(swtpm, procs, bin_dir, start_agent, tmp_path):
    """The bootstrap PSK sealed by ``lwm2m-agent factory`` on one swtpm; the daemon on a second
    swtpm (another TPM: the blob is refused), then its blob removed (the secret is missing), then
    a configuration with a key in a plain file on the TPM store (refused at start)."""
    second = start_swtpm(procs, tmp_path / "swtpm-b", name="swtpm-b")  # another TPM
    config = write_config(tmp_path, credential_store="tpm", tpm_tcti=swtpm, **FAST)
    factory = [bin_dir / "lwm2m-agent", "factory"]
    sealed = procs.run([*factory, "set-bootstrap", "--config", config, "--uri", f"coaps://127.0.0.1:{free_udp_port()}",
                        "--security-mode", "psk", "--psk-identity", PSK_BS[0], "--psk-key-stdin"],
                       timeout=30, input=PSK_BS[1].encode() + b"\n")
    assert sealed.returncode == 0, sealed.describe()
    # docs/security-model.md, "Files and sockets": the sealed store is owner-only.
    sealed_dir = tmp_path / "state" / "sealed"
    modes = {str(path.relative_to(tmp_path)): oct(path.stat().st_mode & 0o777)
             for path in [sealed_dir, *sealed_dir.rglob("*")]}
    assert modes and all(mode == (oct(0o700) if (tmp_path / path).is_dir() else oct(0o600))
                         for path, mode in modes.items()), modes

    other = tmp_path / "other.conf"
    other.write_text(config.read_text().replace(swtpm, second))
    agent = start_agent(other, name="other-tpm")
    wait_entry(agent, "foreign-blob")
    assert agent.stop() == 0

    blob = tmp_path / "state" / "sealed" / "factory" / "bootstrap" / "secret-key.blob"
    assert blob.is_file(), sorted(map(str, (tmp_path / "state").rglob("*")))
    blob.unlink()
    agent = start_agent(config, name="missing")
    wait_entry(agent, "missing-secret")
    assert agent.stop() == 0
    verify = procs.run([*factory, "verify", "--config", config], timeout=30)
    assert verify.returncode == 1, verify.describe()
    assert_entry_printed(verify.out + verify.err, "factory-verify-missing")

    (tmp_path / "bs.psk").write_text(PSK_BS[1] + "\n")
    plain = tmp_path / "plain.conf"
    plain.write_text(config.read_text())
    psk_bootstrap(plain, f"coaps://127.0.0.1:{free_udp_port()}", tmp_path / "bs.psk")
    (tmp_path / "state" / "factory.conf").unlink()
    agent = start_agent(plain, name="plain-key")
    assert agent.popen.wait(timeout=20) == 1, agent.stderr()
    wait_entry(agent, "secret-key-file-on-tpm")


def without_the_tss(procs, bin_dir, program: str, *args, name: str):
    """Starts ``program`` (lwm2m-agentd or lwm2m-agent) in a private mount namespace (``unshare
    -m``, as root) in which libtss2-esys.so.0 is an empty file: a damaged TPM software stack.
    dlopen fails there, and a program that linked the stack would not even start."""
    unshare = require_tool("unshare", "util-linux")
    if os.geteuid() != 0:
        skip_or_fail("mounting over libtss2-esys.so.0 in a private mount namespace needs root")
    cache = subprocess.run([shutil.which("ldconfig") or "/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout
    found = re.search(r"^\s*libtss2-esys\.so\.0 \([^)]*\) => (\S+)$", cache, re.M)
    if not found:
        skip_or_fail("libtss2-esys.so.0 is not installed (libtss2-esys-3.0.2-0)")
    script = f'mount --bind /dev/null "{found.group(1)}" && exec "$@"'
    return procs.start(name, [unshare, "-m", "sh", "-c", script, "sh", bin_dir / program, *args])


def test_tpm_software_stack_unavailable(swtpm, start_peer, procs, bin_dir, tmp_path):
    """The TPM software stack is loaded on first use: with libtss2-esys damaged, a daemon on the TPM
    store whose account is NoSec starts and registers; one whose bootstrap PSK is sealed fails each
    bootstrap with the one-line reason and keeps running; the factory tool says the same."""
    ms = start_peer("management_server")
    nosec = tmp_path / "nosec"
    nosec.mkdir()
    config = write_config(nosec, credential_store="tpm", tpm_tcti=swtpm,
                          servers={101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
    agent = without_the_tss(procs, bin_dir, "lwm2m-agentd", "--config", config, name="nosec")
    ms.wait_event("register", ep="gw-e2e-1", timeout=20)
    assert agent.stop() == 0, agent.stderr()

    config = write_config(tmp_path, credential_store="tpm", tpm_tcti=swtpm, **FAST)
    sealed = procs.run([bin_dir / "lwm2m-agent", "factory", "set-bootstrap", "--config", config,
                        "--uri", f"coaps://127.0.0.1:{free_udp_port()}", "--security-mode", "psk",
                        "--psk-identity", PSK_BS[0], "--psk-key-stdin"], timeout=30, input=PSK_BS[1].encode() + b"\n")
    assert sealed.returncode == 0, sealed.describe()
    agent = without_the_tss(procs, bin_dir, "lwm2m-agentd", "--config", config, name="psk")
    wait_entry(agent, "tss-unavailable")
    assert re.search(r"TPM software stack unavailable: /\S+/libtss2-esys\.so\.0: file too short, retry in",
                     agent.stderr()), agent.stderr()
    assert agent.alive()
    assert agent.stop() == 0, agent.stderr()

    verify = without_the_tss(procs, bin_dir, "lwm2m-agent", "factory", "verify", "--config", config, name="verify")
    assert verify.popen.wait(timeout=20) == 1, verify.stderr()
    assert f"TPM: {swtpm}: TPM software stack unavailable: " in verify.stderr(), verify.stderr()


def test_configuration_errors_and_status_without_a_daemon(procs, bin_dir, tmp_path):
    config = write_config(tmp_path, servers={101: {"uri": "coap://127.0.0.1:5683", "lifetim": 60}})
    started = procs.run([bin_dir / "lwm2m-agentd", "--config", config], timeout=20)
    assert started.returncode == 1, started.describe()
    assert_entry_printed(started.err, "config-unknown-key")

    config = write_config(tmp_path, credential_store="tpm", tpm_tcti="mssim:port=2321",
                          servers={101: {"uri": "coap://127.0.0.1:5683"}})
    started = procs.run([bin_dir / "lwm2m-agentd", "--config", config], timeout=20)
    assert started.returncode == 1, started.describe()
    assert_entry_printed(started.err, "config-bad-tcti")

    config = write_config(tmp_path, servers={101: {"uri": "coap://127.0.0.1:5683"}})
    status = procs.run([bin_dir / "lwm2m-agent", "status", "--config", config], timeout=20)
    assert status.returncode == 3 and not status.out, status.describe()
    assert_entry_printed(status.err, "status-not-running")



# MARK: - 3. The worked example ("An example: the bootstrap server is down")


def example_block(name: str) -> list[str]:
    """The lines of the code block after ``<!-- example: NAME -->`` on the page."""
    text = DOC.read_text()
    marker = text.find(f"<!-- example: {name} -->")
    assert marker >= 0, f"docs/troubleshooting.md has no example block {name!r}"
    block = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S).search(text, marker)
    return block.group(1).splitlines()


def example_regex(line: str) -> re.Pattern:
    """A line the page copied from a real run, as a regex for this run's: every number (a PID,
    a time, a port the substitution did not cover, a location) matches any number."""
    pieces = re.split(r"(?<![A-Za-z<])\d+(?![A-Za-z>])", line.strip())  # not lwm2m's 2, not a <6> priority
    return re.compile(r"\d+".join(re.escape(piece) for piece in pieces) + r"\Z")


def assert_example(actual: str, name: str, skip: tuple[str, ...] = ()) -> None:
    lines = [line.strip() for line in actual.splitlines()]
    for documented in example_block(name):
        if not documented.strip() or documented.strip().startswith(skip):
            continue
        regex = example_regex(documented)
        assert any(regex.match(line) for line in lines), (
            f"the page's example {name!r} shows a line this run did not print:\n  doc: {documented}\n--- run ---\n{actual}")


def test_the_worked_example_as_the_page_writes_it(start_peer, start_agent, procs, bin_dir, tmp_path):
    """The page's own agent.conf, with the only substitutions shown here: the management
    server's port, a closed port for the bootstrap server, the state directory."""
    ms = start_peer("management_server")
    closed = free_udp_port()
    substitutions = {"coap://127.0.0.1:35201": f"coap://127.0.0.1:{ms.port}",
                     "coap://127.0.0.1:5999": f"coap://127.0.0.1:{closed}",
                     "/tmp/trouble-demo/state": str(tmp_path / "state")}

    def substituted(text: str) -> str:
        for page, here in substitutions.items():
            text = text.replace(page, here)
        return text

    config = tmp_path / "agent.conf"
    config.write_text(substituted("\n".join(example_block("agent.conf")) + "\n"))
    agent = start_agent(config)
    agent.wait_for(r"server 201: registered at", timeout=15)
    status = procs.run([bin_dir / "lwm2m-agent", "status", "--config", config], timeout=20)
    assert status.returncode == 0, status.describe()
    print("\n" + status.out + agent.stderr())
    unsubstituted = {here: page for page, here in substitutions.items()}

    def as_on_the_page(text: str) -> str:
        for here, page in unsubstituted.items():
            text = text.replace(here, page)
        return text

    assert_example(as_on_the_page(status.out), "status", skip=("board:",))
    assert_example(as_on_the_page(agent.stderr()), "log", skip=("<5>lwm2m-agentd: board ",))
    assert agent.stop() == 0
    assert_example(agent.stderr(), "stopped")
    stopped = procs.run([bin_dir / "lwm2m-agent", "status", "--config", config], timeout=20)
    assert stopped.returncode == 3, stopped.describe()


if __name__ == "__main__":
    everything = collect_messages()
    shown = everything if "--all" in sys.argv else undocumented(everything, documented_lines())
    for message in shown:
        print(f"{message.source} [{message.kind}] {message.shown()}")
    print(f"{len(shown)} of {len(everything)} messages {'extracted' if '--all' in sys.argv else 'undocumented'}",
          file=sys.stderr)
    sys.exit(1 if shown and "--all" not in sys.argv else 0)
