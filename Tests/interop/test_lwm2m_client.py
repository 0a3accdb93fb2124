"""The LwM2M client end to end: ``lwm2m-agentd --config`` against the independent peer servers
(peers/bootstrap_server.py, peers/management_server.py, written on aiocoap), all real processes
on loopback.

Covers issue 4's flows: client-initiated bootstrap → registration → the server reads /3/0;
bootstrap server down → factory fallback → the next bootstrap moves the agent to the new server;
a rejected registration → re-bootstrap; inconsistent bootstrap data → 4.06, old configuration
kept, retry with back-off; restart without bootstrapping (and with "bootstrap on every start");
kill -9 during bootstrap writes, 50 times, the state always loads; the same flows through a relay
dropping 30 % of datagrams; SIGTERM de-registers; factory reset from the command line.

Short CoAP timers (``ack-timeout``) keep the failure paths quick: MAX_TRANSMIT_WAIT is
ack-timeout × 46.5.
"""

from __future__ import annotations

import json
import random
import signal
import time

import pytest

from agentconfig import write_config
from conftest import SEED


def bootstrap_server(start_peer, server_port: int, *args, lifetime: int = 60):
    return start_peer("bootstrap_server", "--server-uri", f"coap://127.0.0.1:{server_port}",
                      "--lifetime", str(lifetime), *args)


def read_device(ms, ep: str, accept: int) -> dict:
    reply = ms.command("read", ep=ep, path="/3/0", accept=accept)
    assert reply["code"] == "2.05", reply
    assert reply["format"] == accept, reply
    return reply["value"]


def test_bootstrap_register_and_read_the_device_in_three_formats(start_peer, start_agent, tmp_path):
    ms = start_peer("management_server")
    bs = bootstrap_server(start_peer, ms.port)
    agent = start_agent(write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}"))
    registration = ms.wait_event("register", ep="gw-e2e-1")
    assert registration["lwm2m"] == "1.1" and registration["lt"] == 60 and registration["binding"] == "U"
    assert registration["objects"]["3"] == [0] and "0" not in registration["objects"]
    assert bs.wait_event("finish")["code"] == "2.04"

    for accept in (11542, 110, 112):  # TLV, SenML JSON, SenML CBOR
        value = read_device(ms, "gw-e2e-1", accept)
        assert value["/3/0/17"] == "Gateway", value
        assert value["/3/0/19"].startswith("0."), value  # software version: the agent's
        assert isinstance(value["/3/0/13"], int)
    agent.wait_for(r"server 101: registered at /rd/\d+, lifetime 60 s")
    assert (tmp_path / "state" / "configuration.json").is_file()

    # SIGTERM de-registers.
    assert agent.stop() == 0
    ms.wait_event("deregister", ep="gw-e2e-1")
    assert "server 101: de-registered" in agent.stderr()


def test_bootstrap_server_down_engages_the_factory_fallback_then_moves_to_the_new_server(
        start_peer, start_agent, tmp_path):
    factory_ms = start_peer("management_server")
    new_ms = start_peer("management_server")
    # The bootstrap server ignores the first Bootstrap-Request (down), then serves.
    bs = bootstrap_server(start_peer, new_ms.port, "--ignore-requests", "1")
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}", bootstrap_on_every_start=True,
                          servers={201: {"uri": f"coap://127.0.0.1:{factory_ms.port}", "lifetime": 60}})
    agent = start_agent(config)
    agent.wait_for(r"bootstrap failed: Bootstrap-Request: no response", timeout=15)
    agent.wait_for(r"factory-bootstrap fallback engaged: servers 201")
    factory_ms.wait_event("register", ep="gw-e2e-1")
    read_device(factory_ms, "gw-e2e-1", 11542)

    # The retry (after the back-off) reaches the bootstrap server, which now answers.
    new_ms.wait_event("register", ep="gw-e2e-1", timeout=20)
    factory_ms.wait_event("deregister", ep="gw-e2e-1")
    assert bs.wait_event("finish")["code"] == "2.04"
    read_device(new_ms, "gw-e2e-1", 112)
    log = agent.stderr()
    assert log.index("fallback engaged") < log.index("bootstrap finished") < log.index("server 101: registered")


