"""The ClickHouse layout of the observability domain: columns, DDL, and the check of existing tables.

Two tables and one materialized view, all derived from ``SPAN_COLUMNS``:

``<prefix>ai_spans`` holds every span version. ``ENGINE = ReplacingMergeTree(_version)``,
``ORDER BY (traceId, spanId)``: the sorting key is the span identity (what ReplacingMergeTree deduplicates on)
and makes get_span / get_trace / get_spans a primary-key range read.

``<prefix>ai_trace_roots`` holds root spans only (filled by the view ``<prefix>ai_trace_roots_mv`` on every
insert into the spans table), ``ORDER BY (startedAt, traceId, spanId)``: list_traces filters and sorts by
start time, so a time window is a primary-key range and the default ``startedAt DESC ... LIMIT`` page reads in
key order instead of scanning every span of every trace.

Both are ``PARTITION BY toYYYYMM(startedAt)``. ``startedAt`` never changes for a span (updates may not change
it), so all versions of a span live in one partition: merges can deduplicate them, reads may use FINAL with
``do_not_merge_across_partitions_select_final``, and retention drops whole months cheaply. Retention is a
table TTL on ``startedAt`` (``retention_days``), kept in sync by ``init()``; ClickHouse deletes expired rows
only when it merges parts, so the store's reads also filter on ``startedAt`` (expired spans are never returned).

Every row carries ``_version`` (UInt64, nanoseconds, strictly greater than the version it replaces), the
ReplacingMergeTree version column: the newest write always wins, even for two updates in the same millisecond.
Every read uses FINAL so an updated span is never seen twice or stale, before or after background merges.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mastra_dynamo.errors import TableMismatchError, ValidationError

ColumnKind = Literal["text", "json", "datetime", "bool", "version"]

DATETIME = "DateTime64(6, 'UTC')"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,191}$")


@dataclass(frozen=True)
class Column:
    name: str
    """Column name = the record's camelCase alias."""
    type: str
    """ClickHouse type exactly as ``system.columns`` reports it."""
    kind: ColumnKind
    field: str | None
    """Record attribute (snake_case); None for internal columns."""


def _col(name: str, type_: str, kind: ColumnKind, field: str | None) -> Column:
    return Column(name, type_, kind, field)


_OPT = "Nullable(String)"
_LC_OPT = "LowCardinality(Nullable(String))"

SPAN_COLUMNS: tuple[Column, ...] = (
    _col("traceId", "String", "text", "trace_id"),
    _col("spanId", "String", "text", "span_id"),
    _col("parentSpanId", _OPT, "text", "parent_span_id"),
    _col("name", "String", "text", "name"),
    _col("spanType", "LowCardinality(String)", "text", "span_type"),
    _col("isEvent", "Bool", "bool", "is_event"),
    _col("startedAt", DATETIME, "datetime", "started_at"),
    _col("endedAt", f"Nullable({DATETIME})", "datetime", "ended_at"),
    _col("experimentId", _OPT, "text", "experiment_id"),
    _col("source", _LC_OPT, "text", "source"),
    _col("entityType", _LC_OPT, "text", "entity_type"),
    _col("entityId", _OPT, "text", "entity_id"),
    _col("entityName", _OPT, "text", "entity_name"),
    _col("entityVersionId", _OPT, "text", "entity_version_id"),
    _col("parentEntityType", _LC_OPT, "text", "parent_entity_type"),
    _col("parentEntityId", _OPT, "text", "parent_entity_id"),
    _col("parentEntityName", _OPT, "text", "parent_entity_name"),
    _col("parentEntityVersionId", _OPT, "text", "parent_entity_version_id"),
    _col("rootEntityType", _LC_OPT, "text", "root_entity_type"),
    _col("rootEntityId", _OPT, "text", "root_entity_id"),
    _col("rootEntityName", _OPT, "text", "root_entity_name"),
    _col("rootEntityVersionId", _OPT, "text", "root_entity_version_id"),
    _col("userId", _OPT, "text", "user_id"),
    _col("organizationId", _OPT, "text", "organization_id"),
    _col("resourceId", _OPT, "text", "resource_id"),
    _col("runId", _OPT, "text", "run_id"),
    _col("sessionId", _OPT, "text", "session_id"),
    _col("threadId", _OPT, "text", "thread_id"),
    _col("requestId", _OPT, "text", "request_id"),
    _col("environment", _LC_OPT, "text", "environment"),
    _col("serviceName", _LC_OPT, "text", "service_name"),
    _col("attributes", _OPT, "json", "attributes"),
    _col("links", _OPT, "json", "links"),
    _col("input", _OPT, "json", "input"),
    _col("output", _OPT, "json", "output"),
    _col("error", _OPT, "json", "error"),
    _col("metadata", _OPT, "json", "metadata"),
    _col("tags", _OPT, "json", "tags"),
    _col("scope", _OPT, "json", "scope"),
    _col("requestContext", _OPT, "json", "request_context"),
    _col("createdAt", DATETIME, "datetime", "created_at"),
    _col("updatedAt", f"Nullable({DATETIME})", "datetime", "updated_at"),
    _col("_version", "UInt64", "version", None),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in SPAN_COLUMNS)
