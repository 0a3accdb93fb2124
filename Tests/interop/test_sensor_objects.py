"""Temperature (IPSO 3303) and Connectivity Monitoring (4) from the real ``lwm2m-agentd``, read by
the independent management server (peers/management_server.py, aiocoap), compared with what this
machine's own tools say (``ip -j``, /sys/class/thermal read here in Python).

The fixture-root tests run the daemon with ``LWM2M_SYSTEM_ROOT`` (a test-only seam: /sys and /proc
are read under that directory) on a copy of Tests/BoardTests/Fixtures/sensors-x86-ipv6, and change
the zone's ``temp`` file between requests: values, min/max, reset, and an observation with ``st``
that notifies only when the zone moves by more than the step; and Eclipse Leshan reading both
objects with its own models.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from agentconfig import write_config
from conftest import REPO
from leshan_server import ep, leshan  # noqa: F401 (fixtures)

EP = "gw-e2e-1"
SENML_JSON = 110
FIXTURE = REPO / "Tests" / "BoardTests" / "Fixtures" / "sensors-x86-ipv6"


def register(start_peer, start_agent, tmp_path):
    ms = start_peer("management_server")
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 60}})
    agent = start_agent(config)
    registration = ms.wait_event("register", ep=EP)
    return ms, agent, registration


def read(ms, path: str) -> dict:
    reply = ms.command("read", ep=EP, path=path, accept=SENML_JSON)
    assert reply["ok"] and reply["code"] == "2.05", reply
    return reply["value"]


def ip_json(*args: str) -> list:
    run = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, timeout=10)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout or "[]")


def zone_of(address: str) -> str:
    return address.split("%", 1)[0]


# MARK: - This machine


def test_connectivity_monitoring_reports_this_machines_addresses_and_router(start_peer, start_agent, tmp_path):
    ms, _, registration = register(start_peer, start_agent, tmp_path)
    assert registration["objects"].get("4") == [0], registration["objects"]
    value = read(ms, "/4/0")

    reported = [v for k, v in value.items() if k.startswith("/4/0/4/")]
    routers = [v for k, v in value.items() if k.startswith("/4/0/5/")]
    machine = {info["local"]: link["ifname"] for link in ip_json("addr") for info in link.get("addr_info", [])}
    defaults = ip_json("route", "show", "default") + ip_json("-6", "route", "show", "default")
    default_devs = [route["dev"] for route in defaults if "gateway" in route and "dev" in route]

    # Every reported address is one of this machine's, never loopback or IPv6 link-local.
    assert reported, value
    for address in reported:
        assert address in machine, (address, machine)
        parsed = ipaddress.ip_address(address)
        assert not parsed.is_loopback and not (parsed.version == 6 and parsed.is_link_local), address
    # Every address of the interface carrying the default route is there (link-local aside).
    for address, dev in machine.items():
        parsed = ipaddress.ip_address(address)
        if default_devs and dev == default_devs[0] and not (parsed.version == 6 and parsed.is_link_local):
            assert address in reported, (address, reported)

    # The routers are the gateways `ip route` shows for the default routes, IPv4 first.
    expected_routers = []
    for route in defaults:
        gateway = route.get("gateway")
        if gateway and gateway not in expected_routers:
            link_local = ipaddress.ip_address(gateway).version == 6 and ipaddress.ip_address(gateway).is_link_local
            expected_routers.append(f"{gateway}%{route['dev']}" if link_local else gateway)
    assert routers == expected_routers, (routers, expected_routers)

    # The bearer: the default-route interface's kind, as sysfs and `ip -j link` say.
    if default_devs:
        dev = default_devs[0]
        wireless = Path(f"/sys/class/net/{dev}/wireless").exists() or Path(f"/sys/class/net/{dev}/phy80211").exists()
        link_type = next(link["link_type"] for link in ip_json("link", "show", dev))
        if wireless:
            assert value["/4/0/0"] == 21
        elif link_type == "ether":
            assert value["/4/0/0"] == 41
        else:  # a tunnel, PPP, a raw-IP modem: sysfs does not tell the bearer
            assert "/4/0/0" not in value, value
        if "/4/0/0" in value:
            assert value["/4/0/0"] in [v for k, v in value.items() if k.startswith("/4/0/1/")]
    # Never offered without a modem: APN and the cell fields.
    assert not any(k.startswith(("/4/0/7", "/4/0/8", "/4/0/9", "/4/0/10")) for k in value), value


def test_temperature_is_this_machines_thermal_zones_or_absent(start_peer, start_agent, tmp_path):
    ms, _, registration = register(start_peer, start_agent, tmp_path)
    zones = sorted(Path("/sys/class/thermal").glob("thermal_zone[0-9]*"),
                   key=lambda p: int(p.name.removeprefix("thermal_zone")))
    if not zones:
        # This machine has no thermal zone: no 3303 object (the fixture tests below cover one).
        assert "3303" not in registration["objects"], registration["objects"]
        reply = ms.command("read", ep=EP, path="/3303/0/5700", accept=SENML_JSON)
        assert reply["code"] == "4.04", reply
        return
    assert registration["objects"]["3303"] == list(range(len(zones)))
    value = read(ms, "/3303")
    for index, zone in enumerate(zones):
        assert value[f"/3303/{index}/5701"] == "Cel"
        try:
            here = int((zone / "temp").read_text().strip()) / 1000
        except (OSError, ValueError):
            continue
        assert abs(value[f"/3303/{index}/5700"] - here) < 5, (zone, value)


# MARK: - A fixture tree as the system root


@pytest.fixture
def fixture_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "root"
    shutil.copytree(FIXTURE, root, symlinks=True)
    monkeypatch.setenv("LWM2M_SYSTEM_ROOT", str(root))
    return root


def set_temp(root: Path, millidegrees: int) -> None:
    (root / "sys/class/thermal/thermal_zone0/temp").write_text(f"{millidegrees}\n")


def test_fixture_zones_over_the_wire_values_minmax_reset_and_write(fixture_root, start_peer, start_agent, tmp_path):
    ms, _, registration = register(start_peer, start_agent, tmp_path)
    assert registration["objects"]["3303"] == [0, 1, 2, 3]
    value = read(ms, "/3303")
    assert value["/3303/0/5700"] == 27.8 and value["/3303/0/5750"] == "acpitz" and value["/3303/0/5604"] == 119
    assert value["/3303/1/5750"] == "x86_pkg_temp" and "/3303/1/5604" not in value  # passive trips only
    assert "/3303/2/5700" not in value and value["/3303/2/5701"] == "Cel"  # iwlwifi zone: empty temp
    assert value["/3303/3/5700"] == -5.5
    assert ms.command("read", ep=EP, path="/3303/2/5700")["code"] == "4.04"

    set_temp(fixture_root, 30500)
    value = read(ms, "/3303/0")
    assert (value["/3303/0/5700"], value["/3303/0/5601"], value["/3303/0/5602"]) == (30.5, 27.8, 30.5)
    set_temp(fixture_root, "garbage")  # type: ignore[arg-type]
    assert ms.command("read", ep=EP, path="/3303/0/5700")["code"] == "4.04"
    set_temp(fixture_root, 29000)
    assert ms.command("execute", ep=EP, path="/3303/0/5605")["code"] == "2.04"
    value = read(ms, "/3303/0")
    assert (value["/3303/0/5601"], value["/3303/0/5602"]) == (29.0, 29.0)

    reply = ms.command("write", ep=EP, path="/3303/0/5750", value="chassis", format="senml-json")
    assert reply["code"] == "2.04", reply
    assert read(ms, "/3303/0/5750") == {"/3303/0/5750": "chassis"}
    assert ms.command("write", ep=EP, path="/3303/0/5700", value=1.0, format="senml-json")["code"] == "4.05"

    # Connectivity from the fixture's routes: IPv6-only, the RA router with its zone.
    value = read(ms, "/4/0")
    assert value["/4/0/0"] == 41
    assert [v for k, v in sorted(value.items()) if k.startswith("/4/0/5/")] == \
        ["fe80::211:22ff:fe33:4455%enp3s0", "2001:db8:1::1"]


def test_fixture_zone_observed_with_a_step(fixture_root, start_peer, start_agent, tmp_path):
    """Observe /3303/0/5700 with st=2: a change of 1.5 sends nothing, one of 2.5 a notification.
    The object reads the zone whenever it is read, so a Read of the instance (here) or the
    daemon's sampling timer finds the change and the reporting engine applies st."""
    ms, _, _ = register(start_peer, start_agent, tmp_path)
    reply = ms.command("write-attributes", ep=EP, path="/3303/0/5700", attributes={"st": 2})
    assert reply["code"] == "2.04", reply
    reply = ms.command("observe", ep=EP, path="/3303/0/5700", accept=0)
    assert reply["code"] == "2.05" and reply["value"] == {"/3303/0/5700": 27.8}, reply

    set_temp(fixture_root, 29300)  # +1.5
    read(ms, "/3303/0")
    set_temp(fixture_root, 30300)  # +2.5 from the last notified 27.8
    read(ms, "/3303/0")
    notify = ms.wait_event("notify", ep=EP, timeout=10)
    assert notify["value"] == {"/3303/0/5700": 30.3}, notify
    assert [n["value"] for n in ms.events("notify")] == [{"/3303/0/5700": 30.3}]


