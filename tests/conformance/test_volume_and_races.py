"""Volume (pages beyond 1 MB, large items) and concurrent writers on one thread."""

from __future__ import annotations

import base64
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from mastra_dynamo import DynamoDBStore, ItemTooLargeError
from mastra_dynamo.stores.memory import DynamoMemoryStore
from tests.conftest import Backend, require

BASE = datetime(2026, 3, 1, tzinfo=UTC)


def _messages(thread_id: str, count: int, size: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {"id": f"{thread_id}-{i:05d}", "threadId": thread_id, "resourceId": "r", "role": "user",
         "createdAt": BASE + timedelta(seconds=i), "content": f"{i:05d}:" + os.urandom(size // 2).hex()}
        for i in range(start, start + count)
    ]


def test_thread_larger_than_one_megabyte_is_read_completely(memory: DynamoMemoryStore) -> None:
    memory.save_thread(thread={"id": "big", "resourceId": "r"})
    memory.save_messages(messages=_messages("big", 320, 6000))  # ~2 MB: several 1 MB Query pages
    everything = memory.list_messages(thread_id="big", per_page=False)
    assert len(everything.messages) == everything.total == 320
    assert [m.id for m in everything.messages] == [f"big-{i:05d}" for i in range(320)]
    newest = memory.list_messages(thread_id="big", per_page=20, order_by={"direction": "DESC"})
    assert newest.total == 320 and newest.has_more
    assert [m.id for m in newest.messages] == [f"big-{i:05d}" for i in range(319, 299, -1)]
    last_page = memory.list_messages(thread_id="big", per_page=50, page=6)
    assert [m.id for m in last_page.messages] == [f"big-{i:05d}" for i in range(300, 320)]
    assert not last_page.has_more
    window = memory.list_messages(thread_id="big", per_page=0,
                                  include=[{"id": "big-00200", "withPreviousMessages": 150, "withNextMessages": 119}])
    assert len(window.messages) == 270 and window.messages[0].id == "big-00050"


def test_compressible_large_message_round_trips(memory: DynamoMemoryStore) -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 20_000  # ~900 KB of text
    memory.save_messages(messages=[{"id": "huge", "threadId": "t", "role": "assistant", "content": text}])
    (message,) = memory.list_messages_by_id(message_ids=["huge"]).messages
    assert message.content["content"] == text


def test_incompressible_oversized_message_is_rejected_and_nothing_is_written(
    store: DynamoDBStore, memory: DynamoMemoryStore
) -> None:
    ok = _messages("t", 1, 100)
    # random bytes in base64: stored once and compressed, it still exceeds the message limit (~16 MB compressed)
    too_big = {"id": "too-big", "threadId": "t", "role": "user",
               "content": base64.b64encode(os.urandom(17_500_000)).decode()}
    with pytest.raises(ItemTooLargeError) as info:
        memory.save_messages(messages=[*ok, too_big])
    assert info.value.details["id"] == "too-big"
    assert memory.list_messages(thread_id="t").total == 0
    assert memory.list_messages_by_id(message_ids=["t-00000", "too-big"]).messages == []


def test_concurrent_writers_on_one_thread_lose_nothing(backend: Backend, memory: DynamoMemoryStore) -> None:
    require(backend, "concurrent_clients")
    memory.save_thread(thread={"id": "busy", "resourceId": "r", "createdAt": BASE, "updatedAt": BASE})

    def writer(worker: int) -> None:
        for turn in range(5):
            memory.save_messages(messages=[
                {"id": f"w{worker}-t{turn}-{k}", "threadId": "busy", "resourceId": "r", "role": "user",
                 "createdAt": BASE + timedelta(milliseconds=worker * 100 + turn), "content": "x"}
                for k in range(2)
            ])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(writer, range(8)))
    page = memory.list_messages(thread_id="busy", per_page=False)
    assert page.total == len(page.messages) == 8 * 5 * 2
    thread = memory.get_thread_by_id(thread_id="busy")
    assert thread is not None and thread.updated_at > BASE


def test_concurrent_metadata_updates_keep_every_key(backend: Backend, memory: DynamoMemoryStore) -> None:
    require(backend, "concurrent_clients")
    memory.save_thread(thread={"id": "meta", "resourceId": "r", "metadata": {"base": True}})
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda i: memory.update_thread(id="meta", metadata={f"k{i}": i}), range(12)))
    thread = memory.get_thread_by_id(thread_id="meta")
    assert thread is not None and thread.metadata == {"base": True, **{f"k{i}": i for i in range(12)}}
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda i: memory.update_resource(resource_id="res", metadata={f"k{i}": i}), range(12)))
    resource = memory.get_resource_by_id(resource_id="res")
    assert resource is not None and resource.metadata == {f"k{i}": i for i in range(12)}


def test_a_page_of_history_costs_one_query_plus_one_count(store: DynamoDBStore,
                                                          memory: DynamoMemoryStore) -> None:
    memory.save_messages(messages=_messages("q", 60, 50))
    before = store.request_counts().get("Query", 0)
    page = memory.list_messages(thread_id="q", per_page=20, order_by={"direction": "DESC"})
    assert page.total == 60
    assert store.request_counts()["Query"] - before == 2
