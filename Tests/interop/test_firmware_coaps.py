"""Firmware pull over coaps:// (issue 14, h-coaps): the real ``lwm2m-agentd`` bootstrapped by the
aiocoap bootstrap server with a management account (NoSec, the aiocoap management server) and a
**download-server account**: a Security instance (/0/2) for libcoap's ``coap-server-openssl``
with a PSK and no Server instance (LwM2M 1.1). The management server writes a coaps Package URI;
the agent takes the credentials of the Security instance whose URI names the same host and port
(docs/firmware-update.md, "Credentials of a coaps download"), downloads over its own DTLS
(Block2 from the libcoap server, a resource made by a Block1 PUT), and Update installs the exact
bytes (the script hook of test_firmware_agent.py).

- a coaps pull through the bootstrapped account → Downloaded → Update → the hook got exactly the
  image → Update Result 1; Protocol Support lists coaps; the PSK is in no log line;
- no Security instance for the URI's host and port → Update Result 7 at once with a log line
  naming the missing account, and not one datagram goes to that host (no identity leaks);
- the account's PSK is wrong → the DTLS handshake fails → Update Result 4; nothing installed;
- an X.509 download account (client certificate and key, the CA as trust anchor) against
  OpenSSL (dtls_relay.py, client certificates required) in front of the aiocoap file server;
- the CLI (`lwm2m-agent firmware fetch coaps://…`) with --psk-identity/--psk-key-file against
  the same libcoap server, and with a wrong key.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from agentconfig import write_config
from conftest import require_tool, start_libcoap_dtls_server
from test_firmware_agent import (EP, hook_script, image_bytes, read_int, start_coap_server, update_and_check, wait_state,
                                 write_uri)
from test_lwm2m_dtls import pki  # noqa: F401  (the module's CA and certificates, a fixture)

PSK = b"coaps-download-psk-0123"  # what coap-server-openssl -k holds
WRONG_PSK = b"not-the-download-psk-99"
IDENTITY = "gw-e2e-1-fw"


def start_coaps_image_server(procs, image: Path, key: bytes = PSK) -> int:
    """coap-server-openssl with PSK ``key`` (any identity), dynamic resources (-d): the image is
    PUT over plain CoAP with Block1 (coap-client-notls -b 1024) and served over DTLS with Block2
    on the next port. Returns the coaps port."""
    client_bin = require_tool("coap-client-notls", "apt install libcoap3-bin")
    _server, port = start_libcoap_dtls_server(procs, key, "-d", "4", "-v", "4")
    put = procs.run([client_bin, "-m", "put", "-b", "1024", "-f", image, f"coap://127.0.0.1:{port}/fw"], timeout=60)
    assert put.returncode == 0, put.describe()
    return port + 1


def psk_account(uri: str, key: bytes) -> dict:
    """A Security instance's resources: PSK mode, IDENTITY and ``key``."""
    return {"0": uri, "1": False, "2": 0, "3": IDENTITY, "5": {"hex": key.hex()}}


def bootstrap_plan(tmp_path: Path, ms_port: int, downloads: dict[int, dict]) -> Path:
    """Delete /, the management account (/0/1 + /1/1, NoSec), and for each instance in
    ``downloads`` a Security instance with those resources and a Short Server ID of its own, no
    Server instance: a download server's account."""
    steps = [
        {"op": "delete", "path": "/"},
        {"op": "write", "path": "/0/1", "format": "tlv",
         "value": {"0": f"coap://127.0.0.1:{ms_port}", "1": False, "2": 3, "10": 101}},
    ]
    for instance, resources in downloads.items():
        steps.append({"op": "write", "path": f"/0/{instance}", "format": "tlv",
                      "value": {**resources, "10": 100 + instance}})
    steps += [
        {"op": "write", "path": "/1/1", "format": "tlv", "value": {"0": 101, "1": 60, "6": True, "7": "U"}},
        {"op": "finish"},
    ]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(steps))
    return plan


