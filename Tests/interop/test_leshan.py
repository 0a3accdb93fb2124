"""``lwm2m-agentd --config`` against Eclipse Leshan 2.0.0-M18 (bootstrap server and LwM2M server)
over plain CoAP: bootstrap → register, Read of the Device object in every format Leshan offers,
Write, Execute, Discover, Write-Attributes + Observe, Read-/Observe-/Write-Composite, Create and
Delete on /2, De-register on SIGTERM. One Leshan process serves the whole session
(leshan_server.py); every test has its own endpoint name and its own agent.

DTLS (PSK, X.509): test_leshan_dtls.py. Issue 10's defects as Leshan shows them:
test_leshan_defects.py. How to run: docs/leshan.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from leshan_agent import LIFETIME, prepare
from leshan_server import ep, leshan  # noqa: F401 (fixtures)

# Leshan 2.0.0-M18's names of the multi-value formats, with the Content-Format the agent must
# answer in. (Leshan has no LwM2M CBOR (11544): it cannot ask for it.)
MULTI_VALUE_FORMATS = {"TLV": 11542, "SENML_JSON": 110, "SENML_CBOR": 112, "JSON": 11543}
# Device resources read from the system, which may differ between two reads: Memory Free, Current
# Time, Memory Total.
VOLATILE = {"/3/0/10", "/3/0/13", "/3/0/21"}


@pytest.fixture(autouse=True)
def board_root(tmp_path, monkeypatch) -> Path:
    """The agent's system root for these tests (the test-only ``LWM2M_SYSTEM_ROOT``): this
    machine's /proc, /etc, /usr and /sys, except a /sys/class/dmi with a vendor and a
    /sys/class/power_supply with one battery (87 %, 3.9 V, no status), so the Device object has
    a Manufacturer, one Power Source and a Battery Level to read on any machine (the agent reports
    only what the kernel describes; a test machine may have neither), and an /etc of its own
    whose time zone (/etc/localtime → Etc/UTC, /etc/timezone) the agent may change: the tests
    write UTC Offset and Timezone (``register`` gives the agent a board file with
    ``[clock] timezone = localtime``), never this machine's zone."""
    root = tmp_path / "root"
    (root / "sys" / "class").mkdir(parents=True)
    for name in ("proc", "usr"):
        (root / name).symlink_to(f"/{name}")
    (root / "etc").mkdir()
    for entry in Path("/etc").iterdir():
        if entry.name not in ("localtime", "timezone"):
            (root / "etc" / entry.name).symlink_to(entry)
    (root / "etc" / "localtime").symlink_to("/usr/share/zoneinfo/Etc/UTC")
    (root / "etc" / "timezone").write_text("Etc/UTC\n")
    for entry in Path("/sys").iterdir():
        if entry.name != "class":
            (root / "sys" / entry.name).symlink_to(entry)
    for entry in Path("/sys/class").iterdir():
        if entry.name not in ("dmi", "power_supply"):
            (root / "sys" / "class" / entry.name).symlink_to(entry)
    files = {"sys/class/dmi/id/sys_vendor": "Leshan Test Bench", "sys/class/dmi/id/product_name": "Bench 1",
             "sys/class/power_supply/BAT0/type": "Battery", "sys/class/power_supply/BAT0/capacity": "87",
             "sys/class/power_supply/BAT0/voltage_now": "3900000"}
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text + "\n")
    monkeypatch.setenv("LWM2M_SYSTEM_ROOT", str(root))
    return root


def os_release_version() -> str | None:
    """VERSION of os-release(5): what the agent reports as the device firmware (/3/0/3)."""
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            lines = Path(path).read_text().splitlines()
        except OSError:
            continue
        fields = dict(line.split("=", 1) for line in lines if "=" in line)
        return fields.get("VERSION", fields.get("VERSION_ID", "")).strip("\"'") or None
    return None


