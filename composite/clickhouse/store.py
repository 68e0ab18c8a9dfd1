"""ClickHouseObservabilityStore: the observability domain (spec 3.4) on ClickHouse or embedded chDB.

One implementation over clickhouse-connect serves a ClickHouse server (HTTP/HTTPS: ``host``/``port`` or a
``dsn``) and chDB in-process (the default when neither is given). The table layout and its reasons are in
``mastra_dynamo.composite.clickhouse.schema``.

Writes: spans are inserted in batches (one insert request per ``insert_batch_size`` spans). An update reads the
current version of the span (FINAL) and inserts the merged span with a higher ``_version``; ReplacingMergeTree
keeps the newest. Reads always deduplicate with FINAL. ``startedAt`` and ``parentSpanId`` are fixed once a span
is stored (they choose its partition and whether it is listed as a trace root): updates and re-creations that
would change them are rejected with a ValidationError.

Bad spans in a batch: every record is validated before anything is sent. If any record is invalid, the whole
batch is rejected with one ValidationError (code ``INVALID_SPANS``) whose ``details["errors"]`` lists every bad
record (index, traceId, spanId, message); nothing is written. Writes are idempotent (re-inserting a span
replaces it), so the caller can drop the bad records and resend the rest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field

from mastra_dynamo.clock import Clock, utc_now
from mastra_dynamo.composite.clickhouse.client import ClickHouseClient, ConnectionSettings
from mastra_dynamo.composite.clickhouse.codec import from_row, select_list, to_micros, to_row
from mastra_dynamo.composite.clickhouse.schema import (
    COLUMN_NAMES,
    COLUMN_TYPES,
    IMMUTABLE_FIELDS,
    ROOT_CONDITION,
    SpanTables,
    check_identifier,
    raise_mismatch,
    table_problems,
    table_ttl,
)
from mastra_dynamo.composite.clickhouse.sql import Params, order_clause, root_conditions, where
from mastra_dynamo.composite.spans import (
    CreateSpanRecord,
    PaginationInfo,
    SpanList,
    SpanRecord,
    SpanResult,
    SpanUpdate,
    Trace,
    TracePage,
    TracesFilter,
    TraceSpan,
    trace_status,
)
from mastra_dynamo.errors import NotFoundError, ValidationError
from mastra_dynamo.records.base import Record, coerce
from mastra_dynamo.validate import require_id, resolve_order

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 10
MAX_DELETE_TRACES = 1000
READ_SETTINGS: Mapping[str, Any] = {"do_not_merge_across_partitions_select_final": 1}
"""Safe because all versions of a span share a partition (startedAt is immutable); makes FINAL cheaper."""

SpanKey = tuple[str, str]


class _VersionClock:
    """Strictly increasing ``_version`` values: nanoseconds, never equal to or below one already used."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self, after: int = 0) -> int:
        with self._lock:
            value = max(time.time_ns(), self._last + 1, after + 1)
            self._last = value
            return value


_VERSIONS = _VersionClock()


class _UpdateEntry(Record):
    trace_id: str
    span_id: str
    updates: SpanUpdate = Field(default_factory=SpanUpdate)


def _problem(index: int, record: Any, message: str) -> dict[str, Any]:
    ids: dict[str, Any] = {"index": index, "message": message}
    if isinstance(record, Mapping):
        for key in ("traceId", "spanId"):
            value = record.get(key, record.get("trace_id" if key == "traceId" else "span_id"))
            if isinstance(value, str):
                ids[key] = value[:256]
    else:
        for key, attr in (("traceId", "trace_id"), ("spanId", "span_id")):
            value = getattr(record, attr, None)
            if isinstance(value, str):
                ids[key] = value[:256]
    return ids


