"""Agent side of the Leshan tests: configuration files pointing ``lwm2m-agentd`` at the shared
Leshan (CoAP, DTLS PSK, X.509) and the bootstrap → register start-up every test begins with."""

from __future__ import annotations

from pathlib import Path

from agentconfig import write_config
from leshan_server import Leshan, issue_certificate, openssl

LIFETIME = 300
PSK_BS_KEY = "000102030405060708090a0b0c0d0e0f"
PSK_DM_KEY = "f0e0d0c0b0a090807060504030201000"


def agent_config(tmp_path: Path, ep: str, bootstrap: dict | None, servers: dict[int, dict] | None = None,
                 **agent) -> Path:
    """An agent file with endpoint name ``ep``, the ``[bootstrap]`` account ``bootstrap`` (none
    when None) and optional factory ``[server N]`` accounts."""
    config = write_config(tmp_path, endpoint_name=ep, dtls_timeout_min=0.5, dtls_timeout_max=2, servers=servers,
                          **agent)
    if bootstrap is not None:
        text = config.read_text() + "\n[bootstrap]\n" + "".join(f"{k} = {v}\n" for k, v in bootstrap.items())
        config.write_text(text)
    return config


def prepare(leshan: Leshan, tmp_path: Path, ep: str, security: str = "nosec", lifetime: int = LIFETIME,
            binding: str = "U", servers: dict[int, dict] | None = None, dm_uri: str | None = None,
            **agent) -> Path:
    """Gives Leshan's bootstrap server a configuration for ``ep`` (the Leshan LwM2M server over
    the same security, SSID 1, Server instance /1/0, Security /0/1) and writes the agent file
    that bootstraps from it. ``security``: nosec, psk, x509, rpk (raw public keys, RFC 7250: a
    fresh client key pair; both servers pinned to the key of Leshan's certificate)."""
    secure = security != "nosec"
    bsconfig = {"ep": ep, "uri": dm_uri or leshan.dm_uri(secure), "lifetime": lifetime, "binding": binding,
                "mode": security}
    if security == "nosec":
        bootstrap = {"uri": leshan.bs_uri()}
    elif security == "psk":
        leshan.call("psk", who="bs", ep=ep, id=f"{ep}-bs", key=PSK_BS_KEY)
        leshan.call("psk", who="dm", ep=ep, id=ep, key=PSK_DM_KEY)
        bsconfig.update(id=ep, key=PSK_DM_KEY)
        (tmp_path / "bs.psk").write_text(PSK_BS_KEY + "\n")
        bootstrap = {"uri": leshan.bs_uri(True), "security-mode": "psk", "psk-identity": f"{ep}-bs",
                     "secret-key-file": tmp_path / "bs.psk"}
    elif security == "x509":
        client = issue_certificate(leshan.pki, ep)  # CN = endpoint name: Leshan checks it
        leshan.call("x509", who="bs", ep=ep)
        leshan.call("x509", who="dm", ep=ep)
        bsconfig.update(cert=client["der"], pkey=client["key.der"], scert=leshan.pki / "ca.der", usage=2)
        bootstrap = {"uri": leshan.bs_uri(True), "security-mode": "certificate",
                     "client-certificate-file": client["pem"], "secret-key-file": client["key.der"],
                     "server-certificate-file": leshan.pki / "ca.pem", "certificate-usage": 2}
    elif security == "rpk":
        keys = rpk_keys(leshan, tmp_path)
        leshan.call("rpk", who="bs", ep=ep, spki=keys["client.spki"])
        leshan.call("rpk", who="dm", ep=ep, spki=keys["client.spki"])
        bsconfig.update(pub=keys["client.spki"], pkey=keys["client.key.der"], spub=keys["server.spki"])
        bootstrap = {"uri": leshan.bs_uri(True), "security-mode": "rpk", "secret-key-file": keys["client.key.der"],
                     "server-public-key-file": keys["server.spki"]}
    else:
        raise ValueError(security)
    reply = leshan.call("bsconfig", **bsconfig)
    assert reply.get("ok"), reply
    return agent_config(tmp_path, ep, bootstrap, servers=servers, **agent)


def rpk_keys(leshan: Leshan, tmp_path: Path) -> dict[str, Path]:
    """Raw public keys for one test: a fresh P-256 client key (PKCS#8 DER, and its DER
    SubjectPublicKeyInfo) and the SubjectPublicKeyInfo of Leshan's own key (what it presents as
    a raw public key to a client asking for one)."""
    keys = tmp_path / "rpk"
    keys.mkdir(parents=True, exist_ok=True)
    openssl(keys, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "client.key")
    openssl(keys, "pkcs8", "-topk8", "-nocrypt", "-in", "client.key", "-outform", "DER", "-out", "client.key.der")
    openssl(keys, "pkey", "-inform", "DER", "-in", "client.key.der", "-pubout", "-outform", "DER", "-out", "client.spki")
    openssl(keys, "pkey", "-inform", "DER", "-in", str(leshan.pki / "leshan-server.key.der"), "-pubout", "-outform", "DER",
            "-out", "server.spki")
    return {name: keys / name for name in ("client.key.der", "client.spki", "server.spki")}
