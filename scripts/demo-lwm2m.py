#!/usr/bin/env python3
"""The LwM2M demo, run by scripts/demo.sh after the release build:

    demo-lwm2m.py BIN_DIR [--dtls]

Starts, on loopback, an LwM2M bootstrap server and a management server (the independent aiocoap
peers in Tests/interop/peers) and lwm2m-agentd with a configuration holding only a bootstrap
account. Shows: client-initiated bootstrap → registration → the management server reading the
Device object /3/0 in TLV, SenML JSON and SenML CBOR → an observation with pmin/pmax → a restart
that registers without bootstrapping → SIGTERM de-registering. Every process is stopped at the
end, whatever happens. With --dtls, both servers sit behind an OpenSSL DTLS relay
(Tests/interop/dtls_relay.py): the agent bootstraps over DTLS PSK and the bootstrap server
provisions a PSK account for the management server, which the agent then registers with over
DTLS.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lwm2m_peers import Peer, start_dtls_relay


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def show(line: dict, keys: list[str]) -> None:
    print("   " + json.dumps({key: line[key] for key in keys if key in line}), flush=True)


def main() -> int:
    bin_dir = Path(sys.argv[1])
    dtls = "--dtls" in sys.argv[2:]
    relays: list[subprocess.Popen] = []
    workdir = Path(tempfile.mkdtemp(prefix="lwm2m-demo-"))
    peers: list[Peer] = []
    agents: list[subprocess.Popen] = []

    def start_agent(config: Path, log: Path) -> subprocess.Popen:
        started = time.monotonic()
        agent = subprocess.Popen([str(bin_dir / "lwm2m-agentd"), "--config", str(config)],
                                 stderr=open(log, "wb"), stdout=subprocess.DEVNULL)
        agents.append(agent)
        agent.started = started  # type: ignore[attr-defined]
        return agent

    try:
        management = Peer("management-server", "management_server.py", workdir)
        peers.append(management)
        server_uri = f"coap://127.0.0.1:{management.port}"
        server_psk = ("demo-gw", "f0e0d0c0b0a090807060504030201000")
        bootstrap_psk = ("demo-gw-bootstrap", "000102030405060708090a0b0c0d0e0f")
        extra = []
        if dtls:
            server_uri = f"coaps://127.0.0.1:{start_dtls_relay(management.port, [':'.join(server_psk)], relays)}"
            extra = ["--psk-identity", server_psk[0], "--psk-key", server_psk[1]]
        bootstrap = Peer("bootstrap-server", "bootstrap_server.py", workdir,
                         "--server-uri", server_uri, "--lifetime", "60", *extra)
        peers.append(bootstrap)
        bootstrap_uri = f"coap://127.0.0.1:{bootstrap.port}"
        account = ""
        if dtls:
            bootstrap_uri = f"coaps://127.0.0.1:{start_dtls_relay(bootstrap.port, [':'.join(bootstrap_psk)], relays)}"
            (workdir / "bootstrap.psk").write_text(bootstrap_psk[1] + "\n")
            account = (f"security-mode = psk\npsk-identity = {bootstrap_psk[0]}\n"
                       f"secret-key-file = {workdir / 'bootstrap.psk'}\n")
        config = workdir / "agent.conf"
        config.write_text(f"""[agent]
endpoint-name = demo-gw-{{hostname}}
state-dir = {workdir}/state
log-level = info
credential-store = development

[bootstrap]
uri = {bootstrap_uri}
{account}""")
        step(f"servers: bootstrap {bootstrap_uri}, management {server_uri}"
             + (" (OpenSSL DTLS relays, PSK)" if dtls else ""))
        print(f"   agent configuration ({config}):")
        print("".join(f"   | {line}\n" for line in config.read_text().splitlines()), end="")

        step("lwm2m-agentd --config agent.conf: client-initiated bootstrap")
        agent = start_agent(config, workdir / "agentd.log")
        show(bootstrap.wait(lambda line: line.get("event") == "bootstrap-request"), ["event", "ep", "pct"])
        for line in [bootstrap.wait(lambda l: l.get("event") == "response", count=n) for n in range(1, 5)]:
            show(line, ["op", "path", "format", "code"])

        step("registration at the management server")
        registration = management.wait(lambda line: line.get("event") == "register")
        elapsed = time.monotonic() - agent.started  # type: ignore[attr-defined]
        show(registration, ["event", "ep", "lt", "lwm2m", "binding", "location", "objects"])
        print(f"   (seen by the management server {elapsed * 1000:.0f} ms after the daemon was spawned, Python"
              " peers and polling included; the daemon's own figure is in its log below)")
        ep = registration["ep"]

        for accept, name in ((11542, "TLV"), (110, "SenML JSON"), (112, "SenML CBOR")):
            step(f"the management server reads /3/0 as {name} ({accept})")
            reply = management.command("read", ep=ep, path="/3/0", accept=accept)
            print(f"   {reply['code']}, format {reply.get('format')}")
            for path, value in list(reply.get("value", {}).items())[:8]:
                print(f"   {path} = {value!r}")

        step("Write-Attributes pmin=1&pmax=2 on /3/0/9, then observe it for 5 s")
        show(management.command("write-attributes", ep=ep, path="/3/0/9", attributes={"pmin": 1, "pmax": 2}), ["code"])
        observed = management.command("observe", ep=ep, path="/3/0/9", accept=0)
        show(observed, ["code", "value", "observing"])
        time.sleep(5)
        for line in [l for l in management.lines() if l.get("event") == "notify"]:
            show(line, ["event", "observe", "value"])

        step("SIGTERM: the agent de-registers")
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=10)
        show(management.wait(lambda line: line.get("event") == "deregister"), ["event", "ep"])

        if dtls:
            step("restart: the development credential store kept no secrets, so the agent bootstraps again")
        else:
            step("restart: registered again from the saved configuration, no bootstrap")
        agent = start_agent(config, workdir / "agentd-restart.log")
        management.wait(lambda line: line.get("event") == "register", count=2)
        requests = [l for l in bootstrap.lines() if l.get("event") == "bootstrap-request"]
        print(f"   registered; bootstrap requests so far: {len(requests)}")
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=10)

        step("agent log (first run)")
        print((workdir / "agentd.log").read_text(), end="")
        return 0
    finally:
        for agent in agents:
            if agent.poll() is None:
                agent.kill()
        for peer in peers:
            peer.stop()
        for relay in relays:
            relay.terminate()


if __name__ == "__main__":
    sys.exit(main())