def register(leshan, ep, start_agent, tmp_path, **options):
    """Bootstraps the agent from Leshan and waits for its registration; returns (agent, registration)."""
    if "board" not in options:
        # The generic board's values, but the agent may change the (fixture root's) time zone.
        options["board"] = tmp_path / "leshan-bench.conf"
        options["board"].write_text("[board]\nname = leshan-bench\n\n[clock]\nsettable = no\ntimezone = localtime\n")
    since = leshan.mark()
    agent = start_agent(prepare(leshan, tmp_path, ep, **options))
    leshan.wait_event("bs-end", ep, since=since)
    registration = leshan.wait_event("registered", ep, since=since)
    return agent, registration


def ok(reply: dict, code: str) -> dict:
    assert reply["code"] == code, reply
    return reply


def test_bootstrap_register_and_deregister_on_sigterm(leshan, ep, start_agent, tmp_path):
    since = leshan.mark()
    agent, registration = register(leshan, ep, start_agent, tmp_path)
    # The bootstrap session as Leshan saw it: every command answered with success, Finish 2.04.
    session = leshan.events(ep, since=since)
    errors = [e for e in session if e["kind"] in ("bs-error-response", "bs-failure", "bs-failed")]
    assert not errors, errors
    finish = [e for e in session if e["kind"] == "bs-response" and e["request"].startswith("BootstrapFinish")]
    assert finish and finish[0]["code"] == "CHANGED", session
    assert registration["lwm2m"] == "1.1" and registration["lt"] == LIFETIME, registration
    assert registration["binding"] == ["U"] and registration["queue"] is False, registration
    assert "</3/0>" in registration["links"] and "</1/0>" in registration["links"], registration
    assert not any(link.startswith("</0") for link in registration["links"]), registration  # TS: never /0
    assert leshan.client(ep)["id"] == registration["id"]
    agent.wait_for(rf"server 1: registered at /rd/{registration['id']}, lifetime {LIFETIME} s")

    assert agent.stop() == 0
    gone = leshan.wait_event("unregistered", ep, since=since)
    assert gone["id"] == registration["id"] and gone["expired"] is False, gone
    assert leshan.client(ep) is None
    assert "server 1: de-registered" in agent.stderr()


def test_bootstrap_with_bootstrap_discover(leshan, ep, start_agent, tmp_path):
    # Leshan's "auto ID" mode: Bootstrap-Discover on / first, Security instance IDs chosen from it.
    since = leshan.mark()
    config = prepare(leshan, tmp_path, ep)
    assert leshan.call("bsconfig", ep=ep, uri=leshan.dm_uri(), lifetime=LIFETIME, autoid="true", delete="/1")["ok"]
    start_agent(config)
    leshan.wait_event("registered", ep, since=since)
    discover = leshan.wait_event("bs-response", ep, since=since, where=lambda e: e["request"].startswith("Discover"))
    assert discover["code"] == "CONTENT", discover
    attributes = discover["link-attributes"]
    assert attributes["/"] == {"lwm2m": "1.1"}, attributes
    # The bootstrap account (no ssid, no uri of a management server) and the Device instance.
    assert "/0/0" in attributes and "ssid" not in attributes["/0/0"], attributes
    assert "/3/0" in attributes, attributes
    writes = [e for e in leshan.events(ep, kind="bs-response", since=since)
              if e["request"].startswith("BootstrapWrite")]
    assert any("path=/0/1" in e["request"] for e in writes), writes  # a free ID next to the bootstrap account


