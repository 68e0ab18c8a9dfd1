"""Part 5d: spans batched into embedded ClickHouse (chDB) through ClickHouseObservabilityStore, then list_traces
latency over them. Runs in its own process (chDB hosts one engine path per process):

    python -m bench.chdb_scale --spans 1000000 --out result.json
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import median, percentile, rss_kib, spread, write_json

SPANS_PER_TRACE = 10
ENTITY_NAMES = [f"agent-{i:02d}" for i in range(20)]


def _trace(rng: random.Random, index: int, start: datetime) -> list[dict[str, Any]]:
    trace_id = f"trace-{index:08d}"
    started = start + timedelta(seconds=index * 2.6)
    name = ENTITY_NAMES[index % len(ENTITY_NAMES)]
    roll = rng.random()
    root_error = {"message": "tool failed"} if roll < 0.03 else None
    root_end = None if roll > 0.98 else started + timedelta(seconds=2)
    common: dict[str, Any] = {"traceId": trace_id, "entityType": "agent", "entityId": name, "entityName": name,
              "userId": f"user-{index % 1000:04d}", "environment": "production", "serviceName": "bench",
              "resourceId": f"user-{index % 1000:04d}", "threadId": f"thread-{index % 5000:05d}"}
    spans = [{**common, "spanId": f"{trace_id}-0", "name": f"{name} run", "spanType": "agent_run",
              "startedAt": started, "endedAt": root_end, "error": root_error,
              "input": {"messages": [{"role": "user", "content": "what is the weather in Paris?"}]},
              "output": {"text": "It is sunny."}, "attributes": {"model": "gpt-x", "tokens": 512},
              "tags": ["bench", "prod"] if index % 2 else ["bench"],
              "metadata": {"tier": "pro" if index % 3 else "free"}}]
    for child in range(1, SPANS_PER_TRACE):
        child_start = started + timedelta(milliseconds=100 * child)
        error = {"message": "timeout"} if roll < 0.05 and child == SPANS_PER_TRACE - 1 else None
        spans.append({**common, "spanId": f"{trace_id}-{child}", "parentSpanId": f"{trace_id}-0",
                      "name": "tool call" if child % 2 else "model generation",
                      "spanType": "tool_call" if child % 2 else "model_generation", "startedAt": child_start,
                      "endedAt": child_start + timedelta(milliseconds=80), "error": error,
                      "attributes": {"step": child}, "input": {"args": {"city": "Paris"}},
                      "output": {"result": "sunny, 21C"}})
    return spans


def _time(fn: Any, repeats: int) -> dict[str, Any]:
    fn()  # warm-up
    values = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        values.append((time.perf_counter() - started) * 1000)
    return {"ms": spread(values), "ms_p99": percentile(values, 99)}


def run(spans: int, batch: int = 10_000, repeats: int = 7, seed: int = 11) -> dict[str, Any]:
    from mastra_dynamo.composite.clickhouse.store import ClickHouseObservabilityStore

    path = tempfile.mkdtemp(prefix="bench-chdb-")
    try:
        store = ClickHouseObservabilityStore(path=path, database="bench", insert_batch_size=batch)
        store.init()
        rng = random.Random(seed)
        traces = max(1, spans // SPANS_PER_TRACE)
        start = datetime.now(UTC) - timedelta(seconds=traces * 2.6 + 3600)
        rss_before = rss_kib()
        batch_seconds: list[float] = []
        pending: list[dict[str, Any]] = []
        written = 0
        ingest_started = time.perf_counter()
        cpu_started = time.process_time()
        for index in range(traces):
            pending += _trace(rng, index, start)
            if len(pending) >= batch or index == traces - 1:
                started = time.perf_counter()
                store.batch_create_spans(records=pending)
                batch_seconds.append(time.perf_counter() - started)
                written += len(pending)
                pending = []
        ingest_wall = time.perf_counter() - ingest_started
        ingest_cpu = time.process_time() - cpu_started
        mid = start + timedelta(seconds=traces * 2.6 / 2)
        queries: dict[str, Any] = {
            "list_traces (page 0 of 10, newest first)": lambda: store.list_traces(),
            "list_traces (entityName = agent-07)": lambda: store.list_traces(filters={"entityName": "agent-07"}),
            "list_traces (status = error)": lambda: store.list_traces(filters={"status": "error"}),
            "list_traces (one hour of startedAt)": lambda: store.list_traces(filters={"startedAt": {
                "start": mid, "end": mid + timedelta(hours=1)}}),
            "list_traces (userId, metadata.tier)": lambda: store.list_traces(
                filters={"userId": "user-0042", "metadata": {"tier": "pro"}}),
            "list_traces (page 100 of 20)": lambda: store.list_traces(pagination={"page": 100, "perPage": 20}),
            "list_traces (hasChildError = true)": lambda: store.list_traces(filters={"hasChildError": True}),
            "get_trace (10 spans)": lambda: store.get_trace(trace_id=f"trace-{traces // 2:08d}"),
        }
        results = {name: _time(fn, repeats) for name, fn in queries.items()}
        totals = {name: fn().pagination.total for name, fn in queries.items()
                  if name.startswith("list_traces")}
        store.close()
        size = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
        return {
            "spans": written, "traces": traces, "batch": batch, "batches": len(batch_seconds), "repeats": repeats,
            "ingest_wall_s": ingest_wall, "ingest_cpu_s": ingest_cpu, "spans_per_s": written / ingest_wall,
            "batch_ms": spread([s * 1000 for s in batch_seconds]),
            "batch_ms_first_last": [batch_seconds[0] * 1000, batch_seconds[-1] * 1000],
            "rss_growth_mib": (rss_kib() - rss_before) / 1024, "disk_mib": size / 1024 / 1024,
            "queries": results, "totals": totals,
            "median_query_ms": median([r["ms"]["median"] for r in results.values()]),
        }
    finally:
        shutil.rmtree(path, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    write_json(Path(args.out), run(args.spans, args.batch, args.repeats))


if __name__ == "__main__":
    main()
