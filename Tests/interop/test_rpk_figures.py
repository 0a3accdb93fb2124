"""Issue 16 figures: start → registered with Leshan over DTLS, the LwM2M server account given by
the factory (no bootstrap), in one run: X.509 (software key), raw public keys with a software
key, raw public keys with the key in swtpm. Each row: RUNS fresh daemons (new state directory),
time from spawning ``lwm2m-agentd`` to Leshan's "registered" event (wall clock on both sides),
the median printed (the daemon's own log line gives its RSS at that moment). The rows are the figures of docs/dtls.md when run on the release build
(``LWM2M_BIN_DIR=.build/release``); the assertion only bounds them (a registration that does not
come within 20 s fails)."""

from __future__ import annotations

import os
import re
import statistics
import time

from agentconfig import write_config
from leshan_server import ep, issue_certificate, leshan, make_rpk_key  # noqa: F401 (fixtures)
from test_factory import factory, swtpm  # noqa: F401 (fixtures)

RUNS = int(os.environ.get("RPK_FIGURE_RUNS", "3"))


def start_to_registered(leshan, start_agent, config, ep: str, name: str) -> tuple[float, float, int]:
    """(seconds from spawn to Leshan's registered event, the handshake's seconds, the daemon's
    VmRSS in KiB when registered, from its own log line)."""
    since = leshan.mark()
    started = time.time()
    agent = start_agent(config, name=name)
    registered = leshan.wait_event("registered", ep, since=since, timeout=20)
    took = registered["time"] - started
    # Leshan reports the registration before its 2.01 reaches the agent: stop only once the agent
    # knows it is registered, so it de-registers.
    line = agent.wait_for(r"server 1: registered .*RSS (\d+) KiB", timeout=20)
    handshake = float(re.search(r"DTLS handshake done in ([0-9.]+) seconds", agent.stderr()).group(1))
    assert agent.stop() == 0
    leshan.wait_event("unregistered", ep, since=since)
    return took, handshake, int(line.group(1))


def test_start_to_registered_x509_rpk_software_rpk_tpm(leshan, ep, swtpm, factory, start_agent, tmp_path):
    keys = make_rpk_key(tmp_path / "rpk", "client")
    server_spki = leshan.server_rpk()["spki.der"]
    client = issue_certificate(leshan.pki, ep)
    server = {"uri": leshan.dm_uri(True), "lifetime": 300}
    rpk_server = {"uri": leshan.rpk_uri(), "lifetime": 300}  # the endpoint that presents Leshan's RPK
    rows: dict[str, list[tuple[float, float, int]]] = {"x509-software": [], "rpk-software": [], "rpk-tpm": []}
    for run in range(RUNS):
        # X.509, software key (Leshan checks CN = endpoint name against its CA).
        leshan.call("unsec", who="dm", ep=ep)
        leshan.call("x509", who="dm", ep=ep)
        directory = tmp_path / f"x509-{run}"
        directory.mkdir()
        config = write_config(directory, endpoint_name=ep, servers={1: dict(
            server, **{"security-mode": "certificate", "client-certificate-file": client["pem"],
                       "secret-key-file": client["key.der"], "server-certificate-file": leshan.pki / "ca.pem",
                       "certificate-usage": 2})})
        rows["x509-software"].append(start_to_registered(leshan, start_agent, config, ep, f"x509-{run}"))

        # RPK, software key.
        leshan.call("unsec", who="dm", ep=ep)
        leshan.add_rpk_client(ep, keys["spki.der"].read_bytes(), who=("dm",))
        directory = tmp_path / f"rpk-{run}"
        directory.mkdir()
        config = write_config(directory, endpoint_name=ep, servers={1: dict(
            rpk_server, **{"security-mode": "rpk", "secret-key-file": keys["key.der"],
                           "server-public-key-file": server_spki})})
        rows["rpk-software"].append(start_to_registered(leshan, start_agent, config, ep, f"rpk-{run}"))

        # RPK, the key in swtpm (factory line), its SPKI registered with Leshan.
        directory = tmp_path / f"tpm-{run}"
        directory.mkdir()
        config = write_config(directory, endpoint_name=ep, credential_store="tpm", tpm_tcti=swtpm)
        factory(config, "add-server", "1", "--uri", leshan.rpk_uri(), "--security-mode", "rpk", "--generate-key",
                "--server-public-key-file", server_spki, "--public-key-out", directory / "device.pub")
        leshan.call("unsec", who="dm", ep=ep)
        leshan.add_rpk_client(ep, (directory / "device.pub").read_bytes(), who=("dm",))  # the PEM the factory wrote
        rows["rpk-tpm"].append(start_to_registered(leshan, start_agent, config, ep, f"tpm-{run}"))

    for name, results in rows.items():
        times = [r[0] for r in results]
        print(f"start → registered, {name}: median {statistics.median(times) * 1000:.0f} ms "
              f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}, {len(times)} runs); handshake median "
              f"{statistics.median(r[1] for r in results) * 1000:.1f} ms; RSS median {statistics.median(r[2] for r in results):.0f} KiB")
        assert max(times) < 20, (name, times)