def test_garbage_in_every_kernel_file_gives_absent_values_not_a_crash(start_peer, start_agent, tmp_path, monkeypatch):
    monkeypatch.setenv("LWM2M_SYSTEM_ROOT", str(REPO / "Tests" / "BoardTests" / "Fixtures" / "sensors-garbage"))
    ms, agent, registration = register(start_peer, start_agent, tmp_path)
    assert registration["objects"]["3303"] == [0, 1, 2, 3], registration["objects"]
    value = read(ms, "/3303")
    assert not any(path.endswith(("/5700", "/5601", "/5602", "/5604")) for path in value), value
    assert value["/3303/0/5750"] == "cpu-thermal" and "/3303/1/5750" not in value, value
    assert ms.command("execute", ep=EP, path="/3303/2/5605")["code"] == "2.04"
    value = read(ms, "/4/0")
    assert not any(path.startswith(("/4/0/0", "/4/0/1/", "/4/0/2", "/4/0/5/")) for path in value), value
    assert agent.alive()


# MARK: - Eclipse Leshan, with its own object models


def test_leshan_reads_connectivity_with_its_model_and_temperature(fixture_root, leshan, ep, start_agent, tmp_path):
    """Eclipse Leshan decodes /4/0 with its own model of object 4 v1.3. It has no model of 3303
    (IPSO objects are not in its defaults): SenML and JSON carry the types, and TLV comes out as
    opaque bytes, decoded here as the big-endian IEEE floats TS 1.1 §7.4.3 specifies."""
    from leshan_agent import prepare

    since = leshan.mark()
    start_agent(prepare(leshan, tmp_path, ep))
    registration = leshan.wait_event("registered", ep, since=since)
    assert {"</4>;ver=1.3", "</4/0>", "</3303>;ver=1.1", "</3303/3>"} <= set(registration["links"]), registration
    for name in ("TLV", "SENML_CBOR", "JSON"):
        reply = leshan.call("read", ep=ep, path="/4/0", format=name)
        assert reply["code"] == "CONTENT", (name, reply)
        assert reply["content"] == {"/4/0/0": 41, "/4/0/1/0": 41, "/4/0/5/0": "fe80::211:22ff:fe33:4455%enp3s0",
                                    "/4/0/5/1": "2001:db8:1::1"}, (name, reply)
        assert reply["types"]["/4/0/0"] == "INTEGER" and reply["types"]["/4/0/5/1"] == "STRING", (name, reply)
    for name in ("SENML_CBOR", "JSON"):
        reply = leshan.call("read", ep=ep, path="/3303/0", format=name)
        assert reply["code"] == "CONTENT", (name, reply)
        assert reply["content"] == {"/3303/0/5601": 27.8, "/3303/0/5602": 27.8, "/3303/0/5604": 119.0,
                                    "/3303/0/5700": 27.8, "/3303/0/5701": "Cel", "/3303/0/5750": "acpitz"}, (name, reply)
    content = leshan.call("read", ep=ep, path="/3303/0", format="TLV")["content"]
    floats = {path: struct.unpack(">d" if len(raw) == 16 else ">f", bytes.fromhex(raw))[0]
              for path, raw in content.items() if path.endswith(("/5700", "/5604"))}
    assert floats == {"/3303/0/5700": 27.8, "/3303/0/5604": 119.0}, content
    assert leshan.call("read", ep=ep, path="/3303/2/5700", format="SENML_CBOR")["code"] == "NOT_FOUND"
    assert leshan.call("exec", ep=ep, path="/3303/0/5605")["code"] == "CHANGED"
