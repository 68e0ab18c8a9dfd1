"""Concurrent writes to one observational-memory record: all appends kept, flags and appends both land, one
activation per chunk."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.memory.observational import ObservationalMemoryOps
from tests.conftest import Backend, require


def _ops(store: DynamoDBStore) -> ObservationalMemoryOps:
    return ObservationalMemoryOps(table=store.table, ttl=store.ttl, clock=store.clock)


def _chunk(tokens: int) -> dict[str, object]:
    return {"cycleId": str(uuid.uuid4()), "observations": "o", "tokenCount": tokens, "messageIds": ["m"],
            "messageTokens": tokens, "lastObservedAt": datetime.now(UTC)}


def test_concurrent_appends_and_flags_all_land(backend: Backend, store: DynamoDBStore) -> None:
    require(backend, "concurrent_clients")
    om = _ops(store)
    record = om.initialize_observational_memory(resource_id="r", scope="resource", config={})
    barrier = threading.Barrier(9)

    def append(_: int) -> None:
        writer = _ops(store)
        barrier.wait()
        writer.update_buffered_observations(id=record.id, chunk=_chunk(10))

    def flag() -> None:
        writer = _ops(store)
        barrier.wait()
        writer.set_buffering_observation_flag(record.id, True, 123)

    with ThreadPoolExecutor(9) as pool:
        futures = [pool.submit(append, i) for i in range(8)] + [pool.submit(flag)]
        for future in futures:
            future.result()
    got = om.get_observational_memory(None, "r")
    assert got is not None and len(got.buffered_observation_chunks or []) == 8
    assert got.is_buffering_observation and got.last_buffered_at_tokens == 123


def test_racing_swaps_activate_each_chunk_once(backend: Backend, store: DynamoDBStore) -> None:
    require(backend, "concurrent_clients")
    om = _ops(store)
    record = om.initialize_observational_memory(resource_id="r2", scope="resource", config={})
    chunks = [_chunk(100) for _ in range(6)]
    for c in chunks:
        om.update_buffered_observations(id=record.id, chunk=c)
    barrier = threading.Barrier(4)

    def swap(_: int) -> list[str]:
        writer = _ops(store)
        barrier.wait()
        return writer.swap_buffered_to_active(id=record.id, activation_ratio=1, message_tokens_threshold=1000,
                                              current_pending_tokens=600, force_max_activation=True
                                              ).activated_cycle_ids

    with ThreadPoolExecutor(4) as pool:
        activated = [cid for ids in pool.map(swap, range(4)) for cid in ids]
    assert sorted(activated) == sorted(str(c["cycleId"]) for c in chunks)  # each exactly once
    got = om.get_observational_memory(None, "r2")
    assert got is not None and got.buffered_observation_chunks is None
