"""Our CLI over DTLS (`lwm2m-agent coap get coaps://...`) against libcoap's coap-server-openssl
with a pre-shared key: the key comes from a file (hex or raw), never from the command line."""

from __future__ import annotations


import pytest

from conftest import start_libcoap_dtls_server

PSK = b"interop-psk-0123"


@pytest.fixture
def dtls_server(procs):
    _server, port = start_libcoap_dtls_server(procs, PSK, "-v", "4")
    return port + 1


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
