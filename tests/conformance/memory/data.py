"""Builders shared by the memory conformance tests: sample threads, messages and small helpers.

Every builder returns a plain ``dict`` in snake_case (the store accepts records or mappings in either key
style), so a test can drop a key to exercise "missing" as distinct from ``None``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from mastra_dynamo.domains import MemoryStorage
from mastra_dynamo.records.memory import Message, Thread

BASE_TIME = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
"""Fixed, far-past base time: every explicit timestamp is ``BASE_TIME + delta``."""

RESOURCE = "resource-main"
OTHER_RESOURCE = "resource-other"
CYRILLIC_ID = "\u0440\u0435\u0441\u0443\u0440\u0441-\U0001f9ea"
"""Cyrillic "resource" plus an emoji; its letters look like the Latin ``LOOKALIKE_ID``."""
LOOKALIKE_ID = "pecypc-\U0001f9ea"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def at(
    *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0, ms: float = 0, us: float = 0
) -> datetime:
    """``BASE_TIME`` shifted by the given amount."""
    return BASE_TIME + timedelta(
        days=days, hours=hours, minutes=minutes, seconds=seconds, milliseconds=ms, microseconds=us
    )


def text_content(text: str, *, metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Mastra v2 message content holding one text part."""
    content: dict[str, Any] = {"format": 2, "parts": [{"type": "text", "text": text}], "content": text}
    if metadata is not None:
        content["metadata"] = dict(metadata)
    return content


def thread_data(
    *,
    id: str | None = None,
    resource_id: str = RESOURCE,
    title: str | None = "Test thread",
    created_at: datetime = BASE_TIME,
    updated_at: datetime | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A thread input; ``updated_at`` defaults to ``created_at`` (far in the past, so any bump is visible)."""
    return {
        "id": id if id is not None else new_id("thread"),
        "resource_id": resource_id,
        "title": title,
        "created_at": created_at,
        "updated_at": updated_at or created_at,
        "metadata": dict(metadata) if metadata is not None else {"key1": "value1"},
    }


def message_data(
    thread_id: str,
    text: str = "hello",
    *,
    id: str | None = None,
    resource_id: str | None = RESOURCE,
    role: str = "user",
    created_at: datetime = BASE_TIME,
    metadata: Mapping[str, Any] | None = None,
    content: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A v2 message input (``content`` overrides the text content built from ``text``)."""
    return {
        "id": id if id is not None else new_id("msg"),
        "thread_id": thread_id,
        "resource_id": resource_id,
        "role": role,
        "type": "text",
        "created_at": created_at,
        "content": dict(content) if content is not None else text_content(text, metadata=metadata),
    }


def save_thread(memory: MemoryStorage, **kwargs: Any) -> Thread:
    return memory.save_thread(thread=thread_data(**kwargs))


def seed_messages(
    memory: MemoryStorage,
    thread_id: str,
    count: int,
    *,
    start: datetime = BASE_TIME,
    step: timedelta = timedelta(seconds=1),
    label: str = "Message",
    first: int = 1,
    resource_id: str | None = RESOURCE,
) -> list[dict[str, Any]]:
    """Save ``count`` messages ``"<label> <first>"``, ... at ``start``, ``start + step``, ...; return the inputs."""
    messages = [
        message_data(
            thread_id,
            f"{label} {first + i}",
            resource_id=resource_id,
            role="user" if i % 2 == 0 else "assistant",
            created_at=start + step * i,
        )
        for i in range(count)
    ]
    if messages:
        memory.save_messages(messages=messages)
    return messages


def as_messages(inputs: Iterable[Mapping[str, Any]]) -> list[Message]:
    """The records the store is expected to hand back for these inputs."""
    return [Message.model_validate(dict(m)) for m in inputs]


def id_of(message: Message | Mapping[str, Any]) -> str:
    return message.id if isinstance(message, Message) else str(message["id"])


def ids(messages: Iterable[Message | Mapping[str, Any]]) -> list[str]:
    return [id_of(m) for m in messages]


def text_of(message: Message) -> str:
    """The text of a v2 message: ``content.content`` or else its text parts joined."""
    content = message.content
    if isinstance(content.get("content"), str):
        return str(content["content"])
    return "".join(p.get("text", "") for p in content.get("parts", []) if p.get("type") == "text")


def texts(messages: Iterable[Message]) -> list[str]:
    return [text_of(m) for m in messages]


def all_messages(memory: MemoryStorage, thread_id: str | Sequence[str]) -> list[Message]:
    return memory.list_messages(thread_id=thread_id, per_page=False).messages


def thread_updated_at(memory: MemoryStorage, thread_id: str) -> datetime:
    thread = memory.get_thread_by_id(thread_id=thread_id)
    assert thread is not None, f"thread {thread_id!r} is missing"
    return thread.updated_at


def assert_v2(message: Message) -> None:
    """A valid Mastra v2 DB message: v2 content with a parts list, aware UTC createdAt."""
    assert message.id
    assert message.role in {"user", "assistant", "system", "signal", "tool"}
    assert isinstance(message.content, dict)
    assert message.content.get("format") == 2
    assert isinstance(message.content.get("parts"), list)
    assert message.created_at.utcoffset() == timedelta(0)
