"""The LwM2M client over DTLS end to end: ``lwm2m-agentd`` bootstraps over coaps and registers over
coaps at the provisioned server, against an independent DTLS server implementation — OpenSSL, as
the terminating relay dtls_relay.py in front of the aiocoap peer servers — with PSK and with
X.509 (a CA made here with the openssl CLI as seed 000 does: P-256 keys, CN = endpoint name,
PKCS#8 DER keys). Negative: a wrong bootstrap PSK fails the handshake fast and engages the
factory fallback.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from agentconfig import write_config

PSK_BS = ("gw-e2e-1-bs", "000102030405060708090a0b0c0d0e0f")
PSK_DM = ("gw-e2e-1", "f0e0d0c0b0a090807060504030201000")


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    """A CA, server certificates for bootstrap-server and lwm2m-server, and a client certificate
    with CN = the endpoint name (PKCS#8 DER key, DER certificate)."""
    directory = tmp_path_factory.mktemp("pki")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=30)

    openssl("ecparam", "-genkey", "-name", "prime256v1", "-out", "ca.key")
    openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=lwm2m-agent test CA", "-days", "30",
            "-out", "ca.pem")
    for name in ("bootstrap-server", "lwm2m-server", "gw-e2e-1"):
        openssl("ecparam", "-genkey", "-name", "prime256v1", "-out", f"{name}.key")
        openssl("req", "-new", "-key", f"{name}.key", "-subj", f"/CN={name}", "-out", f"{name}.csr")
        (directory / f"{name}.ext").write_text(f"subjectAltName=DNS:{name}\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "30", "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}.pem")
        openssl("x509", "-in", f"{name}.pem", "-outform", "DER", "-out", f"{name}.der")
        openssl("pkcs8", "-topk8", "-nocrypt", "-in", f"{name}.key", "-outform", "DER", "-out", f"{name}.key.der")
    openssl("x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der")
    return directory


def dtls_config(tmp_path: Path, bootstrap: dict, **agent) -> Path:
    config = write_config(tmp_path, dtls_timeout_min=0.2, dtls_timeout_max=1, **agent)
    text = config.read_text() + "\n[bootstrap]\n" + "".join(f"{k} = {v}\n" for k, v in bootstrap.items())
    config.write_text(text)
    return config


def test_psk_bootstrap_then_psk_registration(start_peer, start_agent, start_dtls_relay, tmp_path):
    ms = start_peer("management_server")
    ms_port = start_dtls_relay(ms.port, "--psk", f"{PSK_DM[0]}:{PSK_DM[1]}")
    bs = start_peer("bootstrap_server", "--server-uri", f"coaps://127.0.0.1:{ms_port}", "--lifetime", "60",
                    "--psk-identity", PSK_DM[0], "--psk-key", PSK_DM[1])
    bs_port = start_dtls_relay(bs.port, "--psk", f"{PSK_BS[0]}:{PSK_BS[1]}")
    (tmp_path / "bs.psk").write_text(PSK_BS[1] + "\n")
    config = dtls_config(tmp_path, {"uri": f"coaps://127.0.0.1:{bs_port}", "security-mode": "psk",
                                    "psk-identity": PSK_BS[0], "secret-key-file": tmp_path / "bs.psk"})
    agent = start_agent(config)
    assert bs.wait_event("finish")["code"] == "2.04"
    ms.wait_event("register", ep="gw-e2e-1")
    reply = ms.command("read", ep="gw-e2e-1", path="/3/0", accept=112)
    assert reply["code"] == "2.05" and reply["value"]["/3/0/17"] == "Gateway"
    log = agent.stderr()
    assert "bootstrap#1: DTLS handshake done" in log and "PSK" in log
    assert "server 101: registered" in log
    # The key the bootstrap server wrote never reaches the log or the state directory.
    assert PSK_DM[1] not in log.lower()
    for path in (p for p in (tmp_path / "state").rglob("*") if p.is_file()):
        assert bytes.fromhex(PSK_DM[1]) not in path.read_bytes()


