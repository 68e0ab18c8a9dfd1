"""Observability records (spec 3.4): spans, traces, list filters and pages.

Field names are snake_case with Mastra's camelCase aliases (``record.to_mastra()`` is Mastra's JSON).
Datetimes are aware UTC (naive input is taken as UTC; ISO-8601 strings are accepted).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from mastra_dynamo.records.base import Record, UtcDatetime
from mastra_dynamo.records.memory import DateRange


class TraceStatus(StrEnum):
    """A trace's status, computed from its root span."""

    SUCCESS = "success"
    ERROR = "error"
    RUNNING = "running"


class SpanData(Record):
    """The optional, updatable part of a span (every field of ``updates`` in update_span)."""

    name: str | None = None
    span_type: str | None = None
    is_event: bool | None = None
    started_at: UtcDatetime | None = None
    ended_at: UtcDatetime | None = None
    parent_span_id: str | None = None
    attributes: dict[str, Any] | None = None
    links: list[Any] | None = None
    input: Any = None
    output: Any = None
    error: Any = None
    metadata: dict[str, Any] | None = None
    tags: list[str] | None = None
    scope: dict[str, Any] | None = None
    request_context: dict[str, Any] | None = None
    experiment_id: str | None = None
    source: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    entity_name: str | None = None
    entity_version_id: str | None = None
    parent_entity_type: str | None = None
    parent_entity_id: str | None = None
    parent_entity_name: str | None = None
    parent_entity_version_id: str | None = None
    root_entity_type: str | None = None
    root_entity_id: str | None = None
    root_entity_name: str | None = None
    root_entity_version_id: str | None = None
    user_id: str | None = None
    organization_id: str | None = None
    resource_id: str | None = None
    run_id: str | None = None
    session_id: str | None = None
    thread_id: str | None = None
    request_id: str | None = None
    environment: str | None = None
    service_name: str | None = None


SpanUpdate = SpanData
"""Partial span for update_span: only the fields that are set change (``traceId``/``spanId`` excluded)."""


class CreateSpanRecord(SpanData):
    """A span as written by create_span (Mastra's ``CreateSpanRecord``: no createdAt/updatedAt).

    ``parent_span_id`` None (or ``""``) marks the root span of its trace; ``ended_at`` None means running.
    """

    trace_id: str
    span_id: str
    name: str
    span_type: str = Field(min_length=1)
    is_event: bool = False
    started_at: UtcDatetime

    @field_validator("trace_id", "span_id")
    @classmethod
    def _non_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a non-empty string")
        return value


class SpanRecord(CreateSpanRecord):
    """A stored span (Mastra's ``SpanRecord``)."""

    created_at: UtcDatetime
    updated_at: UtcDatetime | None = None


def trace_status(root: SpanData) -> TraceStatus:
    """The status a root span gives its trace: error (error set) > running (no end) > success."""
    if root.error is not None:
        return TraceStatus.ERROR
    if root.ended_at is None:
        return TraceStatus.RUNNING
    return TraceStatus.SUCCESS


class TraceSpan(SpanRecord):
    """A root span in list_traces results, with the trace's computed status."""

    status: TraceStatus


class SpanResult(Record):
    """``{span}`` as returned by get_span / get_root_span."""

    span: SpanRecord


class SpanList(Record):
    """``{spans}`` as returned by get_spans."""

    spans: list[SpanRecord]


class Trace(Record):
    """``{traceId, spans}`` as returned by get_trace (spans by start time, oldest first)."""

    trace_id: str
    spans: list[SpanRecord]


class TracesFilter(Record):
    """list_traces filters, matched against each trace's root span.

    A field that is set to None matches only root spans where that field is null; an unset field does not
    filter. ``scope``/``metadata`` match key by key (typed JSON equality); ``tags`` must all be present;
    ``status`` is the computed trace status; ``has_child_error`` asks whether any span of the trace has an
    error.
    """

    started_at: DateRange | None = None
    ended_at: DateRange | None = None
    trace_id: str | None = None
    span_type: str | None = None
    name: str | None = None
    experiment_id: str | None = None
    source: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    entity_name: str | None = None
    entity_version_id: str | None = None
    parent_entity_type: str | None = None
    parent_entity_id: str | None = None
    parent_entity_name: str | None = None
    parent_entity_version_id: str | None = None
    root_entity_type: str | None = None
    root_entity_id: str | None = None
    root_entity_name: str | None = None
    root_entity_version_id: str | None = None
    user_id: str | None = None
    organization_id: str | None = None
    resource_id: str | None = None
    run_id: str | None = None
    session_id: str | None = None
    thread_id: str | None = None
    request_id: str | None = None
    environment: str | None = None
    service_name: str | None = None
    scope: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    tags: list[str] | None = None
    status: TraceStatus | None = None
    has_child_error: bool | None = None


class PaginationInfo(Record):
    total: int
    page: int
    per_page: int
    has_more: bool


class TracePage(Record):
    """``{pagination, spans}`` as returned by list_traces."""

    pagination: PaginationInfo
    spans: list[TraceSpan]


__all__ = [
    "CreateSpanRecord",
    "DateRange",
    "PaginationInfo",
    "SpanData",
    "SpanList",
    "SpanRecord",
    "SpanResult",
    "SpanUpdate",
    "Trace",
    "TracePage",
    "TraceSpan",
    "TraceStatus",
    "TracesFilter",
    "trace_status",
]