def test_read_the_device_in_every_format_leshan_offers(leshan, ep, start_agent, tmp_path):
    register(leshan, ep, start_agent, tmp_path)
    contents = {}
    for name, code in MULTI_VALUE_FORMATS.items():
        reply = ok(leshan.call("read", ep=ep, path="/3/0", format=name), "CONTENT")
        assert reply["ct"] == code, (name, reply)
        assert reply["node"] == "LwM2mObjectInstance", reply
        content, types = reply["content"], reply["types"]
        assert content["/3/0/17"] == "Gateway", (name, content)  # device type
        assert content["/3/0/16"] == "U", (name, content)  # supported binding
        assert content.get("/3/0/3") == os_release_version(), (name, content)  # device firmware: the OS's
        assert content["/3/0/19"][:1].isdigit(), (name, content)  # software version: the agent's
        assert content["/3/0/14"].startswith(("+", "-")) and content["/3/0/15"], (name, content)
        # Leshan decoded each value with the Device model's type.
        assert types["/3/0/13"] == "TIME" and abs(content["/3/0/13"] - time.time()) < 120, (name, content)
        assert types["/3/0/9"] == "INTEGER" and 0 <= content["/3/0/9"] <= 100, (name, content)
        assert types["/3/0/17"] == "STRING" and types["/3/0/6/0"] == "INTEGER", (name, types)
        contents[name] = {path: value for path, value in content.items() if path not in VOLATILE}
    reference = contents["TLV"]
    for name, content in contents.items():
        assert content == reference, f"{name} differs from TLV: {content} != {reference}"

    # Single resources: TEXT, and the multi-value formats also carry one value.
    for path, expected in (("/3/0/17", "Gateway"), ("/3/0/9", reference["/3/0/9"]), ("/3/0/16", "U")):
        reply = ok(leshan.call("read", ep=ep, path=path, format="TEXT"), "CONTENT")
        assert reply["ct"] == 0 and reply["content"] == {path: expected}, reply
        for name, code in MULTI_VALUE_FORMATS.items():
            reply = ok(leshan.call("read", ep=ep, path=path, format=name), "CONTENT")
            assert reply["ct"] == code and reply["content"] == {path: expected}, (name, reply)
    reply = ok(leshan.call("read", ep=ep, path="/3/0/13", format="TEXT"), "CONTENT")
    assert reply["types"] == {"/3/0/13": "TIME"} and abs(reply["content"]["/3/0/13"] - time.time()) < 120, reply
    # A multi-instance resource and a whole object.
    reply = ok(leshan.call("read", ep=ep, path="/3/0/6", format="SENML_CBOR"), "CONTENT")
    assert reply["content"] == {"/3/0/6/0": reference["/3/0/6/0"]}, reply
    reply = ok(leshan.call("read", ep=ep, path="/3", format="TLV"), "CONTENT")
    assert reply["content"]["/3/0/17"] == "Gateway", reply
    # Nonexistent targets.
    ok(leshan.call("read", ep=ep, path="/3/1", format="TLV"), "NOT_FOUND")
    ok(leshan.call("read", ep=ep, path="/3/0/20", format="TLV"), "NOT_FOUND")


def test_read_single_values_as_plain_cbor(leshan, ep, start_agent, tmp_path):
    register(leshan, ep, start_agent, tmp_path)
    reply = leshan.call("read", ep=ep, path="/3/0/17", format="CBOR")
    assert reply["code"] == "CONTENT" and reply["ct"] == 60 and reply["content"] == {"/3/0/17": "Gateway"}, reply


