"""Part 5 (DynamoDB): a thread with many messages, delete_thread of a large thread, list_workflow_runs over many
runs. Every measured call goes through the counting proxy (requests by type, consumed capacity); seeding goes
straight to the endpoint.

Seeding: messages are written as the items ``save_messages`` writes (message + pointer, built with the
library's own item builders) with parallel BatchWriteItem, because 100k messages through transactions of 49
would take far longer than the measurement; runs are written with ``persist_workflow_snapshot`` itself
(8 threads).
"""

from __future__ import annotations

import gc
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import capacity, create_our_table, credentials, percentile, proxy, rss_kib, spread
from bench.workload import Control

TEXT = "a message of an ordinary conversation with an assistant about storage " * 5  # ~370 bytes
THREAD_ID = "big-thread"
LAST_20: dict[str, Any] = {"thread_id": THREAD_ID, "per_page": 20,
                           "order_by": {"field": "createdAt", "direction": "DESC"}}


def _peak_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _measure(control: Control, label: str, fn: Callable[[], Any], repeats: int, *, warm_up: bool = True
             ) -> dict[str, Any]:
    """Wall time over ``repeats`` calls; requests/capacity of one call; Python heap peak and RSS peak of one
    call (separate passes, so tracemalloc does not slow the timed calls)."""
    if warm_up:
        fn()  # imports, connection
    control.dump()
    walls: list[float] = []
    for _ in range(repeats):
        control.mark(label)
        started = time.perf_counter()
        result = fn()
        walls.append((time.perf_counter() - started) * 1000)
    calls = control.dump()
    requests = calls[0]["requests"] if calls else []
    gc.collect()
    rss_before = rss_kib()
    peak_ok = _reset_peak_rss()
    fn()
    rss_peak = _peak_rss_kib() if peak_ok else rss_kib()
    tracemalloc.start()
    fn()
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    summary: dict[str, Any] = {}
    if hasattr(result, "messages"):
        summary = {"returned": len(result.messages), "total": result.total}
    elif hasattr(result, "runs"):
        summary = {"returned": len(result.runs), "total": result.total}
    return {
        "ms": spread(walls), "ms_p99": percentile(walls, 99), "requests": len(requests),
        "types": dict(Counter(q["op"] for q in requests)), "cu": capacity(requests),
        "bytes": sum(q["resp_bytes"] for q in requests), "heap_peak_kib": heap_peak / 1024,
        "rss_peak_growth_kib": max(0, rss_peak - rss_before), "result": summary,
    }


def _seed_messages(store: Any, thread_id: str, start: int, end: int, base: datetime, workers: int = 8) -> float:
    """Write messages ``start..end`` of a thread that holds only these, as save_messages would leave them
    (items, pointers and the thread's message counters), with parallel BatchWriteItems instead of
    transactions: seeding 100k messages through save_messages would take most of the run."""
    from mastra_dynamo.models.memory import MemoryItem, MessageItem, MessageRefItem
    from mastra_dynamo.records.memory import Message
    from mastra_dynamo.stores.memory import counts

    items = []
    for i in range(start, end):
        message = Message.model_validate({
            "id": f"{thread_id}-m{i:07d}", "threadId": thread_id, "resourceId": "user-scale",
            "role": "user" if i % 2 == 0 else "assistant", "createdAt": base + timedelta(milliseconds=i),
            "content": {"format": 2, "parts": [{"type": "text", "text": TEXT}], "content": TEXT}})
        item = MessageItem.new(message, revision=uuid.uuid4().hex).serialize()
        ref = MessageRefItem.new(message.id, thread_id, MemoryItem.sort_key(item), message.resource_id).serialize()
        items += [item, ref]
    chunks = [items[i:i + 1000] for i in range(0, len(items), 1000)]
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda chunk: store.table.batch_write(puts=chunk), chunks))
    store.table.call("UpdateItem", TableName=store.table.table_name, Key={"pk": {"S": f"T#{thread_id}"},
                                                                         "sk": {"S": "T"}},
                     UpdateExpression="SET #c = :c, #r = :r, #x = :x",
                     ExpressionAttributeNames={"#c": counts.COUNT, "#r": counts.REF, "#x": counts.FOREIGN},
                     ExpressionAttributeValues={":c": {"N": str(end)}, ":r": {"S": "user-scale"}, ":x": {"N": "0"}})
    return time.perf_counter() - started


def _seed_runs(store: Any, start: int, end: int, workers: int = 8) -> float:
    workflows = store.get_store("workflows")
    snapshot = {"status": "success", "value": {}, "activePaths": [], "serializedStepGraph": [],
                "context": {"input": {"q": "hello"}, "step1": {"status": "success", "output": {"text": TEXT}}}}

    def one(i: int) -> None:
        workflows.persist_workflow_snapshot(
            workflow_name=f"workflow-{i % 10}", run_id=f"run-{i:07d}", resource_id=f"user-{i % 500:03d}",
            snapshot={**snapshot, "runId": f"run-{i:07d}", "status": "failed" if i % 20 == 0 else "success"})

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(start, end)))
    return time.perf_counter() - started


