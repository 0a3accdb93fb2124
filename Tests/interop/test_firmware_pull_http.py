"""Firmware pull over HTTP and HTTPS (issue 14): ``lwm2m-agent firmware fetch`` (the agent's
HTTPDownload: libcurl's multi interface on the agent's poll loop, bytes streamed to the file)
against fw_http_server.py (Python's http.server with byte ranges written for the tests).

Resume: a link cut mid-body ends the fetch with "connection lost" (Update Result 4) and the bytes
received kept; ``--resume`` asks ``Range: bytes=N-`` with ``If-Range: <ETag>`` and continues on
206. A server without range support (200) or a replaced image (If-Range no longer matches → 200)
restarts from byte 0 and ends with the whole current image. HTTPS: a CA made here with openssl
is trusted with --http-ca; another CA → TLS verification failure. A 404 → Update Result 7.
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
from pathlib import Path

from conftest import HERE, require_tool, assert_flat_download_rss

MIB = 1 << 20


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_image(path: Path, size: int, seed: str) -> bytes:
    block = b"".join(hashlib.sha256(f"{seed} {n}".encode()).digest() for n in range(2048))  # 64 KiB
    data = (block * (size // len(block) + 1))[:size]
    data = hashlib.sha256(seed.encode()).digest() + data[32:]
    path.write_bytes(data)
    return data


def start_server(procs, image: Path, *extra):
    port = free_tcp_port()
    proc = procs.start("fw-http", [sys.executable, HERE / "fw_http_server.py", port, image, *extra])
    proc.wait_for(r"ready 127\.0\.0\.1", stream="stdout", timeout=20)
    return proc, port


def requests(proc) -> list[str]:
    return [line for line in proc.stderr().splitlines() if line.startswith("GET ")]


def fetch(procs, bin_dir, url: str, output: Path, *args, timeout: float = 120):
    return procs.run([bin_dir / "lwm2m-agent", "firmware", "fetch", url, "--output", output, *args], timeout=timeout)


def test_http_pull_of_32_mib_streams_with_flat_rss(procs, bin_dir, tmp_path):
    image = make_image(tmp_path / "image.bin", 32 * MIB, "http 32")
    server, port = start_server(procs, tmp_path / "image.bin")
    output = tmp_path / "out.bin"
    run = fetch(procs, bin_dir, f"http://127.0.0.1:{port}/fw", output, "--report-memory")
    assert run.returncode == 0, run.describe()
    assert hashlib.sha256(output.read_bytes()).digest() == hashlib.sha256(image).digest()
    assert requests(server) == ["GET range=None if-range=None status=200 sent=33554432"]
    assert_flat_download_rss(run, "HTTP 32 MiB pull")


def test_http_resume_after_a_cut_link_asks_the_rest_with_range(procs, bin_dir, tmp_path):
    image = make_image(tmp_path / "image.bin", 8 * MIB, "http resume")
    server, port = start_server(procs, tmp_path / "image.bin", "--drop-after", str(3 * MIB))
    output = tmp_path / "out.bin"
    run = fetch(procs, bin_dir, f"http://127.0.0.1:{port}/fw", output)
    assert run.returncode == 3, run.describe()
    assert "connection lost" in run.err and "Update Result 4" in run.err, run.err
    assert output.read_bytes() == image[:3 * MIB]
    etag = (tmp_path / "out.bin.validator").read_text()
    assert etag.startswith('"')

    run = fetch(procs, bin_dir, f"http://127.0.0.1:{port}/fw", output, "--resume")
    assert run.returncode == 0, run.describe()
    assert output.read_bytes() == image
    assert requests(server)[-1] == f"GET range=bytes={3 * MIB}- if-range={etag} status=206 sent={5 * MIB}"


def test_http_resume_against_a_server_without_ranges_restarts_from_0(procs, bin_dir, tmp_path):
    image = make_image(tmp_path / "image.bin", 4 * MIB, "no ranges")
    server, port = start_server(procs, tmp_path / "image.bin", "--no-range", "--drop-after", str(MIB))
    output = tmp_path / "out.bin"
    assert fetch(procs, bin_dir, f"http://127.0.0.1:{port}/fw", output).returncode == 3
    run = fetch(procs, bin_dir, f"http://127.0.0.1:{port}/fw", output, "--resume")
    assert run.returncode == 0, run.describe()
    assert output.read_bytes() == image
    assert requests(server)[-1].startswith(f"GET range=bytes={MIB}- ") and "status=200 sent=4194304" in requests(server)[-1]


def test_http_resume_of_a_replaced_image_gets_the_new_one_whole(procs, bin_dir, tmp_path):
    make_image(tmp_path / "image.bin", 4 * MIB, "old")
    server, port = start_server(procs, tmp_path / "image.bin", "--drop-after", str(2 * MIB))
    output = tmp_path / "out.bin"
    assert fetch(procs, bin_dir, f"http://127.0.0.1:{port}/fw", output).returncode == 3
    new = make_image(tmp_path / "image.bin", 3 * MIB, "new")
    run = fetch(procs, bin_dir, f"http://127.0.0.1:{port}/fw", output, "--resume")
    assert run.returncode == 0, run.describe()
    assert output.read_bytes() == new
    assert requests(server)[-1].endswith(f"status=200 sent={3 * MIB}")  # If-Range did not match


def test_http_404_is_an_invalid_uri(procs, bin_dir, tmp_path):
    make_image(tmp_path / "image.bin", 1000, "small")
    _, port = start_server(procs, tmp_path / "image.bin")
    run = fetch(procs, bin_dir, f"http://127.0.0.1:{port}/missing", tmp_path / "out.bin")
    assert run.returncode == 1, run.describe()
    assert "HTTP 404" in run.err and "Update Result 7" in run.err, run.err


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    openssl = require_tool("openssl", "apt install openssl")
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={name}"],
                   check=True, capture_output=True, timeout=30)
    return key, cert


def make_server_cert(directory: Path, ca_key: Path, ca_cert: Path) -> tuple[Path, Path]:
    openssl = require_tool("openssl", "apt install openssl")
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    subprocess.run([openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"], check=True, capture_output=True, timeout=30)
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    subprocess.run([openssl, "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
                    "-out", cert, "-days", "2", "-extfile", directory / "san.ext"],
                   check=True, capture_output=True, timeout=30)
    return key, cert


def test_https_pull_verifies_against_the_configured_ca(procs, bin_dir, tmp_path):
    ca_key, ca_cert = make_ca(tmp_path, "test-ca")
    _, other_ca = make_ca(tmp_path, "other-ca")
    key, cert = make_server_cert(tmp_path, ca_key, ca_cert)
    image = make_image(tmp_path / "image.bin", 2 * MIB, "https")
    server, port = start_server(procs, tmp_path / "image.bin", "--cert", cert, "--key", key)

    output = tmp_path / "out.bin"
    run = fetch(procs, bin_dir, f"https://127.0.0.1:{port}/fw", output, "--http-ca", ca_cert)
    assert run.returncode == 0, run.describe()
    assert output.read_bytes() == image

    run = fetch(procs, bin_dir, f"https://127.0.0.1:{port}/fw", tmp_path / "wrong.bin", "--http-ca", other_ca)
    assert run.returncode == 1, run.describe()
    assert "TLS verification failed" in run.err, run.err
    assert (tmp_path / "wrong.bin").stat().st_size == 0
    # The system trust store does not know the test CA either.
    run = fetch(procs, bin_dir, f"https://127.0.0.1:{port}/fw", tmp_path / "system.bin")
    assert run.returncode == 1 and "TLS verification failed" in run.err, run.describe()
    assert len(requests(server)) == 1  # only the verified connection got as far as a request


def test_libcurl_is_loaded_on_first_use_not_linked(bin_dir):
    """libcurl and its ~30 dependencies cost an idle process ~4 MiB RSS: the binaries do not link
    it (Firmware dlopens it when an HTTP(S) download starts)."""
    ldd = require_tool("ldd")
    for name in ("lwm2m-agent", "lwm2m-agentd"):
        linked = subprocess.run([ldd, bin_dir / name], capture_output=True, text=True, timeout=30).stdout
        assert "libcurl" not in linked, f"{name} links libcurl:\n{linked}"


def test_http_connection_and_name_errors_are_typed(procs, bin_dir, tmp_path):
    closed = free_tcp_port()  # nothing listens there
    run = fetch(procs, bin_dir, f"http://127.0.0.1:{closed}/fw", tmp_path / "a.bin", "--connect-timeout", "5")
    assert run.returncode == 3, run.describe()
    assert "cannot connect" in run.err and "Update Result 4" in run.err, run.err
    run = fetch(procs, bin_dir, "http://no-such-host.invalid/fw", tmp_path / "b.bin", "--connect-timeout", "5")
    assert run.returncode == 3, run.describe()
    assert "name resolution failed" in run.err and "Update Result 7" in run.err, run.err
    run = fetch(procs, bin_dir, "ftp://127.0.0.1/fw", tmp_path / "c.bin")
    assert run.returncode == 1 and "unsupported scheme ftp" in run.err and "Update Result 9" in run.err, run.describe()


def test_http_stalled_transfer_is_a_lost_connection_with_the_bytes_kept(procs, bin_dir, tmp_path):
    image = make_image(tmp_path / "image.bin", 2 * MIB, "stall")
    _, port = start_server(procs, tmp_path / "image.bin", "--stall-after", str(MIB))
    output = tmp_path / "out.bin"
    run = fetch(procs, bin_dir, f"http://127.0.0.1:{port}/fw", output, "--stall-timeout", "2", timeout=30)
    assert run.returncode == 3, run.describe()
    assert "connection lost" in run.err and "Update Result 4" in run.err, run.err
    assert 1.5 < run.elapsed < 15, run.elapsed
    assert output.read_bytes() == image[:MIB]


def test_http_resume_of_a_whole_image_gets_416_and_starts_again(procs, bin_dir, tmp_path):
    """The image was stored whole but the fetch did not finish (killed before its end): the resume
    asks a range past the end, the server says 416, and the download starts again from byte 0."""
    image = make_image(tmp_path / "image.bin", MIB, "whole")
    server, port = start_server(procs, tmp_path / "image.bin")
    output = tmp_path / "out.bin"
    assert fetch(procs, bin_dir, f"http://127.0.0.1:{port}/fw", output).returncode == 0
    etag = '"' + hashlib.sha256(image).hexdigest()[:16] + '"'
    (tmp_path / "out.bin.validator").write_text(etag)
    run = fetch(procs, bin_dir, f"http://127.0.0.1:{port}/fw", output, "--resume")
    assert run.returncode == 0, run.describe()
    assert output.read_bytes() == image
    assert [line.split(" status=")[1] for line in requests(server)] == ["200 sent=1048576", "416", "200 sent=1048576"]


def test_image_over_the_maximum_size_is_refused_with_update_result_2(procs, bin_dir, tmp_path):
    make_image(tmp_path / "image.bin", MIB, "too large")
    _, port = start_server(procs, tmp_path / "image.bin")
    output = tmp_path / "out.bin"
    run = fetch(procs, bin_dir, f"http://127.0.0.1:{port}/fw", output, "--max-size", "100000")
    assert run.returncode == 1, run.describe()
    assert "larger than the maximum of 100000 bytes" in run.err and "Update Result 2" in run.err, run.err
    assert output.stat().st_size <= 100000