def test_single_values_of_each_type_in_plain_cbor(leshan, ep, start_agent, tmp_path):
    """Plain CBOR (Content-Format 60) both ways, Leshan's CBOR codec typing each value with its
    models: String, Integer, Time (tag 1), Boolean, a resource instance; Write then read back."""
    register(leshan, ep, start_agent, tmp_path)
    # The reference: the same values read in SenML JSON (which carries its own types).
    text = {path: ok(leshan.call("read", ep=ep, path=path, format="SENML_JSON"), "CONTENT")["content"][path]
            for path in ("/3/0/9", "/3/0/13", "/3/0/6/0", "/1/0/6", "/1/0/1")}
    for path, kind in (("/3/0/9", "INTEGER"), ("/3/0/13", "TIME"), ("/3/0/6/0", "INTEGER"), ("/1/0/6", "BOOLEAN"),
                       ("/1/0/1", "INTEGER"), ("/3/0/16", "STRING")):
        reply = ok(leshan.call("read", ep=ep, path=path, format="CBOR"), "CONTENT")
        assert reply["ct"] == 60 and reply["types"] == {path: kind}, (path, reply)
        if path in text:
            assert reply["content"] == {path: text[path]}, (path, reply, text[path])

    for path, kind, value in (("/3/0/14", "s", "+05:00"), ("/3/0/15", "s", "Asia/Kolkata"),
                              ("/1/0/6", "b", "true"), ("/1/0/2", "i", "7")):
        ok(leshan.call("write", ep=ep, path=path, type=kind, value=value, format="CBOR"), "CHANGED")
        back = ok(leshan.call("read", ep=ep, path=path, format="CBOR"), "CONTENT")
        assert back["ct"] == 60, back
        expected = {"t": int, "i": int, "b": lambda v: v == "true", "s": str}[kind](value)
        assert back["content"] == {path: expected}, (path, back)
        reply = ok(leshan.call("read", ep=ep, path=path, format="SENML_JSON"), "CONTENT")
        assert reply["content"] == {path: expected}, (path, reply)
    # A Write in CBOR the server makes to its own lifetime reaches the registration: Update with lt.
    since = leshan.mark()
    ok(leshan.call("write", ep=ep, path="/1/0/1", type="i", value=240, format="CBOR"), "CHANGED")
    update = leshan.wait_event("updated", ep, since=since)
    assert update["update-lt"] == 240 and update["lt"] == 240, update
    # Current Time written in CBOR: this board's clock is not set by the agent
    # ([clock] settable = no), so the write is refused, never silently ignored.
    ok(leshan.call("write", ep=ep, path="/3/0/13", type="t", value="1367491215", format="CBOR"), "METHOD_NOT_ALLOWED")
    # An observation made in CBOR notifies in CBOR: a Time, the clock moving on.
    first = ok(leshan.call("observe", ep=ep, path="/3/0/13", format="CBOR"), "CONTENT")["content"]["/3/0/13"]
    since = leshan.mark()
    notification = leshan.wait_event("notify", ep, since=since, timeout=10, where=lambda e: e["path"] == "/3/0/13")
    assert notification["content"]["/3/0/13"] > first and notification["ct"] == 60, notification
    assert abs(notification["content"]["/3/0/13"] - time.time()) < 120, notification
    # (Malformed and wrong-typed CBOR Leshan will not send: test_cbor_single_value.py sends them.)


def test_current_time_advances(leshan, ep, start_agent, tmp_path):
    register(leshan, ep, start_agent, tmp_path)
    before = ok(leshan.call("read", ep=ep, path="/3/0/13", format="TEXT"), "CONTENT")["content"]["/3/0/13"]
    time.sleep(2.5)
    after = ok(leshan.call("read", ep=ep, path="/3/0/13", format="TEXT"), "CONTENT")["content"]["/3/0/13"]
    assert 2 <= after - before <= 10, (before, after)
    # Observed with pmin 1 / pmax 3: every notification carries a newer time.
    ok(leshan.call("wattr", ep=ep, path="/3/0/13", q="pmin=1&pmax=3"), "CHANGED")
    since = leshan.mark()
    first = ok(leshan.call("observe", ep=ep, path="/3/0/13", format="TEXT"), "CONTENT")["content"]["/3/0/13"]
    notifications = [leshan.wait_event("notify", ep, since=since, count=n, timeout=10,
                                       where=lambda e: e["path"] == "/3/0/13") for n in (1, 2, 3)]
    values = [first] + [n["content"]["/3/0/13"] for n in notifications]
    assert all(b > a for a, b in zip(values, values[1:])), values
    spacing = [b["time"] - a["time"] for a, b in zip(notifications, notifications[1:])]
    assert all(0.8 <= gap <= 3.5 for gap in spacing), spacing


def test_write_in_every_format_then_partial_update(leshan, ep, start_agent, tmp_path):
    register(leshan, ep, start_agent, tmp_path)
    for index, name in enumerate(["TLV", "SENML_JSON", "SENML_CBOR", "JSON", "TEXT"]):
        offset = f"+0{index + 1}:00"
        ok(leshan.call("write", ep=ep, path="/3/0/14", type="s", value=offset, format=name), "CHANGED")
        reply = ok(leshan.call("read", ep=ep, path="/3/0/14", format="TEXT"), "CONTENT")
        assert reply["content"] == {"/3/0/14": offset}, (name, reply)
    # Partial update of the instance (POST /3/0): two resources at once, the others untouched.
    # (An offset and a zone that agree: each write applies a zone, the last one wins.)
    ok(leshan.call("write", ep=ep, path="/3/0", mode="update", format="TLV",
                   res="14:s:-03:00,15:s:America/Sao_Paulo"), "CHANGED")
    content = ok(leshan.call("read", ep=ep, path="/3/0", format="SENML_JSON"), "CONTENT")["content"]
    assert content["/3/0/14"] == "-03:00" and content["/3/0/15"] == "America/Sao_Paulo", content
    assert content["/3/0/17"] == "Gateway", content
    # Read-only resources refuse a Write: 4.05.
    ok(leshan.call("write", ep=ep, path="/3/0/17", type="s", value="Toaster"), "METHOD_NOT_ALLOWED")
    # A Write the server makes to its own lifetime reaches the registration: Update with lt.
    since = leshan.mark()
    ok(leshan.call("write", ep=ep, path="/1/0/1", type="i", value=240), "CHANGED")
    update = leshan.wait_event("updated", ep, since=since)
    assert update["update-lt"] == 240 and update["lt"] == 240, update


