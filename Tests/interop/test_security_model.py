"""Claims of docs/security-model.md that no other test proved (the page names the test of each
claim; these are the ones it names here).

* A bootstrap server cannot read the Security object back (LwM2M 1.1 §6.1.7.2 allows
  Bootstrap-Read of /1 and /2 only): the keys it or the factory line provisioned stay on the
  board. The project's bootstrap peer writes a PSK account, then reads /0, /0/1 and /0/1/5
  (4.01 each) and /1 (2.05: the read itself works), and finishes.
* The systemd unit's hardening, as systemd itself rates it (``systemd-analyze security
  --offline=yes``): the directives docs/security-model.md lists are in force and the overall
  exposure stays "OK".
"""

from __future__ import annotations

import json
import re
import subprocess

from agentconfig import write_config
from conftest import REPO, free_udp_port, require_tool

KEY = "3f1e2d3c4b5a69788796a5b4c3d2e1f0"


def test_a_bootstrap_server_cannot_read_the_security_object(start_peer, start_agent, tmp_path):
    server_uri = f"coaps://127.0.0.1:{free_udp_port()}"  # never reached: the test ends at Finish
    plan = [
        {"op": "delete", "path": "/"},
        {"op": "write", "path": "/0/1", "value": {"0": server_uri, "1": False, "2": 0, "3": "gw-e2e-1",
                                                   "5": {"hex": KEY}, "10": 101}},
        {"op": "write", "path": "/1/1", "value": {"0": 101, "1": 60, "6": True, "7": "U"}},
        {"op": "read", "path": "/0"},
        {"op": "read", "path": "/0/1"},
        {"op": "read", "path": "/0/1/5"},
        {"op": "read", "path": "/1/1"},
        {"op": "finish"},
    ]
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    bs = start_peer("bootstrap_server", "--plan", str(tmp_path / "plan.json"))
    agent = start_agent(write_config(tmp_path, bootstrap=f"coap://127.0.0.1:{bs.port}", dtls_timeout_min=0.2,
                                     dtls_timeout_max=1))
    assert bs.wait_event("finish", timeout=20)["code"] == "2.04"
    reads = {event["path"]: event for event in bs.events("response") if event["op"] == "read"}
    print("\n" + "\n".join(f"Bootstrap-Read {path}: {event['code']}" for path, event in reads.items()))
    for path in ("/0", "/0/1", "/0/1/5"):
        assert reads[path]["code"] == "4.01", reads[path]
        assert "value" not in reads[path] and KEY not in json.dumps(reads[path]), reads[path]
    assert reads["/1/1"]["code"] == "2.05" and reads["/1/1"]["value"], reads["/1/1"]
    assert agent.alive()


#: The unit's hardening docs/security-model.md lists, by the name systemd-analyze gives each check.
HARDENING = ["CapabilityBoundingSet=~CAP_SYS_ADMIN", "CapabilityBoundingSet=~CAP_NET_ADMIN", "NoNewPrivileges=",
             "ProtectSystem=", "ProtectHome=", "PrivateTmp=", "ProtectKernelModules=", "ProtectKernelLogs=",
             "ProtectControlGroups=", "ProtectClock=", "ProtectHostname=", "AmbientCapabilities=", "NotifyAccess=", "RestrictAddressFamilies=~AF_PACKET",
             "RestrictNamespaces=~user", "RestrictRealtime=", "RestrictSUIDSGID=", "LockPersonality=",
             "MemoryDenyWriteExecute=", "SystemCallArchitectures=", "SystemCallFilter=~@mount", "UMask="]


def test_the_units_hardening_as_systemd_rates_it():
    require_tool("systemd-analyze", "apt-get install systemd")
    unit = REPO / "init" / "lwm2m-agentd.service"
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)],
                            capture_output=True, text=True, timeout=60)
    report = result.stdout
    print(report[-400:])
    passed = {line.split()[1] for line in report.splitlines() if line.startswith("✓")}
    missing = [check for check in HARDENING if check not in passed]
    assert not missing, f"not in force according to systemd-analyze: {missing}\n{report}"
    exposure = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", report)
    assert exposure, report + result.stderr
    assert float(exposure.group(1)) <= 3.0 and exposure.group(2) == "OK", exposure.group(0)
