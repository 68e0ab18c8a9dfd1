"""Part 3: client CPU per request, mastra-dynamo vs the raw botocore client issuing the same requests.

1. Record: each operation runs once against a real endpoint; a botocore hook records every request's API
   parameters and the raw HTTP response (status, headers, body).
2. Replay: a ``before-send`` hook answers each request with its recorded HTTP response, so nothing leaves the
   process, but botocore still validates and serializes the request, signs it, checks the CRC32 and parses
   the response. Measured with ``time.process_time``:
   - *store*: the mastra-dynamo method (validation, key/expression building, item mapping, pydantic records)
     plus botocore;
   - *raw*: a botocore client as anyone creates it (``Session().create_client("dynamodb", ...)``, with the
     store's client options, parameter validation off as in ours) issuing the recorded requests
     (``client.get_item(**params)``, ...): what a botocore/boto3 user pays for the same requests. The store's
     own client differs from it only by :mod:`mastra_dynamo.dynamo.wire` (attribute values serialized and
     parsed by their type tag), so the difference is all of the library's doing.
   The difference is the library's own CPU. A cProfile pass splits the store path by package.
"""

from __future__ import annotations

import collections
import copy
import cProfile
import pstats
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.common import create_our_table, credentials, median, spread

Recorded = tuple[str, dict[str, Any], int, dict[str, str], bytes]


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


