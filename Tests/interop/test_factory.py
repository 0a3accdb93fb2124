"""Factory provisioning end to end against swtpm (docs/factory-provisioning.md).

Each test starts its own swtpm (TPM 2.0 simulator) on free TCP ports, provisions the board with
``lwm2m-agent factory`` (``credential-store = tpm``) and runs ``lwm2m-agentd`` on it:

* PSK: the bootstrap PSK goes in on standard input and is sealed; the daemon bootstraps over
  DTLS PSK (OpenSSL relay in front of the bootstrap peer), receives a PSK server account, seals
  it, registers over coaps; after a restart it registers with the sealed server PSK without
  bootstrapping. Then no byte string of either key (raw, hex) is in the state directory, the
  logs or any core file.
* X.509: a P-256 key generated in the TPM, its CSR (CN = endpoint name) checked with
  ``openssl req -verify``, signed by a test CA; the daemon's handshake with the OpenSSL relay is
  signed by the TPM key.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

from agentconfig import write_config
from conftest import require_tool

PSK_BS = ("gw-factory-bs", "8f1e2d3c4b5a69788796a5b4c3d2e1f0")
PSK_DM = ("gw-factory-dm", "0badc0ffee15600d0123456789abcdef")


def two_free_ports() -> tuple[int, int]:
    for _ in range(100):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port, port + 1
    raise RuntimeError("no two consecutive free ports")


def listening(port: int) -> bool:
    """Whether some process listens on TCP ``port`` (from /proc/net/tcp, without connecting: swtpm
    serves one connection at a time)."""
    wanted = f":{port:04X} "
    with open("/proc/net/tcp") as table:
        return any(wanted in line.split()[1] + " " and line.split()[3] == "0A" for line in list(table)[1:])


@pytest.fixture
def swtpm(procs, tmp_path) -> str:
    """A private swtpm; returns the agent's ``tpm-tcti`` value."""
    require_tool("swtpm", "apt-get install swtpm swtpm-tools, or scripts/setup.sh")
    return start_swtpm(procs, tmp_path / "swtpm")


def start_swtpm(procs, state: Path, name: str = "swtpm") -> str:
    """Starts a private swtpm keeping its state in ``state`` (created); returns its ``tpm-tcti``."""
    state.mkdir()
    for _ in range(5):
        server, control = two_free_ports()
        proc = procs.start(name, ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}",
                                  "--server", f"type=tcp,port={server},bindaddr=127.0.0.1",
                                  "--ctrl", f"type=tcp,port={control},bindaddr=127.0.0.1",
                                  "--flags", "not-need-init,startup-clear"])
        deadline = time.monotonic() + 5
        while proc.alive() and time.monotonic() < deadline:
            if listening(server) and listening(control):
                return f"swtpm:host=127.0.0.1,port={server}"
            time.sleep(0.05)
        proc.kill()
    raise RuntimeError("swtpm did not start")


@pytest.fixture
def factory(procs, bin_dir):
    """Runs ``lwm2m-agent factory ARGS --json``; returns (exit status, parsed JSON or None)."""
    def run(config: Path, *args, input: bytes | None = None, expect: int = 0):
        result = procs.run([bin_dir / "lwm2m-agent", "factory", *args, "--config", config, "--json"],
                           timeout=30, input=input)
        assert result.returncode == expect, result.describe()
        return json.loads(result.out) if result.out.strip() else None
    return run


def tpm_config(tmp_path: Path, tcti: str) -> Path:
    """An agent file with no accounts: they come from the factory file."""
    config = write_config(tmp_path, credential_store="tpm", tpm_tcti=tcti, dtls_timeout_min=0.2, dtls_timeout_max=1)
    return config


def secret_forms(hex_key: str) -> list[bytes]:
    raw = bytes.fromhex(hex_key)
    return [raw, hex_key.lower().encode(), hex_key.upper().encode()]


