#!/usr/bin/env python3
"""Start-to-registered benchmark of the release lwm2m-agentd on loopback:

    bench-startup.py BIN_DIR [RUNS]

For each path — client-initiated bootstrap then registration (zero hold-off), registration with
a factory account, the same two over DTLS PSK, and a factory account over DTLS X.509
(ECDHE-ECDSA, client certificate), through the OpenSSL relay of the interop tests —
starts the daemon RUNS times with a fresh state directory (the bootstrap server sends its
first command at once, --start-delay 0) and reads from its log the time from
the runtime's start to "registered", the agent's own CPU time (user + system, since exec) and
the resident memory (VmRSS) at that moment. The peers
are the aiocoap servers of Tests/interop/peers (their Python latency is part of the figure).
Prints min / median / max per path.
"""

from __future__ import annotations

import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lwm2m_peers import Peer, start_dtls_relay, start_swtpm

PSK = ("gw-bench", "000102030405060708090a0b0c0d0e0f")


def make_pki(workdir: Path) -> Path:
    """A CA, a server certificate (CN lwm2m-server) and a client certificate (CN bench-gw),
    P-256, the client key as PKCS#8 DER — as seed 000 makes them."""
    directory = workdir / "pki"
    directory.mkdir()

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl("ecparam", "-genkey", "-name", "prime256v1", "-out", "ca.key")
    openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=bench CA", "-days", "2", "-out", "ca.pem")
    for name in ("lwm2m-server", "bench-gw"):
        openssl("ecparam", "-genkey", "-name", "prime256v1", "-out", f"{name}.key")
        openssl("req", "-new", "-key", f"{name}.key", "-subj", f"/CN={name}", "-out", f"{name}.csr")
        (directory / f"{name}.ext").write_text(f"subjectAltName=DNS:{name}\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}.pem")
        openssl("pkcs8", "-topk8", "-nocrypt", "-in", f"{name}.key", "-outform", "DER", "-out", f"{name}.key.der")
    return directory


def tpm_key_case(bin_dir: Path, workdir: Path, pki: Path, port: int, procs: list) -> str | None:
    """The X.509 factory account with its key generated in a swtpm (lwm2m-agent factory
    add-server --generate-key, CSR signed by the test CA): the handshake signs in the TPM."""
    tcti = start_swtpm(workdir, procs)
    directory = workdir / "tpm-case"
    directory.mkdir()
    config = directory / "agent.conf"
    config.write_text(f"[agent]\nendpoint-name = bench-gw\nstate-dir = STATE\nlog-level = notice\n"
                      f"credential-store = tpm\ntpm-tcti = {tcti}\n")
    # Provisioned once; every run shares this state directory (the sealed key lives there).
    state = directory / "state"
    text = config.read_text().replace("STATE", str(state))
    provision = directory / "provision.conf"
    provision.write_text(text + f"[server 101]\nuri = coap://127.0.0.1:{port}\n")
    factory = [str(bin_dir / "lwm2m-agent"), "factory"]
    subprocess.run(factory + ["add-server", "101", "--config", str(provision), "--uri", f"coaps://127.0.0.1:{port}",
                              "--security-mode", "certificate", "--generate-key", "--csr-out", str(directory / "gw.csr"),
                              "--server-certificate-file", str(pki / "ca.pem"), "--certificate-usage", "2",
                              "--sni", "lwm2m-server", "--lifetime", "300", "--no-qr"],
                   check=True, capture_output=True, timeout=60)
    subprocess.run(["openssl", "x509", "-req", "-in", str(directory / "gw.csr"), "-CA", str(pki / "ca.pem"),
                    "-CAkey", str(pki / "ca.key"), "-CAcreateserial", "-days", "2", "-sha256",
                    "-out", str(directory / "gw.pem")], check=True, capture_output=True)
    subprocess.run(factory + ["set-server-certificate", "101", str(directory / "gw.pem"), "--config", str(provision)],
                   check=True, capture_output=True, timeout=60)
    return text


