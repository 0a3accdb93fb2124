#!/usr/bin/env python3
"""The LwM2M demo, run by scripts/demo.sh after the release build:

    demo-lwm2m.py BIN_DIR [--dtls]

Starts, on loopback, an LwM2M bootstrap server and a management server (the independent aiocoap
peers in Tests/interop/peers), a software TPM (swtpm) as the agent's credential store, and
lwm2m-agentd with a configuration holding only a bootstrap account. Shows: client-initiated bootstrap → registration → the management server reading the
Device object /3/0 in TLV, SenML JSON and SenML CBOR → an observation of Current Time with pmin/pmax → a restart
that registers without bootstrapping → SIGTERM de-registering. Every process is stopped at the
end, whatever happens. With --dtls, both servers sit behind an OpenSSL DTLS relay
(Tests/interop/dtls_relay.py): the bootstrap PSK is provisioned into the TPM with
`lwm2m-agent factory set-bootstrap --psk-key-stdin`, the agent bootstraps over DTLS PSK, the
bootstrap server provisions a PSK account for the management server (sealed by the TPM as it
arrives), and the agent registers with it over DTLS.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lwm2m_peers import Peer, start_dtls_relay, start_swtpm


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def show(line: dict, keys: list[str]) -> None:
    print("   " + json.dumps({key: line[key] for key in keys if key in line}), flush=True)


def main() -> int:
    bin_dir = Path(sys.argv[1])
    dtls = "--dtls" in sys.argv[2:]
    background: list[subprocess.Popen] = []
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
            server_uri = f"coaps://127.0.0.1:{start_dtls_relay(management.port, [':'.join(server_psk)], background)}"
            extra = ["--psk-identity", server_psk[0], "--psk-key", server_psk[1]]
        bootstrap = Peer("bootstrap-server", "bootstrap_server.py", workdir,
                         "--server-uri", server_uri, "--lifetime", "60", *extra)
        peers.append(bootstrap)
        tcti = start_swtpm(workdir, background)
        bootstrap_uri = f"coap://127.0.0.1:{bootstrap.port}"
        config = workdir / "agent.conf"
        config.write_text(f"""[agent]
endpoint-name = demo-gw-{{hostname}}
state-dir = {workdir}/state
log-level = info
credential-store = tpm
tpm-tcti = {tcti}
""" + ("" if dtls else f"""
[bootstrap]
uri = {bootstrap_uri}
"""))
        if dtls:
            bootstrap_uri = f"coaps://127.0.0.1:{start_dtls_relay(bootstrap.port, [':'.join(bootstrap_psk)], background)}"
            step("factory line: the bootstrap PSK goes into the TPM (key on stdin, never in a file or argv)")
            command = [str(bin_dir / "lwm2m-agent"), "factory", "set-bootstrap", "--config", str(config),
                       "--uri", bootstrap_uri, "--security-mode", "psk", "--psk-identity", bootstrap_psk[0],
                       "--psk-key-stdin", "--no-qr"]
            print("   $ " + " ".join(command[1:]).replace(str(config), "agent.conf"))
            result = subprocess.run(command, input=bootstrap_psk[1] + "\n", text=True, capture_output=True, timeout=30)
            print("".join(f"   {line}\n" for line in (result.stdout + result.stderr).splitlines()), end="")
            if result.returncode != 0:
                raise SystemExit("factory provisioning failed")
        step(f"servers: bootstrap {bootstrap_uri}, management {server_uri}"
             + (" (OpenSSL DTLS relays, PSK)" if dtls else ""))
        print(f"   agent configuration ({config}):")
        print("".join(f"   | {line}\n" for line in config.read_text().splitlines()), end="")
        factory_file = workdir / "state" / "factory.conf"
        if factory_file.exists():
            print("   factory file written by `lwm2m-agent factory` (state/factory.conf; names of sealed secrets only):")
            print("".join(f"   | {line}\n" for line in factory_file.read_text().splitlines()), end="")

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

        step("Write-Attributes pmin=1&pmax=2 on /3/0/13 (Current Time, the board's clock), then observe it for 5 s")
        show(management.command("write-attributes", ep=ep, path="/3/0/13", attributes={"pmin": 1, "pmax": 2}), ["code"])
        observed = management.command("observe", ep=ep, path="/3/0/13", accept=0)
        show(observed, ["code", "value", "observing"])
        time.sleep(5)
        for line in [l for l in management.lines() if l.get("event") == "notify"]:
            show(line, ["event", "observe", "value"])

        step("SIGTERM: the agent de-registers")
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=10)
        show(management.wait(lambda line: line.get("event") == "deregister"), ["event", "ep"])

        step("restart: registered again from the saved configuration (secrets sealed by the TPM), no bootstrap")
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
        for relay in background:
            relay.terminate()


if __name__ == "__main__":
    sys.exit(main())