def test_execute(leshan, ep, start_agent, tmp_path):
    agent, registration = register(leshan, ep, start_agent, tmp_path)
    # Registration Update Trigger: an Update follows at once.
    since = leshan.mark()
    ok(leshan.call("exec", ep=ep, path="/1/0/8"), "CHANGED")
    update = leshan.wait_event("updated", ep, since=since, timeout=10)
    assert update["id"] == registration["id"], update
    # Reset Error Code.
    ok(leshan.call("exec", ep=ep, path="/3/0/12"), "CHANGED")
    assert ok(leshan.call("read", ep=ep, path="/3/0/11", format="TLV"), "CONTENT")["content"] == {"/3/0/11/0": 0}
    # Not executable: 4.05; nonexistent: 4.04.
    ok(leshan.call("exec", ep=ep, path="/3/0/17"), "METHOD_NOT_ALLOWED")
    ok(leshan.call("exec", ep=ep, path="/3/1/12"), "NOT_FOUND")
    assert agent.alive()


def test_discover_and_write_attributes(leshan, ep, start_agent, tmp_path):
    register(leshan, ep, start_agent, tmp_path)
    links = ok(leshan.call("discover", ep=ep, path="/3/0"), "CONTENT")["links"]
    assert links[0] == "</3/0>", links
    for resource in (0, 3, 9, 13, 14, 15, 16, 17):
        assert f"</3/0/{resource}>" in links, links
    assert "</3/0/6>;dim=1" in links, links
    objects = ok(leshan.call("discover", ep=ep, path="/3"), "CONTENT")["links"]
    assert "</3/0>" in objects, objects

    ok(leshan.call("wattr", ep=ep, path="/3/0/9", q="pmin=10&pmax=60&gt=50"), "CHANGED")
    ok(leshan.call("wattr", ep=ep, path="/3/0", q="pmax=300"), "CHANGED")
    links = ok(leshan.call("discover", ep=ep, path="/3/0/9"), "CONTENT")["links"]
    assert len(links) == 1 and all(a in links[0] for a in ("pmin=10", "pmax=60", "gt=50")), links
    links = ok(leshan.call("discover", ep=ep, path="/3/0"), "CONTENT")["links"]
    assert "pmax=300" in links[0], links
    # gt on a string resource is refused (numeric only).
    ok(leshan.call("wattr", ep=ep, path="/3/0/17", q="gt=5"), "BAD_REQUEST")