def start_bootstrapped(start_peer, start_agent, tmp_path, downloads):
    """The management server, the bootstrap server with ``bootstrap_plan``, and the agent with
    only a bootstrap account and the script hook; returns (ms, agent, hook record)."""
    ms = start_peer("management_server")
    bs = start_peer("bootstrap_server", "--plan", str(bootstrap_plan(tmp_path, ms.port, downloads)))
    hook, record = hook_script(tmp_path)
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}", dtls_timeout_min=0.2,
                          dtls_timeout_max=0.8)
    with config.open("a") as out:
        out.write(f"\n[firmware]\ninstaller = script\nscript = {hook}\n")
    agent = start_agent(config)
    assert bs.wait_event("finish", timeout=20)["code"] == "2.04"
    ms.wait_event("register", ep=EP, timeout=20)
    return ms, agent, record


def assert_no_secret_in(text: str, *keys: bytes) -> None:
    for key in keys:
        assert key.decode() not in text and key.hex() not in text and key.hex().upper() not in text


def test_coaps_pull_with_the_download_servers_security_instance_installs_the_exact_bytes(
        start_peer, start_agent, procs, tmp_path):
    image = image_bytes(256 << 10, seed=41)
    (tmp_path / "fw.bin").write_bytes(image)
    port = start_coaps_image_server(procs, tmp_path / "fw.bin")
    uri = f"coaps://127.0.0.1:{port}/fw"
    ms, agent, record = start_bootstrapped(start_peer, start_agent, tmp_path, {2: psk_account(uri, PSK)})
    protocols = ms.command("read", ep=EP, path="/5/0/8", accept="senml-json")
    assert protocols["ok"] and 1 in protocols["value"].values(), protocols  # coaps
    reply = write_uri(ms, uri)
    assert reply["ok"] and reply["code"] == "2.04", reply
    wait_state(ms, 2, timeout=60)
    assert read_int(ms, "/5/0/5") == 0
    update_and_check(ms, record, image)
    log = agent.stderr()
    assert "firmware: coaps download with the credentials of Security instance /0/2" in log, log[-3000:]
    assert "firmware: download complete" in log
    assert_no_secret_in(log, PSK)
    for path in (p for p in (tmp_path / "state").rglob("*") if p.is_file()):
        assert PSK not in path.read_bytes() and PSK.hex().encode() not in path.read_bytes(), path


def test_coaps_pull_without_matching_credentials_or_with_a_wrong_psk_fails_with_the_right_result(
        start_peer, start_agent, procs, tmp_path):
    image = image_bytes(64 << 10, seed=42)
    (tmp_path / "fw.bin").write_bytes(image)
    port = start_coaps_image_server(procs, tmp_path / "fw.bin")
    # A host:port with no Security instance: a socket of ours, to see whether anything arrives.
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger.bind(("127.0.0.1", 0))
    stranger.setblocking(False)
    stranger_port = stranger.getsockname()[1]
    try:
        ms, agent, record = start_bootstrapped(start_peer, start_agent, tmp_path,
                                               {2: psk_account(f"coaps://127.0.0.1:{port}", WRONG_PSK)})
        # No account for that port (the account of /0/2 is for another port of the same host).
        reply = write_uri(ms, f"coaps://127.0.0.1:{stranger_port}/fw")
        assert reply["ok"] and reply["code"] == "2.04", reply
        wait_state(ms, 0, timeout=10)
        assert read_int(ms, "/5/0/5") == 7
        agent.wait_for(rf"firmware: download failed at byte 0: no DTLS credentials: no Security instance \(/0\) has the Server "
                       rf"URI coaps://127\.0\.0\.1:{stranger_port} .*\(Update Result 7\)", timeout=5)
        time.sleep(0.3)
        with pytest.raises(BlockingIOError):
            stranger.recvfrom(2048)  # not one datagram: no handshake, no identity sent there

        # The account for the server, but its PSK is wrong: the handshake fails → connection lost (4).
        reply = write_uri(ms, f"coaps://127.0.0.1:{port}/fw")
        assert reply["ok"] and reply["code"] == "2.04", reply
        wait_state(ms, 0, timeout=30)
        assert read_int(ms, "/5/0/5") == 4
        log = agent.stderr()
        assert "firmware: coaps download with the credentials of Security instance /0/2" in log, log[-3000:]
        assert "Update Result 4" in log, log[-3000:]
        assert not record.exists()
        assert not (tmp_path / "state" / "firmware" / "image").exists()
        assert_no_secret_in(log, PSK, WRONG_PSK)
    finally:
        stranger.close()


