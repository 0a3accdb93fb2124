"""Issue 10's defects as Eclipse Leshan 2.0.0-M18 shows them, over the wire against
``lwm2m-agentd --config``: a server locking itself out with a Create on /1 (defect 2), a server
deleting its own /1 instance (defect 3), lifetimes and server URIs that are not validated
(defect 8), registration details a 1.1 server trips on (defect 11), the server URI quoted twice
in Bootstrap-Discover (defect 12).

Each of these failed on the agent before issue 10's fixes (what they printed is in the issue's
closing note) and must pass now.
"""

from __future__ import annotations

import time

import pytest

from leshan_agent import LIFETIME, agent_config, prepare
from leshan_server import ep, leshan  # noqa: F401 (fixtures)


def register(leshan, ep, start_agent, tmp_path, **options):
    since = leshan.mark()
    agent = start_agent(prepare(leshan, tmp_path, ep, **options))
    registration = leshan.wait_event("registered", ep, since=since)
    return agent, registration


def register_with_factory_server(leshan, ep, start_agent, tmp_path):
    """The agent with one factory account (``[server 1]`` = Leshan's LwM2M server) and no
    bootstrap account."""
    config = agent_config(tmp_path, ep, None, servers={1: {"uri": leshan.dm_uri(), "lifetime": LIFETIME}})
    since = leshan.mark()
    agent = start_agent(config)
    registration = leshan.wait_event("registered", ep, since=since)
    return agent, registration, config


# MARK: - Defect 2: Create on /1


def test_create_on_the_server_object_does_not_lock_the_server_out(leshan, ep, start_agent, tmp_path):
    agent, _ = register(leshan, ep, start_agent, tmp_path)
    # A second Server instance (another SSID, no Security instance for it). Whether the agent
    # accepts it or not, the creating server must keep its rights and the configuration must
    # stay one the agent itself accepts.
    created = leshan.call("create", ep=ep, path="/1", inst=1, res="0:i:2,1:i:300,6:b:false,7:s:U")
    print("Create /1:", created["code"], created.get("error"))
    for path in ("/3/0/17", "/1/0/1"):
        reply = leshan.call("read", ep=ep, path=path, format="TEXT")
        assert reply["code"] == "CONTENT", f"after Create /1 ({created['code']}), Read {path}: {reply}"
    # (Default Minimum Period of its own Server instance: /3/0/14 is refused with 4.05 on this
    # machine's generic board, [clock] timezone = none.)
    reply = leshan.call("write", ep=ep, path="/1/0/2", type="i", value="7")
    assert reply["code"] == "CHANGED", f"after Create /1 ({created['code']}), Write: {reply}"

    # After a restart (the saved configuration), the server is still not locked out.
    assert agent.stop() == 0
    since = leshan.mark()
    agent = start_agent(tmp_path / "agent.conf", name="agentd-restarted")
    leshan.wait_event("registered", ep, since=since)
    reply = leshan.call("read", ep=ep, path="/3/0/17", format="TEXT")
    assert reply["code"] == "CONTENT", f"after a restart: {reply}"
    assert "inconsistent" not in agent.stderr().lower(), agent.stderr()


# MARK: - Defect 3: Delete /1/x of the server itself


@pytest.mark.parametrize("account", ["factory-server", "bootstrapped"])
def test_a_server_deleting_its_own_server_instance_does_not_leave_the_agent_idle(leshan, ep, start_agent, tmp_path,
                                                                                account):
    # factory-server: [server 1] in the agent file, no bootstrap account (after the restart the
    # agent idled). bootstrapped: the server came from Leshan's bootstrap server.
    if account == "factory-server":
        agent, registration, config = register_with_factory_server(leshan, ep, start_agent, tmp_path)
    else:
        agent, registration = register(leshan, ep, start_agent, tmp_path)
        config = tmp_path / "agent.conf"
    since = leshan.mark()
    deleted = leshan.call("delete", ep=ep, path="/1/0")
    print("Delete /1/0:", deleted["code"], deleted.get("error"))
    if deleted["code"] == "DELETED":
        # Accepted: the agent must act on it — de-register, and fall back to the factory account
        # (a new registration) or bootstrap — not stay registered with no Server instance.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            kinds = {e["kind"] for e in leshan.events(ep, since=since)}
            if kinds & {"unregistered", "registered", "bs-initiated"}:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"Delete /1/0 answered 2.02, then nothing: no De-register, no new registration, no "
                        f"bootstrap within 15 s; events: {leshan.events(ep, since=since)}")
    else:
        # Refused: the registration and the Server instance are intact.
        assert leshan.call("read", ep=ep, path="/1/0/1", format="TEXT")["code"] == "CONTENT"

    # After a restart, the agent registers (factory account, or what it saved) — never idles.
    agent.stop()
    restart = leshan.mark()
    agent = start_agent(config, name="agentd-restarted")
    try:
        leshan.wait_event("registered", ep, since=restart, timeout=20)
    except AssertionError as error:
        raise AssertionError(f"after a restart the agent did not register: {error}\n{agent.stderr()[-2000:]}")
    assert "nothing to do" not in agent.stderr(), agent.stderr()


# MARK: - Defect 8: lifetime and URI validation


