"""Span builders for the observability tests (Mastra's camelCase shape, like an exporter sends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

BASE_TIME = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=123456)
"""Recent (TTL tests must not expire it) with sub-millisecond digits (exact round trips)."""


def at(**delta: float) -> datetime:
    return BASE_TIME + timedelta(**delta)


def span(trace_id: str, span_id: str, *, parent: str | None = None, start: float = 0.0,
         end: float | None = None, **fields: Any) -> dict[str, Any]:
    """A span starting ``start`` seconds after BASE_TIME (ended ``end`` seconds after it, if given)."""
    data: dict[str, Any] = {
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": fields.pop("name", f"{span_id}-name"),
        "spanType": fields.pop("spanType", "agent_run" if parent is None else "tool_call"),
        "isEvent": fields.pop("isEvent", False),
        "startedAt": at(seconds=start),
    }
    if end is not None:
        data["endedAt"] = at(seconds=end)
    data.update(fields)
    return data


def trace(trace_id: str, *, start: float = 0.0, end: float | None = None, children: int = 2,
          **root_fields: Any) -> list[dict[str, Any]]:
    """A root span plus ``children`` child spans."""
    spans = [span(trace_id, "root", start=start, end=end, **root_fields)]
    spans += [span(trace_id, f"child-{i}", parent="root", start=start + i + 0.5) for i in range(children)]
    return spans
