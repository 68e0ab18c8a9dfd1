"""ClickHouse schema management (init, retention TTL, mismatch detection) and error translation."""

from __future__ import annotations

import socket
import uuid
from typing import Any

import pytest

from mastra_dynamo.composite import ClickHouseObservabilityStore
from mastra_dynamo.composite.clickhouse.client import translate_clickhouse_error
from mastra_dynamo.composite.clickhouse.schema import SPAN_COLUMNS
from mastra_dynamo.errors import (
    BackendError,
    ConfigurationError,
    RetryableError,
    TableMismatchError,
    TableNotFoundError,
    ValidationError,
)

from .chdb_http import ChdbHttpServer
from .conftest import HTTP_PASSWORD, HTTP_USER, run_sql
from .spans_data import span


def tables(path: str, database: str) -> dict[str, tuple[str, str, str, str]]:
    text = run_sql(path, "SELECT name, engine, sorting_key, partition_key, engine_full FROM system.tables "
                         f"WHERE database = '{database}'")
    rows = [line.split("\t") for line in text.splitlines()]
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def test_init_creates_tables_and_view(make_observability: Any, chdb_path: str) -> None:
    store = make_observability()
    store.init()
    store.init()
    found = tables(chdb_path, store.database)
    assert found["mastra_ai_spans"][:3] == ("ReplacingMergeTree", "traceId, spanId", "toYYYYMM(startedAt)")
    assert found["mastra_ai_trace_roots"][:3] == ("ReplacingMergeTree", "startedAt, traceId, spanId",
                                                  "toYYYYMM(startedAt)")
    assert found["mastra_ai_trace_roots_mv"][0] == "MaterializedView"
    assert "TTL" not in found["mastra_ai_spans"][3]


def test_second_store_on_existing_schema_initialises(make_observability: Any) -> None:
    first = make_observability()
    first.init()
    first.create_span(span=span("t1", "root"))
    second = make_observability(database=first.database)
    second.init()
    got = second.get_span(trace_id="t1", span_id="root")
    assert got is not None


def test_retention_is_a_ttl_kept_in_sync_by_init(make_observability: Any, chdb_path: str) -> None:
    store = make_observability(retention_days=30)
    store.init()
    engines = tables(chdb_path, store.database)
    for name in ("mastra_ai_spans", "mastra_ai_trace_roots"):
        assert "TTL toDateTime(startedAt) + toIntervalDay(30)" in engines[name][3]
    make_observability(database=store.database, retention_days=7).init()
    engines = tables(chdb_path, store.database)
    assert all("toIntervalDay(7)" in engines[n][3] for n in ("mastra_ai_spans", "mastra_ai_trace_roots"))
    make_observability(database=store.database).init()
    assert all("TTL" not in e[3] for e in tables(chdb_path, store.database).values())


def test_spans_past_retention_are_never_returned(make_observability: Any) -> None:
    from datetime import UTC, datetime, timedelta

    store = make_observability(retention_days=1)
    store.init()
    old = datetime.now(UTC) - timedelta(days=2)
    store.batch_create_spans(records=[span("old", "root", startedAt=old),
                                      span("old", "child", parent="root", startedAt=old),
                                      span("new", "root", startedAt=datetime.now(UTC))])
    assert store.get_trace(trace_id="old") is None and store.get_root_span(trace_id="old") is None
    assert store.get_span(trace_id="old", span_id="child") is None
    page = store.list_traces()
    assert page.pagination.total == 1 and [s.trace_id for s in page.spans] == ["new"]
    assert store.list_traces(filters={"hasChildError": False}).pagination.total == 1


def test_table_prefix(make_observability: Any, chdb_path: str) -> None:
    store = make_observability(table_prefix="app_")
    store.init()
    store.create_span(span=span("t1", "root"))
    assert set(tables(chdb_path, store.database)) == {"app_ai_spans", "app_ai_trace_roots", "app_ai_trace_roots_mv"}
    assert store.list_traces().pagination.total == 1


def test_mismatched_existing_table_is_reported_and_nothing_is_created(make_observability: Any,
                                                                      chdb_path: str) -> None:
    database = f"obs_{uuid.uuid4().hex[:12]}"
    store = make_observability(database=database)
    run_sql(chdb_path, f"CREATE DATABASE `{database}`")
    run_sql(chdb_path, f"CREATE TABLE `{database}`.mastra_ai_spans (traceId String, spanId String, "
                       "startedAt DateTime64(3)) ENGINE = MergeTree ORDER BY (startedAt, traceId)")
    with pytest.raises(TableMismatchError) as err:
        store.init()
    problems = " ".join(err.value.details["problems"])
    assert "engine is 'MergeTree'" in problems and "ORDER BY" in problems and "PARTITION BY" in problems
    assert "column parentSpanId is missing" in problems and "column startedAt is DateTime64(3)" in problems
    assert set(tables(chdb_path, database)) == {"mastra_ai_spans"}
    # Not cached: once the offending table is gone, init succeeds.
    run_sql(chdb_path, f"DROP TABLE `{database}`.mastra_ai_spans")
    store.init()
    assert len(tables(chdb_path, database)) == 3


