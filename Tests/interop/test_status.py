"""`lwm2m-agent status` against the running ``lwm2m-agentd`` (issue 15, and issue 14's download
progress): the daemon answers on its UNIX control socket (owner-only, in the state directory by
default), in each state these peers can produce:

- registered (the aiocoap management server), with an observation, the board and the credential
  store; the socket's permissions; no secret (the bootstrap PSK, raw or hex) in any answer;
  garbage, an oversized line and a silent client on the socket → the daemon keeps serving;
- failing with back-off (the server's port closed: last error, next attempt);
- bootstrap in progress (a bootstrap server that keeps its session open);
- the factory fallback (bootstrap port closed, a factory server registered);
- a firmware download in progress (a slow fw_coap_server.py: bytes/total growing, progress logged
  every 10 %, never per block; an HTTP pull stalled mid-way: the Package URI shown and logged
  without its user information);
- no daemon (never started, or killed leaving a stale socket) → exit 3; a restart replaces the
  stale socket;
- the TPM store (a private swtpm) after a bootstrap server provisioned a PSK: TPM reachable, SRK
  present, the key in no answer.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import sys
import time
from pathlib import Path

from agentconfig import write_config
from conftest import HERE, free_udp_port
from test_factory import mapped_tss, swtpm  # noqa: F401 (swtpm: a fixture, a private swtpm)

EP = "gw-e2e-1"
PSK_IDENTITY = "gw-e2e-1-bs"
PSK_KEY = "8f1e2d3c4b5a69788796a5b4c3d2e1f0"
NOT_RUNNING = 3


def status(procs, bin_dir, config: Path, *args, expect: int | None = 0):
    run = procs.run([bin_dir / "lwm2m-agent", "status", "--config", config, *args], timeout=15)
    if expect is not None:
        assert run.returncode == expect, run.describe()
    return run


def status_json(procs, bin_dir, config: Path) -> dict:
    return json.loads(status(procs, bin_dir, config, "--json").out)


def wait_status(procs, bin_dir, config: Path, predicate, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        document = status_json(procs, bin_dir, config)
        if predicate(document):
            return document
        assert time.monotonic() < deadline, json.dumps(document, indent=1)
        time.sleep(0.1)


def assert_no_secret(*texts: str) -> None:
    raw = bytes.fromhex(PSK_KEY)
    for text in texts:
        data = text.encode(errors="surrogateescape")
        for form in (raw, PSK_KEY.lower().encode(), PSK_KEY.upper().encode()):
            assert form not in data, f"a form of the PSK crossed the control socket: {text[:400]}"


def with_unused_psk_bootstrap(config: Path, tmp_path: Path) -> None:
    """Adds a PSK bootstrap account (never contacted: the factory server registers) whose key
    the daemon holds in memory: the secret the answers are scanned for."""
    (tmp_path / "bs.psk").write_text(PSK_KEY + "\n")
    closed = free_udp_port()
    config.write_text(config.read_text() + f"\n[bootstrap]\nuri = coaps://127.0.0.1:{closed}\nsecurity-mode = psk\n"
                      f"psk-identity = {PSK_IDENTITY}\nsecret-key-file = {tmp_path / 'bs.psk'}\n")


def raw_request(path: Path, payload: bytes, read: bool = True, timeout: float = 5.0) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout)
        client.connect(str(path))
        try:
            client.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the daemon refused a line too long and closed: its answer may still be there
        if not read:
            return b""
        chunks = []
        while True:
            try:
                chunk = client.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


# MARK: - Registered


def test_registered_status_text_and_json_socket_permissions_no_secret_and_hostile_clients(
        start_peer, start_agent, procs, bin_dir, tmp_path):
    ms = start_peer("management_server")
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
    with_unused_psk_bootstrap(config, tmp_path)
    agent = start_agent(config)
    registration = ms.wait_event("register", ep=EP)
    reply = ms.command("observe", ep=EP, path="/3/0/13", accept="text")
    assert reply["ok"] and reply["observing"], reply

    text = status(procs, bin_dir, config).out
    print(text)
    assert re.search(r"^lwm2m-agentd \S+ \(pid %d\), up .*: registered$" % agent.pid, text, re.M), text
    assert re.search(r"^server 101: +coap://127\.0\.0\.1:%d: registered at %s for \d+ s, lifetime 60 s, "
                     r"next Update in \d+ s \(at \d\d:\d\d:\d\d UTC\)$" % (ms.port, registration["location"]), text, re.M), text
    assert re.search(r"^ +observing /3/0/13$", text, re.M), text
    assert re.search(r"^credentials: +development store", text, re.M), text
    assert re.search(r"^board: +\S+", text, re.M), text
    assert re.search(r"^firmware: +Idle; Update Result 0 \(initial\)$", text, re.M), text
    assert re.search(r"^bootstrap: +coaps://127\.0\.0\.1:\d+: idle$", text, re.M), text

    document = status_json(procs, bin_dir, config)
    assert document["status_version"] == 1 and document["summary"] == "registered", document
    assert document["daemon"]["pid"] == agent.pid and document["daemon"]["endpoint"] == EP
    server = document["servers"][0]
    assert server["ssid"] == 101 and server["state"] == "registered" and server["location"] == registration["location"]
    assert server["lifetime"] == 60 and 0 < server["next_update_in_s"] <= 60, server
    assert server["observations"] == ["/3/0/13"], server
    assert server["failing"] is False and server["last_error"] is None
    assert document["credentials"]["store"] == "development" and document["credentials"]["tpm_reachable"] is None
    assert document["firmware"]["state"] == 0 and document["firmware"]["download"] is None
    assert document["bootstrap"]["state"] == "idle" and document["fallback"] is False

    # The socket: owner-only, in an owner-only directory, at the default path.
    control = tmp_path / "state" / "control"
    info = os.lstat(control)
    assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600, oct(info.st_mode)
    assert info.st_uid == os.geteuid()
    assert stat.S_IMODE(os.stat(control.parent).st_mode) == 0o700
    # Another user cannot even reach it.
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(65534)
            os.setuid(65534)
            raw_request(control, b"status\n")
            os._exit(1)
        except PermissionError:
            os._exit(0)
        except BaseException:
            os._exit(2)
    assert os.waitpid(pid, 0)[1] == 0, "user 65534 reached the control socket"

    # Hostile clients: garbage without a newline far over the limit, binary junk with one, an
    # unknown request, a silent client holding a connection, one that leaves without reading.
    assert raw_request(control, os.urandom(64 * 1024).replace(b"\n", b"x")) in (b"", b"error: request too long\n")
    assert raw_request(control, b"\x00\xff\x1b[2J\n").startswith(b"error: unknown request")
    assert raw_request(control, b"status please\n").startswith(b"error: unknown request")
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.connect(str(control))
    raw_request(control, b"status json\n", read=False)
    started = time.monotonic()
    answer = json.loads(raw_request(control, b"status json\n"))  # served while the silent one waits
    assert time.monotonic() - started < 2, "a silent client stalled the daemon's loop"
    assert answer["servers"][0]["state"] == "registered"
    silent.settimeout(6)
    assert silent.recv(100) == b"", "the silent client was not dropped"
    silent.close()
    assert agent.alive()
    # The loop still serves the management server.
    reply = ms.command("read", ep=EP, path="/3/0/13", accept="text")
    assert reply["ok"] and reply["code"] == "2.05", reply
    assert_no_secret(text, json.dumps(document), *(run.out + run.err for run in procs.runs))

    # SIGTERM: the socket goes with the daemon; status then says it is not running.
    assert agent.stop() == 0
    assert not control.exists()
    gone = status(procs, bin_dir, config, expect=NOT_RUNNING)
    assert "not running" in gone.err, gone.describe()


# MARK: - Failing, bootstrap, fallback


def test_failing_registration_shows_the_last_error_and_the_next_attempt(start_agent, procs, bin_dir, tmp_path):
    closed = free_udp_port()  # nothing listens: ICMP port unreachable, the attempt fails in seconds
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{closed}", "lifetime": 60,
                                                   "retry-timer": 30}})
    agent = start_agent(config)
    agent.wait_for(r"server 101: registration failed", timeout=15)
    document = wait_status(procs, bin_dir, config, lambda d: d["servers"][0]["state"] == "waiting")
    server = document["servers"][0]
    assert server["failing"] is True, server
    assert "refused the connection" in server["last_error"], server
    assert 0 < server["next_attempt_in_s"] <= 30, server
    assert server["next_attempt_at"] == document["daemon"]["time"] + server["next_attempt_in_s"]
    assert document["summary"] == "failing", document
    text = status(procs, bin_dir, config).out
    print(text)
    assert re.search(r"^server 101: +coap://127\.0\.0\.1:%d: failing \(waiting\); next attempt in \d+ s "
                     r"\(at \d\d:\d\d:\d\d UTC\)" % closed, text, re.M), text
    assert re.search(r"^ +last error \(\d+ s ago\): cannot connect: .*refused the connection", text, re.M), text


def test_bootstrap_in_progress(start_peer, start_agent, procs, bin_dir, tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"op": "delete", "path": "/"}, {"op": "wait", "seconds": 30}, {"op": "finish"}]))
    bs = start_peer("bootstrap_server", "--plan", plan)
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}", bootstrap_session_timeout=60)
    start_agent(config)
    bs.wait_event("response", op="delete")
    document = status_json(procs, bin_dir, config)
    assert document["summary"] == "bootstrapping", document
    assert document["bootstrap"]["state"] == "in-session" and document["bootstrap"]["in_progress"] is True, document
    assert document["bootstrap"]["uri"] == f"coap://127.0.0.1:{bs.port}"
    assert document["servers"] == []
    text = status(procs, bin_dir, config).out
    assert re.search(r"^bootstrap: +coap://127\.0\.0\.1:%d: in progress: the bootstrap server is configuring the agent$"
                     % bs.port, text, re.M), text


def test_factory_fallback(start_peer, start_agent, procs, bin_dir, tmp_path):
    ms = start_peer("management_server")
    closed = free_udp_port()
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{closed}", bootstrap_on_every_start=True,
                          bootstrap_retry_initial=20, bootstrap_retry_maximum=40,
                          servers={201: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
    agent = start_agent(config)
    agent.wait_for(r"factory-bootstrap fallback engaged: servers 201", timeout=15)
    ms.wait_event("register", ep=EP)
    document = wait_status(procs, bin_dir, config, lambda d: d["servers"] and d["servers"][0]["state"] == "registered")
    assert document["summary"] == "fallback" and document["fallback"] is True, document
    bootstrap = document["bootstrap"]
    assert bootstrap["state"] == "backing-off" and bootstrap["failures"] >= 1, bootstrap
    assert "refused the connection" in bootstrap["last_error"], bootstrap
    assert 0 < bootstrap["next_attempt_in_s"] <= 60, bootstrap
    text = status(procs, bin_dir, config).out
    print(text)
    assert re.search(r"^fallback: +engaged", text, re.M), text
    assert re.search(r"^bootstrap: +coap://127\.0\.0\.1:%d: failing: \d+ failures?; next attempt in \d+ s" % closed,
                     text, re.M), text


# MARK: - Firmware download progress


def firmware_agent(start_peer, start_agent, tmp_path, **agent_settings):
    ms = start_peer("management_server")
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}},
                          **agent_settings)
    hook = tmp_path / "hook.sh"
    hook.write_text("#!/bin/sh\nexit 0\n")
    hook.chmod(0o755)
    config.write_text(config.read_text() + f"\n[firmware]\ninstaller = script\nscript = {hook}\n")
    agent = start_agent(config)
    ms.wait_event("register", ep=EP)
    return ms, agent, config


def test_firmware_download_progress_over_coap(start_peer, start_agent, procs, bin_dir, tmp_path):
    size = 200 * 1024
    image = tmp_path / "fw.bin"
    image.write_bytes(os.urandom(size))
    port = free_udp_port()
    server = procs.start("fw-coap", [sys.executable, HERE / "fw_coap_server.py", port, image, "--block-delay", "0.03"])
    server.wait_for(r"ready 127\.0\.0\.1", stream="stdout", timeout=20)
    ms, agent, config = firmware_agent(start_peer, start_agent, tmp_path, log_level="info")
    uri = f"coap://127.0.0.1:{port}/fw"
    reply = ms.command("write", ep=EP, path="/5/0/1", value=uri, format="text")
    assert reply["ok"] and reply["code"] == "2.04", reply

    first = wait_status(procs, bin_dir, config, lambda d: (d["firmware"]["download"] or {}).get("bytes", 0) > 0)
    download = first["firmware"]["download"]
    assert first["firmware"]["state"] == 1 and first["firmware"]["state_name"] == "Downloading"
    assert download["delivery"] == "pull" and download["uri"] == uri and download["total"] == size, download
    later = wait_status(procs, bin_dir, config,
                        lambda d: (d["firmware"]["download"] or {}).get("bytes", 0) > download["bytes"] + 4096)
    assert later["firmware"]["download"]["percent"] == later["firmware"]["download"]["bytes"] * 100 // size
    text = status(procs, bin_dir, config).out
    print(text)
    assert re.search(r"^firmware: +Downloading \(pull %s\): \d+ of %d bytes \(\d+ %%\); Update Result 0 \(initial\)$"
                     % (re.escape(uri), size), text, re.M), text

    done = wait_status(procs, bin_dir, config, lambda d: d["firmware"]["state"] == 2, timeout=40)
    assert done["firmware"]["download"] is None and done["firmware"]["update_result"] == 0
    # Progress in the log every 10 %, not per block (200 blocks).
    percents = [int(p) for p in re.findall(r"firmware: downloaded \d+ of %d bytes \((\d+) %%\)" % size, agent.stderr())]
    print(f"progress lines: {percents}")
    assert percents[-1] == 100 and len(percents) <= 11, percents
    assert sorted({p // 10 for p in percents}) == list(range(1, 11)), percents


def test_firmware_http_pull_stalled_shows_progress_without_credentials(start_peer, start_agent, procs, bin_dir, tmp_path):
    size = 1 << 20
    image = tmp_path / "fw.bin"
    image.write_bytes(os.urandom(size))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = procs.start("fw-http", [sys.executable, HERE / "fw_http_server.py", port, image, "--stall-after", "400000"])
    server.wait_for(r"ready 127\.0\.0\.1", stream="stdout", timeout=20)
    ms, agent, config = firmware_agent(start_peer, start_agent, tmp_path)
    # User information in the Package URI (fw_http_server.py ignores it): never shown, never logged.
    reply = ms.command("write", ep=EP, path="/5/0/1", value=f"http://fwuser:hunter2@127.0.0.1:{port}/fw", format="text")
    assert reply["ok"] and reply["code"] == "2.04", reply
    document = wait_status(procs, bin_dir, config, lambda d: (d["firmware"]["download"] or {}).get("bytes") == 400000)
    download = document["firmware"]["download"]
    assert download == {"delivery": "pull", "uri": f"http://127.0.0.1:{port}/fw", "bytes": 400000, "total": size,
                        "percent": 38}, download
    text = status(procs, bin_dir, config).out
    assert f"Downloading (pull http://127.0.0.1:{port}/fw): 400000 of {size} bytes (38 %)" in text, text
    for run in procs.runs:
        assert "hunter2" not in run.out, run.describe()
    agent.wait_for(r"firmware: downloaded \d+ of %d bytes \(3\d %%\)" % size)
    assert f"firmware: downloading http://127.0.0.1:{port}/fw" in agent.stderr()
    assert "hunter2" not in agent.stderr(), "the Package URI's password reached the log"


# MARK: - No daemon, stale socket


def test_no_daemon_exits_3_and_a_stale_socket_is_replaced(start_peer, start_agent, procs, bin_dir, tmp_path):
    ms = start_peer("management_server")
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
    never = status(procs, bin_dir, config, expect=NOT_RUNNING)
    assert "lwm2m-agentd is not running" in never.err, never.describe()
    assert never.out == ""
    never_json = status(procs, bin_dir, config, "--json", expect=NOT_RUNNING)
    assert never_json.out == ""

    agent = start_agent(config)
    ms.wait_event("register", ep=EP)
    status(procs, bin_dir, config)
    os.kill(agent.pid, signal.SIGKILL)  # a crash: the socket stays behind
    agent.popen.wait(timeout=5)
    control = tmp_path / "state" / "control"
    assert stat.S_ISSOCK(os.lstat(control).st_mode)
    stale = status(procs, bin_dir, config, expect=NOT_RUNNING)
    assert "not running" in stale.err, stale.describe()

    again = start_agent(config, name="agentd-restarted")
    ms.wait_event("register", ep=EP, count=2)
    document = status_json(procs, bin_dir, config)
    assert document["daemon"]["pid"] == again.pid and document["servers"][0]["state"] == "registered"
    # A second daemon's socket path that something answers on is never taken over.
    assert again.alive()

    # Usage errors are 2.
    assert status(procs, bin_dir, config, "--bogus", expect=2).returncode == 2


# MARK: - TPM credential store


def test_tpm_store_after_a_bootstrap_server_sealed_a_psk(swtpm, start_peer, start_agent, procs, bin_dir, tmp_path):
    """The bootstrap server provisions a PSK account; the daemon seals the key in the TPM and
    unseals it for the DTLS handshake: the status says the TPM answers and the SRK is there, and
    the key crosses the socket in no form."""
    key = "5e1ec7ed0badc0ffee00112233445566"
    closed = free_udp_port()  # the PSK server is not there: the handshake is refused, the key was used
    bs = start_peer("bootstrap_server", "--server-uri", f"coaps://127.0.0.1:{closed}", "--lifetime", "60",
                    "--psk-identity", "gw-e2e-1", "--psk-key", key)
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}", credential_store="tpm", tpm_tcti=swtpm,
                          dtls_timeout_min=0.2, dtls_timeout_max=1)
    agent = start_agent(config)
    assert bs.wait_event("finish", timeout=20)["code"] == "2.04"
    agent.wait_for(r"secret \S+ stored in", timeout=10)
    document = wait_status(procs, bin_dir, config, lambda d: d["servers"] and d["servers"][0]["last_error"] is not None,
                           timeout=20)
    credentials = document["credentials"]
    assert credentials["store"] == "tpm" and credentials["tcti"] == swtpm, credentials
    assert credentials["tpm_reachable"] is True and credentials["srk_present"] is True, credentials
    assert credentials["seals_unseals_ok"] >= 2, credentials  # the seal, then the unseal for the handshake
    text = status(procs, bin_dir, config).out
    print(text)
    assert re.search(r"^credentials: +TPM \(%s\): reachable, SRK present \(last (seal|unseal) \d+ s ago\)$"
                     % re.escape(swtpm), text, re.M), text
    raw = bytes.fromhex(key)
    for run in procs.runs:
        for form in (raw, key.encode(), key.upper().encode()):
            assert form not in run.stdout and form not in run.stderr, run.describe()


def test_tpm_store_with_only_nosec_accounts_never_loads_the_tpm_stack(swtpm, start_peer, start_agent, procs, bin_dir,
                                                                      tmp_path):
    """The footprint promise (issue 17): the TPM software stack (tss2 and the libcrypto behind it)
    is dlopen'ed by the first seal or unseal, and mbedTLS by the first DTLS session, signature or
    digest, so a daemon on the TPM store whose only account is NoSec registers without mapping
    either; the status reports the TPM without loading it."""
    ms = start_peer("management_server")
    config = write_config(tmp_path, credential_store="tpm", tpm_tcti=swtpm,
                          servers={101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
    agent = start_agent(config)
    ms.wait_event("register", ep=EP)
    agent.wait_for("server 101: registered", timeout=10)
    assert "credentials sealed by the TPM" in agent.stderr()
    assert mapped_tss(agent.pid) == [], mapped_tss(agent.pid)
    assert "/libmbed" not in Path(f"/proc/{agent.pid}/maps").read_text()

    text = status(procs, bin_dir, config).out
    assert re.search(r"^credentials: +TPM \(%s\): transport checked at start; no seal or unseal since "
                     r"\(SRK not checked\)$" % re.escape(swtpm), text, re.M), text
    credentials = status_json(procs, bin_dir, config)["credentials"]
    assert credentials["tpm_reachable"] is True and credentials["srk_present"] is None, credentials
    assert credentials["seals_unseals_ok"] == 0, credentials
    reply = ms.command("read", ep=EP, path="/3/0/13", accept="text")  # a served request: still nothing loaded
    assert reply["code"] == "2.05", reply
    assert mapped_tss(agent.pid) == [], mapped_tss(agent.pid)
    assert "/libmbed" not in Path(f"/proc/{agent.pid}/maps").read_text()
    assert agent.stop() == 0


# MARK: - Another path; the peer check


def test_a_configured_socket_path_and_only_the_daemons_user_is_answered(start_peer, start_agent, procs, bin_dir,
                                                                        tmp_path):
    """control-socket elsewhere (a fresh directory is made 0700); and when the permissions are
    widened by hand, another user reaches the socket but is refused by the peer check."""
    import shutil
    import tempfile
    ms = start_peer("management_server")
    base = Path(tempfile.mkdtemp(prefix="lwm2m-status-"))
    try:
        os.chmod(base, 0o755)
        control = base / "run" / "control"
        config = write_config(tmp_path, control_socket=control,
                              servers={101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
        agent = start_agent(config)
        ms.wait_event("register", ep=EP)
        assert status_json(procs, bin_dir, config)["servers"][0]["state"] == "registered"
        assert stat.S_IMODE(os.stat(control.parent).st_mode) == 0o700
        assert stat.S_IMODE(os.lstat(control).st_mode) == 0o600
        assert not (tmp_path / "state" / "control").exists()
        # Widened by hand: user 65534 can connect now, and is refused by SO_PEERCRED.
        os.chmod(control.parent, 0o755)
        os.chmod(control, 0o666)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read_end)
                os.setgid(65534)
                os.setuid(65534)
                os.write(write_end, raw_request(control, b"status json\n"))
            except BaseException as error:
                os.write(write_end, repr(error).encode())
            finally:
                os._exit(0)
        os.close(write_end)
        answer = b""
        while chunk := os.read(read_end, 65536):
            answer += chunk
        os.close(read_end)
        os.waitpid(pid, 0)
        assert answer == b"error: permission denied\n", answer
        agent.wait_for(r"control: a process of user 65534 asked: refused")
        assert status_json(procs, bin_dir, config)["servers"][0]["state"] == "registered"
        assert agent.stop() == 0
        assert not control.exists()
    finally:
        shutil.rmtree(base, ignore_errors=True)
