"""Memory domain records: threads, messages (Mastra v2 DB form), resources, and list arguments/results."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from mastra_dynamo.clock import utc_now
from mastra_dynamo.records.base import PerPage, Record, UtcDatetime

MessageRole = Literal["user", "assistant", "system", "signal", "tool"]


class Thread(Record):
    """A conversation thread (``StorageThreadType``)."""

    ALWAYS_SHOWN: ClassVar[frozenset[str]] = frozenset({"created_at", "updated_at"})

    id: str
    resource_id: str
    title: str | None = None
    created_at: UtcDatetime = Field(default_factory=utc_now)
    updated_at: UtcDatetime = Field(default_factory=utc_now)
    metadata: dict[str, Any] | None = None


def wrap_text_content(text: str) -> dict[str, Any]:
    """Mastra's v2 form of plain string content."""
    return {"format": 2, "content": text, "parts": [{"type": "text", "text": text}]}


class Message(Record):
    """A message in Mastra's v2 DB form (``MastraDBMessage``). ``content`` is the v2 content object."""

    ALWAYS_SHOWN: ClassVar[frozenset[str]] = frozenset({"created_at", "type"})

    id: str
    role: MessageRole
    created_at: UtcDatetime = Field(default_factory=utc_now)
    thread_id: str | None = None
    resource_id: str | None = None
    type: str = "text"
    content: dict[str, Any]

    @field_validator("content", mode="before")
    @classmethod
    def _wrap_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return wrap_text_content(value)
        return value


class MessageContentUpdate(Record):
    """Partial content: top-level fields replace, ``metadata`` is shallow-merged."""

    model_config = Record.model_config | {"extra": "allow"}

    metadata: dict[str, Any] | None = None
    content: str | None = None
    parts: list[Any] | None = None


class MessageUpdate(Record):
    """One entry of ``update_messages``: only the fields that are set change."""

    id: str
    role: MessageRole | None = None
    type: str | None = None
    thread_id: str | None = None
    resource_id: str | None = None
    content: MessageContentUpdate | None = None


class Resource(Record):
    """A resource (usually a user) with working memory (``StorageResourceType``)."""

    ALWAYS_SHOWN: ClassVar[frozenset[str]] = frozenset({"created_at", "updated_at"})

    id: str
    working_memory: str | None = None
    metadata: dict[str, Any] | None = None
    created_at: UtcDatetime = Field(default_factory=utc_now)
    updated_at: UtcDatetime = Field(default_factory=utc_now)


class OrderBy(Record):
    field: str | None = None
    direction: str | None = None


class ThreadFilter(Record):
    resource_id: str | None = None
    metadata: dict[str, Any] | None = None


class DateRange(Record):
    start: UtcDatetime | None = None
    end: UtcDatetime | None = None
    start_exclusive: bool = False
    end_exclusive: bool = False


class MessageFilter(Record):
    date_range: DateRange | None = None
    metadata: dict[str, Any] | None = None


class IncludeItem(Record):
    id: str
    thread_id: str | None = None
    with_previous_messages: int = Field(default=0, ge=0)
    with_next_messages: int = Field(default=0, ge=0)


class ThreadPage(Record):
    threads: list[Thread]
    total: int
    page: int
    per_page: PerPage
    has_more: bool


class MessagePage(Record):
    messages: list[Message]
    total: int
    page: int
    per_page: PerPage
    has_more: bool


class MessageList(Record):
    messages: list[Message]


class MessageFilterOptions(Record):
    start_date: UtcDatetime | None = None
    end_date: UtcDatetime | None = None
    message_ids: list[str] | None = None


class CloneThreadOptions(Record):
    message_limit: int | None = Field(default=None, ge=0)
    message_filter: MessageFilterOptions | None = None


class CloneThreadResult(Record):
    thread: Thread
    cloned_messages: list[Message]
    message_id_map: dict[str, str]
