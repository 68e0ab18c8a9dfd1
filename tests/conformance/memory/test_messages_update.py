"""Spec 6.4 updateMessages: partial updates, content merge rules, thread bookkeeping."""

from __future__ import annotations

from typing import Any

from mastra_dynamo.domains import MemoryStorage
from mastra_dynamo.records.memory import Message

from .data import (
    all_messages,
    as_messages,
    at,
    message_data,
    save_thread,
    text_content,
    thread_updated_at,
)


def _saved(memory: MemoryStorage, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    thread = save_thread(memory)
    message = message_data(thread.id, **kwargs)
    memory.save_messages(messages=[message])
    return thread.id, message


def _reload(memory: MemoryStorage, message_id: str) -> Message:
    [message] = memory.list_messages_by_id(message_ids=[message_id]).messages
    return message


def test_update_single_field(memory: MemoryStorage) -> None:
    _, message = _saved(memory, text="role change", role="user")
    updated = memory.update_messages(messages=[{"id": message["id"], "role": "assistant"}])
    assert [(m.id, m.role) for m in updated] == [(message["id"], "assistant")]
    reloaded = _reload(memory, message["id"])
    assert reloaded.role == "assistant"
    assert reloaded.content == message["content"]
    assert reloaded.created_at == message["created_at"]
    assert updated[0] == reloaded


def test_update_only_content_metadata(memory: MemoryStorage) -> None:
    _, message = _saved(memory, text="keep me")
    memory.update_messages(messages=[{"id": message["id"], "content": {"metadata": {"foo": "bar"}}}])
    content = _reload(memory, message["id"]).content
    assert content["metadata"] == {"foo": "bar"}
    assert content["content"] == "keep me"
    assert content["parts"] == [{"type": "text", "text": "keep me"}]
    assert content["format"] == 2


def test_update_only_content_string(memory: MemoryStorage) -> None:
    _, message = _saved(memory, text="old text", metadata={"keep": True})
    memory.update_messages(messages=[{"id": message["id"], "content": {"content": "new text"}}])
    content = _reload(memory, message["id"]).content
    assert content["content"] == "new text"
    assert content["metadata"] == {"keep": True}
    assert content["parts"] == [{"type": "text", "text": "old text"}]


def test_content_metadata_is_merged_not_overwritten(memory: MemoryStorage) -> None:
    _, message = _saved(memory, text="stable", metadata={"initial": True, "shared": "old"})
    updated = memory.update_messages(messages=[
        {"id": message["id"], "content": {"metadata": {"updated": True, "shared": "new"}}}])
    expected = {"initial": True, "updated": True, "shared": "new"}
    assert updated[0].content["metadata"] == expected
    reloaded = _reload(memory, message["id"])
    assert reloaded.content["metadata"] == expected
    assert reloaded.content["content"] == "stable"


def test_record_unavailable_attachments(memory: MemoryStorage) -> None:
    parts: list[dict[str, Any]] = [
        {"type": "text", "text": "see attachment"},
        {"type": "file", "data": "https://example.com/cat.png", "mimeType": "image/png"},
    ]
    content = {"format": 2, "content": "see attachment", "parts": parts,
               "metadata": {"mastra": {"sealed": True}, "other": "kept"}}
    _, message = _saved(memory, content=content)
    new_content = {
        "format": 2, "content": "see attachment", "parts": parts,
        "metadata": {"mastra": {"sealed": True, "unavailableAttachments": ["https://example.com/cat.png"]}},
    }
    memory.update_messages(messages=[{"id": message["id"], "content": new_content}])
    reloaded = _reload(memory, message["id"]).content
    assert reloaded["parts"] == parts
    assert reloaded["metadata"]["mastra"] == {"sealed": True,
                                              "unavailableAttachments": ["https://example.com/cat.png"]}
    assert reloaded["metadata"]["other"] == "kept"


def test_update_several_messages_in_one_call(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    first = message_data(thread.id, "first", role="user", created_at=at(seconds=1))
    second = message_data(thread.id, "second", role="user", created_at=at(seconds=2))
    memory.save_messages(messages=[first, second])
    updated = memory.update_messages(messages=[
        {"id": first["id"], "role": "assistant"},
        {"id": second["id"], "content": {"content": "second, edited"}},
    ])
    assert sorted(m.id for m in updated) == sorted([first["id"], second["id"]])
    stored = all_messages(memory, thread.id)
    assert [m.role for m in stored] == ["assistant", "user"]
    assert [m.content["content"] for m in stored] == ["first", "second, edited"]


def test_update_bumps_thread_updated_at(memory: MemoryStorage) -> None:
    thread_id, message = _saved(memory, text="bump")
    before = thread_updated_at(memory, thread_id)
    memory.update_messages(messages=[{"id": message["id"], "content": {"content": "bumped"}}])
    assert thread_updated_at(memory, thread_id) > before


def test_moving_a_message_to_another_thread(memory: MemoryStorage) -> None:
    source_id, message = _saved(memory, text="traveller")
    target = save_thread(memory)
    source_before = thread_updated_at(memory, source_id)
    updated = memory.update_messages(messages=[{"id": message["id"], "thread_id": target.id}])
    assert updated[0].thread_id == target.id
    assert thread_updated_at(memory, source_id) > source_before
    assert thread_updated_at(memory, target.id) > target.updated_at
    assert all_messages(memory, source_id) == []
    moved = all_messages(memory, target.id)
    assert moved == as_messages([message | {"thread_id": target.id}])
    assert _reload(memory, message["id"]).thread_id == target.id


def test_update_type_and_resource(memory: MemoryStorage) -> None:
    _, message = _saved(memory, text="typed")
    memory.update_messages(messages=[{"id": message["id"], "type": "tool-call", "resourceId": "res-new"}])
    reloaded = _reload(memory, message["id"])
    assert (reloaded.type, reloaded.resource_id) == ("tool-call", "res-new")
    assert reloaded.content == message["content"]


def test_unknown_id_is_skipped(memory: MemoryStorage) -> None:
    thread_id, message = _saved(memory, text="untouched")
    updated = memory.update_messages(messages=[{"id": "no-such-message", "role": "assistant"}])
    assert updated == []
    assert all_messages(memory, thread_id) == as_messages([message])
    assert memory.list_messages_by_id(message_ids=["no-such-message"]).messages == []


def test_update_returns_the_stored_rows(memory: MemoryStorage) -> None:
    _, message = _saved(memory, text="before", metadata={"a": 1})
    [updated] = memory.update_messages(messages=[
        {"id": message["id"], "role": "assistant", "content": {"content": "after", "metadata": {"b": 2}}}])
    assert updated == _reload(memory, message["id"])
    assert updated.content == text_content("before", metadata={"a": 1, "b": 2}) | {"content": "after"}
