"""Spec 6.1 Threads: CRUD, pagination, edge cases, sorting and filtering of list_threads."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from mastra_dynamo.domains import MemoryStorage
from mastra_dynamo.errors import NotFoundError
from mastra_dynamo.records.memory import Thread

from .data import (
    BASE_TIME,
    RESOURCE,
    all_messages,
    at,
    message_data,
    save_thread,
    seed_messages,
    thread_data,
    thread_updated_at,
)


# ----------------------------------------------------------------------------------------------- CRUD
def test_create_and_retrieve_thread(memory: MemoryStorage) -> None:
    data = thread_data(title="My first thread", metadata={"key1": "value1", "n": 2})
    saved = memory.save_thread(thread=data)
    assert saved == Thread.model_validate(data)
    fetched = memory.get_thread_by_id(thread_id=data["id"])
    assert fetched is not None
    assert fetched.title == "My first thread"
    assert fetched == saved


def test_create_with_given_ids_and_dates(memory: MemoryStorage) -> None:
    created = at(days=-3, us=123456)
    updated = at(days=-1, us=654321)
    data = thread_data(id="1346362547862769664", resource_id="1346362547862769665", title="Numeric ids",
                       created_at=created, updated_at=updated)
    memory.save_thread(thread=data)
    fetched = memory.get_thread_by_id(thread_id="1346362547862769664")
    assert fetched is not None
    assert (fetched.id, fetched.resource_id, fetched.title) == (
        "1346362547862769664", "1346362547862769665", "Numeric ids")
    assert fetched.created_at == created and fetched.created_at.isoformat() == created.isoformat()
    assert fetched.updated_at == updated and fetched.updated_at.isoformat() == updated.isoformat()


def test_missing_thread_returns_none(memory: MemoryStorage) -> None:
    assert memory.get_thread_by_id(thread_id="does-not-exist") is None


def test_resource_id_isolation(memory: MemoryStorage) -> None:
    thread = save_thread(memory, resource_id="owner")
    assert memory.get_thread_by_id(thread_id=thread.id, resource_id="owner") == thread
    assert memory.get_thread_by_id(thread_id=thread.id, resource_id="intruder") is None
    assert memory.get_thread_by_id(thread_id=thread.id) == thread


def test_list_threads_by_resource_id(memory: MemoryStorage) -> None:
    t1 = save_thread(memory, resource_id="res-a", created_at=at(seconds=1))
    t2 = save_thread(memory, resource_id="res-a", created_at=at(seconds=2))
    save_thread(memory, resource_id="res-b")
    page = memory.list_threads(filter={"resource_id": "res-a"}, page=0, per_page=10)
    assert {t.id for t in page.threads} == {t1.id, t2.id}
    assert page.total == 2


def test_update_thread_title_and_metadata(memory: MemoryStorage) -> None:
    thread = save_thread(memory, title="Old", metadata={"keep": "x", "over": 1})
    updated = memory.update_thread(id=thread.id, title="New", metadata={"over": 2, "added": True})
    assert updated.title == "New"
    assert updated.metadata == {"keep": "x", "over": 2, "added": True}
    assert updated.updated_at > thread.updated_at
    assert updated.created_at == thread.created_at
    assert memory.get_thread_by_id(thread_id=thread.id) == updated


def test_update_changes_only_what_is_given(memory: MemoryStorage) -> None:
    thread = save_thread(memory, title="Keep title", metadata={"a": 1})
    memory.update_thread(id=thread.id, metadata={"b": 2})
    after_meta = memory.get_thread_by_id(thread_id=thread.id)
    assert after_meta is not None and (after_meta.title, after_meta.metadata) == ("Keep title", {"a": 1, "b": 2})
    memory.update_thread(id=thread.id, title="New title")
    after_title = memory.get_thread_by_id(thread_id=thread.id)
    assert after_title is not None and (after_title.title, after_title.metadata) == ("New title", {"a": 1, "b": 2})
    assert after_title.updated_at > after_meta.updated_at > thread.updated_at
    assert after_title.resource_id == thread.resource_id and after_title.created_at == thread.created_at


def test_update_missing_thread_raises_not_found(memory: MemoryStorage) -> None:
    with pytest.raises(NotFoundError) as info:
        memory.update_thread(id="no-such-thread", title="x", metadata={"a": 1})
    assert info.value.code
    assert memory.get_thread_by_id(thread_id="no-such-thread") is None


def test_timestamps_consistent_after_update(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    updated = memory.update_thread(id=thread.id, title="Renamed", metadata={"v": 2})
    fetched = memory.get_thread_by_id(thread_id=thread.id)
    listed = memory.list_threads(filter={"resource_id": thread.resource_id}).threads
    assert fetched is not None and len(listed) == 1
    assert fetched.created_at == listed[0].created_at == thread.created_at
    assert fetched.updated_at == listed[0].updated_at == updated.updated_at


def test_delete_thread(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    memory.delete_thread(thread_id=thread.id)
    assert memory.get_thread_by_id(thread_id=thread.id) is None


def test_delete_thread_deletes_its_messages(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    seed_messages(memory, thread.id, 3)
    memory.delete_thread(thread_id=thread.id)
    page = memory.list_messages(thread_id=thread.id)
    assert page.messages == [] and page.total == 0


def test_saving_a_message_bumps_thread_updated_at(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    before = thread_updated_at(memory, thread.id)
    memory.save_messages(messages=[message_data(thread.id, "bump")])
    assert thread_updated_at(memory, thread.id) > before


def test_stringified_json_content_is_not_double_nested(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    raw = json.dumps({"key": "value", "nested": {"list": [1, 2]}})
    memory.save_messages(messages=[message_data(thread.id, raw)])
    [message] = all_messages(memory, thread.id)
    assert isinstance(message.content, dict)
    assert message.content["format"] == 2
    assert message.content["content"] == raw
    assert isinstance(message.content["parts"], list)


def test_paginated_threads_with_total(memory: MemoryStorage) -> None:
    for i in range(17):
        save_thread(memory, created_at=at(seconds=i))
    first = memory.list_threads(filter={"resource_id": RESOURCE}, page=0, per_page=7)
    assert (len(first.threads), first.total, first.page, first.per_page, first.has_more) == (7, 17, 0, 7, True)
    middle = memory.list_threads(filter={"resource_id": RESOURCE}, page=1, per_page=7)
    assert (len(middle.threads), middle.has_more) == (7, True)
    last = memory.list_threads(filter={"resource_id": RESOURCE}, page=2, per_page=7)
    assert (len(last.threads), last.total, last.page, last.has_more) == (3, 17, 2, False)
    seen = [t.id for p in (first, middle, last) for t in p.threads]
    assert len(set(seen)) == 17


def test_single_thread_page(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    page = memory.list_threads(filter={"resource_id": RESOURCE}, page=0, per_page=100)
    assert [t.id for t in page.threads] == [thread.id]
    assert (page.total, page.page, page.per_page, page.has_more) == (1, 0, 100, False)


def test_default_page_size_is_echoed(memory: MemoryStorage) -> None:
    save_thread(memory)
    page = memory.list_threads()
    assert (page.page, page.per_page, page.total, page.has_more) == (0, 100, 1, False)


# ----------------------------------------------------------------------------------------------- edge cases
def test_large_metadata_round_trips(memory: MemoryStorage) -> None:
    metadata: dict[str, Any] = {
        f"key_{i}": {"text": "x" * 200, "list": list(range(20)), "flag": i % 2 == 0, "none": None}
        for i in range(100)
    }
    thread = save_thread(memory, metadata=metadata)
    fetched = memory.get_thread_by_id(thread_id=thread.id)
    assert fetched is not None and fetched.metadata == metadata


def test_special_characters_and_emoji_in_title(memory: MemoryStorage) -> None:
    title = "Spécial <chars> & \"quotes\" 'single' \\ / 🚀🎉 你好 \u00e9\u0301 \t tab"
    thread = save_thread(memory, title=title, metadata={"emoji": "🧠", "ключ": "значение"})
    fetched = memory.get_thread_by_id(thread_id=thread.id)
    assert fetched is not None
    assert fetched.title == title
    assert fetched.metadata == {"emoji": "🧠", "ключ": "значение"}


def test_concurrent_updates_resolve(memory: MemoryStorage) -> None:
    thread = save_thread(memory, title="Concurrent")

    def update(i: int) -> Thread:
        return memory.update_thread(id=thread.id, title=f"Title {i}", metadata={f"k{i}": i})

    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(update, range(5)))
    assert all(r.id == thread.id for r in results)
    fetched = memory.get_thread_by_id(thread_id=thread.id)
    assert fetched is not None
    assert fetched.title in {f"Title {i}" for i in range(5)}


# ----------------------------------------------------------------------------------------------- sorting
SORT_CREATED_OFFSETS = [0, 1, 2, 3, 4]  # hours
SORT_UPDATED_OFFSETS = [3, 0, 4, 1, 2]  # hours after day 1: a different order than createdAt


@pytest.fixture
def sort_threads(memory: MemoryStorage) -> list[Thread]:
    return [
        save_thread(memory, id=f"sort-{i}", title=f"Sort {i}", created_at=at(hours=c),
                    updated_at=at(days=1, hours=u))
        for i, (c, u) in enumerate(zip(SORT_CREATED_OFFSETS, SORT_UPDATED_OFFSETS, strict=True))
    ]


@pytest.mark.parametrize(
    ("order_by", "attr", "descending"),
    [
        (None, "created_at", True),
        ({"field": "createdAt", "direction": "ASC"}, "created_at", False),
        ({"field": "createdAt", "direction": "DESC"}, "created_at", True),
        ({"field": "updatedAt", "direction": "ASC"}, "updated_at", False),
        ({"field": "updatedAt", "direction": "DESC"}, "updated_at", True),
        ({"field": "updatedAt"}, "updated_at", True),
        ({"direction": "ASC"}, "created_at", False),
        ({"direction": "DESC"}, "created_at", True),
    ],
    ids=["default", "created-asc", "created-desc", "updated-asc", "updated-desc", "field-only",
         "direction-asc-only", "direction-desc-only"],
)
def test_list_threads_sorting(
    memory: MemoryStorage, sort_threads: list[Thread], order_by: dict[str, str] | None, attr: str,
    descending: bool,
) -> None:
    expected = sorted(sort_threads, key=lambda t: getattr(t, attr), reverse=descending)
    page = memory.list_threads(per_page=3, order_by=order_by)
    assert [t.id for t in page.threads] == [t.id for t in expected[:3]]
    assert (page.total, page.has_more) == (5, True)


def test_sort_order_consistent_across_pages(memory: MemoryStorage) -> None:
    for i in range(10):
        save_thread(memory, created_at=at(minutes=i), updated_at=at(days=1, minutes=(i * 7) % 10))
    for order_by in ({"field": "createdAt", "direction": "DESC"}, {"field": "updatedAt", "direction": "ASC"}):
        paged = [t.id for p in range(5) for t in memory.list_threads(page=p, per_page=2, order_by=order_by).threads]
        whole = [t.id for t in memory.list_threads(page=0, per_page=10, order_by=order_by).threads]
        assert paged == whole and len(set(whole)) == 10


def test_sorting_empty_result(memory: MemoryStorage) -> None:
    page = memory.list_threads(filter={"resource_id": "nobody"}, page=0, per_page=10,
                               order_by={"field": "updatedAt", "direction": "ASC"})
    assert (page.threads, page.total, page.page, page.per_page, page.has_more) == ([], 0, 0, 10, False)


def test_sorting_single_thread(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    page = memory.list_threads(per_page=10, order_by={"field": "createdAt", "direction": "ASC"})
    assert [t.id for t in page.threads] == [thread.id]
    assert (page.total, page.has_more) == (1, False)


def test_identical_timestamps_all_returned_and_paged_stably(memory: MemoryStorage) -> None:
    threads = [save_thread(memory, created_at=BASE_TIME, updated_at=BASE_TIME) for _ in range(3)]
    expected = {t.id for t in threads}
    assert {t.id for t in memory.list_threads().threads} == expected
    for order_by in (None, {"field": "updatedAt", "direction": "ASC"}):
        one_by_one = [t.id for p in range(3) for t in memory.list_threads(page=p, per_page=1,
                                                                         order_by=order_by).threads]
        assert sorted(one_by_one) == sorted(expected)


def test_sorting_with_filtering(memory: MemoryStorage) -> None:
    a1 = save_thread(memory, resource_id="sort-r1", created_at=at(hours=1), updated_at=at(days=2, hours=1),
                     metadata={"category": "a"})
    a2 = save_thread(memory, resource_id="sort-r1", created_at=at(hours=2), updated_at=at(days=2, hours=3),
                     metadata={"category": "b"})
    b1 = save_thread(memory, resource_id="sort-r2", created_at=at(hours=3), updated_at=at(days=2, hours=2),
                     metadata={"category": "a"})
    save_thread(memory, resource_id="sort-r2", created_at=at(hours=4), metadata={"category": "b"})

    def listed(**kwargs: Any) -> list[str]:
        return [t.id for t in memory.list_threads(**kwargs).threads]

    assert listed(filter={"resource_id": "sort-r1"}) == [a2.id, a1.id]
    assert listed(filter={"resourceId": "sort-r1"}, order_by={"field": "createdAt", "direction": "ASC"}) == [
        a1.id, a2.id]
    assert listed(filter={"metadata": {"category": "a"}},
                  order_by={"field": "updatedAt", "direction": "DESC"}) == [b1.id, a1.id]


# ----------------------------------------------------------------------------------------------- filtering
@pytest.fixture
def filter_threads(memory: MemoryStorage) -> dict[str, Thread]:
    specs = {
        "f1": ("filter-r1", {"category": "support", "priority": "high"}),
        "f2": ("filter-r1", {"category": "sales", "priority": "low"}),
        "f3": ("filter-r2", {"category": "support", "priority": "low"}),
        "f4": ("filter-r2", {"category": "sales", "priority": "high"}),
    }
    return {
        name: save_thread(memory, id=name, resource_id=resource, metadata=meta, created_at=at(minutes=i))
        for i, (name, (resource, meta)) in enumerate(specs.items())
    }


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({"resource_id": "filter-r1"}, {"f1", "f2"}),
        ({"metadata": {"category": "support"}}, {"f1", "f3"}),
        ({"metadata": {"category": "support", "priority": "high"}}, {"f1"}),
        ({"resource_id": "filter-r2", "metadata": {"category": "support"}}, {"f3"}),
        ({}, {"f1", "f2", "f3", "f4"}),
        ({"metadata": {"category": "nope"}}, set()),
        ({"resource_id": "no-such-resource"}, set()),
        ({"metadata": {"category": "support", "extra_key": "x"}}, set()),
    ],
    ids=["resource", "one-key", "two-keys-and", "resource-and-key", "no-filter", "no-match",
         "unknown-resource", "extra-key"],
)
def test_list_threads_filter(
    memory: MemoryStorage, filter_threads: dict[str, Thread], filter_: dict[str, Any], expected: set[str]
) -> None:
    page = memory.list_threads(filter=filter_)
    assert {t.id for t in page.threads} == expected
    assert page.total == len(expected)


def test_filtered_pagination(memory: MemoryStorage, filter_threads: dict[str, Thread]) -> None:
    first = memory.list_threads(filter={"resource_id": "filter-r1"}, page=0, per_page=1)
    second = memory.list_threads(filter={"resource_id": "filter-r1"}, page=1, per_page=1)
    assert (len(first.threads), first.total, first.has_more) == (1, 2, True)
    assert (len(second.threads), second.total, second.has_more) == (1, 2, False)
    assert first.threads[0].id != second.threads[0].id


def test_filtered_per_page_false_returns_all(memory: MemoryStorage, filter_threads: dict[str, Thread]) -> None:
    page = memory.list_threads(filter={"metadata": {"priority": "high"}}, per_page=False)
    assert {t.id for t in page.threads} == {"f1", "f4"}
    assert page.per_page is False and page.has_more is False and page.total == 2


def test_threads_without_the_metadata_key_are_excluded(
    memory: MemoryStorage, filter_threads: dict[str, Thread]
) -> None:
    save_thread(memory, id="no-category", resource_id="filter-r1", metadata={"priority": "high"})
    save_thread(memory, id="no-metadata", resource_id="filter-r1", metadata={})
    page = memory.list_threads(filter={"resource_id": "filter-r1", "metadata": {"category": "support"}})
    assert [t.id for t in page.threads] == ["f1"]
    page = memory.list_threads(filter={"resource_id": "filter-r1", "metadata": {"priority": "high"}})
    assert {t.id for t in page.threads} == {"f1", "no-category"}


def test_metadata_filter_uses_typed_equality(memory: MemoryStorage) -> None:
    save_thread(memory, id="int-one", metadata={"n": 1, "flag": True})
    save_thread(memory, id="str-one", metadata={"n": "1", "flag": 1})
    assert [t.id for t in memory.list_threads(filter={"metadata": {"n": 1}}).threads] == ["int-one"]
    assert [t.id for t in memory.list_threads(filter={"metadata": {"n": "1"}}).threads] == ["str-one"]
    assert [t.id for t in memory.list_threads(filter={"metadata": {"flag": True}}).threads] == ["int-one"]


def test_filtered_timestamps_consistent(memory: MemoryStorage, filter_threads: dict[str, Thread]) -> None:
    for listed in memory.list_threads(filter={"resource_id": "filter-r2"}).threads:
        fetched = memory.get_thread_by_id(thread_id=listed.id)
        assert fetched is not None
        assert (fetched.created_at, fetched.updated_at) == (listed.created_at, listed.updated_at)
        assert fetched == listed
