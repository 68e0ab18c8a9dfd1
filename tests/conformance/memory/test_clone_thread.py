"""Spec 3.1 cloneThread: new thread + copied messages, clone metadata, limits and filters, errors."""

from __future__ import annotations

from typing import Any

import pytest

from mastra_dynamo.clock import parse_datetime
from mastra_dynamo.domains import MemoryStorage
from mastra_dynamo.errors import ConflictError, NotFoundError
from mastra_dynamo.records.memory import CloneThreadResult

from .data import all_messages, as_messages, at, ids, save_thread, seed_messages, texts

SOURCE = "clone-source"


@pytest.fixture
def source(memory: MemoryStorage) -> list[dict[str, Any]]:
    """Thread ``clone-source`` titled "Original" with Message 1..5 at t+1s..t+5s."""
    save_thread(memory, id=SOURCE, title="Original", resource_id="clone-res", metadata={"topic": "cats"})
    return seed_messages(memory, SOURCE, 5, start=at(seconds=1), resource_id="clone-res")


def _clone_meta(result: CloneThreadResult) -> dict[str, Any]:
    assert result.thread.metadata is not None
    clone = result.thread.metadata["clone"]
    assert isinstance(clone, dict)
    return clone


def test_clone_copies_thread_and_messages(memory: MemoryStorage, source: list[dict[str, Any]]) -> None:
    result = memory.clone_thread(source_thread_id=SOURCE)
    thread = result.thread
    assert thread.id != SOURCE
    assert (thread.title, thread.resource_id) == ("Clone of Original", "clone-res")
    assert memory.get_thread_by_id(thread_id=thread.id) == thread

    cloned = all_messages(memory, thread.id)
    assert texts(cloned) == [f"Message {i}" for i in range(1, 6)]
    assert [m.created_at for m in cloned] == [m["created_at"] for m in source]
    assert [(m.role, m.type, m.content) for m in cloned] == [(s["role"], s["type"], s["content"]) for s in source]
    assert all(m.thread_id == thread.id and m.resource_id == "clone-res" for m in cloned)
    assert not set(ids(cloned)) & set(ids(source))
    assert len(set(ids(cloned))) == 5
    assert ids(result.cloned_messages) == ids(cloned)
    assert result.cloned_messages == cloned


def test_message_id_map(memory: MemoryStorage, source: list[dict[str, Any]]) -> None:
    result = memory.clone_thread(source_thread_id=SOURCE)
    assert set(result.message_id_map) == set(ids(source))
    assert sorted(result.message_id_map.values()) == sorted(ids(result.cloned_messages))
    by_id = {m.id: m for m in result.cloned_messages}
    for src in source:
        assert by_id[result.message_id_map[src["id"]]].content == src["content"]


def test_clone_metadata(memory: MemoryStorage, source: list[dict[str, Any]]) -> None:
    result = memory.clone_thread(source_thread_id=SOURCE, metadata={"note": "copy"})
    assert result.thread.metadata is not None and result.thread.metadata["note"] == "copy"
    clone = _clone_meta(result)
    assert clone["sourceThreadId"] == SOURCE
    # lastMessageId is the id of the last *source* message copied (Mastra's reference implementation)
    assert clone["lastMessageId"] == source[-1]["id"]
    cloned_at = parse_datetime(clone["clonedAt"])
    assert cloned_at.tzinfo is not None and cloned_at > source[-1]["created_at"]
    stored = memory.get_thread_by_id(thread_id=result.thread.id)
    assert stored is not None and stored.metadata == result.thread.metadata


def test_clone_leaves_source_untouched(memory: MemoryStorage, source: list[dict[str, Any]]) -> None:
    before = memory.get_thread_by_id(thread_id=SOURCE)
    memory.clone_thread(source_thread_id=SOURCE)
    assert all_messages(memory, SOURCE) == as_messages(source)
    after = memory.get_thread_by_id(thread_id=SOURCE)
    assert after is not None and before is not None
    assert (after.title, after.metadata, after.created_at) == (before.title, before.metadata, before.created_at)


def test_clone_with_explicit_id_title_and_resource(memory: MemoryStorage, source: list[dict[str, Any]]) -> None:
    result = memory.clone_thread(source_thread_id=SOURCE, new_thread_id="my-clone", title="Custom",
                                 resource_id="other-res")
    assert (result.thread.id, result.thread.title, result.thread.resource_id) == ("my-clone", "Custom", "other-res")
    assert all(m.resource_id == "other-res" and m.thread_id == "my-clone" for m in all_messages(memory, "my-clone"))
    listed = memory.list_threads(filter={"resource_id": "other-res"}).threads
    assert [t.id for t in listed] == ["my-clone"]


def test_message_limit_keeps_most_recent(memory: MemoryStorage, source: list[dict[str, Any]]) -> None:
    result = memory.clone_thread(source_thread_id=SOURCE, options={"message_limit": 2})
    assert texts(all_messages(memory, result.thread.id)) == ["Message 4", "Message 5"]
    assert set(result.message_id_map) == {source[3]["id"], source[4]["id"]}
    assert _clone_meta(result)["lastMessageId"] == source[4]["id"]


