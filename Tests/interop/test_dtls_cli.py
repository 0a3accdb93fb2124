"""Our CLI over DTLS (`lwm2m-agent coap get coaps://...`) against libcoap's coap-server-openssl
with a pre-shared key: the key comes from a file (hex or raw), never from the command line."""

from __future__ import annotations

import shutil
import socket
import time

import pytest

from conftest import coap_ping, free_udp_port

PSK = b"interop-psk-0123"


@pytest.fixture
def dtls_server(procs):
    binary = shutil.which("coap-server-openssl")
    if binary is None:
        pytest.fail("coap-server-openssl not found (apt-get install libcoap3-bin)", pytrace=False)
    for _attempt in range(5):
        port = free_udp_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        proc = procs.start("coap-server-openssl", [binary, "-A", "127.0.0.1", "-p", port, "-k", PSK.decode(), "-v", "4"])
        deadline = time.monotonic() + 10
        while proc.alive() and time.monotonic() < deadline:
            if coap_ping("127.0.0.1", port):
                return port + 1
            time.sleep(0.05)
        proc.kill()
    pytest.fail("coap-server-openssl did not start")


@pytest.mark.parametrize("encoding", ["hex", "raw"])
def test_psk_get(dtls_server, agent, tmp_path, encoding):
    key_file = tmp_path / "device.psk"
    key_file.write_bytes(PSK.hex().encode() + b"\n" if encoding == "hex" else PSK)
    run = agent("get", f"coaps://127.0.0.1:{dtls_server}/", "--psk-identity", "interop-device",
                "--psk-key-file", key_file, "--verbose", "--timeout", "10", timeout=20)
    assert run.returncode == 0, run.describe()
    assert run.out.startswith("This is a test server made with libcoap"), run.describe()
    assert "DTLS TLS-PSK-WITH-AES-128-CCM-8: handshake" in run.err, run.describe()
    assert PSK.hex() not in run.err and PSK.decode() not in run.err


def test_wrong_psk_fails_fast_with_clear_message(dtls_server, agent, tmp_path):
    key_file = tmp_path / "wrong.psk"
    key_file.write_bytes(b"not-the-right-key")
    run = agent("get", f"coaps://127.0.0.1:{dtls_server}/", "--psk-identity", "interop-device",
                "--psk-key-file", key_file, "--dtls-min-timeout", "0.2", "--dtls-max-timeout", "0.8", timeout=20)
    assert run.returncode == 3, run.describe()
    assert "wrong PSK" in run.err, run.describe()
    assert run.elapsed < 5, run.describe()
    assert "not-the-right-key" not in run.err


def test_coaps_without_credentials_is_a_usage_error(agent):
    run = agent("get", "coaps://127.0.0.1:5684/", timeout=20)
    assert run.returncode == 2, run.describe()
    assert "--psk-identity" in run.err