def test_x509_bootstrap_then_x509_registration(start_peer, start_agent, start_dtls_relay, pki, tmp_path):
    ms = start_peer("management_server")
    ms_port = start_dtls_relay(ms.port, "--cert", pki / "lwm2m-server.pem", "--key", pki / "lwm2m-server.key",
                               "--ca", pki / "ca.pem")
    plan = tmp_path / "plan.json"
    def hexfile(name: str) -> dict:
        return {"hex": (pki / name).read_bytes().hex()}

    plan.write_text(json.dumps([
        {"op": "delete", "path": "/0/1"},
        {"op": "delete", "path": "/1"},
        {"op": "write", "path": "/0/1", "format": "tlv", "value": {
            "0": f"coaps://127.0.0.1:{ms_port}", "1": False, "2": 2, "3": hexfile("gw-e2e-1.der"),
            "4": hexfile("ca.der"), "5": hexfile("gw-e2e-1.key.der"), "10": 101, "14": "lwm2m-server", "15": 2}},
        {"op": "write", "path": "/1/1", "format": "tlv", "value": {"0": 101, "1": 60, "6": True, "7": "U"}},
        {"op": "finish"},
    ]))
    bs = start_peer("bootstrap_server", "--plan", str(plan))
    bs_port = start_dtls_relay(bs.port, "--cert", pki / "bootstrap-server.pem", "--key", pki / "bootstrap-server.key",
                               "--ca", pki / "ca.pem")
    config = dtls_config(tmp_path, {
        "uri": f"coaps://127.0.0.1:{bs_port}", "security-mode": "certificate",
        "client-certificate-file": pki / "gw-e2e-1.pem", "secret-key-file": pki / "gw-e2e-1.key.der",
        "server-certificate-file": pki / "ca.pem", "certificate-usage": 2, "sni": "bootstrap-server"})
    agent = start_agent(config)
    assert bs.wait_event("finish", timeout=20)["code"] == "2.04"
    ms.wait_event("register", ep="gw-e2e-1", timeout=20)
    assert ms.command("read", ep="gw-e2e-1", path="/3/0/17", accept=0)["code"] == "2.05"
    log = agent.stderr()
    assert "ECDHE-ECDSA" in log, log


def test_wrong_bootstrap_psk_fails_fast_and_engages_the_factory_fallback(start_peer, start_agent, start_dtls_relay,
                                                                        tmp_path):
    factory = start_peer("management_server")
    bs = start_peer("bootstrap_server")
    bs_port = start_dtls_relay(bs.port, "--psk", f"{PSK_BS[0]}:{PSK_BS[1]}")
    (tmp_path / "bs.psk").write_text("ff" * 16 + "\n")
    config = dtls_config(tmp_path, {"uri": f"coaps://127.0.0.1:{bs_port}", "security-mode": "psk",
                                    "psk-identity": PSK_BS[0], "secret-key-file": tmp_path / "bs.psk"},
                         bootstrap_on_every_start=True)
    text = config.read_text() + f"\n[server 201]\nuri = coap://127.0.0.1:{factory.port}\n"
    config.write_text(text)
    agent = start_agent(config)
    match = agent.wait_for(r"bootstrap failed: cannot connect: DTLS: ([^\n]*)", timeout=15)
    assert "PSK" in match.group(1) or "psk" in match.group(1), match.group(0)
    agent.wait_for("factory-bootstrap fallback engaged: servers 201")
    factory.wait_event("register", ep="gw-e2e-1")
    assert not bs.events("bootstrap-request")


def test_an_unusable_mbedtls_fails_the_dtls_connection_not_the_start(procs, bin_dir, start_peer, tmp_path):
    """mbedTLS is dlopen'ed by the first DTLS session, not linked (issue 17): a daemon whose
    libmbedtls.so.14 is not mbedTLS (a stand-in without its symbols, found first through
    LD_LIBRARY_PATH) still starts and registers its NoSec server; its coaps server fails to
    connect, naming the library and the first missing function, and is retried — no crash."""
    stand_in = tmp_path / "lib"
    stand_in.mkdir()
    (tmp_path / "empty.c").write_text("int not_mbedtls(void) { return 0; }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-Wl,-soname,libmbedtls.so.14", "-o", stand_in / "libmbedtls.so.14",
                    tmp_path / "empty.c"], check=True, capture_output=True, timeout=60)
    ms = start_peer("management_server")
    (tmp_path / "dm.psk").write_text(PSK_DM[1] + "\n")
    config = write_config(tmp_path, servers={
        101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60},
        102: {"uri": "coaps://127.0.0.1:9", "security-mode": "psk", "psk-identity": PSK_DM[0],
              "secret-key-file": tmp_path / "dm.psk"}})
    agent = procs.start("agentd", ["env", f"LD_LIBRARY_PATH={stand_in}", bin_dir / "lwm2m-agentd", "--config", config])
    ms.wait_event("register", ep="gw-e2e-1")
    agent.wait_for(r"server 102: registration failed: cannot connect: unsupported mbedTLS: libmbedtls\.so\.14 lacks "
                   r"mbedtls_ecdsa_write_signature, .*mbedtls_eckey_info, retry in", timeout=15)
    maps = Path(f"/proc/{agent.pid}/maps").read_text()
    assert str(stand_in / "libmbedtls.so.14") in maps  # the stand-in was loaded, by the coaps account only
    assert agent.popen.poll() is None
    assert agent.stop() == 0