def test_write_attributes_and_observe(leshan, ep, start_agent, tmp_path):
    register(leshan, ep, start_agent, tmp_path)
    # pmax 2 on a value that does not change: a notification every 2 s (pmin 1 holds them apart).
    ok(leshan.call("wattr", ep=ep, path="/3/0/9", q="pmin=1&pmax=2"), "CHANGED")
    since = leshan.mark()
    first = ok(leshan.call("observe", ep=ep, path="/3/0/9", format="TEXT"), "CONTENT")
    assert first["types"] == {"/3/0/9": "INTEGER"}, first
    notifications = [leshan.wait_event("notify", ep, since=since, count=n, timeout=10,
                                       where=lambda e: e["path"] == "/3/0/9") for n in (1, 2, 3)]
    assert all(n["content"] == first["content"] for n in notifications), notifications
    spacing = [b["time"] - a["time"] for a, b in zip(notifications, notifications[1:])]
    assert all(1.5 <= gap <= 5.0 for gap in spacing), spacing  # pmax 2 s, slack for a loaded machine
    assert leshan.call("cancel", ep=ep, path="/3/0/9")["cancelled"] == 1
    # A value a server writes is notified to the observer (Write → notification).
    since = leshan.mark()
    ok(leshan.call("observe", ep=ep, path="/3/0/15", format="SENML_CBOR"), "CONTENT")
    ok(leshan.call("write", ep=ep, path="/3/0/15", type="s", value="Europe/Paris"), "CHANGED")
    notification = leshan.wait_event("notify", ep, since=since, timeout=10, where=lambda e: e["path"] == "/3/0/15")
    assert notification["content"] == {"/3/0/15": "Europe/Paris"} and notification["ct"] == 112, notification
    # Observing an instance: its notification carries the whole instance.
    since = leshan.mark()
    ok(leshan.call("observe", ep=ep, path="/3/0", format="TLV"), "CONTENT")
    ok(leshan.call("write", ep=ep, path="/3/0/14", type="s", value="+09:00"), "CHANGED")
    notification = leshan.wait_event("notify", ep, since=since, timeout=10,
                                     where=lambda e: e["path"] == "/3/0" and e["content"].get("/3/0/14") == "+09:00")
    assert notification["content"]["/3/0/17"] == "Gateway", notification


def test_composite_read_write_and_observe(leshan, ep, start_agent, tmp_path):
    register(leshan, ep, start_agent, tmp_path)
    paths = "/3/0/17,/3/0/14,/1/0/1"
    for name, code in (("SENML_JSON", 110), ("SENML_CBOR", 112)):
        reply = ok(leshan.call("rcomp", ep=ep, paths=paths, format=name), "CONTENT")
        assert reply["ct"] == code, reply
        content = reply["content"]
        assert content["/3/0/17"] == "Gateway" and content["/1/0/1"] == LIFETIME, (name, content)
        assert set(content) == {"/3/0/17", "/3/0/14", "/1/0/1"}, (name, content)
    # A whole instance inside a composite read.
    content = ok(leshan.call("rcomp", ep=ep, paths="/3/0,/1/0/1", format="SENML_CBOR"), "CONTENT")["content"]
    assert content["/3/0/17"] == "Gateway" and "/3/0/9" in content and content["/1/0/1"] == LIFETIME, content

    # Offsets and zones that agree (zones without summer time): each write applies a zone.
    for name, offset, zone in (("SENML_JSON", "+09:00", "Asia/Tokyo"), ("SENML_CBOR", "+05:00", "Asia/Karachi")):
        ok(leshan.call("wcomp", ep=ep, vals=f"/3/0/14:s:{offset},/3/0/15:s:{zone}", format=name), "CHANGED")
        content = ok(leshan.call("rcomp", ep=ep, paths="/3/0/14,/3/0/15", format=name), "CONTENT")["content"]
        assert content == {"/3/0/14": offset, "/3/0/15": zone}, (name, content)
    # Whole or nothing: one read-only resource in it, nothing is written.
    reply = leshan.call("wcomp", ep=ep, vals="/3/0/14:s:+07:00,/3/0/17:s:Toaster", format="SENML_CBOR")
    assert not reply["ok"], reply
    content = ok(leshan.call("rcomp", ep=ep, paths="/3/0/14,/3/0/17", format="SENML_CBOR"), "CONTENT")["content"]
    assert content == {"/3/0/14": "+05:00", "/3/0/17": "Gateway"}, content

    since = leshan.mark()
    ok(leshan.call("ocomp", ep=ep, paths="/3/0/14,/3/0/15", format="SENML_CBOR"), "CONTENT")
    ok(leshan.call("wcomp", ep=ep, vals="/3/0/14:s:-01:00,/3/0/15:s:Atlantic/Cape_Verde", format="SENML_CBOR"),
       "CHANGED")
    notification = leshan.wait_event("notify-composite", ep, since=since, timeout=10,
                                     where=lambda e: e["content"].get("/3/0/15") == "Atlantic/Cape_Verde")
    assert notification["content"] == {"/3/0/14": "-01:00", "/3/0/15": "Atlantic/Cape_Verde"}, notification
    assert leshan.call("ccancel", ep=ep, paths="/3/0/14,/3/0/15")["cancelled"] == 1