def run(bin_dir: Path, config_text: str, workdir: Path, runs: int) -> list[tuple[float, float, int]]:
    workdir = Path(tempfile.mkdtemp(dir=workdir))
    results = []
    for index in range(runs):
        state = workdir / f"state-{index}"
        config = workdir / f"agent-{index}.conf"
        config.write_text(config_text.replace("STATE", str(state)))
        log = workdir / f"agentd-{index}.log"
        agent = subprocess.Popen([str(bin_dir / "lwm2m-agentd"), "--config", str(config)], stderr=open(log, "wb"))
        deadline = time.monotonic() + 20
        match = None
        while time.monotonic() < deadline and match is None:
            match = re.search(r"registered at \S+, lifetime \d+ s \(([\d.]+) ms after start, CPU ([\d.]+) ms, RSS (\d+) KiB\)",
                              log.read_text(errors="replace"))
            time.sleep(0.01)
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=10)
        if match is None:
            raise SystemExit(f"run {index}: not registered: {log.read_text()[-2000:]}")
        results.append((float(match.group(1)), float(match.group(2)), int(match.group(3))))
    return results


def main() -> int:
    bin_dir = Path(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    workdir = Path(tempfile.mkdtemp(prefix="lwm2m-bench-startup-"))
    peers: list[Peer] = []
    procs: list[subprocess.Popen] = []
    try:
        ms = Peer("management-server", "management_server.py", workdir)
        peers.append(ms)
        bs = Peer("bootstrap-server", "bootstrap_server.py", workdir, "--server-uri", f"coap://127.0.0.1:{ms.port}",
                  "--lifetime", "300", "--start-delay", "0")
        peers.append(bs)
        ms_dtls = start_dtls_relay(ms.port, [f"{PSK[0]}:{PSK[1]}"], procs)
        bs_psk = Peer("bootstrap-server-psk", "bootstrap_server.py", workdir,
                      "--server-uri", f"coaps://127.0.0.1:{ms_dtls}", "--lifetime", "300",
                      "--psk-identity", PSK[0], "--psk-key", PSK[1], "--start-delay", "0")
        peers.append(bs_psk)
        bs_dtls = start_dtls_relay(bs_psk.port, [f"{PSK[0]}:{PSK[1]}"], procs)
        (workdir / "psk.hex").write_text(PSK[1])
        pki = make_pki(workdir)
        ms_x509 = start_dtls_relay(ms.port, [], procs, "--cert", str(pki / "lwm2m-server.pem"),
                                   "--key", str(pki / "lwm2m-server.key"), "--ca", str(pki / "ca.pem"))
        agent = ("[agent]\nendpoint-name = bench-gw\nstate-dir = STATE\nlog-level = notice\n"
                 "credential-store = development\n")
        cases = {
            "bootstrap → register (CoAP)": agent + f"[bootstrap]\nuri = coap://127.0.0.1:{bs.port}\n",
            "register, factory account (CoAP)": agent + f"[server 101]\nuri = coap://127.0.0.1:{ms.port}\nlifetime = 300\n",
            "bootstrap → register (DTLS PSK)": agent + (
                f"[bootstrap]\nuri = coaps://127.0.0.1:{bs_dtls}\nsecurity-mode = psk\npsk-identity = {PSK[0]}\n"
                f"secret-key-file = {workdir / 'psk.hex'}\n"),
            "register, factory account (DTLS PSK)": agent + (
                f"[server 101]\nuri = coaps://127.0.0.1:{ms_dtls}\nsecurity-mode = psk\npsk-identity = {PSK[0]}\n"
                f"secret-key-file = {workdir / 'psk.hex'}\nlifetime = 300\n"),
            "register, factory account (DTLS X.509)": agent + (
                f"[server 101]\nuri = coaps://127.0.0.1:{ms_x509}\nsecurity-mode = certificate\n"
                f"client-certificate-file = {pki / 'bench-gw.pem'}\nsecret-key-file = {pki / 'bench-gw.key.der'}\n"
                f"server-certificate-file = {pki / 'ca.pem'}\ncertificate-usage = 2\nsni = lwm2m-server\nlifetime = 300\n"),
        }
        tpm_case = tpm_key_case(bin_dir, workdir, pki, ms_x509, procs)
        if tpm_case:
            cases["register, factory account (X.509, TPM key)"] = tpm_case
        print(f"{'path':38} {'min':>7} {'median':>7} {'max':>7}  (ms, {runs} runs)  agent CPU  RSS (medians)")
        for name, text in cases.items():
            results = run(bin_dir, text, workdir, runs)
            times = [r[0] for r in results]
            cpu = statistics.median(r[1] for r in results)
            rss = statistics.median(r[2] for r in results)
            print(f"{name:38} {min(times):7.1f} {statistics.median(times):7.1f} {max(times):7.1f}  "
                  f"{cpu:13.1f} ms  {rss / 1024:.1f} MiB", flush=True)
        return 0
    finally:
        for peer in peers:
            peer.stop()
        for proc in procs:
            proc.terminate()


if __name__ == "__main__":
    sys.exit(main())
