"""Agent side of the Leshan tests: configuration files pointing ``lwm2m-agentd`` at the shared
Leshan (CoAP, DTLS PSK, X.509, Raw Public Keys) and the bootstrap → register start-up every test
begins with; ``prepare_rpk_bootstrap``: Leshan's side of the Raw Public Key bootstrap (seed 004)."""

from __future__ import annotations

from pathlib import Path

from agentconfig import write_config
from leshan_server import Leshan, issue_certificate, make_rpk_key, spki_der

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
    fresh client key pair ``make_rpk_key(tmp_path / "rpk", "client")`` registered with both
    servers, used for both accounts; both accounts on the *-rpk endpoints, Leshan's RPK pinned)."""
    secure = security != "nosec"
    default_uri = leshan.rpk_uri() if security == "rpk" else leshan.dm_uri(secure)
    bsconfig = {"ep": ep, "uri": dm_uri or default_uri, "lifetime": lifetime, "binding": binding, "mode": security}
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
        client = make_rpk_key(tmp_path / "rpk", "client")
        leshan.add_rpk_client(ep, client["spki.der"].read_bytes(), who=("bs", "dm"))
        bsconfig.update(cert=client["spki.der"], pkey=client["key.der"])  # /0/1/4: the harness's --rpk-pub
        bootstrap = {"uri": leshan.rpk_uri(bootstrap=True), "security-mode": "rpk", "secret-key-file": client["key.der"],
                     "server-public-key-file": leshan.server_rpk()["spki.der"]}
    else:
        raise ValueError(security)
    reply = leshan.call("bsconfig", **bsconfig)
    assert reply.get("ok"), reply
    return agent_config(tmp_path, ep, bootstrap, servers=servers, **agent)


def prepare_rpk_bootstrap(leshan: Leshan, tmp_path: Path, ep: str, device_spki: bytes, account: str = "rpk",
                          lifetime: int = LIFETIME, binding: str = "U") -> dict:
    """Leshan's side of seed 004's flow, for an agent that bootstraps over Raw Public Keys: the
    bootstrap server knows the device key ``device_spki`` (SubjectPublicKeyInfo, DER or PEM: a
    make_rpk_key key, or the one ``lwm2m-agent factory`` generated in the TPM, as it wrote it),
    and its configuration for ``ep`` writes one management account (SSID 1, /0/1 and /1/0):

    - ``account="rpk"``: security mode 1 on the LwM2M server's RPK endpoint, with a key pair made
      here (``management-key``: /0/1/3 its SPKI, /0/1/5 its PKCS#8 key), which the LwM2M server
      then knows; /0/1/4 the servers' SPKI;
    - ``account="psk"``: PSK (identity ``ep``, PSK_DM_KEY) on the LwM2M server's CoAPS endpoint.

    Returns what the agent's bootstrap account needs and what the test checks: {"bootstrap-uri",
    "server-spki" / "server-spki-pem" (files: /0/0/4 of the bootstrap account, the key the agent
    must pin), "dm-uri", "management-key" (make_rpk_key's dict, or None), "device-spki-sha256"}."""
    device_digest = leshan.add_rpk_client(ep, spki_der(device_spki), who=("bs",))
    bsconfig = {"ep": ep, "lifetime": lifetime, "binding": binding, "mode": account}
    management = None
    if account == "rpk":
        management = make_rpk_key(tmp_path / "keys", f"{ep}-dm")
        leshan.add_rpk_client(ep, management["spki.der"].read_bytes(), who=("dm",))
        bsconfig.update(uri=leshan.rpk_uri(), cert=management["spki.der"], pkey=management["key.der"])
    elif account == "psk":
        leshan.call("psk", who="dm", ep=ep, id=ep, key=PSK_DM_KEY)
        bsconfig.update(uri=leshan.dm_uri(secure=True), id=ep, key=PSK_DM_KEY)
    else:
        raise ValueError(account)
    reply = leshan.call("bsconfig", **bsconfig)
    assert reply.get("ok"), reply
    server = leshan.server_rpk()
    return {"bootstrap-uri": leshan.rpk_uri(bootstrap=True), "server-spki": server["spki.der"],
            "server-spki-pem": server["spki.pem"], "dm-uri": bsconfig["uri"], "management-key": management,
            "device-spki-sha256": device_digest}
