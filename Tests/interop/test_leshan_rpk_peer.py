"""Eclipse Leshan as the Raw Public Key (RFC 7250, security mode 1) peer of seed 004, proven with
independent RPK clients before the agent has one: libcoap's ``coap-client-gnutls -M`` (Debian
libcoap3-bin 4.3.1), GnuTLS's ``gnutls-cli --udp --rawpkkeyfile`` (gnutls-bin), and, as neither
pins a server key, rpk_pin_client.py (GnuTLS through ctypes, the pin checked in the handshake).

The shared harness (leshan_server.py) runs one more CoAPS endpoint per server, dm-coaps-rpk and
bs-coaps-rpk, that presents the servers' own EC P-256 key (``leshan-rpk``, made with openssl) and
nothing else. What is checked here:

- both endpoints present exactly ``server_spki()`` (and not the X.509 certificate's key), also
  with LwM2M's mandatory RPK suite (ECDHE-ECDSA-AES-128-CCM-8); a client pinning that key gets
  answers, one pinning another key ends the handshake itself;
- a client key registered for the endpoint (``add_rpk_client``) completes the handshake and gets
  CoAP answers: 4.04 on an unknown path, 2.01 for a Register (Leshan sees the key: its SHA-256 is
  the registration's ``rpk-sha256``), 2.04 for a Bootstrap-Request with an RPK configuration;
- a key registered nowhere, or with the other server only, fails the handshake (bad_certificate,
  no CoAP answer, nothing registered), the default "store" trust;
- under Leshan's own trust ("all") the same keys complete the handshake and Leshan refuses at the
  LwM2M level: Register 4.03, Bootstrap-Request 4.00 "Unauthorized", a registered key under another
  endpoint name 4.03;
- ``bsconfig mode=rpk`` builds the account seed 004's bootstrap server writes (/0/x/3 the client's
  SPKI, /0/x/4 the server's, /0/x/5 the client's PKCS#8 key), and Leshan refuses a malformed one.

Skips (fails under CI=true) without Leshan, Java, coap-client-gnutls or gnutls-cli.
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import json
import re
import sys
from pathlib import Path

import pytest

from conftest import HERE, require_tool, skip_or_fail
from leshan_agent import prepare_rpk_bootstrap
from leshan_server import LeshanError, ep, issue_certificate, leshan, make_rpk_key, spki_sha256  # noqa: F401 (fixtures)

COAP_CLIENT_GNUTLS = "coap-client-gnutls"
LIBCOAP_HINT = "apt-get install libcoap3-bin"
GNUTLS_HINT = "apt-get install gnutls-bin"
# A client that offers and accepts raw public keys only (no X.509 fallback).
RPK_ONLY = "NORMAL:-CTYPE-ALL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK"
BAD_CERTIFICATE_ALERT = "Alert '42'"  # libcoap's words for TLS alert 42, bad_certificate
PIN_CLIENT = HERE / "rpk_pin_client.py"


@pytest.fixture
def coap_client_gnutls() -> str:
    return require_tool(COAP_CLIENT_GNUTLS, LIBCOAP_HINT)


@pytest.fixture
def gnutls_cli() -> str:
    return require_tool("gnutls-cli", GNUTLS_HINT)


@pytest.fixture
def libgnutls() -> None:
    """rpk_pin_client.py loads libgnutls.so.30 (GnuTLS >= 3.6.6 for raw public keys)."""
    try:
        ctypes.CDLL(ctypes.util.find_library("gnutls") or "libgnutls.so.30").gnutls_certificate_set_rawpk_key_file
    except (OSError, AttributeError) as error:
        skip_or_fail(f"libgnutls with raw public keys not loadable ({error}; apt-get install libgnutls30)")


def coap_rpk(procs, client: str, key: dict[str, Path], uri: str, method: str = "get", payload: str | None = None,
             content_format: int | None = None):
    """One request from coap-client-gnutls with the raw public key ``key`` (its SEC 1 PEM):
    (the response code such as "4.04", or None when none came; the run)."""
    argv = [client, "-M", key["pem"], "-m", method, "-B", "8", "-v", "6"]
    if payload is not None:
        argv += ["-e", payload]
    if content_format is not None:
        argv += ["-t", str(content_format)]
    run = procs.run(argv + [uri], timeout=30)
    # -v 6 logs every PDU; the answer is the ACK (piggybacked) or a separate CON/NON response.
    codes = re.findall(r"t:(?:ACK|CON|NON) c:([245]\.\d\d)", run.out + run.err)
    return (codes[-1] if codes else None), run


def presented_key(procs, gnutls_cli: str, key: dict[str, Path], uri: str, priority: str = RPK_ONLY
                  ) -> tuple[bytes, str]:
    """The raw public key (SPKI DER) the server at ``uri`` presents to gnutls-cli (RPK both ways,
    ``key`` as the client's), and gnutls-cli's output. --insecure: gnutls-cli has no way to
    verify a raw public key itself (its TOFU store fails on one: "ASN1 parser: Error in TAG"), so
    the test compares the key it prints."""
    host, port = re.match(r"coaps://([^:/]+):(\d+)", uri).groups()
    run = procs.run([gnutls_cli, "--udp", "--insecure", "-V", "--priority", priority,
                     "--rawpkkeyfile", key["key.p8.pem"], "--rawpkfile", key["spki.pem"], "-p", port, host],
                    timeout=30, input=b"")
    text = run.out + run.err
    assert "Handshake was completed" in text and "Raw Public Key" in text, run.describe()
    match = re.search(r"-----BEGIN PUBLIC KEY-----(.*?)-----END PUBLIC KEY-----", text, re.S)
    assert match, run.describe()
    return base64.b64decode("".join(match.group(1).split())), text


def handshakes(leshan, since: int, digest: str) -> list[dict]:
    return [e for e in leshan.events(kind="rpk-handshake", since=since) if e["spki-sha256"] == digest]


@pytest.fixture
def client_key(tmp_path, ep) -> dict[str, Path]:
    return make_rpk_key(tmp_path / "keys", ep)


# MARK: - The server's key


@pytest.mark.parametrize("server", ["dm", "bs"])
def test_the_rpk_endpoint_presents_exactly_the_servers_raw_public_key(leshan, procs, gnutls_cli, client_key, ep,
                                                                     server):
    leshan.add_rpk_client(ep, client_key["spki.der"].read_bytes(), who=(server,))
    spki, text = presented_key(procs, gnutls_cli, client_key, leshan.rpk_uri(bootstrap=server == "bs"))
    assert spki == leshan.server_spki(), text
    # ... which is not the key of the X.509 identity the other CoAPS endpoints have (a pin on
    # either key tells the two apart), nor the client's own.
    x509 = procs.run(["openssl", "x509", "-in", leshan.pki / "leshan-server.pem", "-noout", "-pubkey"], timeout=30)
    x509_spki = base64.b64decode("".join(x509.out.split("-----")[2].split()))
    assert spki != x509_spki and spki != client_key["spki.der"].read_bytes()
    assert "(DTLS1.2-Raw Public Key)" in text and "ECDHE" in text, text


@pytest.mark.parametrize("server", ["dm", "bs"])
def test_the_rpk_endpoint_speaks_lwm2ms_mandatory_rpk_cipher_suite(leshan, procs, gnutls_cli, client_key, ep, server):
    """LwM2M 1.1 (transport, DTLS with raw public keys) mandates
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8: a client offering only that suite gets it."""
    leshan.add_rpk_client(ep, client_key["spki.der"].read_bytes(), who=(server,))
    spki, text = presented_key(procs, gnutls_cli, client_key, leshan.rpk_uri(bootstrap=server == "bs"),
                               priority="NORMAL:-CIPHER-ALL:+AES-128-CCM-8:-CTYPE-ALL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK")
    assert spki == leshan.server_spki(), text
    assert "(DTLS1.2-Raw Public Key)-(ECDHE-SECP256R1)-(ECDSA-SHA256)-(AES-128-CCM-8)" in text, text


def test_server_spki_hash_is_the_sha256_of_the_der(leshan, procs):
    """What seed 004's out-of-band hash means here: SHA-256 over the SubjectPublicKeyInfo DER,
    as ``openssl pkey -pubout -outform DER | openssl dgst -sha256`` prints it."""
    key = leshan.server_rpk()
    run = procs.run(["sh", "-c", f"openssl pkey -in '{key['pem']}' -pubout -outform DER | openssl dgst -sha256 -r"],
                    timeout=30)
    assert run.returncode == 0, run.describe()
    assert run.out.split()[0] == spki_sha256(leshan.server_spki()), run.describe()
    assert len(leshan.server_spki()) == 91  # a P-256 SPKI: 26 bytes of algorithm header + the 65-byte point


@pytest.mark.parametrize("server", ["dm", "bs"])
def test_a_client_pinning_the_server_key_connects_and_one_pinning_another_key_does_not(leshan, procs, libgnutls,
                                                                                      client_key, ep, tmp_path,
                                                                                      server):
    """rpk_pin_client.py (GnuTLS through ctypes) checks the key the server presents during the
    handshake, as /0/x/4 asks: the right pin gets a CoAP answer, another key (the harness's X.509
    key, a fresh one) ends the handshake before the client sends its own key or any request."""
    leshan.add_rpk_client(ep, client_key["spki.der"].read_bytes(), who=(server,))
    uri = leshan.rpk_uri(bootstrap=server == "bs") + "/no-such-path"
    reply, run = pin_client(procs, client_key, uri, leshan.server_rpk()["spki.der"])
    assert reply["handshake"] == "ok" and re.fullmatch(r"4\.0[45]", reply["code"] or ""), run.describe()
    assert reply["server-spki-sha256"] == spki_sha256(leshan.server_spki()), reply

    procs.run(["openssl", "x509", "-in", leshan.pki / "leshan-server.pem", "-noout", "-pubkey", "-out",
               tmp_path / "x509.spki.pem"], timeout=30)
    procs.run(["openssl", "pkey", "-pubin", "-in", tmp_path / "x509.spki.pem", "-outform", "DER", "-out",
               tmp_path / "x509.spki.der"], timeout=30)
    for wrong in (tmp_path / "x509.spki.der", make_rpk_key(tmp_path / "keys", "someone-else")["spki.der"]):
        mark = leshan.output_mark()
        reply, run = pin_client(procs, client_key, uri, wrong)
        assert reply["handshake"] != "ok" and reply["code"] is None, run.describe()
        assert "certificate" in reply["handshake"].lower(), reply
        assert run.returncode == 2, run.describe()
        # The key it saw was Leshan's; Leshan saw no request.
        assert reply["server-spki-sha256"] == spki_sha256(leshan.server_spki()), reply
        with open(leshan.proc.stdout_path, "rb") as f:
            f.seek(mark)
            assert not re.search(rb"^MSG \S+-coaps-rpk <- ", f.read(), re.M)


def pin_client(procs, key: dict[str, Path], uri: str, pin: Path) -> tuple[dict, object]:
    run = procs.run([sys.executable, PIN_CLIENT, "--key", key["key.p8.pem"], "--pub", key["spki.pem"], "--pin", pin,
                     uri], timeout=60)
    assert run.out.strip(), run.describe()
    return json.loads(run.out.strip().splitlines()[-1]), run


# MARK: - A registered client key


def test_a_registered_client_key_gets_answers_from_the_lwm2m_server(leshan, procs, coap_client_gnutls, client_key, ep):
    since = leshan.mark()
    # The control API's own forms of the key: PEM text here (hex and base64 also do).
    reply = leshan.call("rpk", who="dm", ep=ep, spki=client_key["spki.pem"].read_text())
    digest = spki_sha256(client_key["spki.der"].read_bytes())
    assert reply == {"ok": True, "spki-sha256": digest}, reply
    code, run = coap_rpk(procs, coap_client_gnutls, client_key, leshan.rpk_uri() + "/no-such-path")
    assert code == "4.04", run.describe()
    accepted = handshakes(leshan, since, digest)
    assert accepted and all(e["accepted"] and e["server"] == "dm" and e["ep"] == ep for e in accepted), accepted

    # A Register over the same key: Leshan authenticates the endpoint by it.
    code, run = coap_rpk(procs, coap_client_gnutls, client_key, leshan.rpk_uri() + f"/rd?ep={ep}&lt=60&lwm2m=1.1&b=U",
                         method="post", payload="</1/0>,</3/0>", content_format=40)
    assert code == "2.01", run.describe()
    registration = leshan.wait_event("registered", ep, since=since)
    assert registration["rpk-sha256"] == digest, registration
    assert registration["identity"].startswith("Identity rpk="), registration
    code, run = coap_rpk(procs, coap_client_gnutls, client_key, leshan.rpk_uri() + f"/rd/{registration['id']}",
                         method="delete")
    assert code == "2.02", run.describe()
    leshan.wait_event("unregistered", ep, since=since)


def test_a_registered_client_key_bootstraps_with_an_rpk_configuration(leshan, procs, coap_client_gnutls, client_key,
                                                                     ep):
    since = leshan.mark()
    # The key as PEM, as `lwm2m-agent factory --public-key-out` writes it.
    digest = leshan.add_rpk_client(ep, client_key["spki.pem"].read_bytes(), who=("bs",))
    assert digest == spki_sha256(client_key["spki.der"].read_bytes())
    reply = leshan.call("bsconfig", ep=ep, uri=leshan.rpk_uri(), mode="rpk", cert=client_key["spki.der"],
                        pkey=client_key["key.der"])
    assert reply["ok"], reply
    code, run = coap_rpk(procs, coap_client_gnutls, client_key, leshan.rpk_uri(bootstrap=True) + f"/bs?ep={ep}",
                         method="post")
    assert code == "2.04", run.describe()
    initiated = leshan.wait_event("bs-initiated", ep, since=since)
    assert initiated["rpk-sha256"] == digest, initiated
    leshan.wait_event("bs-authorized", ep, since=since)
    assert all(e["accepted"] and e["server"] == "bs" for e in handshakes(leshan, since, digest))


# MARK: - An unknown client key


@pytest.mark.parametrize("registered_with", ["nobody", "the-other-server"])
@pytest.mark.parametrize("server", ["dm", "bs"])
def test_an_unregistered_client_key_fails_the_handshake(leshan, procs, coap_client_gnutls, client_key, ep, server,
                                                       registered_with):
    since = leshan.mark()
    if registered_with == "the-other-server":
        leshan.add_rpk_client(ep, client_key["spki.der"].read_bytes(), who=("dm" if server == "bs" else "bs",))
    path = f"/bs?ep={ep}" if server == "bs" else f"/rd?ep={ep}&lt=60&lwm2m=1.1&b=U"
    code, run = coap_rpk(procs, coap_client_gnutls, client_key, leshan.rpk_uri(bootstrap=server == "bs") + path,
                         method="post", payload="</1/0>,</3/0>" if server == "dm" else None)
    assert code is None, run.describe()
    assert BAD_CERTIFICATE_ALERT in run.err + run.out, run.describe()
    refused = handshakes(leshan, since, spki_sha256(client_key["spki.der"].read_bytes()))
    assert refused and all(not e["accepted"] and e["server"] == server and e["ep"] is None for e in refused), refused
    assert not [e for e in leshan.events(ep, since=since) if e["kind"] in ("registered", "bs-initiated")]
    assert leshan.client(ep) is None


def test_a_registered_key_under_another_endpoint_name_is_refused_by_register(leshan, procs, coap_client_gnutls,
                                                                          client_key, ep):
    """The handshake knows the key (it is ``ep``'s); Register decides by the endpoint name."""
    since = leshan.mark()
    leshan.add_rpk_client(ep, client_key["spki.der"].read_bytes(), who=("dm",))
    code, run = coap_rpk(procs, coap_client_gnutls, client_key,
                         leshan.rpk_uri() + f"/rd?ep={ep}-other&lt=60&lwm2m=1.1&b=U", method="post",
                         payload="</1/0>,</3/0>", content_format=40)
    assert code == "4.03", run.describe()
    assert all(e["accepted"] for e in handshakes(leshan, since, spki_sha256(client_key["spki.der"].read_bytes())))
    assert leshan.client(ep + "-other") is None


def test_an_x509_client_cannot_use_an_rpk_endpoint(leshan, procs, coap_client_gnutls, ep):
    """The RPK endpoints offer the RawPublicKey certificate type only: a client with a certificate
    of the harness's own CA (which the X.509 endpoint accepts) gets a handshake_failure alert
    there, no answer."""
    client = issue_certificate(leshan.pki, ep)
    leshan.call("x509", who="dm", ep=ep)
    argv = [coap_client_gnutls, "-c", client["pem"], "-j", client["key"], "-C", leshan.pki / "ca.pem", "-n",
            "-m", "get", "-B", "8", "-v", "6"]
    run = procs.run(argv + [leshan.rpk_uri() + "/no-such-path"], timeout=30)
    assert not re.search(r"t:ACK c:[245]\.\d\d", run.out + run.err), run.describe()
    assert "Alert '40'" in run.out + run.err, run.describe()  # handshake_failure: no common certificate type
    # The same client on the X.509 endpoint: answered (the negative above is not a broken client).
    run = procs.run(argv + [leshan.dm_uri(secure=True) + "/no-such-path"], timeout=30)
    assert re.search(r"t:ACK c:4\.04", run.out + run.err), run.describe()


def test_under_leshans_own_trust_unknown_keys_are_refused_at_the_lwm2m_level(leshan, procs, coap_client_gnutls,
                                                                             client_key, ep, tmp_path):
    """Leshan by itself completes a handshake with any raw public key and decides with its
    security store: the error a client then sees is a CoAP one."""
    since = leshan.mark()
    stranger = make_rpk_key(tmp_path / "keys", "stranger")
    leshan.add_rpk_client(ep, client_key["spki.der"].read_bytes())
    register = "/rd?lt=60&lwm2m=1.1&b=U&ep="
    with leshan.rpk_trust("all"):
        code, run = coap_rpk(procs, coap_client_gnutls, stranger, leshan.rpk_uri() + register + ep, method="post",
                             payload="</1/0>,</3/0>", content_format=40)
        assert code == "4.03", run.describe()
        code, run = coap_rpk(procs, coap_client_gnutls, stranger, leshan.rpk_uri(bootstrap=True) + f"/bs?ep={ep}",
                             method="post")
        assert code == "4.00" and "Unauthorized" in run.out + run.err, run.describe()
        # A registered key under another endpoint name.
        code, run = coap_rpk(procs, coap_client_gnutls, client_key, leshan.rpk_uri() + register + ep + "-other",
                             method="post", payload="</1/0>,</3/0>", content_format=40)
        assert code == "4.03", run.describe()
    accepted = handshakes(leshan, since, spki_sha256(stranger["spki.der"].read_bytes()))
    assert accepted and all(e["accepted"] and e["trust"] == "all" for e in accepted), accepted
    assert leshan.client(ep) is None and leshan.client(ep + "-other") is None
    # Back to "store": the stranger's handshake fails again.
    code, run = coap_rpk(procs, coap_client_gnutls, stranger, leshan.rpk_uri() + "/no-such-path")
    assert code is None and BAD_CERTIFICATE_ALERT in run.err + run.out, run.describe()


# MARK: - The account the bootstrap server writes


def test_bsconfig_rpk_builds_seed_004s_management_account(leshan, client_key, ep, tmp_path):
    reply = leshan.call("bsconfig", ep=ep, uri=leshan.rpk_uri(), mode="rpk", cert=client_key["spki.der"],
                        pkey=client_key["key.der"])
    assert reply["ok"] and "securityMode=RPK" in reply["config"], reply
    assert reply["rpk"] == {"public-key-sha256": spki_sha256(client_key["spki.der"].read_bytes()),
                            "server-public-key-sha256": spki_sha256(leshan.server_spki()),
                            "secret-key-bytes": client_key["key.der"].stat().st_size}, reply
    # A server key given explicitly (another server's) is written as given.
    other = make_rpk_key(tmp_path / "keys", "other-server")
    reply = leshan.call("bsconfig", ep=ep, uri=leshan.rpk_uri(), mode="rpk", cert=client_key["spki.der"],
                        pkey=client_key["key.der"], scert=other["spki.der"])
    assert reply["rpk"]["server-public-key-sha256"] == spki_sha256(other["spki.der"].read_bytes()), reply
    # Leshan's configuration checker refuses what is not an RPK account: the SPKI as the private
    # key, the SEC 1 PEM as the public key.
    with pytest.raises(LeshanError, match="RFC5958"):
        leshan.call("bsconfig", ep=ep, uri=leshan.rpk_uri(), mode="rpk", cert=client_key["spki.der"],
                    pkey=client_key["spki.der"])
    with pytest.raises(LeshanError, match="RFC7250"):
        leshan.call("bsconfig", ep=ep, uri=leshan.rpk_uri(), mode="rpk", cert=client_key["pem"],
                    pkey=client_key["key.der"])


@pytest.mark.parametrize("account", ["rpk", "psk"])
def test_prepare_rpk_bootstrap_sets_up_both_servers_for_seed_004(leshan, procs, coap_client_gnutls, client_key, ep,
                                                               tmp_path, account):
    """leshan_agent.prepare_rpk_bootstrap, the Leshan half of the next agent test: the device key
    opens the bootstrap server (Bootstrap-Request 2.04), an RPK management key the LwM2M server's
    RPK endpoint; the configuration is the account asked for."""
    since = leshan.mark()
    setup = prepare_rpk_bootstrap(leshan, tmp_path, ep, client_key["spki.pem"].read_bytes(), account=account)
    assert setup["server-spki"].read_bytes() == leshan.server_spki()
    assert setup["device-spki-sha256"] == spki_sha256(client_key["spki.der"].read_bytes())
    code, run = coap_rpk(procs, coap_client_gnutls, client_key, setup["bootstrap-uri"] + f"/bs?ep={ep}", method="post")
    assert code == "2.04", run.describe()
    leshan.wait_event("bs-authorized", ep, since=since)
    # The device key is the bootstrap server's only: the LwM2M server refuses it.
    code, run = coap_rpk(procs, coap_client_gnutls, client_key, leshan.rpk_uri() + "/no-such-path")
    assert code is None and BAD_CERTIFICATE_ALERT in run.out + run.err, run.describe()
    if account == "rpk":
        assert setup["dm-uri"] == leshan.rpk_uri()
        code, run = coap_rpk(procs, coap_client_gnutls, setup["management-key"], leshan.rpk_uri() + "/no-such-path")
        assert code == "4.04", run.describe()
    else:
        assert setup["management-key"] is None and setup["dm-uri"] == leshan.dm_uri(secure=True)
