"""The mixed-operation fault campaign (see campaign.py): >= 10,000 operations on DynamoDB Local (six
concurrent workers), a smaller single-worker run on moto (its in-process backend is not thread-safe).
``make soak`` multiplies both. ``MASTRA_DYNAMO_RELIABILITY_REPORT=<file>`` appends the figures as JSON."""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import Backend

from .campaign import Stats, Worker, structural_check
from .conftest import SOAK, SOAK_FACTOR, Faulty, scaled, scan_all

DDB_LOCAL_OPERATIONS = 10_002
DDB_LOCAL_WORKERS = 6
MOTO_OPERATIONS = 400
FAULT_RATE = 0.08
REPORT_ENV = "MASTRA_DYNAMO_RELIABILITY_REPORT"


def _plan(backend: Backend) -> tuple[int, int]:
    if backend.supports("concurrent_clients"):
        return DDB_LOCAL_WORKERS, scaled(DDB_LOCAL_OPERATIONS) // DDB_LOCAL_WORKERS
    # moto copies its whole table on every transaction: its cost grows with the square of the run's length
    return 1, MOTO_OPERATIONS * min(SOAK_FACTOR, 3)


def test_mixed_operations_under_faults_lose_and_duplicate_nothing(faulty: Faulty) -> None:
    workers_count, per_worker = _plan(faulty.backend)
    injector = faulty.injector
    injector.rate = FAULT_RATE
    started = time.monotonic()
    seed = int(os.environ.get("MASTRA_DYNAMO_FAULT_SEED") or (random.randrange(10**6) if SOAK else 7))
    workers = [Worker(w, faulty.store, faulty.verifier, injector, ops=per_worker, seed=seed)
               for w in range(workers_count)]
    if workers_count == 1:
        workers[0].run()
    else:
        with ThreadPoolExecutor(max_workers=workers_count) as pool:
            for future in [pool.submit(w.run) for w in workers]:
                future.result()
    injector.rate = 0.0
    elapsed = time.monotonic() - started

    for worker in workers:
        worker.verify()
    structure = structural_check(scan_all(faulty.verifier))

    stats = Stats()
    for worker in workers:
        stats.merge(worker.stats)
    requests = Counter(faulty.store.request_counts())
    for admin in ("DescribeTable", "DescribeTimeToLive"):
        requests.pop(admin, None)
    attempts = sum(n for op, n in injector.attempts.items() if op not in ("DescribeTable", "DescribeTimeToLive"))
    operations = sum(stats.ops.values())
    report = {
        "backend": faulty.backend.name, "seed": seed, "workers": workers_count, "operations": operations,
        "reads": stats.reads, "writes": stats.writes, "seconds": round(elapsed, 1),
        "api_requests": sum(requests.values()), "http_attempts": attempts,
        "botocore_retries": attempts - sum(requests.values()),
        "faults_injected": dict(sorted(injector.injected.items())), "faults_total": injector.total_injected,
        "typed_errors_surfaced": sum(stats.typed_errors.values()),
        "typed_errors": dict(sorted(stats.typed_errors.items())),
        "calls_retried_by_client": stats.retried_calls, "ambiguous_first_attempts": stats.ambiguous,
        "table": structure,
    }
    print("\nfault campaign:", json.dumps(report, sort_keys=True))
    if os.environ.get(REPORT_ENV):
        with open(os.environ[REPORT_ENV], "a", encoding="utf-8") as out:
            out.write(json.dumps(report, sort_keys=True) + "\n")
    assert operations >= workers_count * per_worker
    if faulty.backend.supports("concurrent_clients"):
        assert operations >= 10_000
    assert injector.total_injected > 0.03 * attempts
    assert stats.retried_calls > 0, "no outage surfaced a typed error"
    assert structure["orphan_chunks"] == 0 or structure["chunks"] > 0
