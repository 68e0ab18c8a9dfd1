"""The benchmark scripts run end to end on a tiny workload and write a well-formed results file.

No timing is asserted: the numbers of a tiny run mean nothing. Uses DynamoDB Local when the test session runs
under scripts/with-dynamodb-local.sh, else a moto server on 127.0.0.1. The TypeScript peer is skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    endpoint = os.environ.get("MASTRA_DYNAMO_DDB_LOCAL") or "moto"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--no-peer", "--endpoint", endpoint, "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    assert set(results["parts"]) == {"side", "cpu", "cold", "scale", "chdb"}

    side = results["side"]
    assert side["peer"] is None and side["peer_error"]
    assert side["store_counts_match_proxy"] is True
    ours = side["python"]["labels"]
    assert set(ours) == set(side["labels"]) and set(side["minimum"]) == set(side["labels"])
    for label, row in ours.items():
        assert row["errors"] == 0, (label, row["first_error"])
        assert row["req_mean"] >= 1 and row["ms_median"] > 0
    for label, row in side["minimum"].items():  # every call sent exactly what docs/access-patterns.md says
        assert row["calls_not_as_documented"] == 0 and row["measured"] == row["documented"], (label, row)

    for name, op in results["cpu"]["ops"].items():
        assert op["requests"] >= 1, name
        assert op["store_us_per_call"]["median"] > 0 and op["raw_us_per_call"]["median"] > 0

    for variant in results["cold"]["variants"].values():
        assert variant["process_ms"]["n"] == results["config"]["cold_runs"]

    scale = results["scale"]
    assert scale["delete_thread"]["items_left"] == 0
    assert all(row["list_messages(last 20, total)"]["result"]["returned"] == 20 for row in scale["thread"])

    chdb = results["chdb"]
    assert "error" not in chdb, chdb.get("error")
    assert chdb["spans"] == results["config"]["spans"]

    markdown = out.with_suffix(".md").read_text()
    for heading in ("### 1.", "### 2.", "### 3.", "### 4.", "### 5.", "### 5d."):
        assert heading in markdown
