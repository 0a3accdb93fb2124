"""Eclipse Leshan for the interop tests (test_leshan*.py): finding it, compiling the harness
(leshan/LeshanHarness.java) once per session, running one Leshan process per session (LwM2M
server + bootstrap server, CoAP and CoAPS, X.509 identity from a test CA) and talking to its
JSON control API.

Where Leshan comes from: ``$LESHAN_DIR`` (default ``<repo>/../shared/leshan``) holds
``leshan-*.jar`` (Leshan 2.0.0-M18 + Californium in one jar); Java 17 (``java``, ``javac``) and
Debian's slf4j and jackson-databind jars (``/usr/share/java``, or ``$LESHAN_JAVA_LIBS``) complete
the class path (scripts/setup.sh installs them). When something is missing the tests skip with
the reason, or fail under ``CI=true``.

Raw Public Keys (RFC 7250): the harness also runs a CoAPS endpoint per server that presents an EC
P-256 key pair of its own (``leshan-rpk`` in the PKI directory) and nothing else;
``Leshan.rpk_uri()``, ``server_spki()``, ``add_rpk_client()``, ``rpk_trust()`` and
``make_rpk_key()`` are what a test needs (docs/leshan.md, "Raw Public Keys").
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import HERE, REPO, Proc, skip_or_fail

LESHAN_DIR = Path(os.environ.get("LESHAN_DIR", str(REPO.parent / "shared" / "leshan")))
JAVA_LIBS = Path(os.environ.get("LESHAN_JAVA_LIBS", "/usr/share/java"))
DEBIAN_JARS = ("slf4j-api.jar", "slf4j-simple.jar", "jackson-databind.jar", "jackson-core.jar",
               "jackson-annotations.jar")
HARNESS = HERE / "leshan" / "LeshanHarness.java"
# A fast JVM start matters more than peak speed here: class data sharing, C1 only, small heap.
JVM_FLAGS = ["-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
             "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"]
START_TIMEOUT = 90.0  # seconds, JVM start on a loaded 2-core machine
WAIT = 20.0

INSTALL_HINT = "scripts/setup.sh installs openjdk-17-jdk-headless libslf4j-java libjackson2-databind-java"


def classpath() -> str:
    """The Leshan jar and the Debian jars; skips (fails under CI) when something is missing."""
    jars = sorted(LESHAN_DIR.glob("leshan-*.jar"))
    if not jars:
        skip_or_fail(f"Eclipse Leshan not found: no leshan-*.jar in {LESHAN_DIR} (set LESHAN_DIR)")
    for tool in ("java", "javac"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} not found on PATH ({INSTALL_HINT})")
    missing = [name for name in DEBIAN_JARS if not (JAVA_LIBS / name).is_file()]
    if missing:
        skip_or_fail(f"{', '.join(missing)} not found in {JAVA_LIBS} ({INSTALL_HINT})")
    return os.pathsep.join([str(jars[-1])] + [str(JAVA_LIBS / name) for name in DEBIAN_JARS])


def compile_harness(build_dir: Path, cp: str) -> Path:
    """javac leshan/LeshanHarness.java into build_dir/classes; returns that directory."""
    classes = build_dir / "classes"
    classes.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["javac", "-nowarn", "-encoding", "UTF-8", "-d", str(classes), "-cp", cp, str(HARNESS)],
                          capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        pytest.fail(f"javac {HARNESS.name} failed ({done.returncode}):\n{done.stderr.decode(errors='replace')[-4000:]}",
                    pytrace=False)
    return classes


def make_pki(directory: Path) -> Path:
    """A test CA and Leshan's server certificate (CN/SAN leshan-server, SAN IP 127.0.0.1), P-256,
    keys also as PKCS#8 DER (what Java and the agent read)."""
    directory.mkdir(parents=True, exist_ok=True)
    openssl(directory, "ecparam", "-genkey", "-name", "prime256v1", "-out", "ca.key")
    openssl(directory, "req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=lwm2m-agent Leshan test CA",
            "-days", "30", "-out", "ca.pem")
    openssl(directory, "x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der")
    issue_certificate(directory, "leshan-server", san="DNS:leshan-server,IP:127.0.0.1")
    make_rpk_key(directory, "leshan-rpk")  # the servers' Raw Public Key identity
    return directory