def test_coaps_pull_with_an_x509_download_account(start_peer, start_agent, start_dtls_relay, procs, pki, tmp_path):
    """The download server is OpenSSL (dtls_relay.py) in front of the aiocoap file server,
    requiring a client certificate from the test CA; the account is X.509 with the CA as trust
    anchor (Certificate Usage 2) and SNI naming the server's certificate."""
    image = image_bytes(128 << 10, seed=44)
    (tmp_path / "fw.bin").write_bytes(image)
    relay = start_dtls_relay(start_coap_server(procs, tmp_path / "fw.bin"), "--cert", pki / "lwm2m-server.pem",
                             "--key", pki / "lwm2m-server.key", "--ca", pki / "ca.pem")
    uri = f"coaps://127.0.0.1:{relay}/fw"
    private_key = (pki / "gw-e2e-1.key.der").read_bytes()
    account = {"0": uri, "1": False, "2": 2, "3": {"hex": (pki / "gw-e2e-1.der").read_bytes().hex()},
               "4": {"hex": (pki / "ca.der").read_bytes().hex()}, "5": {"hex": private_key.hex()},
               "14": "lwm2m-server", "15": 2}
    ms, agent, record = start_bootstrapped(start_peer, start_agent, tmp_path, {3: account})
    reply = write_uri(ms, uri)
    assert reply["ok"] and reply["code"] == "2.04", reply
    wait_state(ms, 2, timeout=60)
    update_and_check(ms, record, image)
    log = agent.stderr()
    assert "firmware: coaps download with the credentials of Security instance /0/3" in log, log[-3000:]
    assert private_key.hex() not in log.lower()


def test_cli_fetch_coaps_with_a_psk_from_a_file(procs, bin_dir, tmp_path):
    image = image_bytes(128 << 10, seed=43)
    (tmp_path / "fw.bin").write_bytes(image)
    port = start_coaps_image_server(procs, tmp_path / "fw.bin")
    (tmp_path / "good.psk").write_bytes(PSK)
    cli = bin_dir / "lwm2m-agent"
    run = procs.run([cli, "firmware", "fetch", f"coaps://127.0.0.1:{port}/fw", "--output", tmp_path / "out.bin",
                     "--psk-identity", IDENTITY, "--psk-key-file", tmp_path / "good.psk"], timeout=60)
    assert run.returncode == 0, run.describe()
    assert (tmp_path / "out.bin").read_bytes() == image
    (tmp_path / "wrong.psk").write_bytes(WRONG_PSK)
    run = procs.run([cli, "firmware", "fetch", f"coaps://127.0.0.1:{port}/fw", "--output", tmp_path / "wrong.bin",
                     "--psk-identity", IDENTITY, "--psk-key-file", tmp_path / "wrong.psk",
                     "--dtls-min-timeout", "0.2", "--dtls-max-timeout", "0.8"], timeout=60)
    assert run.returncode in (1, 3), run.describe()
    assert "TLS" in run.err, run.describe()
    assert (tmp_path / "wrong.bin").stat().st_size == 0
    assert_no_secret_in(run.err + run.out, PSK, WRONG_PSK)