def run(endpoint: str, *, thread_sizes: list[int], delete_messages: int, run_sizes: list[int],
        repeats: int = 5, log: Any = print) -> dict[str, Any]:
    from mastra_dynamo import DynamoDBStore

    credentials()
    table = f"bench-scale-{uuid.uuid4().hex[:8]}"
    create_our_table(endpoint, table)
    seeder = DynamoDBStore(id="bench-seed", table_name=table, region="us-east-1", endpoint_url=endpoint)
    out: dict[str, Any] = {"thread": [], "delete_thread": None, "runs": [], "repeats": repeats}
    with proxy(endpoint) as proxy_url:
        store = DynamoDBStore(id="bench-scale", table_name=table, region="us-east-1", endpoint_url=proxy_url)
        memory, workflows = store.get_store("memory"), store.get_store("workflows")
        control = Control(proxy_url)
        base = datetime(2025, 6, 1, tzinfo=UTC)

        # ---------------------------------------------------------------- a thread with many messages
        thread_id = THREAD_ID
        seeder.get_store("memory").save_thread(thread={"id": thread_id, "resourceId": "user-scale"})
        have = 0
        for size in sorted(thread_sizes):
            log(f"  scale: thread of {size:,} messages (seeding {size - have:,})")
            seeded = _seed_messages(seeder, thread_id, have, size, base)
            have = size
            # A COUNT over a huge thread takes DynamoDB Local a minute: above 50k messages the calls with a total
            # are timed once, without a warm-up, and page 5 (the same COUNT) is left out.
            big = size > 50_000
            counted: dict[str, Any] = {"repeats": 1 if big else repeats, "warm_up": not big}
            row: dict[str, Any] = {
                "messages": size, "seed_s": seeded,
                "list_messages(last 20, total)": _measure(
                    control, "page", lambda: memory.list_messages(**LAST_20), **counted),
                "list_messages(last 20, include_total=False)": _measure(
                    control, "page-nototal", lambda: memory.list_messages(**LAST_20, include_total=False), repeats),
            }
            if not big:
                row["list_messages(page 5 of 20, total)"] = _measure(
                    control, "page5", lambda: memory.list_messages(**LAST_20, page=5), repeats)
            out["thread"].append(row)

        # ---------------------------------------------------------------- delete_thread
        victim = thread_id if have == delete_messages else "delete-thread"
        if victim != thread_id:
            seeder.get_store("memory").save_thread(thread={"id": victim, "resourceId": "user-scale"})
            log(f"  scale: seeding a thread of {delete_messages:,} messages to delete")
            _seed_messages(seeder, victim, 0, delete_messages, base)
        log(f"  scale: delete_thread of {delete_messages:,} messages")
        control.dump()
        control.mark("delete_thread")
        gc.collect()
        rss_before = rss_kib()
        peak_ok = _reset_peak_rss()
        started = time.perf_counter()
        memory.delete_thread(thread_id=victim)
        wall = time.perf_counter() - started
        rss_peak = _peak_rss_kib() if peak_ok else rss_kib()
        requests = control.dump()[0]["requests"]
        left = sum(1 for _ in seeder.table.query_items({
            "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": f"T#{victim}"}},
            "ConsistentRead": True, "Select": "COUNT"}))
        out["delete_thread"] = {
            "messages": delete_messages, "wall_s": wall, "requests": len(requests),
            "types": dict(Counter(q["op"] for q in requests)), "cu": capacity(requests),
            "rss_peak_growth_kib": max(0, rss_peak - rss_before), "items_left": left,
            "request_errors": sum(1 for q in requests if q.get("error")),
        }

        # ---------------------------------------------------------------- list_workflow_runs
        have = 0
        for size in sorted(run_sizes):
            log(f"  scale: {size:,} workflow runs (seeding {size - have:,})")
            seeded = _seed_runs(seeder, have, size)
            have = size
            big = size > 50_000
            counted = {"repeats": 1 if big else repeats, "warm_up": not big}
            row = {
                "runs": size, "seed_s": seeded,
                "all runs, page 0 of 20": _measure(
                    control, "runs-all", lambda: workflows.list_workflow_runs(page=0, per_page=20), **counted),
                "by workflowName, page 0 of 20": _measure(
                    control, "runs-wf", lambda: workflows.list_workflow_runs(workflow_name="workflow-3", page=0,
                                                                             per_page=20), **counted),
                "by status=failed, page 0 of 20": _measure(
                    control, "runs-status", lambda: workflows.list_workflow_runs(status="failed", page=0,
                                                                                 per_page=20), **counted),
                "by resourceId, all": _measure(
                    control, "runs-resource", lambda: workflows.list_workflow_runs(resource_id="user-042"),
                    repeats),
            }
            out["runs"].append(row)
        control.close()
        store.close()
    seeder.close()
    return out
