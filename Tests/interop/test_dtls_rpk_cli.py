"""Issue 16: raw public keys (RFC 7250) from the command line — `lwm2m-agent coap get coaps://…
--rpk-key KEY --server-public-key SPKI` (the GnuTLS backend) against libcoap's
`coap-server-gnutls -M`: a GET succeeds with the pinned server key, a wrong pin fails the handshake
with a clear message, and no key bytes reach the output."""

from __future__ import annotations

import subprocess

import pytest

from conftest import start_libcoap_server


def openssl(*args):
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


@pytest.fixture
def keys(tmp_path):
    """P-256 key pairs `server`, `other`, `client`: NAME.key (PEM), NAME.rpk.pem (public + private
    PEM, for coap-server-gnutls -M), NAME.spki.der / NAME.pub.pem (SubjectPublicKeyInfo)."""
    for name in ("server", "other", "client"):
        key = tmp_path / f"{name}.key"
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
        openssl("pkey", "-in", key, "-pubout", "-outform", "DER", "-out", tmp_path / f"{name}.spki.der")
        openssl("pkey", "-in", key, "-pubout", "-out", tmp_path / f"{name}.pub.pem")
        (tmp_path / f"{name}.rpk.pem").write_bytes((tmp_path / f"{name}.pub.pem").read_bytes() + key.read_bytes())
    return tmp_path


@pytest.fixture
def rpk_server(procs, keys):
    """coap-server-gnutls serving DTLS with the raw public key `server`: returns its DTLS port."""
    _proc, port = start_libcoap_server(procs, "coap-server-gnutls", "-v", "7", "-M", keys / "server.rpk.pem")
    return port + 1


@pytest.mark.parametrize("encoding", ["der", "pem"])
def test_rpk_get(rpk_server, agent, keys, encoding):
    server_key = keys / ("server.spki.der" if encoding == "der" else "server.pub.pem")
    run = agent("get", f"coaps://127.0.0.1:{rpk_server}/", "--rpk-key", keys / "client.key",
                "--server-public-key", server_key, "--verbose", "--timeout", "10", timeout=20)
    assert run.returncode == 0, run.describe()
    assert run.out.startswith("This is a test server made with libcoap"), run.describe()
    assert "DTLS TLS_ECDHE_ECDSA_AES_128_CCM_8: handshake" in run.err, run.describe()
    private_pem = (keys / "client.key").read_text()
    body = "".join(private_pem.strip().splitlines()[1:-1])
    assert body[:40] not in run.err and body[:40] not in run.out


def test_wrong_server_key_fails_with_clear_message(rpk_server, agent, keys):
    run = agent("get", f"coaps://127.0.0.1:{rpk_server}/", "--rpk-key", keys / "client.key",
                "--server-public-key", keys / "other.spki.der", "--dtls-min-timeout", "0.2",
                "--dtls-max-timeout", "0.8", timeout=20)
    assert run.returncode == 3, run.describe()
    assert "server public key does not match /0/x/4" in run.err, run.describe()
    assert run.elapsed < 5, run.describe()


def test_rpk_key_without_server_key_is_a_usage_error(agent, keys):
    run = agent("get", "coaps://127.0.0.1:5684/", "--rpk-key", keys / "client.key", timeout=20)
    assert run.returncode == 2, run.describe()
    assert "--server-public-key" in run.err, run.describe()


def test_firmware_fetch_over_rpk(rpk_server, procs, bin_dir, keys, tmp_path):
    """The firmware download's coaps client runs on the same session factory: RPK goes to GnuTLS."""
    out = tmp_path / "fetched.bin"
    run = procs.run([bin_dir / "lwm2m-agent", "firmware", "fetch", f"coaps://127.0.0.1:{rpk_server}/", "--output", out,
                     "--rpk-key", keys / "client.key", "--server-public-key", keys / "server.spki.der"], timeout=60)
    assert run.returncode == 0, run.describe()
    assert out.read_bytes().startswith(b"This is a test server made with libcoap"), out.read_bytes()[:80]
    wrong = tmp_path / "wrong.bin"
    run = procs.run([bin_dir / "lwm2m-agent", "firmware", "fetch", f"coaps://127.0.0.1:{rpk_server}/", "--output", wrong,
                     "--rpk-key", keys / "client.key", "--server-public-key", keys / "other.spki.der",
                     "--dtls-min-timeout", "0.2", "--dtls-max-timeout", "0.8"], timeout=60)
    assert run.returncode in (1, 3), run.describe()
    assert "does not match /0/x/4" in run.err, run.describe()