class Recorder:
    """Records (operation, api params, status, headers, body) of every request of one client."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.log: list[Recorded] = []
        self._params: dict[str, Any] | None = None
        self.replay: collections.deque[Recorded] = collections.deque()
        events = client.meta.events
        events.register("provide-client-params.dynamodb.*", self._on_params, unique_id="bench-rec-params")
        events.register("after-call.dynamodb.*", self._on_response, unique_id="bench-rec-response")

    def _on_params(self, params: dict[str, Any], **_: Any) -> None:
        self._params = copy.deepcopy(params)

    def _on_response(self, http_response: Any, model: Any, **_: Any) -> None:
        self.log.append((model.name, self._params or {}, http_response.status_code, dict(http_response.headers),
                         http_response.content))

    def stop_recording(self) -> None:
        events = self.client.meta.events
        events.unregister("provide-client-params.dynamodb.*", unique_id="bench-rec-params")
        events.unregister("after-call.dynamodb.*", unique_id="bench-rec-response")

    def start_replay(self, client: Any) -> None:
        """Answer every request ``client`` sends with the next recorded response."""
        from botocore.awsrequest import AWSResponse

        def send(request: Any, **_: Any) -> Any:
            recorded = self.replay.popleft()
            return AWSResponse(request.url, recorded[2], recorded[3], _Raw(recorded[4]))

        client.meta.events.register("before-send.dynamodb", send, unique_id="bench-replay")


def _operations(store: Any, thread_id: str) -> dict[str, Callable[[], Any]]:
    memory, workflows, scores = store.get_store("memory"), store.get_store("workflows"), store.get_store("scores")
    text = "a typical assistant answer " * 20
    snapshot = {"runId": "run-cpu", "status": "running", "value": {}, "activePaths": [3],
                "context": {f"step{i}": {"status": "success", "output": {"text": text[:200]}} for i in range(5)},
                "serializedStepGraph": [{"type": "step", "step": {"id": f"step{i}"}} for i in range(10)],
                "suspendedPaths": {}, "timestamp": 1767600000000}
    score = {"scorerId": "scorer-cpu", "entityId": "agent-cpu", "entityType": "AGENT", "runId": "run-cpu",
             "score": 0.5, "source": "LIVE", "scorer": {"id": "scorer-cpu"}, "entity": {"id": "agent-cpu"},
             "input": {"q": "question"}, "output": {"text": text[:300]}, "reason": "fine"}
    new_messages = [
        {"id": f"cpu-new-{i}", "threadId": thread_id, "resourceId": "user-cpu", "role": role,
         "content": {"format": 2, "parts": [{"type": "text", "text": text}], "content": text}}
        for i, role in enumerate(("user", "assistant"))]
    return {
        "get_thread_by_id": lambda: memory.get_thread_by_id(thread_id=thread_id),
        "list_messages (last 20 of 30, total)": lambda: memory.list_messages(
            thread_id=thread_id, per_page=20, order_by={"field": "createdAt", "direction": "DESC"}),
        "save_messages (2 new)": lambda: memory.save_messages(messages=new_messages),
        "update_resource (working memory)": lambda: memory.update_resource(resource_id="user-cpu",
                                                                           working_memory="# notes\n- likes tea"),
        "persist_workflow_snapshot": lambda: workflows.persist_workflow_snapshot(
            workflow_name="wf-cpu", run_id="run-cpu", snapshot=snapshot),
        "load_workflow_snapshot": lambda: workflows.load_workflow_snapshot(workflow_name="wf-cpu", run_id="run-cpu"),
        "save_score": lambda: scores.save_score(score={**score, "id": "score-cpu"}),
        "list_scores_by_run_id (10)": lambda: scores.list_scores_by_run_id(run_id="run-cpu"),
    }


def _seed(store: Any, thread_id: str) -> None:
    memory, workflows, scores = store.get_store("memory"), store.get_store("workflows"), store.get_store("scores")
    memory.save_thread(thread={"id": thread_id, "resourceId": "user-cpu", "title": "cpu"})
    text = "an earlier message of the conversation " * 8
    memory.save_messages(messages=[
        {"id": f"cpu-old-{i:02d}", "threadId": thread_id, "resourceId": "user-cpu",
         "role": "user" if i % 2 == 0 else "assistant",
         "createdAt": f"2026-01-01T00:00:{i:02d}.000Z", "content": text} for i in range(30)])
    memory.list_messages(thread_id=thread_id, per_page=20,  # a total stores the thread's message counters
                         order_by={"field": "createdAt", "direction": "DESC"})
    memory.update_resource(resource_id="user-cpu", working_memory="# notes")
    workflows.persist_workflow_snapshot(workflow_name="wf-cpu", run_id="run-cpu", snapshot={"status": "running"})
    for i in range(10):
        scores.save_score(score={"id": f"score-old-{i}", "scorerId": "scorer-cpu", "entityId": "agent-cpu",
                                 "runId": "run-cpu", "score": 0.1 * i, "source": "LIVE", "scorer": {"id": "s"},
                                 "entity": {"id": "agent-cpu"}, "output": {"text": text}})


def _bucket(filename: str, name: str) -> str:
    if filename == "~":  # a function implemented in C: classify by its qualified name
        for marker, bucket in (("pydantic_core", "pydantic"), ("_json", "json"), ("hmac", "botocore"),
                               ("_hashlib", "botocore"), ("sha256", "botocore")):
            if marker in name:
                return bucket
        return "stdlib/other"
    for marker, bucket in (("/mastra_dynamo/", "mastra_dynamo"), ("/pydantic_core/", "pydantic"),
                           ("/pydantic/", "pydantic"), ("/botocore/", "botocore"), ("/urllib3/", "botocore"),
                           ("/json/", "json"), ("/bench/", "bench harness")):
        if marker in filename:
            return bucket
    return "stdlib/other"


def _profile(fn: Callable[[], None], iterations: int) -> dict[str, Any]:
    """Share of CPU (own time) per package, and the library's own hottest functions, for ``iterations`` calls."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(iterations):
        fn()
    profiler.disable()
    stats = pstats.Stats(profiler)
    buckets: dict[str, float] = collections.defaultdict(float)
    library: list[tuple[float, str]] = []
    raw_stats: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, line, name), (_, _, tottime, _, _) in raw_stats.items():
        bucket = _bucket(filename, name)
        buckets[bucket] += tottime
        if bucket in ("mastra_dynamo", "pydantic"):
            where = filename.split("/mastra_dynamo/")[-1] if "/mastra_dynamo/" in filename else "pydantic"
            library.append((tottime, f"{where}:{line}({name})" if where != "pydantic" else name))
    total = sum(buckets.values()) or 1.0
    top = sorted(library, reverse=True)[:5]
    return {"share": {k: round(100 * v / total, 1) for k, v in sorted(buckets.items(), key=lambda kv: -kv[1])},
            "top_library": [(name, round(100 * t / total, 1)) for t, name in top]}