def test_rejected_registration_leads_to_a_bootstrap_and_the_new_server(start_peer, start_agent, tmp_path):
    factory_ms = start_peer("management_server", "--reject-registrations", "1", "--reject-code", "4.03")
    new_ms = start_peer("management_server")
    bs = bootstrap_server(start_peer, new_ms.port)
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}",
                          servers={201: {"uri": f"coap://127.0.0.1:{factory_ms.port}", "retry-count": 1,
                                         "sequence-retry-count": 1}})
    agent = start_agent(config)
    factory_ms.wait_event("register-rejected", ep="gw-e2e-1")
    agent.wait_for(r"server 201: registration failed: Register answered 4\.03")
    new_ms.wait_event("register", ep="gw-e2e-1", timeout=15)
    assert len(bs.events("bootstrap-request")) == 1


def test_inconsistent_bootstrap_data_is_refused_and_the_old_configuration_kept(
        start_peer, start_agent, state_show, tmp_path):
    ms = start_peer("management_server")
    plan = tmp_path / "plan.json"
    # A coaps URI with Security Mode NoSec: "secure URI without security information".
    plan.write_text(json.dumps([
        {"op": "delete", "path": "/"},
        {"op": "write", "path": "/0/1", "format": "tlv",
         "value": {"0": "coaps://127.0.0.1:5684", "1": False, "2": 3, "10": 101}},
        {"op": "write", "path": "/1/1", "format": "tlv", "value": {"0": 101, "1": 60, "6": True, "7": "U"}},
        {"op": "finish"},
    ]))
    bs = start_peer("bootstrap_server", "--plan", str(plan))
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}",
                          servers={201: {"uri": f"coap://127.0.0.1:{ms.port}"}}, bootstrap_on_every_start=True)
    before = json.loads(state_show(config).out)
    start_agent(config)
    first = bs.wait_event("finish")
    assert first["code"] == "4.06"
    assert "coaps URI but Security Mode NoSec" in first["diagnostic"]
    second = bs.wait_event("finish", count=2, timeout=15)
    assert second["code"] == "4.06"
    requests = bs.events("bootstrap-request")
    assert requests[1]["ts"] - requests[0]["ts"] >= 0.9  # back-off ≥ bootstrap-retry-initial
    after = json.loads(state_show(config).out)
    assert after["servers"] == before["servers"] and after["bootstrap"] == before["bootstrap"]
    # Meanwhile the factory fallback keeps the device managed.
    ms.wait_event("register", ep="gw-e2e-1")


def test_restart_registers_without_bootstrapping_unless_asked_to(start_peer, start_agent, tmp_path):
    ms = start_peer("management_server")
    bs = bootstrap_server(start_peer, ms.port)
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}")
    first = start_agent(config)
    ms.wait_event("register", ep="gw-e2e-1")
    assert first.stop() == 0
    ms.wait_event("deregister", ep="gw-e2e-1")

    second = start_agent(config, name="agentd-restarted")
    ms.wait_event("register", count=2, ep="gw-e2e-1")
    second.wait_for("loaded the saved configuration")
    assert len(bs.events("bootstrap-request")) == 1
    assert second.stop() == 0

    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}", bootstrap_on_every_start=True)
    start_agent(config, name="agentd-every-start")
    ms.wait_event("register", count=3, ep="gw-e2e-1")
    assert len(bs.events("bootstrap-request")) == 2


def test_kill_9_during_bootstrap_writes_always_leaves_a_loadable_state(
        start_peer, start_agent, state_show, tmp_path):
    ms = start_peer("management_server")
    bs = bootstrap_server(start_peer, ms.port)
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}", bootstrap_on_every_start=True,
                          log_level="warning")
    rng = random.Random(SEED)
    outcomes = {"saved": 0, "none": 0}
    for attempt in range(50):
        agent = start_agent(config, name=f"agentd-{attempt}")
        time.sleep(rng.uniform(0.0, 0.12))
        agent.kill()
        shown = state_show(config)
        assert shown.returncode == 0, shown.describe()
        document = json.loads(shown.out)
        outcomes["saved" if document["source"].startswith("saved") else "none"] += 1
        if document["source"].startswith("saved"):
            assert document["servers"][0]["uri"] == f"coap://127.0.0.1:{ms.port}", document
        assert not list((tmp_path / "state").glob("*.unreadable"))
    # Both sides of the write were hit (a kill before any save, and after).
    assert outcomes["saved"] > 0, outcomes
    assert len(bs.events("bootstrap-request")) >= 25