def scan(paths: list[Path], secrets: list[bytes]) -> list[str]:
    """Every (file, secret form) where a secret shows up."""
    found = []
    for root in paths:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in files:
            content = path.read_bytes()
            found += [f"{path}: {secret[:4].hex()}…" for secret in secrets if secret in content]
    return found


#: The TPM software stack as the daemon maps it: the four libraries it dlopens on the TPM's first
#: use, libtss2-sys behind esys and OpenSSL's libcrypto behind both (not mbedTLS's libmbedcrypto).
TSS_LIBRARIES = ("libtss2-esys.so", "libtss2-mu.so", "libtss2-rc.so", "libtss2-tctildr.so", "libtss2-sys.so",
                 "libcrypto.so")


def mapped_libraries(pid: int, names: tuple[str, ...]) -> list[str]:
    """Those of ``names`` (sonames without their version) that /proc/PID/maps shows mapped."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name for name in names if f"/{name}" in maps]


def mapped_tss(pid: int) -> list[str]:
    """The TPM software stack's libraries in /proc/PID/maps."""
    return mapped_libraries(pid, TSS_LIBRARIES)


def test_psk_provisioning_bootstrap_restart_and_secret_scan(swtpm, factory, start_peer, start_agent,
                                                            start_dtls_relay, procs, tmp_path):
    ms = start_peer("management_server")
    ms_port = start_dtls_relay(ms.port, "--psk", f"{PSK_DM[0]}:{PSK_DM[1]}")
    bs = start_peer("bootstrap_server", "--server-uri", f"coaps://127.0.0.1:{ms_port}", "--lifetime", "60",
                    "--psk-identity", PSK_DM[0], "--psk-key", PSK_DM[1])
    bs_port = start_dtls_relay(bs.port, "--psk", f"{PSK_BS[0]}:{PSK_BS[1]}")
    config = tpm_config(tmp_path, swtpm)

    assert factory(config, "set-endpoint", "gw-factory-1")["endpoint-name"] == "gw-factory-1"
    bootstrap = ["set-bootstrap", "--uri", f"coaps://127.0.0.1:{bs_port}", "--security-mode", "psk",
                 "--psk-identity", PSK_BS[0], "--psk-key-stdin"]
    first = factory(config, *bootstrap, input=PSK_BS[1].encode() + b"\n")
    factory_file = (tmp_path / "state" / "factory.conf").read_text()
    again = factory(config, *bootstrap, input=PSK_BS[1].encode() + b"\n")  # idempotent
    assert first == again and first["sealed-bytes"] == 16
    assert (tmp_path / "state" / "factory.conf").read_text() == factory_file
    assert (tmp_path / "state" / "factory.conf").stat().st_mode & 0o777 == 0o600
    verify = factory(config, "verify")
    assert verify["failures"] == 0 and verify["checks"][0]["storage-key"] is True
    assert verify["checks"][1]["unsealed-bytes"] == 16
    shown = factory(config, "show")
    assert shown["accounts"][0]["sealed-secret-present"] is True
    # A key on the command line is refused with the usage status.
    factory(config, "set-bootstrap", "--uri", "coap://x", "--security-mode", "psk", "--psk-key", PSK_BS[1], expect=2)

    agent = start_agent(config)
    assert bs.wait_event("finish", timeout=20)["code"] == "2.04"
    ms.wait_event("register", ep="gw-factory-1", timeout=20)
    agent.wait_for("server 101: registered", timeout=10)
    assert "credentials sealed by the TPM" in agent.stderr()
    # The sealed PSKs were unsealed for the handshakes: the TPM stack was loaded for them (dlopen
    # on first use, docs/tpm.md "Loading the TSS").
    assert mapped_tss(agent.pid) == list(TSS_LIBRARIES), mapped_tss(agent.pid)
    assert agent.stop() == 0

    restarted = start_agent(config, name="agentd-restarted")
    restarted.wait_for("server 101: registered", timeout=20)
    assert "loaded the saved configuration" in restarted.stderr()
    assert "libtss2-esys.so" in mapped_tss(restarted.pid)  # the server PSK, unsealed for its handshake
    assert len(bs.events("bootstrap-request")) == 1, "the restart registered without bootstrapping"
    assert restarted.stop() == 0

    state = tmp_path / "state"
    sealed = sorted(str(p.relative_to(state)) for p in (state / "sealed").rglob("*.blob"))
    assert any(name.startswith("sealed/lwm2m/") for name in sealed), sealed  # the server PSK from bootstrap
    secrets = secret_forms(PSK_BS[1]) + secret_forms(PSK_DM[1])
    logs = [agent.stderr_path, agent.stdout_path, restarted.stderr_path, restarted.stdout_path]
    cores = [p for p in [Path.cwd(), tmp_path] for p in p.glob("core*")]
    assert scan([state, *logs, *cores], secrets) == []
    # Nor in anything the factory command printed.
    for run in procs.runs:
        assert not any(secret in run.stdout or secret in run.stderr for secret in secrets), run.describe()


