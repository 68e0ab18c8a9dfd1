"""Spec 3.12.5/3.12.6 fenced memory writes: the current fence writes (also when retired), an older one is
refused with RunFenceConflictError and writes nothing; unfenced writes are unchanged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.errors import RunFenceConflictError
from tests.conftest import table_item_count


def fence(generation: int, owner: str) -> dict[str, object]:
    return {"runId": "agent-run", "generation": generation, "ownerId": owner}


A, B = fence(10, "a"), fence(11, "b")


@pytest.fixture
def memory(clocked_store: DynamoDBStore) -> Any:
    memory = clocked_store.get_store("memory")
    memory.save_thread(thread={"id": "t", "resourceId": "r", "title": "A's title"})
    memory.save_resource(resource={"id": "r", "workingMemory": "A's memory"})
    memory.save_messages(messages=[{"id": "m1", "threadId": "t", "resourceId": "r", "role": "user",
                                    "content": "A's text"}])
    return memory


def test_a_retired_current_fence_still_writes(memory: Any) -> None:
    assert memory.raise_run_fence(A) and memory.retire_run_fence(A)
    memory.update_thread(id="t", title="A again", metadata={}, fence=A)
    memory.save_messages(messages=[{"id": "m2", "threadId": "t", "resourceId": "r", "role": "assistant",
                                    "content": "from A"}], fence=A)
    assert memory.get_thread_by_id(thread_id="t").title == "A again"
    assert memory.raise_run_fence(B)
    with pytest.raises(RunFenceConflictError):
        memory.update_thread(id="t", title="stale", metadata={}, fence=A)


def test_writes_of_an_older_fence_are_refused_and_write_nothing(clocked_store: DynamoDBStore, memory: Any) -> None:
    memory.raise_run_fence(A)
    memory.raise_run_fence(B)
    items = table_item_count(clocked_store)
    stale: list[tuple[str, Callable[[], object]]] = [
        ("save_thread", lambda: memory.save_thread(thread={"id": "t", "resourceId": "r", "title": "stale"}, fence=A)),
        ("update_thread", lambda: memory.update_thread(id="t", title="stale", metadata={"x": 1}, fence=A)),
        ("save_messages new", lambda: memory.save_messages(messages=[{
            "id": "m9", "threadId": "t", "resourceId": "r", "role": "user", "content": "stale"}], fence=A)),
        ("save_messages existing", lambda: memory.save_messages(messages=[{
            "id": "m1", "threadId": "t", "resourceId": "r", "role": "user", "content": "stale"}], fence=A)),
        ("update_messages", lambda: memory.update_messages(messages=[{"id": "m1", "content": {"content": "stale"}}],
                                                           fence=A)),
        ("delete_messages", lambda: memory.delete_messages(["m1"], fence=A)),
        ("delete unknown", lambda: memory.delete_messages(["nope"], fence=A)),
        ("update_resource", lambda: memory.update_resource(resource_id="r", working_memory="stale", fence=A)),
    ]
    for name, call in stale:
        with pytest.raises(RunFenceConflictError) as info:
            call()
        assert info.value.code == "STORAGE_RUN_FENCE_CONFLICT", name
    assert table_item_count(clocked_store) == items
    thread = memory.get_thread_by_id(thread_id="t")
    assert thread.title == "A's title"
    (message,) = memory.list_messages(thread_id="t").messages
    assert message.content["content"] == "A's text"
    assert memory.get_resource_by_id(resource_id="r").working_memory == "A's memory"
    memory.update_messages(messages=[{"id": "m1", "content": {"content": "B's text"}}], fence=B)
    assert memory.list_messages(thread_id="t").messages[0].content["content"] == "B's text"
    memory.delete_messages(["m1"], fence=B)
    assert memory.list_messages(thread_id="t").messages == []


def test_a_never_raised_fence_conflicts_and_unfenced_writes_are_unchanged(memory: Any) -> None:
    with pytest.raises(RunFenceConflictError):
        memory.update_thread(id="t", title="x", metadata={}, fence=fence(1, "nobody"))
    memory.update_thread(id="t", title="free", metadata={})
    assert memory.get_thread_by_id(thread_id="t").title == "free"


def test_observational_memory_content_writes_are_fenced(memory: Any) -> None:
    memory.raise_run_fence(A)
    record = memory.initialize_observational_memory(thread_id="t", resource_id="r", scope="thread", config={})
    now = datetime.now(UTC)
    memory.update_active_observations(id=record.id, observations="A", token_count=1, last_observed_at=now, fence=A)
    memory.raise_run_fence(B)
    chunk = {"cycleId": "c", "observations": "x", "tokenCount": 1, "messageIds": [], "messageTokens": 1,
             "lastObservedAt": now}
    for call in (
        lambda: memory.update_active_observations(id=record.id, observations="stale", token_count=1,
                                                  last_observed_at=now, fence=A),
        lambda: memory.update_buffered_observations(id=record.id, chunk=chunk, fence=A),
        lambda: memory.create_reflection_generation(current_record=record, reflection="r", token_count=1, fence=A),
    ):
        with pytest.raises(RunFenceConflictError):
            call()
    memory.set_observing_flag(record.id, True)  # flags are not fenced
    current = memory.get_observational_memory("t", "r")
    assert current.active_observations == "A" and current.buffered_observation_chunks is None
    assert current.generation_count == 0 and current.is_observing
    memory.update_active_observations(id=record.id, observations="B", token_count=1, last_observed_at=now, fence=B)
    assert memory.get_observational_memory("t", "r").active_observations == "B"


def test_a_large_fenced_save_fits_its_transactions(memory: Any) -> None:
    memory.raise_run_fence(A)
    batch = [{"id": f"big-{i}", "threadId": "t", "resourceId": "r", "role": "user", "content": f"text {i}"}
             for i in range(60)]  # 120 items and the thread: several transactions, each with the check
    memory.save_messages(messages=batch, fence=A)
    assert memory.list_messages(thread_id="t", per_page=False).total == 61