def make_rpk_key(directory: Path, name: str) -> dict[str, Path]:
    """An EC P-256 key pair for Raw Public Keys in every form the peers read:
    {"pem": the private key as SEC 1 PEM ("EC PRIVATE KEY", coap-client -M),
     "key.der": PKCS#8 DER (RFC 5958: Leshan's /0/x/5, the harness's --rpk-key),
     "key.p8.pem": PKCS#8 PEM (gnutls-cli --rawpkkeyfile),
     "spki.der": the SubjectPublicKeyInfo DER (RFC 7250's raw public key: /0/x/3, /0/x/4),
     "spki.pem": the same as PEM ("PUBLIC KEY")}."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {"pem": f"{name}.pem", "key.der": f"{name}.key.der", "key.p8.pem": f"{name}.key.p8.pem",
             "spki.der": f"{name}.spki.der", "spki.pem": f"{name}.spki.pem"}
    if not (directory / files["spki.pem"]).exists():
        openssl(directory, "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", files["pem"])
        openssl(directory, "pkcs8", "-topk8", "-nocrypt", "-in", files["pem"], "-outform", "DER",
                "-out", files["key.der"])
        openssl(directory, "pkcs8", "-topk8", "-nocrypt", "-in", files["pem"], "-out", files["key.p8.pem"])
        openssl(directory, "pkey", "-in", files["pem"], "-pubout", "-outform", "DER", "-out", files["spki.der"])
        openssl(directory, "pkey", "-in", files["pem"], "-pubout", "-out", files["spki.pem"])
    return {kind: directory / file for kind, file in files.items()}


def spki_der(spki: bytes) -> bytes:
    """A SubjectPublicKeyInfo as DER, given DER or PEM ("-----BEGIN PUBLIC KEY-----")."""
    if spki.lstrip().startswith(b"-----BEGIN PUBLIC KEY-----"):
        body = spki.split(b"-----BEGIN PUBLIC KEY-----", 1)[1].split(b"-----END PUBLIC KEY-----", 1)[0]
        return base64.b64decode(b"".join(body.split()))
    return spki


def spki_sha256(spki: bytes) -> str:
    """The SHA-256 of a SubjectPublicKeyInfo (DER), hex: the key's out-of-band hash (seed 004),
    what the harness's events and replies call ``rpk-sha256`` / ``spki-sha256``."""
    return hashlib.sha256(spki).hexdigest()


def openssl(directory: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=30,
                   stdin=subprocess.DEVNULL)


def issue_certificate(directory: Path, name: str, san: str | None = None) -> dict[str, Path]:
    """A P-256 key and a certificate with CN = ``name`` signed by the CA in ``directory``:
    {"pem", "der", "key" (PEM), "key.der" (PKCS#8 DER)}."""
    if not (directory / f"{name}.pem").exists():
        openssl(directory, "ecparam", "-genkey", "-name", "prime256v1", "-out", f"{name}.key")
        openssl(directory, "req", "-new", "-key", f"{name}.key", "-subj", f"/CN={name}", "-out", f"{name}.csr")
        (directory / f"{name}.ext").write_text(f"subjectAltName={san or 'DNS:' + name}\n")
        openssl(directory, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "30", "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}.pem")
        openssl(directory, "x509", "-in", f"{name}.pem", "-outform", "DER", "-out", f"{name}.der")
        openssl(directory, "pkcs8", "-topk8", "-nocrypt", "-in", f"{name}.key", "-outform", "DER",
                "-out", f"{name}.key.der")
    return {"pem": directory / f"{name}.pem", "der": directory / f"{name}.der", "key": directory / f"{name}.key",
            "key.der": directory / f"{name}.key.der"}


class LeshanError(AssertionError):
    pass


