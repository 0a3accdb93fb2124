"""`lwm2m-agent firmware keygen|sign|verify` as processes, with keys and signature checks made by
openssl (docs/firmware-update.md, "Package format")."""
import json
import subprocess

import pytest

from conftest import require_tool


def cli(bin_dir, *args):
    return subprocess.run([str(bin_dir / "lwm2m-agent"), "firmware", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def vendor(tmp_path):
    require_tool("openssl")
    key, pub = tmp_path / "vendor.key", tmp_path / "vendor.pub"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key], check=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
    image = tmp_path / "image.bin"
    image.write_bytes(bytes(range(256)) * 4000)
    return key, pub, image


def test_sign_then_verify_and_openssl_agrees(bin_dir, vendor, tmp_path):
    key, pub, image = vendor
    package = tmp_path / "update.fw"
    signed = cli(bin_dir, "sign", image, "--key", key, "--board", "rpi4-gateway", "--version", "2.1.0", "--out", package)
    assert signed.returncode == 0, signed.stderr
    result = cli(bin_dir, "verify", package, "--public-key", pub, "--board", "rpi4-gateway", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    digest = subprocess.run(["sha256sum", image], capture_output=True, text=True, check=True).stdout.split()[0]
    assert report == {"valid": True, "board": "rpi4-gateway", "version": "2.1.0", "size": 1024000,
                      "sha256": digest, "image_offset": report["image_offset"]}
    data = package.read_bytes()
    assert data[:8] == b"LWM2MFW\x01"
    assert data[report["image_offset"]:] == image.read_bytes()
    # The signature is plain ECDSA P-256/SHA-256 over magic..manifest: openssl checks it.
    m = int.from_bytes(data[8:10], "big")
    s = int.from_bytes(data[10 + m:12 + m], "big")
    (tmp_path / "signed").write_bytes(data[:10 + m])
    (tmp_path / "sig").write_bytes(data[12 + m:12 + m + s])
    check = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", tmp_path / "sig", tmp_path / "signed"],
                           capture_output=True, text=True)
    assert check.returncode == 0 and "Verified OK" in check.stdout


@pytest.mark.parametrize("damage,result", [
    ("flip-image", 5), ("flip-manifest", 5), ("truncate", 5), ("append", 5), ("garbage", 6), ("board", 6), ("other-key", 5),
])
def test_every_refusal(bin_dir, vendor, tmp_path, damage, result):
    key, pub, image = vendor
    package = tmp_path / "update.fw"
    assert cli(bin_dir, "sign", image, "--key", key, "--board", "b", "--version", "1", "--out", package).returncode == 0
    data = bytearray(package.read_bytes())
    board, public = "b", pub
    if damage == "flip-image":
        data[-5] ^= 1
    elif damage == "flip-manifest":
        data[12] ^= 1
    elif damage == "truncate":
        del data[-1]
    elif damage == "append":
        data += b"\0"
    elif damage == "garbage":
        data = bytearray(b"\x7fELF" + bytes(1000))
    elif damage == "board":
        board = "c"
    elif damage == "other-key":
        public = tmp_path / "other.pub"
        other = cli(bin_dir, "keygen", "--private-key-out", tmp_path / "other.key", "--public-key-out", public)
        assert other.returncode == 0, other.stderr
    package.write_bytes(bytes(data))
    refused = cli(bin_dir, "verify", package, "--public-key", public, "--board", board, "--json")
    assert refused.returncode == 1
    report = json.loads(refused.stdout)
    assert report["valid"] is False and report["update_result"] == result, report


def test_keygen_keys_work_with_openssl_and_are_private(bin_dir, tmp_path):
    require_tool("openssl")
    key, pub = tmp_path / "k.pem", tmp_path / "p.pem"
    made = cli(bin_dir, "keygen", "--private-key-out", key, "--public-key-out", pub)
    assert made.returncode == 0, made.stderr
    assert key.stat().st_mode & 0o777 == 0o600
    derived = subprocess.run(["openssl", "pkey", "-in", key, "-pubout"], capture_output=True, text=True, check=True).stdout
    assert derived == pub.read_text()
    again = cli(bin_dir, "keygen", "--private-key-out", key, "--public-key-out", pub)
    assert again.returncode == 1 and "not overwriting" in again.stderr
    assert cli(bin_dir, "sign", "--key", key).returncode == 2
