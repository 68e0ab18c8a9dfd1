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
    assert set(results["parts"]) == {"side", "turns", "cpu", "cold", "scale", "chdb", "async"}

    side = results["side"]
    assert side["peer"] is None and side["peer_error"]
    assert side["store_counts_match_proxy"] is True
    totals = side["python"]["totals"]  # transactions priced from their items; DynamoDB Local's figure kept
    assert totals["cu"] > 0 and totals["cu_reported"] > 0 and totals["gsi_cu"] <= totals["cu"]
    ours = side["python"]["labels"]
    assert set(ours) == set(side["labels"]) and set(side["minimum"]) == set(side["labels"])
    for label, row in ours.items():
        assert row["errors"] == 0, (label, row["first_error"])
        assert row["req_mean"] >= 1 and row["ms_median"] > 0
    for label, row in side["minimum"].items():  # every call sent exactly what docs/access-patterns.md says
        assert row["calls_not_as_documented"] == 0 and row["measured"] == row["documented"], (label, row)

    turns = results["turns"]  # tiny lengths: the structure, not the numbers
    assert turns["lengths"] == results["config"]["turn_lengths"] == [4, 12]
    assert turns["peer"] is None and turns["peer_error"] and turns["store_counts_match_proxy"] is True
    for row in turns["python"]["lengths"]:
        assert row["turns"] == results["config"]["turns"] and row["errors"] == 0, row
        assert set(row["calls"]) == set(turns["calls"]) and row["requests"] > 0 and row["cu"] > 0
        assert row["requests"] == sum(call["requests"] for call in row["calls"].values())
        assert row["working_memory"] is not None and row["working_memory"]["requests"] >= 1
    assert turns["python"]["lengths"][0]["cu_ratio"] == 1
    for length, calls in turns["minimum"].items():  # the measured turns send what docs/access-patterns.md says
        assert all(m["calls_not_as_documented"] == 0 for m in calls.values()), (length, calls)
    assert turns["goal"]["holds"] is None  # 20 and 200 messages are not among the tiny lengths

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

    aio = results["async"]  # tiny sizes: the structure and the request counts, not the timings
    calls = results["config"]["async_calls"]
    assert aio["calls"] == calls and aio["request_counts_equal"] is True and aio["sequence"]["equal"] is True
    assert aio["pool"]["gather"] == aio["pool"]["to_thread"] == 32  # the stores' default max_pool_connections
    for kind, counts in aio["requests"].items():  # one GetItem per read, one transaction per save
        assert counts == {"GetItem": calls, "TransactWriteItems": calls}, (kind, counts)
    for phase in ("get_thread_by_id", "save_messages"):
        variants = aio["phases"][phase]["variants"]
        assert set(variants) == {"gather", "sequential", "to_thread", "raw_gather", "raw_sequential"}
        assert variants["sequential"]["inflight_peak"] == variants["raw_sequential"]["inflight_peak"] == 1
        assert aio["phases"][phase]["gather_vs_raw_gather"]["n"] == results["config"]["async_rounds"]
        assert all(v["wall_ms"]["n"] == results["config"]["async_rounds"] for v in variants.values())
        assert all(v["lag_ms"]["ticks"] >= 1 for v in variants.values())
    for op in aio["cpu"]["ops"].values():
        assert op["sync_us"]["median"] > 0 and op["async_us"]["median"] > 0
        assert op["raw_botocore_us"]["median"] > 0 and op["raw_aiobotocore_us"]["median"] > 0
    assert aio["bridge"]["sync_us"]["median"] > 0 and aio["bridge"]["async_us"]["median"] > 0

    markdown = out.with_suffix(".md").read_text()
    for heading in ("### 1.", "### 2.", "### 3.", "### 4.", "### 5.", "### 5d.", "### 6. Agent turn vs thread length",
                    "### 7. Async API"):
        assert heading in markdown
    assert "| Capacity units as DynamoDB Local reports them" in markdown
    assert "| 4 | " in markdown and "| 12 | " in markdown and "Goal (ours at 200 messages" in markdown