COLUMN_TYPES: tuple[str, ...] = tuple(c.type for c in SPAN_COLUMNS)
BY_FIELD: Mapping[str, Column] = {c.field: c for c in SPAN_COLUMNS if c.field is not None}

SPANS_ORDER_BY = "traceId, spanId"
ROOTS_ORDER_BY = "startedAt, traceId, spanId"
PARTITION_BY = "toYYYYMM(startedAt)"
ROOT_CONDITION = "(parentSpanId IS NULL OR parentSpanId = '')"
IMMUTABLE_FIELDS = ("started_at", "parent_span_id")
"""Fields an update may repeat but not change: the partition key, and root-ness (the roots table)."""


def check_identifier(value: Any, *, what: str) -> str:
    """A ClickHouse identifier we can splice into SQL (quoted with backticks)."""
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise ValidationError(f"{what} must match ^[A-Za-z_][A-Za-z0-9_]*$ (got {str(value)[:64]!r})",
                              code="INVALID_IDENTIFIER", details={"what": what})
    return value


def quote(identifier: str) -> str:
    return f"`{identifier}`"


@dataclass(frozen=True)
class SpanTables:
    """Names and DDL of the observability tables in one database."""

    database: str
    prefix: str = "mastra_"
    retention_days: int | None = None

    def __post_init__(self) -> None:
        check_identifier(self.database, what="database")
        if self.prefix:
            check_identifier(self.prefix, what="table_prefix")
        if self.retention_days is not None and (
            isinstance(self.retention_days, bool) or not isinstance(self.retention_days, int)
            or self.retention_days < 1
        ):
            raise ValidationError("retention_days must be a positive integer (or None to keep spans forever)",
                                  code="INVALID_RETENTION")

    @property
    def spans_name(self) -> str:
        return f"{self.prefix}ai_spans"

    @property
    def roots_name(self) -> str:
        return f"{self.prefix}ai_trace_roots"

    @property
    def view_name(self) -> str:
        return f"{self.prefix}ai_trace_roots_mv"

    @property
    def spans(self) -> str:
        return f"{quote(self.database)}.{quote(self.spans_name)}"

    @property
    def roots(self) -> str:
        return f"{quote(self.database)}.{quote(self.roots_name)}"

    @property
    def view(self) -> str:
        return f"{quote(self.database)}.{quote(self.view_name)}"

    @property
    def ttl_expression(self) -> str | None:
        if self.retention_days is None:
            return None
        return f"toDateTime(startedAt) + toIntervalDay({self.retention_days})"

    def create_table(self, name: str, order_by: str) -> str:
        columns = ",\n  ".join(f"{quote(c.name)} {c.type}" for c in SPAN_COLUMNS)
        ttl = f"\nTTL {self.ttl_expression}" if self.ttl_expression else ""
        return (
            f"CREATE TABLE IF NOT EXISTS {quote(self.database)}.{quote(name)} (\n  {columns}\n)\n"
            f"ENGINE = ReplacingMergeTree(_version)\nPARTITION BY {PARTITION_BY}\nORDER BY ({order_by})"
            f"{ttl}\nSETTINGS index_granularity = 8192"
        )

    def create_statements(self) -> dict[str, str]:
        """Object name -> CREATE statement, in creation order (the view last: it needs both tables)."""
        columns = ", ".join(quote(c) for c in COLUMN_NAMES)
        return {
            self.spans_name: self.create_table(self.spans_name, SPANS_ORDER_BY),
            self.roots_name: self.create_table(self.roots_name, ROOTS_ORDER_BY),
            self.view_name: (
                f"CREATE MATERIALIZED VIEW IF NOT EXISTS {self.view} TO {self.roots} AS "
                f"SELECT {columns} FROM {self.spans} WHERE {ROOT_CONDITION}"
            ),
        }

    def expected_sorting_key(self, name: str) -> str:
        return SPANS_ORDER_BY if name == self.spans_name else ROOTS_ORDER_BY

    def modify_ttl(self, name: str) -> str:
        target = f"{quote(self.database)}.{quote(name)}"
        if self.ttl_expression is None:
            return f"ALTER TABLE {target} REMOVE TTL"
        return f"ALTER TABLE {target} MODIFY TTL {self.ttl_expression}"


