"""What a management server can do to the agent's configuration objects, over the wire:
``lwm2m-agentd --config`` against the independent peer servers (peers/management_server.py,
peers/bootstrap_server.py on aiocoap), all real processes on loopback. Issue 10:

- defect 2: a Create on /1 is refused (4.05); the server keeps its rights, also after a restart;
- defect 3: a server deleting its own /1 instance gets a De-register, the whole account goes, and
  the agent bootstraps again — or, without a bootstrap account, uses the factory accounts, also
  after a restart (never "nothing to do");
- defect 8: Lifetime 0 / −5 / 2^32 written to /1/x/1 is refused with 4.00 and no Update storm
  follows; Bootstrap-Finish refuses server URIs that can never connect with 4.06 and the reason;
  the Security object stays closed to the management server;
- defect 11: the registration in the LwM2M 1.1 form (``b=U`` then ``Q``, never ``b=UQ``; every
  content format in the root link's ``ct``; the Server object as version 1.1);
- defect 12: Bootstrap-Discover quotes the server URI once.
"""

from __future__ import annotations

import json
import time

import pytest

from agentconfig import write_config

EP = "gw-e2e-1"


def bootstrap_server(start_peer, server_port: int, *args, lifetime: int = 60):
    return start_peer("bootstrap_server", "--server-uri", f"coap://127.0.0.1:{server_port}",
                      "--lifetime", str(lifetime), *args)


def factory_agent(start_agent, tmp_path, ms, **agent):
    """An agent whose configuration file holds factory server 201 (no bootstrap account)."""
    config = write_config(tmp_path, servers={201: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}}, **agent)
    return config, start_agent(config)


def test_create_on_the_server_object_is_refused_and_the_server_keeps_its_rights(start_peer, start_agent, tmp_path,
                                                                                 state_show):
    ms = start_peer("management_server")
    config, agent = factory_agent(start_agent, tmp_path, ms)
    ms.wait_event("register", ep=EP)
    before = json.loads(state_show(config).out)

    reply = ms.command("create", ep=EP, path="/1", format="tlv",
                       value={"5": {"0": 102, "1": 60, "6": True, "7": "U"}})
    assert reply["code"] == "4.05", reply
    # Still one Server instance: no access control switched on, the server keeps every right.
    assert ms.command("read", ep=EP, path="/3/0", accept=11542)["code"] == "2.05"
    assert ms.command("read", ep=EP, path="/1/0", accept=11542)["code"] == "2.05"
    assert json.loads(state_show(config).out)["servers"] == before["servers"]

    assert agent.stop() == 0
    ms.wait_event("deregister", ep=EP)
    start_agent(config, name="agentd-restarted")
    ms.wait_event("register", count=2, ep=EP)
    assert ms.command("read", ep=EP, path="/3/0", accept=11542)["code"] == "2.05"


def test_a_server_deleting_its_own_account_is_de_registered_and_the_agent_bootstraps(start_peer, start_agent,
                                                                                     tmp_path, state_show):
    ms = start_peer("management_server")
    bs = bootstrap_server(start_peer, ms.port)
    config = write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}")
    agent = start_agent(config)
    ms.wait_event("register", ep=EP)

    assert ms.command("delete", ep=EP, path="/1/1")["code"] == "2.02"
    ms.wait_event("deregister", ep=EP)
    agent.wait_for(r"server 101: account deleted by a management server, de-registering")
    # No server account left: bootstrap again, and register with what it provides.
    bs.wait_event("bootstrap-request", count=2)
    ms.wait_event("register", count=2, ep=EP)
    state = json.loads(state_show(config).out)
    assert [server["ssid"] for server in state["servers"]] == [101], state

    # A restart registers with the saved configuration: nothing orphaned, nothing idle.
    assert agent.stop() == 0
    start_agent(config, name="agentd-restarted")
    ms.wait_event("register", count=3, ep=EP)


def test_without_a_bootstrap_account_the_deleted_account_gives_way_to_the_factory_accounts(
        start_peer, start_agent, tmp_path, state_show):
    ms = start_peer("management_server")
    config, agent = factory_agent(start_agent, tmp_path, ms)
    ms.wait_event("register", ep=EP)

    assert ms.command("delete", ep=EP, path="/1/0")["code"] == "2.02"
    ms.wait_event("deregister", ep=EP)
    agent.wait_for("no usable server or bootstrap account in the configuration: using the factory accounts")
    ms.wait_event("register", count=2, ep=EP)
    state = json.loads(state_show(config).out)
    assert [server["ssid"] for server in state["servers"]] == [201], state

    assert agent.stop() == 0
    restarted = start_agent(config, name="agentd-restarted")
    ms.wait_event("register", count=3, ep=EP)
    assert "nothing to do" not in restarted.stderr()


@pytest.mark.parametrize("lifetime", [0, -5, 2**32])
def test_a_lifetime_out_of_range_is_refused_and_updates_never_spin(start_peer, start_agent, tmp_path, lifetime):
    ms = start_peer("management_server")
    _, agent = factory_agent(start_agent, tmp_path, ms)
    ms.wait_event("register", ep=EP)

    reply = ms.command("write", ep=EP, path="/1/0/1", format="text", value=lifetime)
    assert reply["code"] == "4.00", reply
    assert "Lifetime" in reply.get("payload", ""), reply
    agent.wait_for(r"server 201: registered")
    # Before the fix the Update carried lt=-5 (or 0) and went out every second.
    time.sleep(3)
    assert ms.events("update") == []
    assert ms.command("read", ep=EP, path="/1/0/1", accept=0)["value"] == {"/1/0/1": 60}

    # A lifetime in range is taken and announced once.
    assert ms.command("write", ep=EP, path="/1/0/1", format="text", value=45)["code"] == "2.04"
    update = ms.wait_event("update", ep=EP)
    assert update["params"].get("lt") == "45", update
    time.sleep(2)
    assert len(ms.events("update")) == 1


