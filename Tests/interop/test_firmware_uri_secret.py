"""A Package URI's credentials never reach the disk in clear: the firmware state file holds the
URI without its user information and query, the whole URI is sealed by the TPM (a private
swtpm), and a download resumed after kill -9 still authenticates with them.

The HTTP server (fw_http_server.py --basic-auth) answers 401 to any request without the
credentials, so the resumed download finishing proves the restarted agent unsealed them.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from agentconfig import write_config
from conftest import HERE
from test_factory import swtpm  # noqa: F401 (a fixture: a private swtpm)
from test_firmware_agent import EP, hook_script, image_bytes, start_http_server, update_and_check, wait_state, write_uri

PASSWORD = "hunter2-s3cr3t"
TOKEN = "sig=0badc0ffee5ecret"


def tpm_agent_config(tmp_path: Path, port: int, tcti: str, hook: Path) -> Path:
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{port}", "lifetime": 60}},
                          credential_store="tpm", tpm_tcti=tcti)
    with config.open("a") as out:
        out.write(f"\n[firmware]\ninstaller = script\nscript = {hook}\n")
    return config


def assert_nothing_in_clear(state: Path) -> None:
    for path in state.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (PASSWORD, TOKEN):
                assert secret.encode() not in data, f"{secret!r} in clear in {path}"


def test_package_uri_credentials_are_sealed_and_survive_a_kill(swtpm, start_peer, start_agent, procs, tmp_path):
    image = image_bytes(2 << 20, seed=11)
    (tmp_path / "fw.bin").write_bytes(image)
    port = start_http_server(procs, tmp_path / "fw.bin", "--basic-auth", f"fwuser:{PASSWORD}",
                             "--stall-after", "700000")
    ms = start_peer("management_server")
    hook, record = hook_script(tmp_path)
    config = tpm_agent_config(tmp_path, ms.port, swtpm, hook)
    agent = start_agent(config)
    ms.wait_event("register", ep=EP)
    uri = f"http://fwuser:{PASSWORD}@127.0.0.1:{port}/fw?{TOKEN}"
    assert write_uri(ms, uri)["code"] == "2.04"
    agent.wait_for(r"firmware: downloaded \d+ of \d+ bytes \(3\d %\)", timeout=30)
    state = tmp_path / "state"
    saved = (state / "firmware" / "state").read_text()
    assert f"127.0.0.1%3A{port}" in saved or f"127.0.0.1:{port}" in saved, saved
    assert_nothing_in_clear(state)
    assert PASSWORD not in agent.stderr() and TOKEN not in agent.stderr()

    sealed = list((state / "sealed").rglob("package-uri*"))
    assert sealed, list(state.rglob("*"))  # the whole URI is sealed by the TPM

    os.kill(agent.pid, signal.SIGKILL)
    agent.popen.wait(timeout=10)
    assert_nothing_in_clear(state)
    # The same server without the stall (and still demanding the password) for the resume.
    for proc in procs.background:
        if proc.name == "fw-http":
            proc.stop()
    server = start_http_server_on(procs, port, tmp_path / "fw.bin", "--basic-auth", f"fwuser:{PASSWORD}")

    again = start_agent(config, name="agentd-2")
    resumed = again.wait_for(r"firmware: downloading \S+ from byte (\d+)", timeout=30)
    assert int(resumed.group(1)) >= 700000 // 2
    ms.wait_event("register", ep=EP, count=2)
    wait_state(ms, 2, timeout=60)
    update_and_check(ms, record, image)
    assert_nothing_in_clear(state)
    assert PASSWORD not in again.stderr() and TOKEN not in again.stderr()
    # Served with the credentials on every request after the restart: no 401 was needed.
    served = [line for line in server.stderr().splitlines() if line.startswith("GET")]
    assert served and all("status=401" not in line for line in served), served
    # The update done, the object still holds the URI (Read /5/0/1): so does the seal. An empty
    # Package URI (the spec's reset) drops both.
    assert list((state / "sealed").rglob("package-uri*"))
    assert write_uri(ms, "")["code"] == "2.04"
    deadline = time.monotonic() + 5
    while list((state / "sealed").rglob("package-uri*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not list((state / "sealed").rglob("package-uri*")), list(state.rglob("*"))


def start_http_server_on(procs, port: int, image: Path, *extra):
    proc = procs.start("fw-http-2", [sys.executable, HERE / "fw_http_server.py", port, image, *extra])
    proc.wait_for(r"ready 127\.0\.0\.1", stream="stdout", timeout=20)
    return proc
