"""Part ``async``: the async API (``mastra_dynamo.aio``) under concurrency on one event loop.

Every figure is a ratio against a baseline measured in the same process, on the same table and endpoint (called
directly, not through the counting proxy):

1. Wall time of ``calls`` concurrent ``get_thread_by_id`` and then ``calls`` concurrent ``save_messages`` (2 new
   messages each) under ``asyncio.gather``, against the same calls awaited one after another on the same
   async store (*sequential*) and against the old thread wrapper: the sync store's method run with
   ``asyncio.to_thread`` on the loop's default executor (*to_thread*); and the baseline of any aiobotocore user:
   the GetItem / TransactWriteItems requests a sync store sends for the same calls (recorded just before the
   variant, the writes not sent) sent directly on an aiobotocore client made like the async store's, gathered
   (*raw_gather*) and one after another (*raw_sequential*). Each call reads or writes its own thread
   (``calls`` distinct threads seeded beforehand): concurrent transactions on one thread item would measure
   write conflicts, not the client. Every variant runs in its own ``asyncio.run`` with a fresh store (so a
   default executor and its threads never outlive their variant); rounds rotate the order of the variants.
2. OS threads of the process while a phase runs, sampled every 2 ms by a sampler thread from
   ``/proc/self/status`` (``Threads:``: every kernel thread of the process) and ``threading.active_count()``
   (Python ``Thread`` objects alive). Reported beyond the threads present before the variant started (the main
   thread when the part runs alone) and beyond the sampler itself.
3. Event-loop lag: a ticker task sleeps 5 ms in a loop and records by how much each sleep overshot.
4. Client CPU per call: ``time.process_time`` over ``cpu_calls`` sequential calls of each method by four kinds:
   the sync store, the async store awaited one by one, and the requests a sync store sends for the same calls
   sent directly on the stores' own botocore and aiobotocore clients (raw: the client's share, and aiobotocore
   over botocore, the floor of the async / sync ratio). The calls run in blocks of ``CPU_BLOCK``, the kinds in a
   rotating order per block (DynamoDB Local runs in another process; its CPU is not counted).
5. The bridge alone: CPU per ``get_thread_by_id`` of the sync store and of the async store on stub clients that
   answer at once (no request at all): what the async path itself adds per call.
6. ``request_counts()``: the sync and the async store on the same sequence of calls (fresh ids each).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import gc
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.common import create_our_table, credentials, median, percentile, spread

VARIANTS = ("gather", "sequential", "to_thread", "raw_gather", "raw_sequential")
CONCURRENT = ("gather", "to_thread", "raw_gather")
PHASES = ("get_thread_by_id", "save_messages")
TICK_SECONDS = 0.005
SAMPLE_SECONDS = 0.002
RESOURCE = "user-async"
TEXT = "a typical assistant answer " * 20


def os_threads() -> int:
    """Kernel threads of this process (``Threads:`` of /proc/self/status); 0 where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class ThreadSampler:
    """Peak thread counts of the process, sampled from a thread of its own while a phase runs."""

    def __init__(self) -> None:
        self.os_peak = 0
        self.py_peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-thread-sampler", daemon=True)

    def _run(self) -> None:
        while True:
            self.os_peak = max(self.os_peak, os_threads())
            self.py_peak = max(self.py_peak, threading.active_count())
            self.samples += 1
            if self._stop.wait(SAMPLE_SECONDS):
                return

    def __enter__(self) -> ThreadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextlib.asynccontextmanager
async def ticker(lags: list[float]) -> AsyncIterator[None]:
    """A task that sleeps 5 ms in a loop while the body runs; ``lags`` gets each sleep's overshoot (seconds)."""
    stop = asyncio.Event()

    async def tick() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(TICK_SECONDS)
            lags.append(max(0.0, time.perf_counter() - started - TICK_SECONDS))

    task = asyncio.create_task(tick())
    await asyncio.sleep(0)  # the ticker's first sleep starts before the body
    try:
        yield
    finally:
        stop.set()
        await task


def machine_busy_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs so far (/proc/stat); (0, 0) where /proc is missing."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


