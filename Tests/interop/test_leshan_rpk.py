"""Issue 16: ``lwm2m-agentd`` with raw public keys (RFC 7250, LwM2M Security Mode 1) against
Eclipse Leshan 2.0.0-M18 (Californium/Scandium): the agent bootstraps over DTLS with its RPK
(the GnuTLS backend, Leshan's key pinned), the bootstrap server writes an RPK account for its
LwM2M server, and the agent registers over RPK and answers a Read. Negative: a pinned server key
that is not Leshan's fails the bootstrap handshake with the reason in the log. The private key
the bootstrap server wrote never reaches the agent's log or state directory. Seed 004: the same
with the device key made in swtpm by `lwm2m-agent factory`, and a restart without bootstrap."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from agentconfig import write_config
from leshan_agent import prepare, prepare_rpk_bootstrap
from leshan_server import ep, leshan, make_rpk_key, openssl  # noqa: F401 (fixtures)
from test_factory import factory, swtpm  # noqa: F401 (fixtures)


def secret_scan(pkcs8: bytes, state: Path, log: str) -> list[str]:
    """Where the private scalar of a P-256 PKCS#8 key (openssl's 138-byte form: the scalar at
    bytes 36-67) shows up: raw or hex in the state files, hex or base64 (of the whole key) in the log."""
    assert len(pkcs8) == 138 and pkcs8[34:36] == b"\x04\x20", pkcs8[:40].hex()
    scalar = pkcs8[36:68]
    forms = [scalar, scalar.hex().encode(), scalar.hex().upper().encode(), base64.b64encode(pkcs8)[48:88]]
    found = [f"{p}: {form[:6]!r}" for p in state.rglob("*") if p.is_file() for form in forms if form in p.read_bytes()]
    found += [f"log: {form[:6]!r}" for form in forms if form.decode(errors="replace").lower() in log.lower()]
    return found


def test_rpk_bootstrap_then_rpk_registration(leshan, ep, start_agent, tmp_path):
    since = leshan.mark()
    agent = start_agent(prepare(leshan, tmp_path, ep, security="rpk"))
    leshan.wait_event("bs-end", ep, since=since, timeout=30)
    registration = leshan.wait_event("registered", ep, since=since, timeout=30)
    session = leshan.events(ep, since=since)
    assert not [e for e in session if e["kind"] in ("bs-unauthorized", "bs-error-response", "bs-failed")], session
    # Leshan authenticated the client by its raw public key: the one it was given for ep (the
    # identity prints the point's x coordinate in decimal).
    spki = (tmp_path / "rpk" / "client.spki.der").read_bytes()
    assert registration["identity"].startswith("Identity rpk="), registration
    assert f"public x coord: {int.from_bytes(spki[27:59], 'big')}" in registration["identity"], registration
    assert leshan.wait_event("bs-initiated", ep, since=since)["peer"].find("unsecure") < 0, session

    reply = leshan.call("read", ep=ep, path="/3/0", format="SENML_CBOR")
    assert reply["code"] == "CONTENT" and reply["content"]["/3/0/17"] == "Gateway", reply

    log = agent.stderr()
    assert "bootstrap#1: DTLS handshake done" in log, log
    assert "server 1: registered" in log, log
    assert "ECDHE_ECDSA" in log, log
    # GnuTLS was loaded for the RPK sessions (dlopen on first use).
    assert "libgnutls" in Path(f"/proc/{agent.popen.pid}/maps").read_text()
    # The private key Leshan wrote (/0/1/5, PKCS#8 DER) is nowhere in the log or the state files.
    found = secret_scan((tmp_path / "rpk" / "client.key.der").read_bytes(), tmp_path / "state", log)
    assert not found, found

    assert agent.stop() == 0
    leshan.wait_event("unregistered", ep, since=since)


def test_wrong_pinned_server_key_fails_the_bootstrap_handshake(leshan, ep, start_agent, tmp_path):
    config = prepare(leshan, tmp_path, ep, security="rpk")
    # Pin our own key instead of Leshan's: the handshake must fail on the server's key.
    other = make_rpk_key(tmp_path / "other", "client")
    pinned = str(leshan.server_rpk()["spki.der"])
    assert pinned in config.read_text()
    text = config.read_text().replace(pinned, str(other["spki.der"]))
    config.write_text(text)
    since = leshan.mark()
    agent = start_agent(config)
    agent.wait_for(r"server public key does not match /0/x/4", timeout=30)
    assert not [e for e in leshan.events(ep, since=since) if e["kind"] == "bs-initiated"]
    agent.stop()


def test_seed_004_factory_tpm_key_bootstrap_registration_restart(leshan, ep, swtpm, factory, start_agent, tmp_path):
    """Seed 004 end to end: `lwm2m-agent factory` makes the device key in (sw)TPM and provisions an
    RPK bootstrap account with Leshan's key pinned; the SHA-256 of the device's public key it prints
    is what the operator registers (here: the key itself, given to Leshan's security store); the
    agent bootstraps over RPK with the TPM signing, Leshan writes an RPK management account (its
    private key sealed in the TPM by the agent), the agent registers over RPK, answers a Read, and
    after a restart registers again without bootstrapping."""
    config = write_config(tmp_path, endpoint_name=ep, credential_store="tpm", tpm_tcti=swtpm, dtls_timeout_min=0.5,
                          dtls_timeout_max=2)
    factory(config, "set-endpoint", ep)
    report = factory(config, "set-bootstrap", "--uri", leshan.rpk_uri(bootstrap=True), "--security-mode", "rpk",
                     "--generate-key", "--server-public-key-file", leshan.server_rpk()["spki.der"],
                     "--public-key-out", tmp_path / "device.pub")
    assert report["key-generated"] is True and report["secret-key"] == "tpm-key:factory/bootstrap/key", report
    device_spki = tmp_path / "device.spki"
    openssl(tmp_path, "pkey", "-pubin", "-in", "device.pub", "-outform", "DER", "-out", "device.spki")
    assert hashlib.sha256(device_spki.read_bytes()).hexdigest() == report["public-key-sha256"]
    checks = factory(config, "verify")["checks"]
    assert checks[1:] == [{"account": "bootstrap", "secret-key": "tpm-key:factory/bootstrap/key", "signed": True, "ok": True}]

    # The operator registers the device's key (out of band, from the hash/QR; here the key the
    # factory wrote, as PEM); the bootstrap server then writes an RPK account for the LwM2M server
    # with a key pair of its own making.
    setup = prepare_rpk_bootstrap(leshan, tmp_path, ep, (tmp_path / "device.pub").read_bytes(), account="rpk")
    assert setup["device-spki-sha256"] == report["public-key-sha256"], setup
    assert setup["bootstrap-uri"] == leshan.rpk_uri(bootstrap=True), setup
    keys = setup["management-key"]

    since = leshan.mark()
    agent = start_agent(config)
    leshan.wait_event("bs-end", ep, since=since, timeout=30)
    registration = leshan.wait_event("registered", ep, since=since, timeout=30)
    spki = keys["spki.der"].read_bytes()
    assert f"public x coord: {int.from_bytes(spki[27:59], 'big')}" in registration["identity"], registration
    bootstrap_peer = leshan.wait_event("bs-initiated", ep, since=since)["peer"]
    device = device_spki.read_bytes()
    assert f"public x coord: {int.from_bytes(device[27:59], 'big')}" in bootstrap_peer, bootstrap_peer
    reply = leshan.call("read", ep=ep, path="/3/0", format="SENML_CBOR")
    assert reply["code"] == "CONTENT", reply
    log = agent.stderr()
    assert "raw public key factory/bootstrap/key signs in the TPM" in log, log
    assert agent.stop() == 0
    leshan.wait_event("unregistered", ep, since=since)

    # The management account's private key (written by Leshan) is sealed: not on disk in clear.
    found = secret_scan(keys["key.der"].read_bytes(), tmp_path / "state", log)
    assert not found, found

    # Restart: the saved configuration is used, no new bootstrap.
    since = leshan.mark()
    agent = start_agent(config, name="agentd-restart")
    leshan.wait_event("registered", ep, since=since, timeout=30)
    assert not leshan.events(ep, kind="bs-initiated", since=since)
    assert agent.stop() == 0


def test_unknown_client_key_is_refused(leshan, ep, start_agent, tmp_path):
    """Leshan does not know our key (the operator never registered it). With the harness's trust
    mode "all" (what stock Leshan does: Californium accepts any raw public key in the handshake)
    Leshan refuses the Bootstrap-Request (4.00, bs-unauthorized): the agent logs that and retries
    (the bootstrap retry policy)."""
    config = prepare(leshan, tmp_path, ep, security="rpk")
    leshan.call("unsec", who="bs", ep=ep)
    since = leshan.mark()
    with leshan.rpk_trust("all"):
        agent = start_agent(config)
        agent.wait_for(r"bootstrap failed: Bootstrap-Request answered 4.00, retry in", timeout=30)
        leshan.wait_event("bs-unauthorized", ep, since=since, timeout=10)
        assert not [e for e in leshan.events(ep, since=since) if e["kind"] in ("bs-end", "registered")]
        agent.stop()


def test_public_key_swapped_on_disk_fails_before_any_datagram(leshan, ep, start_agent, tmp_path):
    config = prepare(leshan, tmp_path, ep, security="rpk")
    other = make_rpk_key(tmp_path / "other", "client")
    config.write_text(config.read_text() + f"public-key-file = {other['spki.der']}\n")
    since = leshan.mark()
    agent = start_agent(config)
    agent.wait_for(r"Public Key \(/0/\d+/3\) is not the public key of the Secret Key \(/0/\d+/5\)", timeout=30)
    assert not leshan.events(ep, kind="bs-initiated", since=since)
    agent.stop()


def test_tpm_key_missing_is_a_clear_error(leshan, ep, swtpm, factory, start_agent, tmp_path):
    config = write_config(tmp_path, endpoint_name=ep, credential_store="tpm", tpm_tcti=swtpm, dtls_timeout_min=0.5,
                          dtls_timeout_max=2)
    factory(config, "set-bootstrap", "--uri", leshan.rpk_uri(bootstrap=True), "--security-mode", "rpk",
            "--generate-key", "--server-public-key-file", leshan.server_rpk()["spki.der"])
    blobs = list((tmp_path / "state" / "keys").rglob("*.blob"))
    assert len(blobs) == 1, blobs
    blobs[0].unlink()  # the key is gone (a TPM cleared, a state directory restored from another board)
    since = leshan.mark()
    agent = start_agent(config)
    agent.wait_for(r"bootstrap failed: .*factory/bootstrap/key", timeout=30)
    assert not leshan.events(ep, kind="bs-initiated", since=since)
    agent.stop()


def test_a_daemon_without_rpk_accounts_does_not_load_gnutls(leshan, ep, start_agent, tmp_path):
    """The footprint promise: GnuTLS is dlopen'ed by the first RPK session only, so a daemon whose
    accounts are PSK (here: bootstrapped and registered over DTLS PSK) never maps it."""
    since = leshan.mark()
    agent = start_agent(prepare(leshan, tmp_path, ep, security="psk"))
    leshan.wait_event("registered", ep, since=since, timeout=30)
    maps = Path(f"/proc/{agent.popen.pid}/maps").read_text()
    assert "libmbedtls" in maps and "libgnutls" not in maps
    assert agent.stop() == 0


def test_unknown_client_key_is_refused_in_the_handshake(leshan, ep, start_agent, tmp_path):
    """The same unknown key with the harness's default trust ("store", seed 004: the server knows
    the device's key before the device comes): the bootstrap server's RPK endpoint ends the
    handshake with bad_certificate, no Bootstrap-Request reaches Leshan; the agent says why and
    retries."""
    config = prepare(leshan, tmp_path, ep, security="rpk")
    leshan.call("unsec", who="bs", ep=ep)
    since = leshan.mark()
    agent = start_agent(config)
    digest = hashlib.sha256((tmp_path / "rpk" / "client.spki.der").read_bytes()).hexdigest()
    refused = leshan.wait_event("rpk-handshake", None, since=since, timeout=30, where=lambda e: e["spki-sha256"] == digest)
    assert refused["server"] == "bs" and refused["accepted"] is False and refused["trust"] == "store", refused
    agent.wait_for(r"bootstrap failed: .*server rejected our raw public key \(alert Certificate is bad", timeout=30)
    assert not [e for e in leshan.events(ep, since=since) if e["kind"] in ("bs-initiated", "bs-end", "registered")]
    agent.stop()