@pytest.mark.parametrize("lifetime", [-5, 0, 2**32])
def test_an_invalid_lifetime_is_refused(leshan, ep, start_agent, tmp_path, lifetime):
    agent, _ = register(leshan, ep, start_agent, tmp_path)
    since = leshan.mark()
    reply = leshan.call("write", ep=ep, path="/1/0/1", type="i", value=lifetime)
    assert reply["code"] == "BAD_REQUEST", f"Write /1/0/1 = {lifetime}: {reply}"
    # Nothing changed: no Update with the bad lifetime, the old one is still in force.
    time.sleep(1.0)
    updates = leshan.events(ep, kind="updated", since=since)
    assert not updates, updates
    assert leshan.call("read", ep=ep, path="/1/0/1", format="TEXT")["code"] == "CONTENT"
    assert leshan.client(ep)["lt"] == LIFETIME


@pytest.mark.parametrize("uri", ["coap://127.0.0.1:0", "coap://127.0.0.1:99999", "coap://127.0.0.1:-1",
                                 "coap://[::1", "coap://user@127.0.0.1:5683", "coap://127.0.0.1:5683#fragment"],
                         ids=["port-0", "port-99999", "port-minus-1", "unclosed-bracket", "userinfo", "fragment"])
def test_bootstrap_finish_refuses_a_server_uri_that_can_never_connect(leshan, ep, start_agent, tmp_path, uri):
    since = leshan.mark()
    agent = start_agent(prepare(leshan, tmp_path, ep, dm_uri=uri))
    deadline = time.monotonic() + 20
    finish = None
    while time.monotonic() < deadline and finish is None:
        for event in leshan.events(ep, since=since):
            if event["kind"] in ("bs-response", "bs-error-response") and event["request"].startswith("BootstrapFinish"):
                finish = event
        time.sleep(0.1)
    assert finish is not None, leshan.events(ep, since=since)
    assert finish["code"] == "NOT_ACCEPTABLE", f"Bootstrap-Finish with server URI {uri!r}: {finish}"
    assert finish.get("error"), finish  # the reason, as the other consistency checks give it
    assert agent.alive()


# MARK: - Defect 11: what a 1.1 server sees


def test_registration_advertises_the_formats_served_and_object_versions_a_1_1_server_knows(
        leshan, ep, start_agent, tmp_path):
    _, registration = register(leshan, ep, start_agent, tmp_path)
    print("registration:", registration["links"], registration["formats"], registration["versions"])
    # The agent serves TLV, SenML JSON/CBOR and LwM2M JSON (and LwM2M CBOR, which Leshan M18
    # does not know): the root link's ct must say so.
    assert {"TLV", "SENML_JSON", "SENML_CBOR", "JSON"} <= set(registration["formats"]), registration
    # Every object version registered is one Leshan (LwM2M 1.1) has a model for.
    assert registration["unknown-models"] == [], registration


def test_the_server_object_read_as_tlv_decodes_as_a_server_object(leshan, ep, start_agent, tmp_path):
    register(leshan, ep, start_agent, tmp_path)
    reply = leshan.call("read", ep=ep, path="/1/0", format="TLV")
    assert reply["code"] == "CONTENT", reply
    print("Leshan decoded /1/0 as:", reply["types"])
    assert reply["types"].get("/1/0/0") == "INTEGER" and reply["types"].get("/1/0/1") == "INTEGER", reply
    assert reply["types"].get("/1/0/6") == "BOOLEAN" and reply["types"].get("/1/0/7") == "STRING", reply
    assert reply["content"]["/1/0/0"] == 1 and reply["content"]["/1/0/1"] == LIFETIME, reply
    assert reply["content"]["/1/0/7"] == "U", reply


def test_a_binding_change_is_sent_in_the_1_1_form(leshan, ep, start_agent, tmp_path):
    register(leshan, ep, start_agent, tmp_path)
    since, output = leshan.mark(), leshan.output_mark()
    # Queue mode: Register says b=U&Q (1.1). Whatever the agent sends to tell Leshan (an Update
    # in the 1.1 form, or a new Register), Leshan must not have to refuse it (the Update with
    # b=UQ, the 1.0 form, gets 4.00) and must end up with binding U in queue mode.
    reply = leshan.call("write", ep=ep, path="/1/0/7", type="s", value="UQ")
    assert reply["code"] == "CHANGED", reply
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        client = leshan.client(ep)
        if client is not None and client["queue"] is True:
            break
        time.sleep(0.1)
    time.sleep(0.5)
    events = [(e["kind"], e.get("binding"), e.get("queue")) for e in leshan.events(ep, since=since)]
    print("after writing binding UQ:", events)
    refused = leshan.errors_sent(output)
    assert not refused, f"Leshan refused the agent's request: {refused}; events {events}"
    client = leshan.client(ep)
    assert client is not None and client["binding"] == ["U"] and client["queue"] is True, (client, events)


# MARK: - Defect 12: Bootstrap-Discover quoting


def test_bootstrap_discover_lists_the_server_uri_as_leshan_can_read_it(leshan, ep, start_agent, tmp_path):
    since = leshan.mark()
    config = prepare(leshan, tmp_path, ep, bootstrap_on_every_start=True)
    agent = start_agent(config)
    leshan.wait_event("registered", ep, since=since)
    assert agent.stop() == 0
    # The second bootstrap starts with a Bootstrap-Discover, which now lists /0/1 with its uri.
    since = leshan.mark()
    assert leshan.call("bsconfig", ep=ep, uri=leshan.dm_uri(), lifetime=LIFETIME, autoid="true", delete="/1")["ok"]
    start_agent(config, name="agentd-rebootstrap")
    discover = leshan.wait_event("bs-response", ep, since=since, where=lambda e: e["request"].startswith("Discover"))
    print("Bootstrap-Discover as Leshan parsed it:", discover["link-attributes"])
    assert discover["link-attributes"]["/0/1"] == {"ssid": "1", "uri": leshan.dm_uri()}, discover
