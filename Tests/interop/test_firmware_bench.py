"""The firmware benchmark (scripts/bench-firmware.py, issue 14) as quick checks against the
binaries under test:

- the benchmark runs end to end on a 256 KiB image (every case: CoAP pull from aiocoap and from
  libcoap's coap-server, HTTP pull, Block1 push; the daemon stores and installs the exact bytes)
  and reports a row per case;
- a 32 MiB CoAP pull from libcoap's C server (thousands of blocks a second) with ack-timeout
  30 s keeps the daemon's RSS growth under 1 MiB (after the script's 4 KiB warm-up pull, which
  maps mbedTLS and the download code once). It grew by 1.8 MiB before the CoAP engine
  dropped lazily cancelled retransmission timers: one dead heap entry per acknowledged block
  request stayed until its deadline, ack-timeout to 1.5 x ack-timeout later.

The figures themselves come from ``scripts/bench-firmware.sh`` on a release build
(docs/firmware-update.md, "Figures"); these tests only check that the script works and the
memory goal holds where it was missed.
"""

from __future__ import annotations

import json
import sys

from conftest import COAP_CLIENT, COAP_SERVER, REPO, require_tool

BENCH = REPO / "scripts" / "bench-firmware.py"


def bench(procs, bin_dir, tmp_path, *args, timeout: float = 120):
    out = tmp_path / "results.json"
    run = procs.run([sys.executable, BENCH, "--bin-dir", bin_dir, "--workdir", tmp_path / "bench",
                     "--json", out, "--timeout", "100", *args], timeout=timeout)
    print(run.out)
    assert run.returncode == 0, run.describe()
    return run, json.loads(out.read_text())


def test_bench_script_runs_every_case(procs, bin_dir, tmp_path):
    require_tool(COAP_SERVER, "apt install libcoap3-bin")
    require_tool(COAP_CLIENT, "apt install libcoap3-bin")
    run, results = bench(procs, bin_dir, tmp_path, "--size", "256K", "--settle", "0.05")
    assert [r["case"] for r in results] == ["coap-aiocoap", "coap-libcoap", "http", "push"], results
    for r in results:
        assert r["size"] == 256 << 10 and r["blocks"] == 256, r
        assert 0 < r["seconds"] < 60 and r["mb_per_s"] > 0, r
        assert r["samples"] >= 1 and 0 < r["rss_before"] <= r["rss_peak"], r
        assert r["agent_cpu"] >= 0 and r["server_cpu"] is not None and r["server_cpu"] >= 0, r
        assert "rss" in r["goals"], r
    # The table: a row per case with its goals, the one-time libcurl load, the verdict line.
    for case in ("coap-aiocoap", "coap-libcoap", "http", "push"):
        assert any(line.startswith(case + " ") and "rss " in line for line in run.out.splitlines()), run.out
    assert "http warm-up" in run.out and "coap warm-up" in run.out and "\ngoals: " in run.out, run.out
    # Every transfer ended in an install of exactly the image (the script checks the hook's
    # SHA-256 and fails otherwise): four installs recorded, one per case, after the two warm-ups
    # (coap, http: the same small image).
    record = (tmp_path / "bench" / "hook.record").read_text().splitlines()
    assert len(record) == 6 and record[0] == record[1] and len(set(record[2:])) == 1, record


def test_fast_coap_pull_keeps_the_daemon_rss_flat(procs, bin_dir, tmp_path):
    require_tool(COAP_SERVER, "apt install libcoap3-bin")
    require_tool(COAP_CLIENT, "apt install libcoap3-bin")
    run, results = bench(procs, bin_dir, tmp_path, "--size", "32M", "--cases", "coap-libcoap",
                         "--ack-timeout", "30")
    [result] = results
    assert result["blocks"] == 32768 and result["samples"] >= 5, result
    print(f"32 MiB from coap-server, ack-timeout 30 s: RSS {result['rss_before']} → peak {result['rss_peak']} KiB "
          f"({result['growth_kib']:+d} KiB) in {result['seconds']:.1f} s")
    assert result["growth_kib"] < 1024, result