def test_create_and_delete_on_the_access_control_object(leshan, ep, start_agent, tmp_path):
    agent, _ = register(leshan, ep, start_agent, tmp_path)
    # An ACL instance for /3/0 owned by server 1 (resource 2, the ACL itself, left empty).
    since = leshan.mark()
    created = leshan.call("create", ep=ep, path="/2", inst=7, res="0:i:3,1:i:0,3:i:1")
    if created["code"] != "CREATED":
        # LwM2M 1.1 §7.3 leaves Access Control instances to the client and the bootstrap server:
        # an agent may refuse a management server's Create and Delete on /2 (4.01 / 4.05). Then
        # nothing may have changed.
        assert created["code"] in ("UNAUTHORIZED", "METHOD_NOT_ALLOWED"), created
        content = ok(leshan.call("read", ep=ep, path="/2", format="TLV"), "CONTENT")["content"]
        assert not any(path.startswith("/2/7/") for path in content), content
        assert leshan.call("delete", ep=ep, path="/2/7")["code"] in ("UNAUTHORIZED", "METHOD_NOT_ALLOWED",
                                                                      "NOT_FOUND")
        time.sleep(0.5)
        assert not leshan.events(ep, kind="updated", since=since), "an Update although nothing changed"
        ok(leshan.call("read", ep=ep, path="/3/0/17", format="TEXT"), "CONTENT")
        assert agent.alive()
        return
    assert created["location"] in ("2/7", "/2/7"), created
    content = ok(leshan.call("read", ep=ep, path="/2/7", format="TLV"), "CONTENT")["content"]
    assert content["/2/7/0"] == 3 and content["/2/7/1"] == 0 and content["/2/7/3"] == 1, content
    # A new instance changes the object links: the agent sends an Update with them.
    update = leshan.wait_event("updated", ep, since=since, timeout=10, where=lambda e: e["update-links"])
    assert "</2/7>" in update["update-links"], update
    # Creating it again: 4.00 (existing instance).
    ok(leshan.call("create", ep=ep, path="/2", inst=7, res="0:i:3,1:i:0,3:i:1"), "BAD_REQUEST")
    # Still one server: the ACL does not restrict it.
    ok(leshan.call("read", ep=ep, path="/3/0/17", format="TEXT"), "CONTENT")

    since = leshan.mark()
    ok(leshan.call("delete", ep=ep, path="/2/7"), "DELETED")
    ok(leshan.call("read", ep=ep, path="/2/7", format="TLV"), "NOT_FOUND")
    ok(leshan.call("delete", ep=ep, path="/2/7"), "NOT_FOUND")
    update = leshan.wait_event("updated", ep, since=since, timeout=10, where=lambda e: e["update-links"])
    assert "</2/7>" not in update["update-links"], update
    # The Device instance cannot be deleted.
    assert leshan.call("delete", ep=ep, path="/3/0")["code"] in ("METHOD_NOT_ALLOWED", "UNAUTHORIZED", "BAD_REQUEST")
    ok(leshan.call("read", ep=ep, path="/3/0/17", format="TEXT"), "CONTENT")
    assert agent.alive()


def test_restart_registers_without_bootstrapping(leshan, ep, start_agent, tmp_path):
    since = leshan.mark()
    agent, first = register(leshan, ep, start_agent, tmp_path)
    assert agent.stop() == 0
    leshan.wait_event("unregistered", ep, since=since)
    restart = leshan.mark()
    agent = start_agent(tmp_path / "agent.conf", name="agentd-restarted")
    second = leshan.wait_event("registered", ep, since=restart)
    assert second["id"] != first["id"] and second["lt"] == LIFETIME, second
    assert not leshan.events(ep, kind="bs-initiated", since=restart), "the restart bootstrapped again"
    ok(leshan.call("read", ep=ep, path="/3/0/17", format="TEXT"), "CONTENT")
