"""Spec 6.1 extras: exact round-trips ("" / None / missing stay distinct), unicode, and ids that must not collide.

Split from test_threads.py to keep each file small; same subsection.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from mastra_dynamo.domains import MemoryStorage
from mastra_dynamo.records.memory import Thread

from .data import (
    CYRILLIC_ID,
    LOOKALIKE_ID,
    all_messages,
    at,
    message_data,
    save_thread,
    text_content,
    thread_data,
)

LONG_ID = "x" * 1000
SPECIAL_IDS = [
    "a",
    "ab",
    "a#",
    "a#b",
    "a%23b",  # the percent-escaped spelling of "a#b"
    "a%b",
    "a%25b",
    "a~b",
    "a%7Eb",
    "#",
    "%",
    "~",
    "a b",
    "Case-ID",
    "case-id",
    "日本語-スレッド",
    CYRILLIC_ID,
    LOOKALIKE_ID,
    "emoji-🧵-👩‍👩‍👧",
    LONG_ID,
    "x" * 999 + "y",
    "~" + hashlib.sha256(LONG_ID.encode()).hexdigest(),  # what a hashed long id might look like
]


def _fetch(memory: MemoryStorage, thread_id: str) -> Thread:
    fetched = memory.get_thread_by_id(thread_id=thread_id)
    assert fetched is not None
    return fetched


def _listed(memory: MemoryStorage, thread_id: str, resource_id: str) -> Thread:
    [listed] = [t for t in memory.list_threads(filter={"resource_id": resource_id}).threads if t.id == thread_id]
    return listed


# ----------------------------------------------------------------------------------------------- "" / None / missing
@pytest.mark.parametrize("field", ["title", "metadata"])
def test_empty_none_and_missing_stay_distinct(memory: MemoryStorage, field: str) -> None:
    empty: Any = "" if field == "title" else {}
    variants: dict[str, dict[str, Any]] = {
        "empty": thread_data(id="rt-empty", resource_id="rt") | {field: empty},
        "none": thread_data(id="rt-none", resource_id="rt") | {field: None},
        "missing": {k: v for k, v in thread_data(id="rt-missing", resource_id="rt").items() if k != field},
    }
    for data in variants.values():
        memory.save_thread(thread=data)
    for thread in (_fetch(memory, "rt-empty"), _listed(memory, "rt-empty", "rt")):
        assert getattr(thread, field) == empty and getattr(thread, field) is not None
    for thread in (_fetch(memory, "rt-none"), _listed(memory, "rt-none", "rt")):
        assert getattr(thread, field) is None
        assert field in thread.model_fields_set
    for thread in (_fetch(memory, "rt-missing"), _listed(memory, "rt-missing", "rt")):
        assert getattr(thread, field) is None
        assert field not in thread.model_fields_set


def test_metadata_values_round_trip_exactly(memory: MemoryStorage) -> None:
    metadata: dict[str, Any] = {
        "empty": "",
        "none": None,
        "zero": 0,
        "false": False,
        "int": 2**53 + 1,
        "float": 1.5,
        "small": 0.1,
        "list": [],
        "obj": {},
        "nested": {"a": [1, "two", None, {"b": ""}]},
    }
    thread = save_thread(memory, metadata=metadata)
    fetched = _fetch(memory, thread.id)
    assert fetched.metadata == metadata
    assert fetched.metadata is not None
    assert type(fetched.metadata["int"]) is int and type(fetched.metadata["float"]) is float
    assert type(fetched.metadata["false"]) is bool and type(fetched.metadata["zero"]) is int


def test_message_content_round_trips_exactly(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    parts_only = {"format": 2, "parts": [{"type": "text", "text": "no content key"}]}
    with_meta = text_content("with metadata", metadata={"empty": "", "none": None, "n": 0, "deep": {"x": []}})
    memory.save_messages(messages=[
        message_data(thread.id, id="m-parts", content=parts_only, created_at=at(seconds=1)),
        message_data(thread.id, id="m-meta", content=with_meta, created_at=at(seconds=2)),
    ])
    by_id = {m.id: m for m in all_messages(memory, thread.id)}
    assert by_id["m-parts"].content == parts_only
    assert "content" not in by_id["m-parts"].content
    assert by_id["m-meta"].content == with_meta


# ----------------------------------------------------------------------------------------------- unicode
def test_unicode_round_trips(memory: MemoryStorage) -> None:
    title = "Ünïcödé 🚀 עברית العربية 中文 👩‍👩‍👧 \u200b zero-width"
    metadata = {"ключ": "значение", "emoji_🔑": "🎉", "mixed": "a\u0301 e\u0301"}
    thread = save_thread(memory, title=title, metadata=metadata, resource_id=CYRILLIC_ID)
    text = "Hello 👋 — «quotes» \u2018single\u2019 😀😃😄 \U0001f9d1\u200d\U0001f4bb"
    memory.save_messages(messages=[message_data(thread.id, text, resource_id=CYRILLIC_ID)])
    fetched = _fetch(memory, thread.id)
    assert (fetched.title, fetched.metadata, fetched.resource_id) == (title, metadata, CYRILLIC_ID)
    [message] = all_messages(memory, thread.id)
    assert message.content == text_content(text)
    assert message.resource_id == CYRILLIC_ID
    assert [t.id for t in memory.list_threads(filter={"resource_id": CYRILLIC_ID}).threads] == [thread.id]


# ----------------------------------------------------------------------------------------------- special ids
def test_special_thread_ids_do_not_collide(memory: MemoryStorage) -> None:
    for i, thread_id in enumerate(SPECIAL_IDS):
        save_thread(memory, id=thread_id, resource_id="special", title=f"title {i}", created_at=at(seconds=i))
    for i, thread_id in enumerate(SPECIAL_IDS):
        fetched = _fetch(memory, thread_id)
        assert (fetched.id, fetched.title) == (thread_id, f"title {i}")
    page = memory.list_threads(filter={"resource_id": "special"}, per_page=False)
    assert page.total == len(SPECIAL_IDS)
    assert sorted(t.id for t in page.threads) == sorted(SPECIAL_IDS)


def test_special_ids_keep_messages_apart(memory: MemoryStorage) -> None:
    for i, thread_id in enumerate(SPECIAL_IDS):
        save_thread(memory, id=thread_id)
        memory.save_messages(messages=[
            message_data(thread_id, f"only in {i}", id=thread_id, created_at=at(seconds=i)),
        ])
    for i, thread_id in enumerate(SPECIAL_IDS):
        messages = all_messages(memory, thread_id)
        assert [(m.id, m.thread_id) for m in messages] == [(thread_id, thread_id)]
        assert messages[0].content == text_content(f"only in {i}")
    by_id = memory.list_messages_by_id(message_ids=SPECIAL_IDS).messages
    assert sorted((m.id, m.thread_id) for m in by_id) == sorted((t, t) for t in SPECIAL_IDS)


def test_deleting_a_special_id_leaves_similar_ids_alone(memory: MemoryStorage) -> None:
    for thread_id in ("a", "a#", "a#b", "a%23b", LONG_ID, "x" * 999 + "y"):
        save_thread(memory, id=thread_id)
        memory.save_messages(messages=[message_data(thread_id, f"in {thread_id}", id=f"m-{thread_id}")])
    memory.delete_thread(thread_id="a")
    memory.delete_thread(thread_id=LONG_ID)
    memory.delete_messages(["m-a#b"])
    assert memory.get_thread_by_id(thread_id="a") is None
    assert memory.get_thread_by_id(thread_id=LONG_ID) is None
    for survivor in ("a#", "a#b", "a%23b", "x" * 999 + "y"):
        assert _fetch(memory, survivor).id == survivor
    assert [m.id for m in all_messages(memory, "a#")] == ["m-a#"]
    assert all_messages(memory, "a#b") == []
    assert [m.id for m in all_messages(memory, "a%23b")] == ["m-a%23b"]
    assert [m.id for m in all_messages(memory, "x" * 999 + "y")] == ["m-" + "x" * 999 + "y"]


def test_special_resource_ids_do_not_collide(memory: MemoryStorage) -> None:
    resources = ["r#1", "r%231", "r", "r#", "R#1"]
    for resource_id in resources:
        save_thread(memory, id=f"thread-of-{resource_id}", resource_id=resource_id)
    for resource_id in resources:
        page = memory.list_threads(filter={"resource_id": resource_id})
        assert [t.id for t in page.threads] == [f"thread-of-{resource_id}"]
        assert memory.get_thread_by_id(thread_id=f"thread-of-{resource_id}", resource_id=resource_id) is not None
    assert memory.get_thread_by_id(thread_id="thread-of-r#1", resource_id="r%231") is None