def test_tpm_key_csr_and_x509_bootstrap(swtpm, factory, start_peer, start_agent, start_dtls_relay, procs, tmp_path):
    pki = tmp_path / "pki"
    pki.mkdir()

    def openssl(*args: str) -> str:
        result = subprocess.run(["openssl", *args], cwd=pki, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        return result.stdout + result.stderr

    openssl("ecparam", "-genkey", "-name", "prime256v1", "-out", "ca.key")
    openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=factory test CA", "-days", "30", "-out", "ca.pem")
    openssl("ecparam", "-genkey", "-name", "prime256v1", "-out", "bs.key")
    openssl("req", "-new", "-key", "bs.key", "-subj", "/CN=bootstrap-server", "-out", "bs.csr")
    (pki / "bs.ext").write_text("subjectAltName=DNS:bootstrap-server\n")
    openssl("x509", "-req", "-in", "bs.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30",
            "-sha256", "-extfile", "bs.ext", "-out", "bs.pem")

    ms = start_peer("management_server")
    bs = start_peer("bootstrap_server", "--server-uri", f"coap://127.0.0.1:{ms.port}", "--lifetime", "60")
    bs_port = start_dtls_relay(bs.port, "--cert", pki / "bs.pem", "--key", pki / "bs.key", "--ca", pki / "ca.pem")
    config = tpm_config(tmp_path, swtpm)
    factory(config, "set-endpoint", "gw-tpm-key-1")
    provision = ["set-bootstrap", "--uri", f"coaps://127.0.0.1:{bs_port}", "--security-mode", "certificate",
                 "--generate-key", "--csr-out", tmp_path / "device.csr", "--public-key-out", tmp_path / "device.pub", "--server-certificate-file", pki / "ca.pem",
                 "--certificate-usage", "2", "--sni", "bootstrap-server"]
    report = factory(config, *provision)
    assert report["key-generated"] is True
    assert factory(config, *provision)["public-key-sha256"] == report["public-key-sha256"]  # key reused

    verified = openssl("req", "-verify", "-in", str(tmp_path / "device.csr"), "-noout", "-subject")
    assert "verify OK" in verified and "CN = gw-tpm-key-1" in verified, verified
    spki = subprocess.run(f"openssl req -in {tmp_path / 'device.csr'} -pubkey -noout | openssl pkey -pubin -outform DER"
                          " | sha256sum", shell=True, capture_output=True, text=True, timeout=30).stdout.split()[0]
    assert spki == report["public-key-sha256"]
    written = subprocess.run(f"openssl pkey -pubin -in {tmp_path / 'device.pub'} -outform DER | sha256sum", shell=True,
                             capture_output=True, text=True, timeout=30).stdout.split()[0]
    assert written == spki
    (pki / "device.ext").write_text("extendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-in", str(tmp_path / "device.csr"), "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "30", "-sha256", "-extfile", "device.ext", "-out", "device.pem")
    factory(config, "set-bootstrap-certificate", pki / "bs.pem", expect=1)  # another key's certificate
    factory(config, "set-bootstrap-certificate", pki / "device.pem")
    checks = factory(config, "verify")["checks"]
    assert checks[1:] == [{"account": "bootstrap", "secret-key": "tpm-key:factory/bootstrap/key", "signed": True, "ok": True}]

    agent = start_agent(config)
    assert bs.wait_event("finish", timeout=20)["code"] == "2.04"
    ms.wait_event("register", ep="gw-tpm-key-1", timeout=20)
    assert "ECDHE-ECDSA" in agent.stderr()
    assert "client certificate key factory/bootstrap/key signs in the TPM" in agent.stderr()
    assert agent.stop() == 0

    wiped = factory(config, "wipe")
    assert wiped["tpm-keys-removed"] == 1
    assert not (tmp_path / "state" / "factory.conf").exists()
    assert not list((tmp_path / "state" / "keys").rglob("*.blob"))
    assert factory(config, "verify", expect=1)["failures"] == 1  # nothing provisioned any more


def test_a_failed_seal_answers_the_write_500_then_a_later_bootstrap_stores_and_registers(
        swtpm, factory, start_peer, start_agent, start_dtls_relay, tmp_path):
    """The TPM store cannot write the sealed blob of the server PSK a bootstrap server writes
    (``state/sealed/lwm2m`` is a file, not a directory): the Bootstrap-Write of the Security
    instance is answered 5.00 "cannot store secret" — the client waits for the store, performed
    by the daemon's outer layer, before it answers — Finish is 4.06 and the old configuration
    stays. Once the blob can be written, the retried bootstrap stores the PSK (sealed, by name)
    and the DTLS registration with the new server reads it from the store."""
    ms = start_peer("management_server")
    ms_port = start_dtls_relay(ms.port, "--psk", f"{PSK_DM[0]}:{PSK_DM[1]}")
    bs = start_peer("bootstrap_server", "--server-uri", f"coaps://127.0.0.1:{ms_port}", "--lifetime", "60",
                    "--psk-identity", PSK_DM[0], "--psk-key", PSK_DM[1])
    bs_port = start_dtls_relay(bs.port, "--psk", f"{PSK_BS[0]}:{PSK_BS[1]}")
    config = tpm_config(tmp_path, swtpm)
    factory(config, "set-endpoint", "gw-seal-fails-1")
    factory(config, "set-bootstrap", "--uri", f"coaps://127.0.0.1:{bs_port}", "--security-mode", "psk",
            "--psk-identity", PSK_BS[0], "--psk-key-stdin", input=PSK_BS[1].encode() + b"\n")
    blocker = tmp_path / "state" / "sealed" / "lwm2m"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the sealed blobs' directory goes\n")

    agent = start_agent(config)
    refused = bs.wait_event("response", op="write", code="5.00", timeout=20)
    assert refused["path"].startswith("/0/"), refused
    assert refused["payload"].startswith("internal error: cannot store secret: credential storage"), refused
    assert bs.wait_event("finish", timeout=10)["code"] == "4.06"
    agent.wait_for(r"cannot store secret lwm2m/0-\d+-5/\d+", timeout=10)
    agent.wait_for("bootstrap failed: inconsistent configuration", timeout=10)
    assert not ms.events("register")

    blocker.unlink()
    ms.wait_event("register", ep="gw-seal-fails-1", timeout=30)
    agent.wait_for("server 101: registered", timeout=10)
    stored = agent.wait_for(r"secret (lwm2m/0-\d+-5/\d+) stored in ([0-9.]+) ms", timeout=5)
    print(f"TPM seal of the bootstrapped PSK in the outer layer: {stored.group(2)} ms")
    assert (tmp_path / "state" / "sealed" / f"{stored.group(1)}.blob").is_file()
    assert agent.stop() == 0
    assert bs.events("finish")[-1]["code"] == "2.04"