def test_the_registration_uses_the_1_1_form(start_peer, start_agent, tmp_path):
    ms = start_peer("management_server")
    _, agent = factory_agent(start_agent, tmp_path, ms)
    register = ms.wait_event("register", ep=EP)
    root = next(link for link in register["links"] if link["target"] == "/")
    assert root["ct"] == "112 110 11542 11543 11544", root
    assert register["versions"]["1"] == "1.1", register["versions"]
    # The Server object as a 1.1 server knows it: nothing of 1.2 (24–27), nothing bootstrap-only.
    value = ms.command("read", ep=EP, path="/1/0", accept=11542)["value"]
    ids = {int(path.split("/")[3]) for path in value}
    assert {0, 1, 6, 7} <= ids and not ids & set(range(13, 21)) and not ids & set(range(24, 28)), value

    # Queue mode on: LwM2M 1.1 has it in Register only — a new Register with b=U and Q.
    assert ms.command("write", ep=EP, path="/1/0/7", format="text", value="UQ")["code"] == "2.04"
    again = ms.wait_event("register", count=2, ep=EP)
    assert again["params"]["b"] == "U" and "Q" in again["params"], again["params"]
    # A lifetime change is an Update; no message ever carries b=UQ.
    assert ms.command("write", ep=EP, path="/1/0/1", format="text", value=50)["code"] == "2.04"
    ms.wait_event("update", ep=EP)
    sent = [event["params"] for event in ms.events("register") + ms.events("update")]
    assert all(params.get("b") != "UQ" for params in sent), sent
    # A Binding the account cannot use (coap:// needs U) is refused and changes nothing.
    reply = ms.command("write", ep=EP, path="/1/0/7", format="text", value="T")
    assert reply["code"] == "4.00", reply
    assert ms.command("read", ep=EP, path="/1/0/7", accept=0)["value"] == {"/1/0/7": "UQ"}


def test_the_security_object_stays_closed_to_the_management_server(start_peer, start_agent, tmp_path):
    ms = start_peer("management_server")
    factory_agent(start_agent, tmp_path, ms)
    ms.wait_event("register", ep=EP)
    assert ms.command("write", ep=EP, path="/0/0/0", format="text", value="coap://[::1")["code"] == "4.01"
    assert ms.command("read", ep=EP, path="/0/0", accept=11542)["code"] == "4.01"
    assert ms.command("delete", ep=EP, path="/0/0")["code"] == "4.01"


@pytest.mark.parametrize("uri, reason", [
    ("coap://[::1", "has no valid host"),
    ("coap://127.0.0.1:0", 'has an invalid port "0"'),
    ("coap://127.0.0.1:99999", 'has an invalid port "99999"'),
    ("coap://127.0.0.1:-1", 'has an invalid port "-1"'),
    ("coap://127.0.0.1:5683#frag", "has a fragment"),
    ("coap://user@127.0.0.1:5683", "has userinfo"),
])
def test_bootstrap_finish_refuses_a_uri_that_can_never_connect(start_peer, start_agent, tmp_path, uri, reason):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([
        {"op": "delete", "path": "/"},
        {"op": "write", "path": "/0/1", "format": "tlv", "value": {"0": uri, "1": False, "2": 3, "10": 101}},
        {"op": "write", "path": "/1/1", "format": "tlv", "value": {"0": 101, "1": 60, "6": True, "7": "U"}},
        {"op": "finish"},
    ]))
    bs = start_peer("bootstrap_server", "--plan", str(plan))
    agent = start_agent(write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}"))
    finish = bs.wait_event("finish")
    assert finish["code"] == "4.06", finish
    assert finish["diagnostic"].startswith("/0/1: server URI ") and reason in finish["diagnostic"], finish
    agent.wait_for(r"bootstrap failed: inconsistent configuration")


def test_bootstrap_discover_quotes_the_server_uri_once(start_peer, start_agent, tmp_path):
    ms = start_peer("management_server")
    plan = tmp_path / "plan.json"
    server_uri = f"coap://127.0.0.1:{ms.port}"
    plan.write_text(json.dumps([
        {"op": "delete", "path": "/"},
        {"op": "write", "path": "/0/1", "format": "tlv", "value": {"0": server_uri, "1": False, "2": 3, "10": 101}},
        {"op": "write", "path": "/1/1", "format": "tlv", "value": {"0": 101, "1": 60, "6": True, "7": "U"}},
        {"op": "discover", "path": "/"},
        {"op": "finish"},
    ]))
    bs = start_peer("bootstrap_server", "--plan", str(plan))
    start_agent(write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}"))
    discover = bs.wait_event("response", op="discover")
    assert discover["code"] == "2.05", discover
    assert f'</0/1>;ssid=101;uri="{server_uri}"' in discover["payload"], discover["payload"]
    link = next(link for link in discover["links"] if link["target"] == "/0/1")
    assert link["uri"] == server_uri, link
    assert bs.wait_event("finish")["code"] == "2.04"
    ms.wait_event("register", ep=EP)