_TTL_IN_ENGINE = re.compile(r"\bTTL\s+(.*?)(?:\s+SETTINGS\b|$)", re.DOTALL)


def table_ttl(engine_full: str) -> str | None:
    """The table TTL expression from ``system.tables.engine_full`` (None when the table has none)."""
    match = _TTL_IN_ENGINE.search(engine_full)
    return match.group(1).strip() if match else None


def table_problems(tables: SpanTables, name: str, info: Mapping[str, Any],
                   columns: Sequence[tuple[str, str]]) -> list[str]:
    """What keeps an existing table from serving as ``name`` (empty when it matches).

    ``info`` is its ``system.tables`` row (engine, sorting_key, partition_key, engine_full); ``columns`` its
    (name, type) pairs. Extra columns are allowed; TTL differences are not problems (init() adjusts them).
    """
    problems: list[str] = []
    engine = str(info.get("engine", ""))
    if engine != "ReplacingMergeTree":
        problems.append(f"{name}: engine is {engine!r}, expected 'ReplacingMergeTree'")
    elif "ReplacingMergeTree(_version)" not in str(info.get("engine_full", "")):
        problems.append(f"{name}: ReplacingMergeTree must use the _version column as its version")
    sorting_key = str(info.get("sorting_key", ""))
    if sorting_key != tables.expected_sorting_key(name):
        problems.append(f"{name}: ORDER BY is ({sorting_key}), expected ({tables.expected_sorting_key(name)})")
    partition_key = str(info.get("partition_key", ""))
    if partition_key != PARTITION_BY:
        problems.append(f"{name}: PARTITION BY is {partition_key or 'nothing'}, expected {PARTITION_BY}")
    actual = dict(columns)
    for column in SPAN_COLUMNS:
        found = actual.get(column.name)
        if found is None:
            problems.append(f"{name}: column {column.name} is missing")
        elif found != column.type:
            problems.append(f"{name}: column {column.name} is {found}, expected {column.type}")
    return problems


def raise_mismatch(database: str, problems: list[str]) -> None:
    if problems:
        raise TableMismatchError(
            f"the observability tables in database {database!r} do not match the layout this store needs: "
            + "; ".join(problems)
            + ". Use another database or table_prefix, or migrate the existing data into a new table.",
            details={"database": database, "problems": problems},
        )


__all__ = [
    "BY_FIELD",
    "COLUMN_NAMES",
    "COLUMN_TYPES",
    "IMMUTABLE_FIELDS",
    "ROOT_CONDITION",
    "SPAN_COLUMNS",
    "Column",
    "SpanTables",
    "check_identifier",
    "quote",
    "raise_mismatch",
    "table_problems",
    "table_ttl",
]