def test_message_limit_larger_than_thread(memory: MemoryStorage, source: list[dict[str, Any]]) -> None:
    result = memory.clone_thread(source_thread_id=SOURCE, options={"messageLimit": 50})
    assert len(all_messages(memory, result.thread.id)) == 5


def test_filter_by_date_range(memory: MemoryStorage, source: list[dict[str, Any]]) -> None:
    result = memory.clone_thread(source_thread_id=SOURCE, options={
        "message_filter": {"start_date": source[1]["created_at"], "end_date": source[3]["created_at"]}})
    assert texts(all_messages(memory, result.thread.id)) == ["Message 2", "Message 3", "Message 4"]
    assert _clone_meta(result)["lastMessageId"] == source[3]["id"]


def test_filter_by_message_ids(memory: MemoryStorage, source: list[dict[str, Any]]) -> None:
    wanted = [source[4]["id"], source[0]["id"], "not-in-thread"]
    result = memory.clone_thread(source_thread_id=SOURCE, options={"message_filter": {"message_ids": wanted}})
    assert texts(all_messages(memory, result.thread.id)) == ["Message 1", "Message 5"]


def test_filters_combine_with_limit(memory: MemoryStorage, source: list[dict[str, Any]]) -> None:
    result = memory.clone_thread(source_thread_id=SOURCE, options={
        "message_limit": 1, "message_filter": {"end_date": source[2]["created_at"]}})
    assert texts(all_messages(memory, result.thread.id)) == ["Message 3"]


def test_clone_of_empty_thread(memory: MemoryStorage) -> None:
    save_thread(memory, id="empty-source", title="Empty")
    result = memory.clone_thread(source_thread_id="empty-source")
    assert result.cloned_messages == [] and result.message_id_map == {}
    assert all_messages(memory, result.thread.id) == []
    clone = _clone_meta(result)
    assert clone["sourceThreadId"] == "empty-source"
    assert "lastMessageId" not in clone


def test_clone_of_untitled_thread_has_no_made_up_title(memory: MemoryStorage) -> None:
    save_thread(memory, id="untitled", title=None)
    result = memory.clone_thread(source_thread_id="untitled")
    assert result.thread.title is None


def test_clone_of_a_clone(memory: MemoryStorage, source: list[dict[str, Any]]) -> None:
    first = memory.clone_thread(source_thread_id=SOURCE)
    second = memory.clone_thread(source_thread_id=first.thread.id)
    assert second.thread.title == "Clone of Clone of Original"
    assert _clone_meta(second)["sourceThreadId"] == first.thread.id
    assert texts(all_messages(memory, second.thread.id)) == texts(all_messages(memory, SOURCE))


def test_missing_source_raises_not_found(memory: MemoryStorage) -> None:
    with pytest.raises(NotFoundError) as info:
        memory.clone_thread(source_thread_id="no-such-thread", new_thread_id="orphan")
    assert info.value.code
    assert memory.get_thread_by_id(thread_id="orphan") is None


def test_existing_target_raises_conflict(memory: MemoryStorage, source: list[dict[str, Any]]) -> None:
    existing = save_thread(memory, id="taken", title="Already here", metadata={"mine": True})
    seed_messages(memory, "taken", 1, label="own")
    with pytest.raises(ConflictError) as info:
        memory.clone_thread(source_thread_id=SOURCE, new_thread_id="taken")
    assert info.value.code
    after = memory.get_thread_by_id(thread_id="taken")
    assert after is not None and (after.title, after.metadata) == (existing.title, existing.metadata)
    assert texts(all_messages(memory, "taken")) == ["own 1"]


def test_an_interrupted_large_clone_completes_when_run_again(store: Any, memory: MemoryStorage) -> None:
    """A clone of more messages than one transaction holds, cut after its first transaction: the clone does
    not exist yet for thread reads, and the same call run again copies the rest, each message once."""
    save_thread(memory, id="big-source", title="Big", resource_id="clone-res")
    seed_messages(memory, "big-source", 120, start=at(seconds=1), resource_id="clone-res")
    real = store.table.transact_write
    calls = 0

    def cut_after_first(actions: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise ConnectionError("cut")
        real(actions, **kwargs)

    store.table.transact_write = cut_after_first
    with pytest.raises(ConnectionError):
        memory.clone_thread(source_thread_id="big-source", new_thread_id="big-clone")
    store.table.transact_write = real
    assert memory.get_thread_by_id(thread_id="big-clone") is None
    result = memory.clone_thread(source_thread_id="big-source", new_thread_id="big-clone")
    copied = all_messages(memory, "big-clone")
    assert len(copied) == 120 and len({m.id for m in copied}) == 120
    assert [m.id for m in copied] == [m.id for m in result.cloned_messages]
    assert texts(copied) == texts(all_messages(memory, "big-source"))
    assert _clone_meta(result)["lastMessageId"] == all_messages(memory, "big-source")[-1].id
    page = memory.list_messages(thread_id="big-clone", per_page=10, order_by={"field": "createdAt",
                                                                              "direction": "DESC"})
    assert page.total == 120
    with pytest.raises(ConflictError):
        memory.clone_thread(source_thread_id="big-source", new_thread_id="big-clone")
