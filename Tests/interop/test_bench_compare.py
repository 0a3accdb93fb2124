"""`lwm2m-bench compare` (issue 17's measuring instrument, docs/performance.md) as quick checks
against the binaries under test: `--quick` runs the C baselines (/bin/true, libcoap's
coap-server-notls) and lwm2m-agentd in one run and prints every row of the goal table with a
number — as JSON and as the Markdown table. These tests do not judge speed (the debug build and a
loaded machine are slow); the figures come from a release build (docs/performance.md).
"""

from __future__ import annotations

import json
import math
import re

from conftest import require_path, require_tool

# Row key -> True when the row has a C baseline measured in the same run (and so a ratio).
ROWS = {
    "exec_exit_cpu": True,
    "exec_registered": False,
    "read_cpu_tlv": True,
    "read_cpu_senml_cbor": True,
    "notifications_per_second": False,
    "rss_registered": True,
    "anon_registered": True,
    "stripped_size": True,
    "shared_libraries": True,
    "idle_wakeups": False,
}


def bench(bin_dir):
    require_tool("coap-server-notls", "Debian: libcoap3-bin (scripts/setup.sh)")
    require_tool("strip", "binutils")
    require_tool("ldd", "libc-bin")
    require_path(bin_dir / "lwm2m-agentd")
    return require_path(bin_dir / "lwm2m-bench", "swift build --build-tests builds it")


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def test_compare_quick_json_has_every_row_with_a_number(procs, bin_dir):
    run = procs.run([bench(bin_dir), "compare", "--quick", "--json"], timeout=150)
    assert run.returncode == 0, run.describe()
    report = json.loads(run.out)
    rows = {row["key"]: row for row in report["rows"]}
    assert list(rows) == list(ROWS), f"rows {list(rows)}"
    for key, has_baseline in ROWS.items():
        row = rows[key]
        assert is_number(row["agent"]) and row["agent"] >= 0, f"{key}: agent {row['agent']!r}\n{run.err}"
        if has_baseline:
            assert is_number(row["baseline"]) and row["baseline"] >= 0, f"{key}: baseline {row['baseline']!r}\n{run.err}"
            if row["baseline"] > 0:
                assert is_number(row["ratio"]), f"{key}: ratio {row['ratio']!r}"
                assert math.isclose(row["ratio"], row["agent"] / row["baseline"], rel_tol=1e-6)
        else:
            assert row["baseline"] is None and row["ratio"] is None, row
        if row["goal"] == "—":
            assert row["met"] is None, row
        else:
            assert isinstance(row["met"], bool), row
    # Figures that are positive whatever the machine's speed.
    for key in ("exec_exit_cpu", "exec_registered", "read_cpu_tlv", "read_cpu_senml_cbor",
                "notifications_per_second", "rss_registered", "stripped_size"):
        assert rows[key]["agent"] > 0, rows[key]
    assert rows["shared_libraries"]["agent"] == int(rows["shared_libraries"]["agent"])
    assert rows["idle_wakeups"]["agent"] == int(rows["idle_wakeups"]["agent"])
    # The baseline of the served figures is libcoap's 136-byte resource, as the issue asks.
    assert "136-byte" in rows["read_cpu_tlv"]["baseline_name"], rows["read_cpu_tlv"]
    assert report["build"] in ("debug", "release")
    assert report["runs"] == "5" and report["reads"] == "300"


def test_compare_quick_prints_the_goal_table(procs, bin_dir):
    run = procs.run([bench(bin_dir), "compare", "--quick", "--runs", "2"], timeout=150)
    assert run.returncode == 0, run.describe()
    lines = [line for line in run.out.splitlines() if line.startswith("|")]
    assert lines[0] == "| metric | baseline | agent | ratio | goal | met? |", run.out
    body = lines[2:]
    assert len(body) == len(ROWS), run.out
    for line in body:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert len(cells) == 6, line
        assert re.match(r"^\d+(\.\d+)?( \S+)?$", cells[2]), f"agent cell not a number: {line}"
        assert cells[5] in ("yes", "**no**", "—"), line
    assert "median of 2" in body[0], body[0]


def test_compare_refuses_a_missing_daemon(procs, bin_dir, tmp_path):
    run = procs.run([bench(bin_dir), "compare", "--quick", "--agentd", str(tmp_path / "nothing")], timeout=30)
    assert run.returncode == 2, run.describe()
    assert "is not an executable" in run.err, run.err
    run = procs.run([bench(bin_dir), "compare", "--runs", "many"], timeout=30)
    assert run.returncode == 2 and '"many" is not a number' in run.err, run.describe()
    run = procs.run([bench(bin_dir), "compare", "--quick", "--cpu", "100000"], timeout=30)
    assert run.returncode == 2 and "--cpu 100000: this process may only run on CPUs" in run.err, run.describe()