def _reject(problems: list[dict[str, Any]], total: int, *, what: str) -> None:
    if not problems:
        return
    shown = "; ".join(f"#{p['index']}: {p['message']}" for p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    raise ValidationError(
        f"{len(problems)} of {total} {what} invalid; nothing was written: {shown}{more}",
        code="INVALID_SPANS",
        details={"errors": problems, "invalid": len(problems), "total": total},
    )


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"[:300]


def _pagination(pagination: Mapping[str, Any] | None) -> tuple[int, int]:
    page: Any = 0
    per_page: Any = DEFAULT_PER_PAGE
    if pagination is not None:
        if not isinstance(pagination, Mapping):
            raise ValidationError("pagination must be an object {page, perPage}", code="INVALID_PAGINATION")
        unknown = set(pagination) - {"page", "per_page", "perPage"}
        if unknown:
            raise ValidationError(f"unknown pagination keys: {sorted(unknown)}", code="INVALID_PAGINATION")
        page = pagination.get("page", 0)
        per_page = pagination.get("per_page", pagination.get("perPage", DEFAULT_PER_PAGE))
        page = 0 if page is None else page
        per_page = DEFAULT_PER_PAGE if per_page is None else per_page
    if isinstance(page, bool) or not isinstance(page, int) or page < 0:
        raise ValidationError("page must be an integer >= 0", code="INVALID_PAGINATION")
    if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
        raise ValidationError(f"perPage must be an integer from 1 to {MAX_PER_PAGE}", code="INVALID_PAGINATION")
    return page, per_page


class ClickHouseObservabilityStore:
    """Mastra's observability domain (traces and spans) on ClickHouse, or on embedded chDB by default.

    Args:
        id: store id (shown in logs and errors).
        host, port, username, password, secure: a ClickHouse server over HTTP(S) (ClickHouse Cloud: port 8443,
            ``secure=True``).
        dsn: a clickhouse-connect DSN instead of host/port (``https://user:pw@host:8443``, or
            ``chdb:///abs/path`` for chDB).
        path: chDB data directory when no server is given (default: a new temporary directory). chDB hosts
            ONE engine path per process: every embedded store in a process must use the same path.
        database: the database holding the tables (created by ``init()`` when missing).
        table_prefix: prefix of the table names (``<prefix>ai_spans``, ``<prefix>ai_trace_roots``).
        retention_days: keep spans this many days after they started (a ClickHouse TTL); None keeps them.
        settings: ClickHouse settings for every request of this client.
        insert_batch_size: at most this many spans per insert request.
        client: an existing clickhouse-connect client to use instead of connecting.
        clock: injectable time source for createdAt/updatedAt (tests).

    Connecting is lazy: nothing touches the network (or chDB) before the first call.

    Raises:
        ValidationError: invalid database name, table prefix, retention or batch size.
    """

    name = "ClickHouseObservabilityStore"

    def __init__(
        self,
        *,
        id: str = "clickhouse-observability",
        host: str | None = None,
        port: int | None = None,
        username: str = "default",
        password: str = "",
        database: str = "default",
        secure: bool = False,
        dsn: str | None = None,
        path: str | None = None,
        retention_days: int | None = None,
        table_prefix: str = "mastra_",
        settings: Mapping[str, Any] | None = None,
        connect_timeout: int = 10,
        send_receive_timeout: int = 300,
        insert_batch_size: int = 10_000,
        client: Any = None,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(id, str) or not id.strip():
            raise ValidationError(f"{self.name}: id must be provided and cannot be empty.", code="INVALID_STORE_ID")
        check_identifier(database, what="database")
        if isinstance(insert_batch_size, bool) or not isinstance(insert_batch_size, int) or insert_batch_size < 1:
            raise ValidationError("insert_batch_size must be a positive integer", code="INVALID_BATCH_SIZE")
        if port is not None and host is None and dsn is None:
            raise ValidationError("port was given without host", code="INVALID_CONNECTION")
        if path is not None and (host is not None or (dsn is not None and not dsn.startswith("chdb:"))):
            raise ValidationError("path (chDB) cannot be combined with a ClickHouse server host or dsn",
                                  code="INVALID_CONNECTION")
        self.id = id
        self.tables = SpanTables(database=database, prefix=table_prefix, retention_days=retention_days)
        self.database = database
        self.retention_days = retention_days
        self.insert_batch_size = insert_batch_size
        self.clock: Clock = clock or utc_now
        connection = ConnectionSettings(
            host=host, port=port, username=username, password=password, secure=secure, dsn=dsn, path=path,
            connect_timeout=connect_timeout, send_receive_timeout=send_receive_timeout,
            settings=dict(settings or {}),
        )
        self.embedded = connection.embedded
        self.client = ClickHouseClient(connection, factory=(lambda: client) if client is not None else None)
        self._init_lock = threading.Lock()
        self._initialized = False

    @property
    def path(self) -> str | None:
        """The chDB engine path in use (after the first call), else None."""
        return self.client.path

    @property
    def observability_strategy(self) -> dict[str, Any]:
        """Span updates are supported (read + versioned insert); per-span realtime writes are not advised on
        ClickHouse (many tiny inserts), so they are not offered."""
        return {"preferred": "batch-with-updates", "supported": ["batch-with-updates", "insert-only"]}

    tracing_strategy = observability_strategy

    # ------------------------------------------------------------------ schema
    def init(self) -> None:
        """Create the database, tables and view when missing; check existing ones; align the TTL.

        Cached after success; retried after a failure; safe to call concurrently and from many processes.

        Raises:
            TableMismatchError: an existing table or view does not have the expected engine, keys or columns.
            ConfigurationError: driver missing, credentials refused, chDB path conflict.
            RetryableError: ClickHouse unreachable or overloaded.
            BackendError: any other ClickHouse failure.
        """
        with self._init_lock:
            if self._initialized:
                return
            self._ensure_schema()
            self._initialized = True

    def _ensure_schema(self) -> None:
        t = self.tables
        names = [t.spans_name, t.roots_name, t.view_name]
        _, dbs = self.client.query("SELECT name FROM system.databases WHERE name = {db:String}",
                                   {"db": t.database}, operation="Init")
        if not dbs:
            self.client.command(f"CREATE DATABASE IF NOT EXISTS `{t.database}`", operation="Init")
        _, table_rows = self.client.query(
            "SELECT name, engine, sorting_key, partition_key, engine_full, create_table_query FROM system.tables "
            "WHERE database = {db:String} AND name IN {names:Array(String)}",
            {"db": t.database, "names": names}, operation="Init")
        info = {row[0]: dict(zip(("name", "engine", "sorting_key", "partition_key", "engine_full", "create"),
                                 row, strict=True)) for row in table_rows}
        _, column_rows = self.client.query(
            "SELECT table, name, type FROM system.columns WHERE database = {db:String} "
            "AND table IN {names:Array(String)} ORDER BY table, position",
            {"db": t.database, "names": names}, operation="Init")
        problems: list[str] = []
        for table in (t.spans_name, t.roots_name):
            if table in info:
                columns = [(str(r[1]), str(r[2])) for r in column_rows if r[0] == table]
                problems.extend(table_problems(t, table, info[table], columns))
        view = info.get(t.view_name)
        if view is not None:
            if view["engine"] != "MaterializedView":
                problems.append(f"{t.view_name}: is a {view['engine']}, expected a MaterializedView")
            elif t.roots_name not in str(view["create"]):
                problems.append(f"{t.view_name}: does not write into {t.roots_name}")
        raise_mismatch(t.database, problems)
        for name, statement in t.create_statements().items():
            if name not in info:
                self.client.command(statement, operation="Init", table=name)
        for table in (t.spans_name, t.roots_name):
            if table in info and table_ttl(str(info[table]["engine_full"])) != t.ttl_expression:
                self.client.command(t.modify_ttl(table), operation="Init", table=table,
                                    settings={"materialize_ttl_after_modify": 0})

    # ------------------------------------------------------------------ writes
    def create_span(self, *, span: CreateSpanRecord | Mapping[str, Any]) -> None:
        """Insert one span (createdAt = updatedAt = now). Re-creating an existing span replaces it; its
        startedAt and parentSpanId must stay the same.

        Raises:
            ValidationError: missing/invalid fields or a payload JSON cannot hold (code ``INVALID_SPANS``).
            StorageError: ClickHouse failures (see ``init``), TableNotFoundError before ``init()``.
        """
        self.batch_create_spans(records=[span])

    def batch_create_spans(self, *, records: Sequence[CreateSpanRecord | Mapping[str, Any]]) -> None:
        """Insert many spans, ``insert_batch_size`` per request. All records are validated first: if any is
        invalid nothing is written and the ValidationError lists every bad record. An empty list is a no-op.
        One primary-key read per call checks that re-created spans keep their startedAt and parentSpanId.

        Raises:
            ValidationError: ``records`` is not a list, or some records are invalid (code ``INVALID_SPANS``).
            StorageError: ClickHouse failures (see ``init``).
        """
        if isinstance(records, str | bytes | Mapping) or not isinstance(records, Sequence):
            raise ValidationError("records must be a list of spans", code="INVALID_INPUT")
        now = self.clock()
        rows: list[list[Any]] = []
        spans: list[tuple[int, CreateSpanRecord]] = []
        problems: list[dict[str, Any]] = []
        for index, raw in enumerate(records):
            try:
                span = coerce(CreateSpanRecord, raw, what="span")
                rows.append(to_row(span, _VERSIONS.next(), {"created_at": now, "updated_at": now}))
                spans.append((index, span))
            except (ValidationError, TypeError, ValueError) as exc:
                problems.append(_problem(index, raw, _message(exc)))
        _reject(problems, len(records), what="spans are")
        if not rows:
            return
        problems = self._placement_conflicts(spans)
        _reject(problems, len(records), what="spans are")
        self._insert(rows, operation="BatchCreateSpans")

    def _placement_conflicts(self, spans: list[tuple[int, CreateSpanRecord]]) -> list[dict[str, Any]]:
        """Spans that would re-create a stored (or earlier in the batch) span with another startedAt or
        parentSpanId: those decide the partition and the roots table, so every version must agree on them."""
        placement: dict[SpanKey, tuple[int, str | None]] = {}
        _, stored = self.client.query(
            f"SELECT `traceId`, `spanId`, toUnixTimestamp64Micro(`startedAt`), `parentSpanId` FROM "
            f"{self.tables.spans} WHERE `traceId` IN {{t:Array(String)}} AND `spanId` IN {{s:Array(String)}}",
            {"t": sorted({s.trace_id for _, s in spans}), "s": sorted({s.span_id for _, s in spans})},
            operation="BatchCreateSpans")
        for trace_id, span_id, started_us, parent in stored:
            placement[(str(trace_id), str(span_id))] = (int(started_us), parent or None)
        problems: list[dict[str, Any]] = []
        for index, span in spans:
            key = (span.trace_id, span.span_id)
            mine = (to_micros(span.started_at), span.parent_span_id or None)
            known = placement.setdefault(key, mine)
            if known != mine:
                problems.append(_problem(index, span, "startedAt and parentSpanId of an existing span cannot "
                                                      "change (delete the trace first)"))
        return problems

    def update_span(self, *, trace_id: str, span_id: str, updates: SpanUpdate | Mapping[str, Any]) -> None:
        """Apply ``updates`` (only the fields set) to a stored span; updatedAt = now.

        ``startedAt`` and ``parentSpanId`` may be repeated but not changed (they place the span in its
        partition and decide whether it is a trace root). Two concurrent updates of the same span both apply to
        the version they read; the later write wins.

        Raises:
            NotFoundError: no such span (code ``SPAN_NOT_FOUND``).
            ValidationError: invalid ids or updates, or a change of an immutable field.
            StorageError: ClickHouse failures (see ``init``).
        """
        trace_id = require_id(trace_id, field="traceId")
        span_id = require_id(span_id, field="spanId")
        update = coerce(SpanUpdate, updates, what="span update")
        current = self._fetch([(trace_id, span_id)], operation="UpdateSpan")
        if (trace_id, span_id) not in current:
            raise NotFoundError(f"span {span_id!r} of trace {trace_id!r} not found", code="SPAN_NOT_FOUND",
                                details={"traceId": trace_id, "spanId": span_id})
        record, version = current[(trace_id, span_id)]
        try:
            merged = self._merge(record, update)
            row = to_row(merged, _VERSIONS.next(version), {})
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"invalid span update: {_message(exc)}", code="INVALID_INPUT",
                                  details={"traceId": trace_id, "spanId": span_id}) from None
        self._insert([row], operation="UpdateSpan")

    def batch_update_spans(self, *, records: Sequence[Mapping[str, Any]]) -> None:
        """Apply many ``{traceId, spanId, updates}`` in one read and one insert. Spans that do not exist are
        skipped; several updates of one span apply in order. Validated first: if any entry is invalid,
        nothing is written.

        Raises:
            ValidationError: invalid entries (code ``INVALID_SPANS``, every bad entry listed).
            StorageError: ClickHouse failures (see ``init``).
        """
        if isinstance(records, str | bytes | Mapping) or not isinstance(records, Sequence):
            raise ValidationError("records must be a list of {traceId, spanId, updates}", code="INVALID_INPUT")
        entries: list[tuple[int, _UpdateEntry]] = []
        problems: list[dict[str, Any]] = []
        for index, raw in enumerate(records):
            try:
                entry = coerce(_UpdateEntry, raw, what="span update")
                require_id(entry.trace_id, field="traceId")
                require_id(entry.span_id, field="spanId")
                entries.append((index, entry))
            except ValidationError as exc:
                problems.append(_problem(index, raw, exc.message))
        _reject(problems, len(records), what="span updates are")
        if not entries:
            return
        current = self._fetch([(e.trace_id, e.span_id) for _, e in entries], operation="BatchUpdateSpans")
        merged: dict[SpanKey, SpanRecord] = {}
        for index, entry in entries:
            key = (entry.trace_id, entry.span_id)
            if key not in current:
                continue
            try:
                merged[key] = self._merge(merged.get(key, current[key][0]), entry.updates)
            except ValidationError as exc:
                problems.append(_problem(index, entry, exc.message))
        rows: list[list[Any]] = []
        for key, record in merged.items():
            try:
                rows.append(to_row(record, _VERSIONS.next(current[key][1]), {}))
            except (TypeError, ValueError) as exc:
                problems.append({"index": -1, "traceId": key[0], "spanId": key[1], "message": _message(exc)})
        _reject(problems, len(records), what="span updates are")
        self._insert(rows, operation="BatchUpdateSpans")

    def _merge(self, record: SpanRecord, update: SpanUpdate) -> SpanRecord:
        changes = update.model_dump(include=update.model_fields_set)
        for field in IMMUTABLE_FIELDS:
            if field in changes and (changes[field] or None) != (getattr(record, field) or None):
                raise ValidationError(f"{field} of a stored span cannot change", code="IMMUTABLE_SPAN_FIELD",
                                      details={"field": field})
        data = record.model_dump(include=record.model_fields_set)
        data.update(changes)
        data["updated_at"] = self.clock()
        return coerce(SpanRecord, data, what="updated span")

    def _insert(self, rows: list[list[Any]], *, operation: str) -> None:
        for start in range(0, len(rows), self.insert_batch_size):
            self.client.insert(self.tables.spans, rows[start:start + self.insert_batch_size],
                               column_names=COLUMN_NAMES, column_types=COLUMN_TYPES, operation=operation)

    # ------------------------------------------------------------------ reads
    def _alive(self, conditions: list[str]) -> list[str]:
        """``conditions`` plus, with retention, "not past its TTL": ClickHouse removes expired rows only when it
        merges parts, so reads hide them themselves (every read answers as if they were gone)."""
        if self.retention_days is None:
            return conditions
        return [*conditions, f"`startedAt` > now64(6) - toIntervalDay({self.retention_days})"]

    def _select(self, condition: str, params: Mapping[str, Any], *, suffix: str = "", operation: str,
                table: str | None = None) -> list[tuple[SpanRecord, int]]:
        names, rows = self.client.query(
            f"SELECT {select_list()} FROM {table or self.tables.spans} FINAL WHERE {where(self._alive([condition]))}"
            f" {suffix}", params, operation=operation, settings=READ_SETTINGS)
        return [from_row(names, row) for row in rows]

    def _fetch(self, keys: Sequence[SpanKey], *, operation: str) -> dict[SpanKey, tuple[SpanRecord, int]]:
        wanted = set(keys)
        found = self._select(
            "`traceId` IN {t:Array(String)} AND `spanId` IN {s:Array(String)}",
            {"t": sorted({k[0] for k in wanted}), "s": sorted({k[1] for k in wanted})}, operation=operation)
        return {(r.trace_id, r.span_id): (r, v) for r, v in found if (r.trace_id, r.span_id) in wanted}

    def get_span(self, *, trace_id: str, span_id: str) -> SpanResult | None:
        """``{span}`` or None when the span does not exist.

        Raises:
            ValidationError: blank ids.
            StorageError: ClickHouse failures (see ``init``).
        """
        key = (require_id(trace_id, field="traceId"), require_id(span_id, field="spanId"))
        found = self._fetch([key], operation="GetSpan").get(key)
        return None if found is None else SpanResult(span=found[0])

    def get_root_span(self, *, trace_id: str) -> SpanResult | None:
        """``{span}`` of the trace's root span (no parentSpanId), or None.

        Raises:
            ValidationError: blank trace id.
            StorageError: ClickHouse failures (see ``init``).
        """
        found = self._select(f"`traceId` = {{t:String}} AND {ROOT_CONDITION}",
                             {"t": require_id(trace_id, field="traceId")},
                             suffix="ORDER BY `startedAt` ASC, `spanId` ASC LIMIT 1", operation="GetRootSpan")
        return SpanResult(span=found[0][0]) if found else None

    def get_trace(self, *, trace_id: str) -> Trace | None:
        """``{traceId, spans}`` (oldest span first), or None when the trace has no spans.

        Raises:
            ValidationError: blank trace id.
            StorageError: ClickHouse failures (see ``init``).
        """
        trace_id = require_id(trace_id, field="traceId")
        found = self._select("`traceId` = {t:String}", {"t": trace_id},
                             suffix="ORDER BY `startedAt` ASC, `spanId` ASC", operation="GetTrace")
        return Trace(trace_id=trace_id, spans=[r for r, _ in found]) if found else None

    def get_spans(self, *, trace_id: str, span_ids: Sequence[str]) -> SpanList:
        """``{spans}`` for the given span ids of one trace (missing ones omitted; oldest first).

        Raises:
            ValidationError: blank ids.
            StorageError: ClickHouse failures (see ``init``).
        """
        trace_id = require_id(trace_id, field="traceId")
        if isinstance(span_ids, str) or not isinstance(span_ids, Sequence):
            raise ValidationError("span_ids must be a list of span ids", code="INVALID_INPUT")
        ids = sorted({require_id(s, field="spanIds[]") for s in span_ids})
        if not ids:
            return SpanList(spans=[])
        found = self._select("`traceId` = {t:String} AND `spanId` IN {s:Array(String)}", {"t": trace_id, "s": ids},
                             suffix="ORDER BY `startedAt` ASC, `spanId` ASC", operation="GetSpans")
        return SpanList(spans=[r for r, _ in found])

    def list_traces(
        self,
        *,
        filters: TracesFilter | Mapping[str, Any] | None = None,
        pagination: Mapping[str, Any] | None = None,
        order_by: Mapping[str, Any] | None = None,
    ) -> TracePage:
        """One page of traces: their root spans with the computed ``status``.

        ``pagination``: ``{page=0, perPage=10}`` with perPage 1..100. ``order_by``: ``{field: startedAt |
        endedAt, direction: ASC | DESC}`` (default startedAt DESC); by endedAt, DESC lists running traces
        first and ASC last. Filters: see ``TracesFilter``.

        Raises:
            ValidationError: unknown filter keys, bad pagination, bad order, invalid metadata/scope keys.
            StorageError: ClickHouse failures (see ``init``).
        """
        spec = coerce(TracesFilter, filters if filters is not None else {}, what="filters")
        page, per_page = _pagination(pagination)
        field, direction = resolve_order(order_by, allowed=("startedAt", "endedAt"), default_field="startedAt",
                                         default_direction="DESC", strict=True)
        params = Params()
        conditions = self._alive(root_conditions(spec, params))
        if spec.has_child_error is not None:
            errors_in_candidates = (
                f"SELECT `traceId` FROM {self.tables.spans} FINAL WHERE {where(self._alive(['`error` IS NOT NULL']))}"
                f" AND `traceId` IN (SELECT `traceId` FROM {self.tables.roots} FINAL WHERE {where(conditions)})"
            )
            negate = "" if spec.has_child_error else "NOT "
            conditions = [*conditions, f"`traceId` {negate}IN ({errors_in_candidates})"]
        condition = where(conditions)
        _, count_rows = self.client.query(f"SELECT count() FROM {self.tables.roots} FINAL WHERE {condition}",
                                          params.values, operation="ListTraces", settings=READ_SETTINGS)
        total = int(count_rows[0][0]) if count_rows else 0
        offset = page * per_page
        found: list[tuple[SpanRecord, int]] = []
        if offset < total:
            found = self._select(
                condition, params.values, suffix=f"ORDER BY {order_clause(field, direction)} LIMIT {per_page} "
                f"OFFSET {offset}", operation="ListTraces", table=self.tables.roots)
        spans = [TraceSpan.model_validate({**r.model_dump(include=r.model_fields_set), "status": trace_status(r)})
                 for r, _ in found]
        return TracePage(
            pagination=PaginationInfo(total=total, page=page, per_page=per_page,
                                      has_more=(page + 1) * per_page < total),
            spans=spans,
        )

    # ------------------------------------------------------------------ deletes
    def batch_delete_traces(
        self,
        *,
        trace_ids: Sequence[str],
        organization_id: str | None = None,
        resource_id: str | None = None,
    ) -> None:
        """Delete every span of the given traces (at most 1000; an empty list is a no-op; unknown ids are
        ignored). With ``organization_id``/``resource_id`` only traces whose root span carries them are
        deleted.

        Raises:
            ValidationError: more than 1000 ids, blank ids.
            StorageError: ClickHouse failures (see ``init``).
        """
        if isinstance(trace_ids, str) or not isinstance(trace_ids, Sequence):
            raise ValidationError("trace_ids must be a list of trace ids", code="INVALID_INPUT")
        ids = sorted({require_id(t, field="traceIds[]") for t in trace_ids})
        if len(ids) > MAX_DELETE_TRACES:
            raise ValidationError(f"at most {MAX_DELETE_TRACES} traces can be deleted per call",
                                  code="TOO_MANY_TRACES", details={"count": len(ids)})
        if not ids:
            return
        if organization_id is not None or resource_id is not None:
            params = Params()
            scope = [f"`traceId` IN {params.bind(ids, 'Array(String)')}"]
            if organization_id is not None:
                org = params.bind(require_id(organization_id, field="organizationId"), "String")
                scope.append(f"`organizationId` = {org}")
            if resource_id is not None:
                resource = params.bind(require_id(resource_id, field="resourceId"), "String")
                scope.append(f"`resourceId` = {resource}")
            _, rows = self.client.query(f"SELECT DISTINCT `traceId` FROM {self.tables.roots} FINAL WHERE "
                                        f"{where(self._alive(scope))}", params.values, operation="BatchDeleteTraces",
                                        settings=READ_SETTINGS)
            ids = sorted(str(r[0]) for r in rows)
            if not ids:
                return
        # Roots first: a trace that is half deleted never shows in list_traces.
        for table in (self.tables.roots, self.tables.spans):
            self.client.command(f"DELETE FROM {table} WHERE `traceId` IN {{ids:Array(String)}}", {"ids": ids},
                                operation="BatchDeleteTraces", table=table)

    def dangerously_clear_all(self) -> None:
        """Remove every span (TRUNCATE both tables). For tests and local use.

        Raises:
            StorageError: ClickHouse failures (see ``init``).
        """
        for table in (self.tables.roots, self.tables.spans):
            self.client.command(f"TRUNCATE TABLE IF EXISTS {table}", operation="ClearAll", table=table)

    def close(self) -> None:
        """Close the client (idempotent; never raises). A closed store reconnects on its next call."""
        self.client.close()

    def __repr__(self) -> str:
        where_ = "chDB" if self.embedded else "ClickHouse server"
        return f"ClickHouseObservabilityStore(id={self.id!r}, database={self.database!r}, backend={where_})"


__all__ = ["ClickHouseObservabilityStore"]