class InFlight:
    """Requests handed to the HTTP layer and not yet answered (those waiting for one of the pool's connections
    included), counted by botocore events of the client: ``before-send`` to ``needs-retry``, which both clients
    emit once per attempt, after the answer or the failure."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self._lock = threading.Lock()  # never held across a request

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send.dynamodb", self._sent, unique_id="bench-inflight-sent")
        client.meta.events.register("needs-retry.dynamodb", self._answered, unique_id="bench-inflight-answered")

    def _sent(self, **_: Any) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def _answered(self, **_: Any) -> None:
        with self._lock:
            self.now -= 1

    def reset(self) -> None:
        with self._lock:
            self.peak = self.now


def _messages(thread_id: str, tag: str) -> list[dict[str, Any]]:
    return [{"id": f"{tag}-{thread_id}-{i}", "threadId": thread_id, "resourceId": RESOURCE, "role": role,
             "content": {"format": 2, "parts": [{"type": "text", "text": TEXT}], "content": TEXT}}
            for i, role in enumerate(("user", "assistant"))]


def _thread_ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i:04d}" for i in range(n)]


def _seed(store: Any, thread_ids: list[str]) -> None:
    memory = store.get_store("memory")
    for thread_id in thread_ids:
        memory.save_thread(thread={"id": thread_id, "resourceId": RESOURCE, "title": "async bench"})


def _sync_store(endpoint: str, table: str, pool: int | None) -> Any:
    from botocore.config import Config

    from mastra_dynamo import DynamoDBStore

    return DynamoDBStore(id="bench-async-sync", table_name=table, region="us-east-1", endpoint_url=endpoint,
                         boto_config=Config(max_pool_connections=pool) if pool is not None else None)


def _async_store(endpoint: str, table: str, pool: int | None) -> Any:
    from mastra_dynamo.aio import AsyncDynamoDBStore

    return AsyncDynamoDBStore(id="bench-async", table_name=table, region="us-east-1", endpoint_url=endpoint,
                              max_pool_connections=pool)


class _Answered:
    """The body of an empty DynamoDB answer, as botocore reads a raw HTTP response."""

    def stream(self, **_: Any) -> Any:
        yield b"{}"


Request = tuple[str, dict[str, Any]]
READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable"})


def record_requests(store: Any, calls: Sequence[Callable[[], Any]]) -> list[Request]:
    """The (operation, parameters) of every request the sync ``store`` sends for ``calls``. Reads are sent (the
    store plans its writes on what they return); writes are not: a ``before-send`` hook answers each with an
    empty success, so the table is left as it was and the recorded writes can be sent later, as they stand, on a
    table in the same state."""
    from botocore.awsrequest import AWSResponse

    client = store.table.raw
    recorded: list[Request] = []

    def params(params: dict[str, Any], model: Any, **_: Any) -> None:
        recorded.append((model.name, copy.deepcopy(params)))

    def answer(request: Any, **_: Any) -> Any:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).rpartition(".")[2]
        if operation in READS:
            return None
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, _Answered())

    client.meta.events.register("provide-client-params.dynamodb.*", params, unique_id="bench-record-params")
    client.meta.events.register_first("before-send.dynamodb", answer, unique_id="bench-record-answer")
    try:
        for call in calls:
            call()
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.*", unique_id="bench-record-params")
        client.meta.events.unregister("before-send.dynamodb", unique_id="bench-record-answer")
    return recorded


def _operation_counts(requests: Sequence[Request]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for operation, _ in requests:
        counts[operation] = counts.get(operation, 0) + 1
    return counts


def _raw_methods(client: Any, requests: Sequence[Request]) -> list[Callable[[], Any]]:
    """One call per recorded request on ``client`` (botocore or aiobotocore), its method resolved beforehand."""
    from botocore import xform_name

    return [functools.partial(getattr(client, xform_name(operation)), **params) for operation, params in requests]


def _recorded(store: Any, thread_ids: list[str], tag: str) -> dict[str, list[Request]]:
    """The requests of one get phase and one save phase (``tag``: fresh message ids), recorded on the sync
    ``store``: the saves are planned as the stores plan them after the gets (one transaction each, on the
    threads' counters as the gets read them)."""
    memory = store.get_store("memory")
    gets = record_requests(store, [functools.partial(memory.get_thread_by_id, thread_id=thread_id)
                                   for thread_id in thread_ids])
    saves = record_requests(store, [functools.partial(memory.save_messages, messages=_messages(thread_id, tag))
                                    for thread_id in thread_ids])
    return {"get_thread_by_id": gets, "save_messages": saves}


def _record(endpoint: str, table: str, thread_ids: list[str], tag: str, pool: int | None) -> dict[str, list[Request]]:
    """:func:`_recorded` on a sync store of its own."""
    store = _sync_store(endpoint, table, pool)
    try:
        return _recorded(store, thread_ids, tag)
    finally:
        store.close()


Call = Callable[[str], Awaitable[Any]]


FREEZE_HEAP = os.environ.get("BENCH_ASYNC_FREEZE") == "1"
"""``BENCH_ASYNC_FREEZE=1``: every variant moves the objects alive after its warm-up to the collector's
permanent generation (``gc.freeze()``, what a latency-minded server does after start-up), so the phases see no
full collection of the imported libraries' objects."""


@contextlib.contextmanager
def full_collections(pauses: list[float]) -> Iterator[None]:
    """Records the duration of every full (generation 2) garbage collection while active, in seconds."""
    started: list[float] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            pauses.append(time.perf_counter() - started.pop())

    gc.callbacks.append(callback)
    try:
        yield
    finally:
        gc.callbacks.remove(callback)


async def _phase(calls: Sequence[Callable[[], Awaitable[Any]]], concurrent: bool,
                 inflight: InFlight) -> dict[str, Any]:
    """Run the calls (all at once with gather, or one after another) with the sampler and the ticker on."""
    lags: list[float] = []
    pauses: list[float] = []
    inflight.reset()
    with ThreadSampler() as sampler, full_collections(pauses):
        async with ticker(lags):
            busy0, total0 = machine_busy_jiffies()
            cpu0, started = time.process_time(), time.perf_counter()
            if concurrent:
                await asyncio.gather(*(call() for call in calls))
            else:
                for call in calls:
                    await call()
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
            busy1, total1 = machine_busy_jiffies()
    cpus = os.cpu_count() or 1
    machine = (busy1 - busy0) / (total1 - total0) * cpus if total1 > total0 else float("nan")
    return {"wall_s": wall, "cpu_s": cpu, "machine_busy_cores": machine, "inflight_peak": inflight.peak,
            "os_peak": sampler.os_peak, "py_peak": sampler.py_peak, "samples": sampler.samples, "lags": lags,
            "full_gc_s": pauses}


async def _variant(kind: str, endpoint: str, table: str, thread_ids: list[str], tag: str,
                   pool: int | None) -> dict[str, Any]:
    """One variant in a fresh event loop: warm-up, then the get phase and the save phase."""
    raw_requests = _record(endpoint, table, thread_ids, tag, pool) if kind.startswith("raw") else None
    before_os, before_py = os_threads(), threading.active_count()
    warm = thread_ids[:3]
    inflight = InFlight()
    if kind == "to_thread":
        store = _sync_store(endpoint, table, pool)
        inflight.attach(store.table.raw)
        memory = store.get_store("memory")

        def get(thread_id: str) -> Awaitable[Any]:
            return asyncio.to_thread(memory.get_thread_by_id, thread_id=thread_id)

        def save(thread_id: str) -> Awaitable[Any]:
            return asyncio.to_thread(memory.save_messages, messages=_messages(thread_id, tag))
    else:
        store = _async_store(endpoint, table, pool)
        await store.open()
        inflight.attach(store.sync.table.raw.aio)
        amemory = store.get_store("memory")

        def get(thread_id: str) -> Awaitable[Any]:
            return amemory.get_thread_by_id(thread_id=thread_id)  # type: ignore[no-any-return]

        def save(thread_id: str) -> Awaitable[Any]:
            return amemory.save_messages(messages=_messages(thread_id, tag))  # type: ignore[no-any-return]
    try:
        if raw_requests is not None:  # the store's own aiobotocore client, the recorded requests sent on it
            client = store.sync.table.raw.aio
            for request in _raw_methods(client, raw_requests["get_thread_by_id"][:len(warm)]):
                await request()
            phases = {phase: _raw_methods(client, requests) for phase, requests in raw_requests.items()}
            warm_counts: dict[str, int] = {}
        else:
            for thread_id in warm:  # client, first connection, botocore's loaders
                await get(thread_id)
            warm_counts = dict(store.request_counts())
            phases = {phase: [functools.partial(call, thread_id) for thread_id in thread_ids]
                      for phase, call in (("get_thread_by_id", get), ("save_messages", save))}
        out: dict[str, Any] = {"before_os": before_os, "before_py": before_py}
        if FREEZE_HEAP:
            gc.collect()
            gc.freeze()
        try:
            for phase, calls in phases.items():
                out[phase] = await _phase(calls, concurrent=kind in CONCURRENT, inflight=inflight)
        finally:
            if FREEZE_HEAP:
                gc.unfreeze()
        if raw_requests is not None:
            out["requests"] = _operation_counts([r for requests in raw_requests.values() for r in requests])
        else:
            counts = store.request_counts()
            out["requests"] = {op: n - warm_counts.get(op, 0) for op, n in counts.items()
                               if n - warm_counts.get(op, 0)}
        if kind != "to_thread":
            out["pool"] = store.sync.table.raw.aio.meta.config.max_pool_connections
        else:
            out["pool"] = store.table.raw.meta.config.max_pool_connections
        return out
    finally:
        if kind == "to_thread":
            store.close()
        else:
            await store.close()


def _lag_summary(lags: list[float]) -> dict[str, float]:
    ms = [x * 1000 for x in lags]
    return {"p50": percentile(ms, 50), "p99": percentile(ms, 99), "max": max(ms) if ms else float("nan"),
            "ticks": len(ms)}


def _concurrency(endpoint: str, table: str, thread_ids: list[str], rounds: int, pool: int | None,
                 log: Callable[[str], None]) -> dict[str, Any]:
    raw: dict[str, list[dict[str, Any]]] = {kind: [] for kind in VARIANTS}
    for r in range(rounds):
        order = VARIANTS[r % len(VARIANTS):] + VARIANTS[:r % len(VARIANTS)]
        for kind in order:
            tag = f"r{r}-{kind}-{uuid.uuid4().hex[:6]}"
            log(f"  async: round {r + 1}/{rounds}, {kind}")
            raw[kind].append(asyncio.run(_variant(kind, endpoint, table, thread_ids, tag, pool)))
    phases: dict[str, Any] = {}
    for phase in PHASES:
        variants: dict[str, Any] = {}
        for kind in VARIANTS:
            runs = raw[kind]
            lags = [x for run in runs for x in run[phase]["lags"]]
            variants[kind] = {
                "wall_ms": spread([run[phase]["wall_s"] * 1000 for run in runs]),
                "ms_per_call": median([run[phase]["wall_s"] * 1000 / len(thread_ids) for run in runs]),
                # client process CPU (every thread of it) per call, and cores busy machine-wide, during the phase
                "cpu_ms_per_call": median([run[phase]["cpu_s"] * 1000 / len(thread_ids) for run in runs]),
                "client_cores": median([run[phase]["cpu_s"] / run[phase]["wall_s"] for run in runs]),
                "machine_busy_cores": median([run[phase]["machine_busy_cores"] for run in runs]),
                "inflight_peak": max(run[phase]["inflight_peak"] for run in runs),
                # threads beyond those alive before the variant started and beyond the sampler itself
                "extra_os_threads": max(run[phase]["os_peak"] - run["before_os"] - 1 for run in runs),
                "extra_py_threads": max(run[phase]["py_peak"] - run["before_py"] - 1 for run in runs),
                "os_threads_peak": max(run[phase]["os_peak"] for run in runs),
                "lag_ms": _lag_summary(lags),
                "lag_p99_per_round_ms": [percentile([x * 1000 for x in run[phase]["lags"]], 99) for run in runs],
                # the longest full garbage collection of the phase (a pause of the whole process)
                "full_gc_max_ms": max((x * 1000 for run in runs for x in run[phase]["full_gc_s"]), default=0.0),
                "full_gcs": sum(len(run[phase]["full_gc_s"]) for run in runs),
            }
        gather = [run[phase]["wall_s"] for run in raw["gather"]]
        phases[phase] = {
            "variants": variants,
            "speedup_vs_sequential": spread([s[phase]["wall_s"] / g for s, g in zip(raw["sequential"], gather,
                                                                                       strict=True)]),
            # the most any concurrency of one client process could gain here: a sequential call's wall time
            # over the client CPU a concurrent call costs (the client's own work does not overlap)
            "speedup_ceiling": median([s[phase]["wall_s"] / g[phase]["cpu_s"] for s, g in zip(
                raw["sequential"], raw["gather"], strict=True)]),
            "speedup_vs_to_thread": spread([t[phase]["wall_s"] / g for t, g in zip(raw["to_thread"], gather,
                                                                                    strict=True)]),
            # raw aiobotocore: what concurrency gives any aiobotocore user here, and our wall time over its
            "raw_speedup_vs_sequential": spread([s[phase]["wall_s"] / g[phase]["wall_s"] for s, g in zip(
                raw["raw_sequential"], raw["raw_gather"], strict=True)]),
            "gather_vs_raw_gather": spread([g / r[phase]["wall_s"] for r, g in zip(raw["raw_gather"], gather,
                                                                                  strict=True)]),
        }
    counts = {kind: raw[kind][0]["requests"] for kind in VARIANTS}
    return {
        "phases": phases,
        "heap_frozen": FREEZE_HEAP,
        "threads_before": {"os": raw["gather"][0]["before_os"], "python": raw["gather"][0]["before_py"]},
        "pool": {kind: raw[kind][0]["pool"] for kind in VARIANTS},
        "requests": counts,
        "requests_equal": all(raw[kind][r]["requests"] == counts["gather"] for kind in VARIANTS
                              for r in range(rounds)),
    }


# ------------------------------------------------------------------ CPU per call
CPU_KINDS = ("sync", "async", "raw_botocore", "raw_aiobotocore")
CPU_BLOCK = 20


async def _timed(calls: Sequence[Callable[[], Any]], awaited: bool) -> float:
    """Process CPU seconds of the calls made one after another (awaited when ``awaited``)."""
    started = time.process_time()
    if awaited:
        for call in calls:
            await call()
    else:
        for call in calls:
            call()
    return time.process_time() - started


async def _cpu_round(endpoint: str, table: str, thread_ids: list[str], tag: str, pool: int | None,
                     rotation: int) -> dict[str, Any]:
    """One round: each phase's calls in blocks of ``CPU_BLOCK``, each block made by the four kinds in a rotating
    order (a change of load hits them alike): the sync store, the async store awaited one by one, and the
    requests a sync store sends for the same block (recorded just before, the writes not sent) sent on the
    stores' own botocore and aiobotocore clients."""
    store = _sync_store(endpoint, table, pool)
    recorder = _sync_store(endpoint, table, pool)
    astore = _async_store(endpoint, table, pool)
    await astore.open()
    memory, amemory = store.get_store("memory"), astore.get_store("memory")
    clients = {"raw_botocore": store.table.raw, "raw_aiobotocore": astore.sync.table.raw.aio}
    try:
        for thread_id in thread_ids[:3]:
            memory.get_thread_by_id(thread_id=thread_id)
            await amemory.get_thread_by_id(thread_id=thread_id)
        base = {"sync": dict(store.request_counts()), "async": dict(astore.request_counts())}
        cpu = {kind: dict.fromkeys(PHASES, 0.0) for kind in CPU_KINDS}
        blocks = [thread_ids[i:i + CPU_BLOCK] for i in range(0, len(thread_ids), CPU_BLOCK)]
        for phase in PHASES:
            for b, ids in enumerate(blocks):
                shift = (b + rotation) % len(CPU_KINDS)
                for kind in CPU_KINDS[shift:] + CPU_KINDS[:shift]:
                    calls: list[Callable[[], Any]]
                    if kind in clients:
                        requests = _recorded(recorder, ids, f"{tag}-{kind}-{b}")[phase]
                        calls = _raw_methods(clients[kind], requests)
                    else:
                        domain = memory if kind == "sync" else amemory
                        calls = [functools.partial(domain.get_thread_by_id, thread_id=thread_id)
                                 if phase == "get_thread_by_id" else
                                 functools.partial(domain.save_messages, messages=_messages(thread_id, f"{tag}-{kind}"))
                                 for thread_id in ids]
                    cpu[kind][phase] += await _timed(calls, awaited=kind in ("async", "raw_aiobotocore"))
        out: dict[str, Any] = {kind: {phase: cpu[kind][phase] / len(thread_ids) for phase in PHASES}
                               for kind in CPU_KINDS}
        out["requests"] = {
            kind: {op: n - base[kind].get(op, 0) for op, n in s.request_counts().items() if n - base[kind].get(op, 0)}
            for kind, s in (("sync", store), ("async", astore))}
        return out
    finally:
        store.close()
        recorder.close()
        await astore.close()


def _cpu(endpoint: str, table: str, thread_ids: list[str], rounds: int, pool: int | None,
         log: Callable[[str], None]) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    for r in range(rounds):
        log(f"  async: cpu round {r + 1}/{rounds}")
        runs.append(asyncio.run(_cpu_round(endpoint, table, thread_ids, f"cpu{r}-{uuid.uuid4().hex[:6]}", pool, r)))
    ops: dict[str, Any] = {}
    for op in PHASES:
        us = {kind: [run[kind][op] * 1e6 for run in runs] for kind in CPU_KINDS}
        ops[op] = {"sync_us": spread(us["sync"]), "async_us": spread(us["async"]),
                   "raw_botocore_us": spread(us["raw_botocore"]), "raw_aiobotocore_us": spread(us["raw_aiobotocore"]),
                   "ratio": _ratio(median(us["async"]), median(us["sync"])),
                   "ratio_per_round": [_ratio(a, b) for a, b in zip(us["async"], us["sync"], strict=True)],
                   # aiobotocore over botocore on the same requests: the floor of the ratio above
                   "raw_ratio": _ratio(median(us["raw_aiobotocore"]), median(us["raw_botocore"])),
                   "raw_ratio_per_round": [_ratio(a, b) for a, b in zip(us["raw_aiobotocore"], us["raw_botocore"],
                                                                         strict=True)],
                   # the library's own CPU per call on each side (the store minus its client's share)
                   "ours_sync_us": median(us["sync"]) - median(us["raw_botocore"]),
                   "ours_async_us": median(us["async"]) - median(us["raw_aiobotocore"])}
    return {"calls": len(thread_ids), "rounds": rounds, "block": CPU_BLOCK, "ops": ops,
            "requests": runs[0]["requests"],
            "requests_equal": all(run["requests"]["sync"] == run["requests"]["async"] for run in runs)}


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


# ------------------------------------------------------------------ the bridge alone
BRIDGE_ITEM = {"Item": {"pk": {"S": "T#bridge"}, "sk": {"S": "T"}, "_et": {"S": "thread"}, "_sv": {"N": "2"},
                        "id": {"S": "bridge"}, "resourceId": {"S": RESOURCE}, "title": {"S": "bridge"},
                        "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
                        "updatedAt": {"S": "2026-01-01T00:00:00.000Z"}}}


def _bridge(calls: int, rounds: int) -> dict[str, Any]:
    """CPU per ``get_thread_by_id`` with no client work at all: the sync store on a stub client that answers at
    once, and the async store on a stub whose operations are coroutines answering at once (no I/O, so the
    event loop never waits). The difference is what the async path itself adds per call (the greenlet, the
    coroutine layers, the adapter), measured without the noise of the requests."""
    import botocore.session

    from mastra_dynamo import DynamoDBStore
    from mastra_dynamo.aio import AsyncDynamoDBStore

    real = botocore.session.get_session().create_client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")

    class Stub:
        meta, exceptions = real.meta, real.exceptions

        def get_item(self, **_: Any) -> dict[str, Any]:
            return BRIDGE_ITEM

        def transact_write_items(self, **_: Any) -> dict[str, Any]:
            return {}

    class AsyncStub:
        meta, exceptions = real.meta, real.exceptions

        async def get_item(self, **_: Any) -> dict[str, Any]:
            return BRIDGE_ITEM

        async def transact_write_items(self, **_: Any) -> dict[str, Any]:
            return {}

    memory = DynamoDBStore(id="bench-bridge", table_name="bench-bridge", client=Stub()).get_store("memory")

    async def measure() -> dict[str, list[float]]:
        amemory = AsyncDynamoDBStore(id="bench-bridge", table_name="bench-bridge",
                                     client=AsyncStub()).get_store("memory")
        await amemory.get_thread_by_id(thread_id="bridge")
        out: dict[str, list[float]] = {"sync": [], "async": []}
        for _ in range(rounds):
            out["sync"].append(await _timed([functools.partial(memory.get_thread_by_id, thread_id="bridge")] * calls,
                                            awaited=False) / calls * 1e6)
            out["async"].append(await _timed([functools.partial(amemory.get_thread_by_id, thread_id="bridge")] * calls,
                                             awaited=True) / calls * 1e6)
        return out

    us = asyncio.run(measure())
    return {"calls": calls, "rounds": rounds, "sync_us": spread(us["sync"]), "async_us": spread(us["async"]),
            "added_us": median(us["async"]) - median(us["sync"])}


# ------------------------------------------------------------------ request counts on one sequence
def _sequence_calls(prefix: str) -> list[tuple[str, dict[str, Any]]]:
    """A memory sequence on fresh ids: thread, reads, saves, a listing with total, working memory, deletes."""
    thread_id = f"{prefix}-thread"
    first, second = _messages(thread_id, f"{prefix}-a"), _messages(thread_id, f"{prefix}-b")
    return [
        ("save_thread", {"thread": {"id": thread_id, "resourceId": f"{prefix}-user", "title": "sequence"}}),
        ("get_thread_by_id", {"thread_id": thread_id}),
        ("save_messages", {"messages": [{**m, "resourceId": f"{prefix}-user"} for m in first]}),
        ("save_messages", {"messages": [{**m, "resourceId": f"{prefix}-user"} for m in second]}),
        ("list_messages", {"thread_id": thread_id, "per_page": 20,
                           "order_by": {"field": "createdAt", "direction": "DESC"}}),
        ("update_thread", {"id": thread_id, "title": "renamed"}),
        ("update_resource", {"resource_id": f"{prefix}-user", "working_memory": "# notes"}),
        ("list_threads", {"filter": {"resourceId": f"{prefix}-user"}}),
        ("delete_messages", {"message_ids": [first[0]["id"]]}),
        ("delete_thread", {"thread_id": thread_id}),
    ]


def _sequence(endpoint: str, table: str, pool: int | None) -> dict[str, Any]:
    sync_store = _sync_store(endpoint, table, pool)
    try:
        memory = sync_store.get_store("memory")
        for name, kwargs in _sequence_calls(f"seq-sync-{uuid.uuid4().hex[:6]}"):
            getattr(memory, name)(**kwargs)
        sync_counts = sync_store.request_counts()
    finally:
        sync_store.close()

    async def run_async() -> dict[str, int]:
        async with _async_store(endpoint, table, pool) as store:
            amemory = store.get_store("memory")
            for name, kwargs in _sequence_calls(f"seq-async-{uuid.uuid4().hex[:6]}"):
                await getattr(amemory, name)(**kwargs)
            counts: dict[str, int] = store.request_counts()
            return counts

    async_counts = asyncio.run(run_async())
    return {"calls": [name for name, _ in _sequence_calls("x")], "sync": sync_counts, "async": async_counts,
            "equal": sync_counts == async_counts}


def run(endpoint: str, *, calls: int = 200, rounds: int = 3, cpu_calls: int = 200, cpu_rounds: int = 3,
        max_pool_connections: int | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure the async API (see the module docstring). ``max_pool_connections``: the HTTP pool of both
    stores (None: each store's default)."""
    credentials()
    table = f"bench-async-{uuid.uuid4().hex[:8]}"
    create_our_table(endpoint, table)
    thread_ids = _thread_ids("async", max(calls, cpu_calls))
    seeder = _sync_store(endpoint, table, None)
    log(f"  async: seeding {len(thread_ids)} threads")
    try:
        _seed(seeder, thread_ids)
    finally:
        seeder.close()
    concurrency = _concurrency(endpoint, table, thread_ids[:calls], rounds, max_pool_connections, log)
    cpu = _cpu(endpoint, table, thread_ids[:cpu_calls], cpu_rounds, max_pool_connections, log)
    log("  async: the bridge alone (stub clients)")
    bridge = _bridge(max(cpu_calls * 25, 100), max(cpu_rounds, 3) * 2 + 1)
    sequence = _sequence(endpoint, table, max_pool_connections)
    return {
        "calls": calls, "rounds": rounds, "threads": "distinct: each call reads or writes its own thread",
        "max_pool_connections": max_pool_connections, "pool": concurrency.pop("pool"),
        # the default executor's size (concurrent.futures.ThreadPoolExecutor: min(32, CPUs + 4))
        "executor_workers": min(32, (os.cpu_count() or 1) + 4), "cpus": os.cpu_count(),
        **concurrency,
        "cpu": cpu,
        "bridge": bridge,
        "sequence": sequence,
        "request_counts_equal": bool(sequence["equal"] and cpu["requests_equal"] and concurrency["requests_equal"]),
    }