def test_a_table_in_place_of_the_view_is_a_mismatch(make_observability: Any, chdb_path: str) -> None:
    database = f"obs_{uuid.uuid4().hex[:12]}"
    store = make_observability(database=database)
    run_sql(chdb_path, f"CREATE DATABASE `{database}`")
    run_sql(chdb_path, f"CREATE TABLE `{database}`.mastra_ai_trace_roots_mv (x Int8) ENGINE = Memory")
    with pytest.raises(TableMismatchError, match="expected a MaterializedView"):
        store.init()


def test_reads_before_init_raise_table_not_found(make_observability: Any) -> None:
    store = make_observability()
    with pytest.raises(TableNotFoundError, match="init"):
        store.get_trace(trace_id="t1")


@pytest.mark.parametrize("kwargs", [{"database": "bad-name"}, {"table_prefix": "x;"}, {"retention_days": 0},
                                    {"retention_days": True}, {"insert_batch_size": 0}, {"id": " "}])
def test_invalid_configuration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ClickHouseObservabilityStore(host="127.0.0.1", port=1, **kwargs)


def test_connection_arguments_must_fit_together() -> None:
    with pytest.raises(ValidationError):
        ClickHouseObservabilityStore(port=8123)
    with pytest.raises(ValidationError):
        ClickHouseObservabilityStore(host="127.0.0.1", path="/tmp/x")
    ClickHouseObservabilityStore(dsn="chdb:///tmp/x")  # lazy: nothing opened


def test_construction_is_lazy() -> None:
    store = ClickHouseObservabilityStore(host="127.0.0.1", port=1)
    assert "ClickHouse server" in repr(store) and store.path is None
    store.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_server_is_retryable() -> None:
    store = ClickHouseObservabilityStore(host="127.0.0.1", port=_free_port(), connect_timeout=1)
    with pytest.raises(RetryableError):
        store.init()


def test_wrong_password_is_a_configuration_error(chdb_http: ChdbHttpServer) -> None:
    store = ClickHouseObservabilityStore(host="127.0.0.1", port=chdb_http.port, username="mastra",
                                         password="wrong")
    with pytest.raises(ConfigurationError) as err:
        store.init()
    assert err.value.code == "ACCESS_DENIED"
    assert "wrong" not in str(err.value) and "wrong" not in repr(err.value.details)


def test_http_inserts_arrive_compressed(chdb_http: ChdbHttpServer, chdb_path: str) -> None:
    database = f"obs_{uuid.uuid4().hex[:12]}"
    store = ClickHouseObservabilityStore(host="127.0.0.1", port=chdb_http.port, username=HTTP_USER,
                                         password=HTTP_PASSWORD, database=database)
    try:
        store.init()
        store.batch_create_spans(records=[span("t1", f"s{i}", parent=None if i == 0 else "s0") for i in range(20)])
        assert store.get_trace(trace_id="t1") is not None
    finally:
        store.close()
        run_sql(chdb_path, f"DROP DATABASE IF EXISTS `{database}`")
    assert chdb_http.request_encodings - {"identity"}, "clickhouse-connect compresses insert bodies"


def test_existing_client_can_be_injected(chdb_path: str) -> None:
    import clickhouse_connect

    database = f"obs_{uuid.uuid4().hex[:12]}"
    client = clickhouse_connect.get_client(dsn=f"chdb://{chdb_path}")
    store = ClickHouseObservabilityStore(client=client, database=database)
    try:
        store.init()
        store.create_span(span=span("t1", "root"))
        assert store.get_root_span(trace_id="t1") is not None
    finally:
        store.close()
        run_sql(chdb_path, f"DROP DATABASE IF EXISTS `{database}`")


def test_second_chdb_path_in_one_process_is_a_configuration_error(chdb_path: str, tmp_path: Any) -> None:
    store = ClickHouseObservabilityStore(path=str(tmp_path / "other-engine"))
    with pytest.raises(ConfigurationError) as err:
        store.init()
    assert err.value.code == "CHDB_PATH_CONFLICT"


class _DriverError(Exception):
    def __init__(self, code: int | None, name: str | None = None) -> None:
        super().__init__(f"Code: {code}")
        self.code = code
        self.name = name


@pytest.mark.parametrize(("code", "expected"), [
    (516, ConfigurationError), (497, ConfigurationError), (60, TableNotFoundError), (81, TableNotFoundError),
    (241, RetryableError), (252, RetryableError), (62, BackendError), (None, BackendError),
])
def test_error_translation(code: int | None, expected: type[Exception]) -> None:
    exc = _DriverError(code, "SOME_NAME")
    translated = translate_clickhouse_error(exc, operation="Op", table="t")
    assert type(translated) is expected
    assert translated.cause is exc and translated.details["operation"] == "Op"


def test_operational_errors_are_retryable() -> None:
    class OperationalError(Exception):
        pass

    assert isinstance(translate_clickhouse_error(OperationalError("x"), operation="Op"), RetryableError)


def test_column_names_match_record_aliases() -> None:
    from mastra_dynamo.composite import SpanRecord

    aliases = {f.alias for f in SpanRecord.model_fields.values()}
    assert {c.name for c in SPAN_COLUMNS if c.field} == aliases