def _measure(variants: dict[str, Callable[[], None]], rounds: int, round_seconds: float) -> dict[str, list[float]]:
    """CPU seconds per call of each variant, one value per round. In every round each variant runs one block
    of about ``round_seconds`` (after a warm-up and a calibration), in an order rotated from round to round:
    a change of machine load hits every variant alike, so the per-round ratios stay comparable."""
    iterations: dict[str, int] = {}
    for name, fn in variants.items():
        for _ in range(30 if round_seconds >= 0.1 else 2):
            fn()
        n, started = 0, time.process_time()
        while time.process_time() - started < min(0.05, round_seconds):
            fn()
            n += 1
        per_call = (time.process_time() - started) / n
        iterations[name] = max(20, int(round_seconds / max(per_call, 1e-7)))
    out: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            fn, count = variants[name], iterations[name]
            started = time.process_time()
            for _ in range(count):
                fn()
            out[name].append((time.process_time() - started) / count)
    return out


def run(endpoint: str, *, rounds: int = 5, round_seconds: float = 0.4, profile_calls: int = 200,
        log: Any = print) -> dict[str, Any]:
    from mastra_dynamo import DynamoDBStore

    credentials()
    table = f"bench-cpu-{uuid.uuid4().hex[:8]}"
    create_our_table(endpoint, table)
    store = DynamoDBStore(id="bench-cpu", table_name=table, region="us-east-1", endpoint_url=endpoint)
    thread_id = "thread-cpu"
    _seed(store, thread_id)
    client = store.table.raw
    recorder = Recorder(client)
    operations = _operations(store, thread_id)
    recorded: dict[str, list[Recorded]] = {}
    for name, fn in operations.items():
        recorder.log = []
        fn()
        recorded[name] = list(recorder.log)
    recorder.stop_recording()
    recorder.start_replay(client)
    raw_client = _stock_client(endpoint, validation=False)
    recorder.start_replay(raw_client)
    # The same store on a client the user made, with botocore's parameter validation on (botocore's default;
    # the library's own clients turn it off, since it builds every request itself) and botocore's own
    # serializer and parser: what the user's defaults cost.
    checked_client = _stock_client(endpoint, validation=True)
    recorder.start_replay(checked_client)
    checked_store = DynamoDBStore(id="bench-cpu-checked", table_name=table, region="us-east-1",
                                  client=checked_client)
    checked_operations = _operations(checked_store, thread_id)

    results: dict[str, Any] = {}
    for name, fn in operations.items():
        calls = recorded[name]

        def store_call(fn: Callable[[], Any] = fn, calls: list[Recorded] = calls) -> None:
            recorder.replay.extend(calls)
            fn()

        def raw_call(calls: list[Recorded] = calls) -> None:
            recorder.replay.extend(calls)
            for operation, params, _, _, _ in calls:
                getattr(raw_client, _snake(operation))(**params)

        def checked_call(fn: Callable[[], Any] = checked_operations[name], calls: list[Recorded] = calls) -> None:
            recorder.replay.extend(calls)
            fn()

        log(f"  cpu: {name}")
        measured = _measure({"store": store_call, "raw": raw_call, "checked": checked_call}, rounds, round_seconds)
        store_s, raw_s, checked_s = measured["store"], measured["raw"], measured["checked"]
        ratios = [ours / raw for ours, raw in zip(store_s, raw_s, strict=True)]
        per_request_store = [s / len(calls) for s in store_s]
        per_request_raw = [s / len(calls) for s in raw_s]
        results[name] = {
            "requests": len(calls),
            "request_types": [c[0] for c in calls],
            "store_us_per_call": spread([s * 1e6 for s in store_s]),
            "raw_us_per_call": spread([s * 1e6 for s in raw_s]),
            "store_us_per_request": median([s * 1e6 for s in per_request_store]),
            "raw_us_per_request": median([s * 1e6 for s in per_request_raw]),
            "ratio": median(ratios),
            "ratio_per_round": ratios,
            "store_validating_us_per_call": spread([s * 1e6 for s in checked_s]),
            "library_us_per_call": (median(store_s) - median(raw_s)) * 1e6,
            "profile_store": _profile(store_call, profile_calls),
        }
    store.close()
    return {"rounds": rounds, "round_seconds": round_seconds, "ops": results}


def _stock_client(endpoint: str, *, validation: bool) -> Any:
    """A botocore DynamoDB client made as a botocore user makes one, with the store's client options."""
    import botocore.session
    from botocore.config import Config

    return botocore.session.Session().create_client(
        "dynamodb", region_name="us-east-1", endpoint_url=endpoint,
        config=Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=5, read_timeout=20,
                      max_pool_connections=32, tcp_keepalive=True, parameter_validation=validation))


def _snake(operation: str) -> str:
    return "".join(("_" + c.lower()) if c.isupper() and i else c.lower() for i, c in enumerate(operation))
