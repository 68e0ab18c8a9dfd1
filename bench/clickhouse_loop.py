"""How long observability reads hold the event loop: ``python -m bench.clickhouse_loop [--traces N --spans M]``.

Writes ``traces`` traces of ``spans`` spans each (plus one trace of ``traces`` x ``spans`` / 2 spans) into a fresh
chDB engine directory, then measures ``list_traces`` (a page of 100 traces) and ``get_trace`` (one trace of
``spans`` spans, and the large trace) three ways:

* ``sync on loop``: the sync store called from a coroutine (what an async application does without the async
  store): the loop is held for the whole call;
* ``async, chDB``: ``AsyncClickHouseObservabilityStore`` on chDB (each chDB call on the store's worker thread);
* ``async, server``: the async store on clickhouse-connect's HTTP transport against the tests' ClickHouse HTTP
  front end over the same engine (``tests/composite/chdb_http.py``, on 127.0.0.1, a thread of this process).

A ticker task sleeps 1 ms in a loop; the figure is the longest time the loop went without running it (the
longest stall) during the call, and the call's wall time, median of ``runs``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

TICK = 0.001


def spans(trace_id: str, count: int, start: datetime) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"traceId": trace_id, "spanId": "root", "name": "agent", "spanType": "agent_run",
                                  "startedAt": start, "endedAt": start + timedelta(seconds=5),
                                  "input": {"messages": ["hello"] * 4}, "output": {"text": "x" * 200}}]
    for i in range(1, count):
        out.append({"traceId": trace_id, "spanId": f"s{i}", "parentSpanId": "root", "name": f"step {i}",
                    "spanType": "tool_call", "startedAt": start + timedelta(milliseconds=i),
                    "attributes": {"tool": "search", "n": i}, "input": {"q": "weather" * 5},
                    "output": {"result": "sunny " * 20}})
    return out


async def measure(call: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """(longest loop stall, wall time) of one awaited call, in milliseconds."""
    longest = 0.0
    running = True

    async def ticker() -> None:
        nonlocal longest
        last = time.perf_counter()
        while running:
            await asyncio.sleep(TICK)
            now = time.perf_counter()
            longest = max(longest, now - last - TICK)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(TICK * 3)
    longest = 0.0
    began = time.perf_counter()
    await call()
    wall = time.perf_counter() - began
    await asyncio.sleep(TICK * 3)
    running = False
    await task
    return longest * 1000, wall * 1000


async def run(args: argparse.Namespace) -> None:
    from mastra_dynamo.composite import AsyncClickHouseObservabilityStore, ClickHouseObservabilityStore
    from tests.composite.chdb_http import ChdbHttpServer

    path = os.path.realpath(tempfile.mkdtemp(prefix="bench-chdb-"))
    database = "bench_obs"
    sync = ClickHouseObservabilityStore(path=path, database=database)
    sync.init()
    start = datetime.now(UTC) - timedelta(hours=1)
    for t in range(args.traces):
        sync.batch_create_spans(records=spans(f"t{t}", args.spans, start + timedelta(seconds=t)))
    big = args.traces * args.spans // 2
    sync.batch_create_spans(records=spans("big", big, start))
    total = args.traces * args.spans + big
    server = ChdbHttpServer(path, user="bench", password="bench").start()
    chdb_store = AsyncClickHouseObservabilityStore(path=path, database=database)
    http_store = AsyncClickHouseObservabilityStore(host="127.0.0.1", port=server.port, username="bench",
                                                   password="bench", database=database)
    page = {"page": 0, "perPage": 100}

    async def sync_on_loop(method: str, **kwargs: Any) -> Any:
        return getattr(sync, method)(**kwargs)

    calls: dict[str, tuple[str, dict[str, Any]]] = {
        "list_traces (100 per page)": ("list_traces", {"pagination": page}),
        f"get_trace ({args.spans} spans)": ("get_trace", {"trace_id": "t1"}),
        f"get_trace ({big} spans)": ("get_trace", {"trace_id": "big"}),
    }
    print(f"{total} spans in {args.traces + 1} traces; median of {args.runs} runs; milliseconds "
          "(longest loop stall / wall time of the call)")
    print(f"{'call':<28} {'sync on loop':>16} {'async, chDB':>16} {'async, server':>16}")
    try:
        async with chdb_store, http_store:
            for label, (method, kwargs) in calls.items():
                row = []
                for variant in ("sync", "chdb", "http"):
                    results = []
                    if variant == "sync":
                        call = functools.partial(sync_on_loop, method, **kwargs)
                    else:
                        call = functools.partial(getattr(chdb_store if variant == "chdb" else http_store, method),
                                                 **kwargs)
                    for _ in range(args.runs):
                        results.append(await measure(call))
                    stall = statistics.median(r[0] for r in results)
                    wall = statistics.median(r[1] for r in results)
                    row.append(f"{stall:7.1f} / {wall:6.1f}")
                print(f"{label:<28} {row[0]:>16} {row[1]:>16} {row[2]:>16}")
    finally:
        server.stop()
        sync.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=200)
    parser.add_argument("--spans", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