@pytest.mark.parametrize("seed", [SEED, SEED + 1])
def test_bootstrap_and_registration_converge_with_30_percent_loss(start_peer, start_agent, start_relay, tmp_path,
                                                                  seed):
    ms = start_peer("management_server")
    ms_relay = start_relay(ms.port, drop=0.3, seed=seed)
    # The server account asks for quick registration retries (/1/1/17 = 5, /1/1/18 = 1 s): a
    # Register whose five transmissions are all lost (~3 % at 30 % loss each way) is retried in
    # seconds, not after the 60 s default.
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([
        {"op": "delete", "path": "/"},
        {"op": "write", "path": "/0/1", "format": "tlv",
         "value": {"0": f"coap://127.0.0.1:{ms_relay.port}", "1": False, "2": 3, "10": 101}},
        {"op": "write", "path": "/1/1", "format": "tlv",
         "value": {"0": 101, "1": 60, "6": True, "7": "U", "17": 5, "18": 1}},
        {"op": "finish"},
    ]))
    # aiocoap's own retransmissions (ACK_TIMEOUT 2 s) need more than the default 10 s step timeout
    # under loss; a session the server abandons ends on our side after bootstrap-session-timeout.
    bs = start_peer("bootstrap_server", "--plan", str(plan), "--step-timeout", "60")
    bs_relay = start_relay(bs.port, drop=0.3, seed=seed + 100)
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs_relay.port}", ack_timeout=0.3,
                          bootstrap_session_timeout=20)
    agent = start_agent(config)
    ms.wait_event("register", ep="gw-e2e-1", timeout=150)
    agent.wait_for(r"server 101: registered", timeout=30)
    stats = bs_relay.stop()
    assert stats["up"]["dropped"] + stats["down"]["dropped"] > 0, stats


def test_factory_reset_from_the_command_line(start_peer, start_agent, procs, bin_dir, tmp_path):
    ms = start_peer("management_server")
    bs = bootstrap_server(start_peer, ms.port)
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}")
    agent = start_agent(config)
    ms.wait_event("register", ep="gw-e2e-1")
    reset = procs.run([bin_dir / "lwm2m-agent", "factory-reset", "--config", config], timeout=10)
    assert reset.returncode == 0 and "factory reset requested" in reset.out, reset.describe()
    agent.wait_for("factory reset: configuration back to the factory snapshot")
    ms.wait_event("deregister", ep="gw-e2e-1")
    # Only a bootstrap account at the factory: the agent bootstraps again and comes back.
    ms.wait_event("register", count=2, ep="gw-e2e-1")
    assert len(bs.events("bootstrap-request")) == 2


def test_sighup_reloads_the_log_level(start_peer, start_agent, tmp_path):
    ms = start_peer("management_server")
    bs = bootstrap_server(start_peer, ms.port)
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}", log_level="notice")
    agent = start_agent(config)
    ms.wait_event("register", ep="gw-e2e-1")
    write = {"ep": "gw-e2e-1", "path": "/1/1/1", "value": 120, "format": 0}
    assert ms.command("write", **write)["code"] == "2.04"
    ms.wait_event("update", ep="gw-e2e-1")
    assert "configuration saved" not in agent.stderr()  # a debug line: not shown at notice

    write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}", log_level="debug")
    agent.popen.send_signal(signal.SIGHUP)
    agent.wait_for("SIGHUP: configuration reloaded")
    assert ms.command("write", **{**write, "value": 90})["code"] == "2.04"
    agent.wait_for("configuration saved to")
