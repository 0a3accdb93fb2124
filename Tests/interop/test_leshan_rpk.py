"""Issue 16: ``lwm2m-agentd`` with raw public keys (RFC 7250, LwM2M Security Mode 1) against
Eclipse Leshan 2.0.0-M18 (Californium/Scandium): the agent bootstraps over DTLS with its RPK
(the GnuTLS backend, Leshan's key pinned), the bootstrap server writes an RPK account for its
LwM2M server, and the agent registers over RPK and answers a Read. Negative: a pinned server key
that is not Leshan's fails the bootstrap handshake with the reason in the log. The private key
the bootstrap server wrote never reaches the agent's log or state directory."""

from __future__ import annotations

import base64

from leshan_agent import prepare, rpk_keys
from leshan_server import ep, leshan  # noqa: F401 (fixtures)


def test_rpk_bootstrap_then_rpk_registration(leshan, ep, start_agent, tmp_path):
    since = leshan.mark()
    agent = start_agent(prepare(leshan, tmp_path, ep, security="rpk"))
    leshan.wait_event("bs-end", ep, since=since, timeout=30)
    registration = leshan.wait_event("registered", ep, since=since, timeout=30)
    session = leshan.events(ep, since=since)
    assert not [e for e in session if e["kind"] in ("bs-unauthorized", "bs-error-response", "bs-failed")], session
    # Leshan authenticated the client by its raw public key: the one it was given for ep (the
    # identity prints the point's x coordinate in decimal).
    spki = (tmp_path / "rpk" / "client.spki").read_bytes()
    assert registration["identity"].startswith("Identity rpk="), registration
    assert f"public x coord: {int.from_bytes(spki[27:59], 'big')}" in registration["identity"], registration
    assert leshan.wait_event("bs-initiated", ep, since=since)["peer"].find("unsecure") < 0, session

    reply = leshan.call("read", ep=ep, path="/3/0", format="SENML_CBOR")
    assert reply["code"] == "CONTENT" and reply["content"]["/3/0/17"] == "Gateway", reply

    log = agent.stderr()
    assert "bootstrap#1: DTLS handshake done" in log, log
    assert "server 1: registered" in log, log
    assert "ECDHE_ECDSA" in log, log
    # The private key Leshan wrote (/0/1/5, PKCS#8 DER) is nowhere in the log or the state files.
    secret = (tmp_path / "rpk" / "client.key.der").read_bytes()
    scalar = secret[-32:] if len(secret) < 100 else secret[36:68]
    assert base64.b64encode(secret).decode()[:40] not in log and secret.hex()[:40] not in log.lower()
    for path in (p for p in (tmp_path / "state").rglob("*") if p.is_file()):
        assert scalar not in path.read_bytes(), path

    assert agent.stop() == 0
    leshan.wait_event("unregistered", ep, since=since)


def test_wrong_pinned_server_key_fails_the_bootstrap_handshake(leshan, ep, start_agent, tmp_path):
    config = prepare(leshan, tmp_path, ep, security="rpk")
    # Pin our own key instead of Leshan's: the handshake must fail on the server's key.
    keys = rpk_keys(leshan, tmp_path / "other")
    text = config.read_text().replace(str(tmp_path / "rpk" / "server.spki"), str(keys["client.spki"]))
    config.write_text(text)
    since = leshan.mark()
    agent = start_agent(config)
    agent.wait_for(r"server public key does not match /0/x/4", timeout=30)
    assert not [e for e in leshan.events(ep, since=since) if e["kind"] == "bs-initiated"]
    agent.stop()
