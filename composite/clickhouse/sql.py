"""SQL fragments for list_traces: filter conditions, ordering, bound parameters.

Values never enter SQL text: each becomes a server-side parameter ``{pN:Type}`` (ClickHouse binds them
itself). Only column names from ``schema.SPAN_COLUMNS`` and validated identifiers are spliced in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mastra_dynamo.composite.clickhouse.codec import dump_json, to_micros
from mastra_dynamo.composite.clickhouse.schema import BY_FIELD, quote
from mastra_dynamo.composite.spans import TracesFilter, TraceStatus
from mastra_dynamo.records.memory import DateRange
from mastra_dynamo.validate import check_metadata_filter

TEXT_FILTERS: tuple[str, ...] = (
    "trace_id", "span_type", "name", "experiment_id", "source",
    "entity_type", "entity_id", "entity_name", "entity_version_id",
    "parent_entity_type", "parent_entity_id", "parent_entity_name", "parent_entity_version_id",
    "root_entity_type", "root_entity_id", "root_entity_name", "root_entity_version_id",
    "user_id", "organization_id", "resource_id", "run_id", "session_id", "thread_id", "request_id",
    "environment", "service_name",
)
"""TracesFilter fields matched by exact equality against the root span's column of the same name."""


class Params:
    """Collects server-side query parameters; ``bind`` returns the placeholder to put in SQL."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def bind(self, value: Any, type_: str) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"{{{name}:{type_}}}"


def _col(field: str) -> str:
    return quote(BY_FIELD[field].name)


def _time(value: Any, params: Params) -> str:
    return f"fromUnixTimestamp64Micro({params.bind(to_micros(value), 'Int64')}, 'UTC')"


def _range(field: str, bounds: DateRange, params: Params) -> list[str]:
    column = _col(field)
    out: list[str] = []
    if bounds.start is not None:
        out.append(f"{column} {'>' if bounds.start_exclusive else '>='} {_time(bounds.start, params)}")
    if bounds.end is not None:
        out.append(f"{column} {'<' if bounds.end_exclusive else '<='} {_time(bounds.end, params)}")
    return out


def _json_key_equals(column: str, key: str, value: Any, params: Params) -> str:
    """Typed equality of one top-level key of a JSON text column (null, bool, number, string, or raw JSON)."""
    k = params.bind(key, "String")
    if value is None:
        return f"(JSONHas({column}, {k}) AND JSONType({column}, {k}) = 'Null')"
    if isinstance(value, bool):
        return f"(JSONType({column}, {k}) = 'Bool' AND JSONExtractBool({column}, {k}) = {params.bind(value, 'Bool')})"
    if isinstance(value, int | float):
        return (f"(JSONType({column}, {k}) IN ('Int64', 'UInt64', 'Double') "
                f"AND JSONExtractFloat({column}, {k}) = {params.bind(float(value), 'Float64')})")
    if isinstance(value, str):
        return (f"(JSONType({column}, {k}) = 'String' "
                f"AND JSONExtractString({column}, {k}) = {params.bind(value, 'String')})")
    return f"(JSONExtractRaw({column}, {k}) = {params.bind(dump_json(value), 'String')})"


def _json_matches(field: str, expected: Mapping[str, Any], params: Params) -> list[str]:
    checked = check_metadata_filter(expected, scalar_values=False)
    column = _col(field)
    return [_json_key_equals(column, key, value, params) for key, value in checked.items()]


def _status(status: TraceStatus) -> str:
    if status is TraceStatus.ERROR:
        return "`error` IS NOT NULL"
    if status is TraceStatus.RUNNING:
        return "(`error` IS NULL AND `endedAt` IS NULL)"
    return "(`error` IS NULL AND `endedAt` IS NOT NULL)"


def root_conditions(filters: TracesFilter, params: Params) -> list[str]:
    """Conditions on the roots table for every filter except ``has_child_error``."""
    given = filters.model_fields_set
    out: list[str] = []
    for field in TEXT_FILTERS:
        if field not in given:
            continue
        value = getattr(filters, field)
        out.append(f"{_col(field)} IS NULL" if value is None else f"{_col(field)} = {params.bind(value, 'String')}")
    if filters.started_at is not None:
        out.extend(_range("started_at", filters.started_at, params))
    if filters.ended_at is not None:
        out.extend(_range("ended_at", filters.ended_at, params))
    if filters.scope is not None:
        out.extend(_json_matches("scope", filters.scope, params))
    if filters.metadata is not None:
        out.extend(_json_matches("metadata", filters.metadata, params))
    if filters.tags:
        tags = params.bind(list(filters.tags), "Array(String)")
        out.append(f"hasAll(JSONExtract(ifNull(`tags`, '[]'), 'Array(String)'), {tags})")
    if filters.status is not None:
        out.append(_status(filters.status))
    return out


def where(conditions: list[str]) -> str:
    return " AND ".join(conditions) if conditions else "1"


def order_clause(field: str, direction: str) -> str:
    """ORDER BY for list_traces. ``endedAt``: DESC lists running traces first, ASC last; ties break by start
    time then trace id, in the requested direction (deterministic pages)."""
    if field == "endedAt":
        nulls = "NULLS FIRST" if direction == "DESC" else "NULLS LAST"
        return f"`endedAt` {direction} {nulls}, `startedAt` {direction}, `traceId` {direction}"
    return f"`startedAt` {direction}, `traceId` {direction}"


__all__ = ["TEXT_FILTERS", "Params", "order_clause", "root_conditions", "where"]
