"""``lwm2m-agentd --config`` against Eclipse Leshan 2.0.0-M18 over DTLS 1.2 (Californium/Scandium):
bootstrap and registration with PSK, and with X.509 (a CA made with the openssl CLI, Leshan's
certificate for both servers, a client certificate with CN = the endpoint name, which Leshan
checks). Leshan's bootstrap server provisions the DTLS credentials of its LwM2M server; the key
it writes never reaches the agent's log or state directory. Negative: a wrong PSK is refused.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leshan_agent import PSK_DM_KEY, prepare
from leshan_server import ep, leshan  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def own_time_zone(tmp_path, monkeypatch) -> Path:
    """The tests write UTC Offset and Timezone: the agent runs on a system root
    (``LWM2M_SYSTEM_ROOT``) of this machine's /proc, /sys, /usr and an /etc of its own (the
    host's entries but /etc/localtime → Etc/UTC), with a board file that lets it change the
    zone (``[clock] timezone = localtime``): this machine's zone never changes."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    for name in ("proc", "sys", "usr"):
        (root / name).symlink_to(f"/{name}")
    for entry in Path("/etc").iterdir():
        if entry.name not in ("localtime", "timezone"):
            (root / "etc" / entry.name).symlink_to(entry)
    (root / "etc" / "localtime").symlink_to("/usr/share/zoneinfo/Etc/UTC")
    monkeypatch.setenv("LWM2M_SYSTEM_ROOT", str(root))
    board = tmp_path / "dtls-bench.conf"
    board.write_text("[board]\nname = dtls-bench\n\n[clock]\ntimezone = localtime\n")
    return board


@pytest.mark.parametrize("security", ["psk", "x509"])
def test_secure_bootstrap_then_secure_registration(leshan, ep, start_agent, tmp_path, security, own_time_zone):
    since = leshan.mark()
    agent = start_agent(prepare(leshan, tmp_path, ep, security=security, board=own_time_zone))
    leshan.wait_event("bs-end", ep, since=since, timeout=30)
    registration = leshan.wait_event("registered", ep, since=since, timeout=30)
    session = leshan.events(ep, since=since)
    assert not [e for e in session if e["kind"] in ("bs-unauthorized", "bs-error-response", "bs-failed")], session
    # Leshan authenticated the client over coaps: by the PSK identity, or by the certificate's CN.
    expected = f"Identity [psk={ep}]" if security == "psk" else f"Identity [x509={ep}]"
    assert registration["identity"] == expected, registration
    assert leshan.wait_event("bs-initiated", ep, since=since)["peer"].find("unsecure") < 0, session

    for name in ("TLV", "SENML_CBOR"):
        reply = leshan.call("read", ep=ep, path="/3/0", format=name)
        assert reply["code"] == "CONTENT" and reply["content"]["/3/0/17"] == "Gateway", reply
    reply = leshan.call("write", ep=ep, path="/3/0/14", type="s", value="+04:00")
    assert reply["code"] == "CHANGED", reply
    reply = leshan.call("read", ep=ep, path="/3/0/14", format="TEXT")
    assert reply["content"] == {"/3/0/14": "+04:00"}, reply
    # Observe over the DTLS session.
    mark = leshan.mark()
    assert leshan.call("observe", ep=ep, path="/3/0/15", format="SENML_CBOR")["code"] == "CONTENT"
    assert leshan.call("write", ep=ep, path="/3/0/15", type="s", value="Asia/Tokyo")["code"] == "CHANGED"
    notification = leshan.wait_event("notify", ep, since=mark, where=lambda e: e["path"] == "/3/0/15")
    assert notification["content"] == {"/3/0/15": "Asia/Tokyo"}, notification

    log = agent.stderr()
    assert "bootstrap#1: DTLS handshake done" in log, log
    assert re.search(r"server 1(#\d+)?: DTLS handshake done", log), log
    assert "server 1: registered" in log, log
    if security == "psk":
        # The key the bootstrap server wrote never reaches the log or the state directory.
        assert PSK_DM_KEY not in log.lower()
        for path in (p for p in (tmp_path / "state").rglob("*") if p.is_file()):
            assert bytes.fromhex(PSK_DM_KEY) not in path.read_bytes(), path
    else:
        assert "ECDHE-ECDSA" in log, log

    assert agent.stop() == 0
    leshan.wait_event("unregistered", ep, since=since)


def test_wrong_psk_is_refused_by_leshan(leshan, ep, start_agent, tmp_path):
    since = leshan.mark()
    config = prepare(leshan, tmp_path, ep, security="psk")
    (tmp_path / "bs.psk").write_text("ff" * 16 + "\n")  # not the key Leshan has
    agent = start_agent(config)
    match = agent.wait_for(r"bootstrap failed: cannot connect: DTLS: ([^\n]*)", timeout=30)
    assert "psk" in match.group(1).lower() or "alert" in match.group(1).lower(), match.group(0)
    assert not leshan.events(ep, kind="bs-authorized", since=since)
    assert leshan.client(ep) is None
