"""Bad input raises ValidationError (with a code) and writes nothing; accepted filters apply exactly.

Spec 1.1 (pagination), 1.3 (metadata filters), 3.1 (listMessages rule 1).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.domains import MemoryStorage
from mastra_dynamo.errors import ValidationError
from tests.conftest import table_item_count

from .data import (
    all_messages,
    as_messages,
    at,
    message_data,
    save_thread,
    seed_messages,
    text_content,
    texts,
    thread_data,
)

VALID = "valid-thread"


@pytest.fixture
def seeded(memory: MemoryStorage) -> list[dict[str, Any]]:
    """One valid thread with three messages, so "writes nothing" is checked against a non-empty table."""
    save_thread(memory, id=VALID)
    return seed_messages(memory, VALID, 3)


def assert_rejected(store: DynamoDBStore, call: Callable[[], object]) -> ValidationError:
    before = table_item_count(store)
    with pytest.raises(ValidationError) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value.code, str) and info.value.code
    assert table_item_count(store) == before
    return info.value


BLANK_ID_CALLS: dict[str, Callable[[MemoryStorage, str], object]] = {
    "get_thread_by_id": lambda m, bad: m.get_thread_by_id(thread_id=bad),
    "save_thread": lambda m, bad: m.save_thread(thread=thread_data(id=bad)),
    "update_thread": lambda m, bad: m.update_thread(id=bad, title="x"),
    "delete_thread": lambda m, bad: m.delete_thread(thread_id=bad),
    "list_messages": lambda m, bad: m.list_messages(thread_id=bad),
    "list_messages_in_list": lambda m, bad: m.list_messages(thread_id=[VALID, bad]),
    "save_messages": lambda m, bad: m.save_messages(messages=[message_data(bad)]),
    "clone_thread": lambda m, bad: m.clone_thread(source_thread_id=bad),
}


@pytest.mark.parametrize("bad", ["", "   ", "\t\n"], ids=["empty", "spaces", "tab-newline"])
@pytest.mark.parametrize("call", sorted(BLANK_ID_CALLS))
def test_blank_thread_ids_are_rejected(
    memory: MemoryStorage, store: DynamoDBStore, seeded: list[dict[str, Any]], call: str, bad: str
) -> None:
    assert_rejected(store, lambda: BLANK_ID_CALLS[call](memory, bad))
    assert all_messages(memory, VALID) == as_messages(seeded)


def test_empty_thread_id_list_is_rejected(memory: MemoryStorage, store: DynamoDBStore) -> None:
    assert_rejected(store, lambda: memory.list_messages(thread_id=[]))


@pytest.mark.parametrize("per_page", [-1, -5, 1.5])
def test_bad_per_page(memory: MemoryStorage, store: DynamoDBStore, seeded: list[dict[str, Any]],
                      per_page: Any) -> None:
    assert_rejected(store, lambda: memory.list_threads(per_page=per_page))
    assert_rejected(store, lambda: memory.list_messages(thread_id=VALID, per_page=per_page))


@pytest.mark.parametrize("page", [-1, -100])
def test_negative_page(memory: MemoryStorage, store: DynamoDBStore, seeded: list[dict[str, Any]], page: int) -> None:
    assert_rejected(store, lambda: memory.list_threads(page=page))
    assert_rejected(store, lambda: memory.list_messages(thread_id=VALID, page=page, per_page=2))


def test_page_beyond_zero_with_per_page_false(memory: MemoryStorage, store: DynamoDBStore) -> None:
    save_thread(memory)
    assert_rejected(store, lambda: memory.list_threads(page=1, per_page=False))
    assert memory.list_threads(page=0, per_page=False).total == 1


BAD_KEYS = ["bad-key", "__proto__", "prototype", "constructor", "1digit", "", "has space", "dot.key", "a" * 129]


@pytest.mark.parametrize("key", BAD_KEYS, ids=lambda k: repr(k)[:20])
def test_invalid_metadata_filter_keys(
    memory: MemoryStorage, store: DynamoDBStore, seeded: list[dict[str, Any]], key: str
) -> None:
    assert_rejected(store, lambda: memory.list_threads(filter={"metadata": {key: "x"}}))
    assert_rejected(store, lambda: memory.list_messages(thread_id=VALID, filter={"metadata": {key: "x"}}))


def test_valid_metadata_filter_keys_are_accepted(memory: MemoryStorage) -> None:
    save_thread(memory, id="keyed", metadata={"a" * 128: 1, "_private": "p", "Mixed_9": True})
    for key, value in (("a" * 128, 1), ("_private", "p"), ("Mixed_9", True)):
        assert [t.id for t in memory.list_threads(filter={"metadata": {key: value}}).threads] == ["keyed"]


@pytest.mark.parametrize("value", [{"nested": 1}, [1, 2], float("nan"), float("inf")],
                         ids=["dict", "list", "nan", "inf"])
def test_non_scalar_message_metadata_filter_values(
    memory: MemoryStorage, store: DynamoDBStore, seeded: list[dict[str, Any]], value: Any
) -> None:
    assert_rejected(store, lambda: memory.list_messages(thread_id=VALID, filter={"metadata": {"key": value}}))


def test_message_metadata_filter_uses_typed_equality(memory: MemoryStorage) -> None:
    save_thread(memory, id="meta")
    metas: list[dict[str, Any]] = [{"n": 1}, {"n": "1"}, {"flag": True}, {"flag": 1}, {"x": None}, {},
                                   {"n": 1, "flag": False}]
    memory.save_messages(messages=[
        message_data("meta", f"m{i}", created_at=at(seconds=i), metadata=meta) for i, meta in enumerate(metas)
    ])

    def matching(metadata: dict[str, Any]) -> list[str]:
        page = memory.list_messages(thread_id="meta", filter={"metadata": metadata})
        assert page.total == len(page.messages)
        return texts(page.messages)

    assert matching({"n": 1}) == ["m0", "m6"]
    assert matching({"n": "1"}) == ["m1"]
    assert matching({"flag": True}) == ["m2"]
    assert matching({"x": None}) == ["m4"]
    assert matching({"n": 1, "flag": False}) == ["m6"]
    assert matching({"n": 2.5}) == []


def test_message_metadata_filter_with_pagination(memory: MemoryStorage) -> None:
    save_thread(memory, id="meta-pages")
    memory.save_messages(messages=[
        message_data("meta-pages", f"m{i}", created_at=at(seconds=i), metadata={"keep": i % 2 == 0})
        for i in range(7)
    ])
    page = memory.list_messages(thread_id="meta-pages", per_page=2, page=1, filter={"metadata": {"keep": True}})
    assert texts(page.messages) == ["m4", "m6"]
    assert (page.total, page.has_more) == (4, False)


# ----------------------------------------------------------------------------------------------- bad records
def test_invalid_thread_records(memory: MemoryStorage, store: DynamoDBStore) -> None:
    no_resource = {k: v for k, v in thread_data(id="t-bad-1").items() if k != "resource_id"}
    assert_rejected(store, lambda: memory.save_thread(thread=no_resource))
    assert_rejected(store, lambda: memory.save_thread(thread=thread_data(id="t-bad-2") | {"metadata": [1, 2]}))
    assert_rejected(store, lambda: memory.save_thread(thread=thread_data(id="t-bad-3") | {"bogus": 1}))
    assert_rejected(store, lambda: memory.save_thread(thread=thread_data(id="t-bad-4") | {"created_at": "nope"}))
    assert memory.list_threads().total == 0


def test_invalid_message_records(memory: MemoryStorage, store: DynamoDBStore, seeded: list[dict[str, Any]]) -> None:
    no_content = {k: v for k, v in message_data(VALID).items() if k != "content"}
    bad_messages = [message_data(VALID, role="robot"), no_content, message_data(VALID) | {"created_at": "not a date"}]
    for bad in bad_messages:
        batch = [message_data(VALID, "ok"), bad]
        assert_rejected(store, functools.partial(memory.save_messages, messages=batch))
    assert all_messages(memory, VALID) == as_messages(seeded)


def test_invalid_message_update(memory: MemoryStorage, store: DynamoDBStore, seeded: list[dict[str, Any]]) -> None:
    target = seeded[0]["id"]
    assert_rejected(store, lambda: memory.update_messages(messages=[{"id": target, "role": "robot"}]))
    assert_rejected(store, lambda: memory.update_messages(messages=[
        {"id": seeded[1]["id"], "content": {"content": "changed"}}, {"id": target, "role": "robot"}]))
    assert all_messages(memory, VALID) == as_messages(seeded)
    assert all_messages(memory, VALID)[1].content == text_content("Message 2")


def test_negative_include_window(memory: MemoryStorage, store: DynamoDBStore, seeded: list[dict[str, Any]]) -> None:
    include = [{"id": seeded[1]["id"], "with_previous_messages": -1}]
    assert_rejected(store, lambda: memory.list_messages(thread_id=VALID, include=include))


def test_invalid_resource_records(memory: MemoryStorage, store: DynamoDBStore) -> None:
    assert_rejected(store, lambda: memory.save_resource(resource={"id": "res-bad", "metadata": "not a dict"}))
    assert_rejected(store, lambda: memory.save_resource(resource={"id": "res-bad", "working_memory": 42}))
    assert_rejected(store, lambda: memory.save_resource(resource={"id": "", "working_memory": "x"}))
    assert memory.get_resource_by_id(resource_id="res-bad") is None


def test_invalid_clone_options(memory: MemoryStorage, store: DynamoDBStore, seeded: list[dict[str, Any]]) -> None:
    assert_rejected(store, lambda: memory.clone_thread(source_thread_id=VALID, new_thread_id="c1",
                                                       options={"message_limit": -1}))
    assert memory.get_thread_by_id(thread_id="c1") is None
