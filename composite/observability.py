"""The observability domain contract (spec 3.4) as a typing Protocol.

Every method is keyword-only and raises only StorageError subclasses. ``ClickHouseObservabilityStore``
implements it; any other backend can, without inheriting from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from mastra_dynamo.composite.spans import (
    CreateSpanRecord,
    SpanList,
    SpanResult,
    SpanUpdate,
    Trace,
    TracePage,
    TracesFilter,
)


@runtime_checkable
class ObservabilityStorage(Protocol):
    """Traces and spans: write spans (optionally updating them), read traces, list root spans."""

    @property
    def observability_strategy(self) -> Mapping[str, Any]: ...

    def init(self) -> None: ...

    def create_span(self, *, span: CreateSpanRecord | Mapping[str, Any]) -> None: ...

    def batch_create_spans(self, *, records: Sequence[CreateSpanRecord | Mapping[str, Any]]) -> None: ...

    def update_span(
        self, *, trace_id: str, span_id: str, updates: SpanUpdate | Mapping[str, Any]
    ) -> None: ...

    def batch_update_spans(self, *, records: Sequence[Mapping[str, Any]]) -> None: ...

    def get_span(self, *, trace_id: str, span_id: str) -> SpanResult | None: ...

    def get_root_span(self, *, trace_id: str) -> SpanResult | None: ...

    def get_trace(self, *, trace_id: str) -> Trace | None: ...

    def get_spans(self, *, trace_id: str, span_ids: Sequence[str]) -> SpanList: ...

    def list_traces(
        self,
        *,
        filters: TracesFilter | Mapping[str, Any] | None = None,
        pagination: Mapping[str, Any] | None = None,
        order_by: Mapping[str, Any] | None = None,
    ) -> TracePage: ...

    def batch_delete_traces(
        self,
        *,
        trace_ids: Sequence[str],
        organization_id: str | None = None,
        resource_id: str | None = None,
    ) -> None: ...

    def dangerously_clear_all(self) -> None: ...

    def close(self) -> None: ...


__all__ = ["ObservabilityStorage"]