class Leshan:
    """The running harness: ports, the control API, the event log."""

    def __init__(self, proc: Proc, ports: dict, pki: Path):
        self.proc = proc
        self.ports = ports
        self.pki = pki

    # URIs the agent uses
    def dm_uri(self, secure: bool = False) -> str:
        return f"coap{'s' if secure else ''}://127.0.0.1:{self.ports['dm-coaps' if secure else 'dm-coap']}"

    def bs_uri(self, secure: bool = False) -> str:
        return f"coap{'s' if secure else ''}://127.0.0.1:{self.ports['bs-coaps' if secure else 'bs-coap']}"

    def rpk_uri(self, bootstrap: bool = False) -> str:
        """The CoAPS endpoint that presents the servers' raw public key (RPK only, both ways)."""
        return f"coaps://127.0.0.1:{self.ports['bs-coaps-rpk' if bootstrap else 'dm-coaps-rpk']}"

    def server_rpk(self) -> dict[str, Path]:
        """The servers' RPK key files (make_rpk_key's dict; both servers have the same key)."""
        return make_rpk_key(self.pki, "leshan-rpk")

    def server_spki(self) -> bytes:
        """The SubjectPublicKeyInfo (DER) both *-rpk endpoints present: /0/x/4 of an RPK account."""
        return self.server_rpk()["spki.der"].read_bytes()

    def add_rpk_client(self, ep: str, spki: bytes, who: tuple[str, ...] = ("bs", "dm")) -> str:
        """Registers the client key ``spki`` (SubjectPublicKeyInfo, DER or PEM: e.g. the file
        ``lwm2m-agent factory`` writes) for endpoint ``ep`` with the bootstrap server and/or the
        LwM2M server (``who``); returns the key's SHA-256 (hex) over the DER."""
        spki = spki_der(spki)
        digest = spki_sha256(spki)
        for server in who:
            reply = self.call("rpk", who=server, ep=ep, spki=spki.hex())
            assert reply.get("ok") and reply["spki-sha256"] == digest, reply
        return digest

    @contextlib.contextmanager
    def rpk_trust(self, mode: str):
        """Within the block the *-rpk endpoints check client keys as ``mode`` says: "store" (the
        default: the handshake fails unless add_rpk_client registered the key) or "all" (Leshan's
        own behaviour: every key completes the handshake, Register / Bootstrap-Request decide)."""
        assert self.call("rpktrust", mode=mode)["mode"] == mode
        try:
            yield self
        finally:
            self.call("rpktrust", mode="store")

    def call(self, op: str, timeout: float = 30.0, **params) -> dict:
        """One control-API request; ``params`` become the query (None values are left out)."""
        query = urllib.parse.urlencode({k: str(v) for k, v in params.items() if v is not None})
        url = f"http://127.0.0.1:{self.ports['http']}/{op}?{query}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as error:
            body = error.read().decode(errors="replace")[-3000:]
            raise LeshanError(f"Leshan {op} {params}: HTTP {error.code}: {body}")
        except OSError as error:
            raise LeshanError(f"Leshan {op} {params}: {error} (harness alive: {self.proc.alive()})")

    def mark(self) -> int:
        """The index the next event will have: wait_event(since=mark) sees only later events."""
        return self.call("events", **{"from": 2**31 - 1})["next"]

    def events(self, ep: str | None = None, kind: str | None = None, since: int = 0) -> list[dict]:
        events = self.call("events", **{"from": since, "ep": ep})["events"]
        return [e for e in events if kind is None or e["kind"] == kind]

    def wait_event(self, kind: str, ep: str, since: int = 0, timeout: float = WAIT, where=None, count: int = 1) -> dict:
        """The ``count``-th event ``kind`` of endpoint ``ep`` (from index ``since``) for which
        ``where(event)`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.events(ep, kind, since) if where is None or where(e)]
            if len(found) >= count:
                return found[count - 1]
            if not self.proc.alive():
                raise LeshanError(f"Leshan exited ({self.proc.popen.returncode})")
            if time.monotonic() > deadline:
                seen = [(e["kind"], e.get("code")) for e in self.events(ep, since=since)]
                raise LeshanError(f"Leshan: {count} x {kind} of {ep} not seen within {timeout}s; "
                                  f"events of {ep}: {seen}")
            time.sleep(0.05)

    def output_mark(self) -> int:
        """Where Leshan's output is now: ``errors_sent(since=output_mark())`` looks at later lines."""
        return self.proc.stdout_path.stat().st_size

    def errors_sent(self, since: int, tag: str = "DM") -> list[str]:
        """The 4.xx/5.xx responses Leshan's LwM2M server (tag DM) or bootstrap server (BS) sent to
        clients' requests since ``since`` (an ``output_mark``), on every endpoint (the *-rpk ones too)."""
        with open(self.proc.stdout_path, "rb") as f:
            f.seek(since)
            text = f.read().decode(errors="replace")
        return re.findall(rf"^MSG {tag}-coaps?(?:-rpk)? -> \S+ \w+ mid=\d+ tok=\S* [45]\.\d\d .*$", text, re.M)

    def client(self, ep: str) -> dict | None:
        for registration in self.call("clients")["clients"]:
            if registration["ep"] == ep:
                return registration
        return None


