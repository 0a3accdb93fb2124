#!/usr/bin/env python3
"""The LwM2M demo, run by scripts/demo.sh after the release build:

    demo-lwm2m.py BIN_DIR [--dtls]

Starts, on loopback, an LwM2M bootstrap server and a management server (the independent aiocoap
peers in Tests/interop/peers), a software TPM (swtpm) as the agent's credential store, and
lwm2m-agentd with a configuration holding only a bootstrap account. Shows: client-initiated bootstrap → registration → the management server reading the
Device object /3/0 in TLV, SenML JSON and SenML CBOR → an observation of Current Time with pmin/pmax →
`lwm2m-agent status` → a firmware update: the management server writes a Package URI (a slow CoAP
firmware server, Tests/interop/fw_coap_server.py), `lwm2m-agent status` shows the download's
progress, Update runs the script-hook installer → Update Result 1 → a restart
that registers without bootstrapping → SIGTERM de-registering. Every process is stopped at the
end, whatever happens. With --dtls, both servers sit behind an OpenSSL DTLS relay
(Tests/interop/dtls_relay.py): the bootstrap PSK is provisioned into the TPM with
`lwm2m-agent factory set-bootstrap --psk-key-stdin`, the agent bootstraps over DTLS PSK, the
bootstrap server provisions a PSK account for the management server (sealed by the TPM as it
arrives), and the agent registers with it over DTLS.
"""

from __future__ import annotations

import json
import os
import signal
import socket
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


def status(bin_dir: Path, config: Path, *args: str) -> str:
    """`lwm2m-agent status --config CONFIG ARGS`: its standard output (the daemon's answer)."""
    result = subprocess.run([str(bin_dir / "lwm2m-agent"), "status", "--config", str(config), *args],
                            capture_output=True, text=True, timeout=15)
    if result.returncode != 0:
        raise SystemExit(f"lwm2m-agent status exited {result.returncode}: {result.stderr}")
    return result.stdout


def indent(text: str) -> str:
    return "".join(f"   | {line}\n" for line in text.splitlines())


def firmware_step(bin_dir: Path, config: Path, management: Peer, ep: str, workdir: Path, background: list) -> None:
    """A pull from a slow CoAP firmware server, its progress in `lwm2m-agent status`, Update."""
    image = workdir / "firmware.bin"
    image.write_bytes(os.urandom(128 * 1024))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server_script = Path(__file__).resolve().parents[1] / "Tests" / "interop" / "fw_coap_server.py"
    server = subprocess.Popen([sys.executable, str(server_script), str(port), str(image), "--block-delay", "0.02"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    background.append(server)
    if "ready" not in (server.stdout.readline() if server.stdout else ""):
        raise SystemExit("the firmware server did not start")
    uri = f"coap://127.0.0.1:{port}/fw"
    step(f"firmware: the management server writes Package URI /5/0/1 = {uri} (128 KiB, a slow server)")
    show(management.command("write", ep=ep, path="/5/0/1", value=uri, format="text"), ["code"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        download = json.loads(status(bin_dir, config, "--json"))["firmware"]["download"]
        if download and download["bytes"] >= 32 * 1024:
            break
        time.sleep(0.1)
    print("   $ lwm2m-agent status   (during the download)")
    print(indent(status(bin_dir, config)), end="")
    while json.loads(status(bin_dir, config, "--json"))["firmware"]["state"] != 2:
        if time.monotonic() > deadline:
            raise SystemExit("the firmware download did not finish")
        time.sleep(0.2)
    step("firmware: downloaded (State 2); the management server executes Update /5/0/2 (the script-hook installer)")
    show(management.command("execute", ep=ep, path="/5/0/2"), ["code"])
    while True:
        firmware = json.loads(status(bin_dir, config, "--json"))["firmware"]
        if firmware["state"] == 0:
            break
        if time.monotonic() > deadline:
            raise SystemExit("the update did not finish")
        time.sleep(0.2)
    print("   $ lwm2m-agent status   (after the update)")
    print(indent("".join(line + "\n" for line in status(bin_dir, config).splitlines() if line.startswith("firmware"))),
          end="")
    print(indent((workdir / "hook.log").read_text()), end="")
    server.terminate()


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
        hook = workdir / "hook.sh"
        hook.write_text(f"#!/bin/sh\n# the demo's installer: records what it was asked\n"
                        f"echo \"installer hook: $* (sha256 $(sha256sum \"$2\" | cut -c1-16)…)\" >> {workdir}/hook.log\n")
        hook.chmod(0o755)
        config.write_text(f"""[agent]
endpoint-name = demo-gw-{{hostname}}
state-dir = {workdir}/state
log-level = info
credential-store = tpm
tpm-tcti = {tcti}

[firmware]
installer = script
script = {workdir}/hook.sh
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

        step("lwm2m-agent status: the running daemon's accounts, credential store, board, observations, firmware")
        print(indent(status(bin_dir, config)), end="")

        firmware_step(bin_dir, config, management, ep, workdir, background)

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
