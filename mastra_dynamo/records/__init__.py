"""Pydantic v2 records: snake_case fields, camelCase aliases (``model_dump(by_alias=True)`` = Mastra JSON)."""

from mastra_dynamo.records.base import Record, UtcDatetime
from mastra_dynamo.records.memory import (
    CloneThreadOptions,
    CloneThreadResult,
    DateRange,
    IncludeItem,
    Message,
    MessageFilter,
    MessageList,
    MessagePage,
    MessageUpdate,
    OrderBy,
    Resource,
    Thread,
    ThreadFilter,
    ThreadPage,
)

__all__ = [
    "CloneThreadOptions",
    "CloneThreadResult",
    "DateRange",
    "IncludeItem",
    "Message",
    "MessageFilter",
    "MessageList",
    "MessagePage",
    "MessageUpdate",
    "OrderBy",
    "Record",
    "Resource",
    "Thread",
    "ThreadFilter",
    "ThreadPage",
    "UtcDatetime",
]