class SharedProcView:
    """A shared process as a test's ``procs`` entry: its output since the test started goes into
    the failing test's report; the test's cleanup does not stop it."""

    def __init__(self, proc: Proc, name: str):
        self.proc = proc
        self.name = name
        self.argv = proc.argv
        self.popen = proc.popen
        self.stdout_offset = proc.stdout_path.stat().st_size
        self.stderr_offset = proc.stderr_path.stat().st_size

    def alive(self) -> bool:
        return self.proc.alive()

    def _tail(self, path: Path, offset: int) -> str:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def stdout(self) -> str:
        return ""  # all of it is in stderr(), which the report keeps more of

    def stderr(self) -> str:
        """What Leshan printed during this test: its own warnings, then every CoAP message
        (MSG), event (EVENT) and control call (API). The report keeps the tail, so the last
        line names the whole log."""
        warnings = self._tail(self.proc.stderr_path, self.stderr_offset)
        output = self._tail(self.proc.stdout_path, self.stdout_offset)
        return ((f"{warnings}\n" if warnings.strip() else "") + output
                + f"(Leshan's whole log: {self.proc.stdout_path}, this test from byte {self.stdout_offset})")

    def kill(self) -> None:  # shared: the session fixture stops it
        pass


def start_leshan(workdir: Path, classes: Path, cp: str, pki: Path) -> Leshan:
    argv = ["java", *JVM_FLAGS, "-cp", os.pathsep.join([str(classes), cp]), "LeshanHarness",
            "--cert", pki / "leshan-server.pem", "--key", pki / "leshan-server.key.der", "--ca", pki / "ca.pem",
            "--rpk-key", pki / "leshan-rpk.key.der", "--rpk-pub", pki / "leshan-rpk.spki.der",
            "--parent", os.getpid()]
    proc = Proc("leshan", argv, workdir)
    try:
        match = proc.wait_for(r"READY (\{.*\})", stream="stdout", timeout=START_TIMEOUT)
    except Exception as error:
        text = f"{error}\nstdout: {proc.stdout()[-3000:]}\nstderr: {proc.stderr()[-3000:]}"
        proc.kill()
        pytest.fail(f"Leshan did not start: {text}", pytrace=False)
    return Leshan(proc, json.loads(match.group(1)), pki)


def stop_leshan(leshan: Leshan) -> None:
    if leshan.proc.alive():
        leshan.proc.popen.send_signal(signal.SIGTERM)
        try:
            leshan.proc.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            leshan.proc.kill()


def endpoint_name(nodeid: str) -> str:
    """A distinct endpoint name per test (the shared Leshan tells clients apart by it)."""
    name = nodeid.split("::")[-1].removeprefix("test_")
    name = re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-")
    return f"lh-{name[:60]}-{os.getpid()}"


# MARK: - One Leshan per session

_shared: dict = {}


def shared_leshan(config, tmp_path_factory) -> Leshan:
    """The session's Leshan, started on first use and stopped when the session ends (one JVM for
    every test module: each test uses its own endpoint name). A failed start is remembered, so
    later tests fail at once instead of waiting again."""
    cp = classpath()  # skips (fails under CI) when Leshan or Java is missing
    if "failure" in _shared:
        pytest.fail(_shared["failure"], pytrace=False)
    leshan = _shared.get("leshan")
    if leshan is not None and leshan.proc.alive():
        return leshan
    if leshan is not None:
        _shared["failure"] = (f"the shared Leshan exited ({leshan.proc.popen.returncode}):\n"
                              f"{leshan.proc.stderr()[-3000:]}\n{leshan.proc.stdout()[-3000:]}")
        pytest.fail(_shared["failure"], pytrace=False)
    build = tmp_path_factory.mktemp("leshan")
    try:
        started = time.monotonic()
        classes = compile_harness(build, cp)
        compiled = time.monotonic()
        pki = make_pki(build / "pki")
        leshan = start_leshan(build, classes, cp, pki)
        leshan.timing = {"javac": compiled - started, "start": time.monotonic() - compiled}
    except BaseException as error:
        _shared["failure"] = f"Leshan could not be started: {error}"
        raise
    _shared["leshan"] = leshan
    config.add_cleanup(lambda: stop_leshan(leshan))
    return leshan


@pytest.fixture
def leshan(request, procs, tmp_path_factory) -> Leshan:
    """The shared Leshan; its output during this test goes into the test's failure report."""
    server = shared_leshan(request.config, tmp_path_factory)
    procs.background.append(SharedProcView(server.proc, "leshan (shared)"))
    return server


@pytest.fixture
def ep(request) -> str:
    """This test's endpoint name."""
    return endpoint_name(request.node.nodeid)
