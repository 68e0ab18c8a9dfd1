"""AsyncClickHouseObservabilityStore beside the sync store: same records, its lifecycle, and no thread on the
server path. (The observability suites run through the async store with ``MASTRA_DYNAMO_API=async``.)"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from mastra_dynamo.composite import AsyncClickHouseObservabilityStore, ClickHouseObservabilityStore
from mastra_dynamo.errors import ConfigurationError, NotFoundError, ValidationError
from tests.conftest import FakeClock

from .chdb_http import ChdbHttpServer
from .conftest import HTTP_PASSWORD, HTTP_USER, run_sql
from .spans_data import span, trace
from .threads import threads_started_by


def connection(transport: str, chdb_path: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    if transport == "chdb":
        return {"path": chdb_path}
    server: ChdbHttpServer = request.getfixturevalue("chdb_http")
    return {"host": "127.0.0.1", "port": server.port, "username": HTTP_USER, "password": HTTP_PASSWORD}


@pytest.fixture
def database(chdb_path: str) -> Iterator[str]:
    name = f"obs_{uuid.uuid4().hex[:12]}"
    yield name
    run_sql(chdb_path, f"DROP DATABASE IF EXISTS `{name}`")


def records() -> list[dict[str, Any]]:
    spans = [*trace("t1", children=3), *trace("t2", children=1)]
    spans += [span("t3", "root", end=2.0, error={"message": "boom"}, userId="u1", tags=["prod"],
                   metadata={"k": "v"}), span("t3", "child", parent="root", start=0.5, input={"q": 1})]
    return spans


def test_server_path_starts_no_thread(chdb_http: ChdbHttpServer, database: str) -> None:
    """Connecting, init, concurrent writes and reads, close: the loop's thread starts no thread and never
    creates asyncio's default executor (the chDB front end's own threads do not count)."""

    async def main() -> None:
        store = AsyncClickHouseObservabilityStore(host="127.0.0.1", port=chdb_http.port, username=HTTP_USER,
                                                  password=HTTP_PASSWORD, database=database, max_connections=8)
        async with store:
            await store.init()
            await asyncio.gather(*(store.batch_create_spans(records=trace(f"t{i}", children=4)) for i in range(8)))
            pages, traces, _ = await asyncio.gather(
                asyncio.gather(*(store.list_traces(pagination={"page": 0, "perPage": 5}) for _ in range(6))),
                asyncio.gather(*(store.get_trace(trace_id=f"t{i}") for i in range(7))),
                asyncio.gather(store.update_span(trace_id="t1", span_id="child-0", updates={"output": "done"}),
                               store.batch_delete_traces(trace_ids=["t7"])))
            assert all(page.pagination.total in (7, 8) for page in pages)
            assert all(t is not None and len(t.spans) == 5 for t in traces)
            assert (await store.list_traces()).pagination.total == 7
        assert getattr(asyncio.get_running_loop(), "_default_executor", None) is None

    with threads_started_by(threading.current_thread()) as started:
        asyncio.run(main())
    assert started == []


@pytest.mark.parametrize("transport", ["chdb", "http"])
def test_records_equal_the_sync_stores(transport: str, chdb_path: str, database: str,
                                       request: pytest.FixtureRequest) -> None:
    where = connection(transport, chdb_path, request)
    clock = FakeClock()
    sync = ClickHouseObservabilityStore(database=database, clock=clock, **where)
    sync.init()

    async def main() -> list[Any]:
        async with AsyncClickHouseObservabilityStore(database=database, clock=clock, **where) as store:
            await store.init()
            await store.batch_create_spans(records=records()[:5])
            sync.batch_create_spans(records=records()[5:])
            await store.update_span(trace_id="t3", span_id="child", updates={"output": {"a": 1}})
            return [
                await store.get_trace(trace_id="t3"), await store.get_span(trace_id="t1", span_id="child-1"),
                await store.get_root_span(trace_id="t2"),
                await store.get_spans(trace_id="t1", span_ids=["root", "child-2", "missing"]),
                await store.list_traces(), await store.list_traces(filters={"status": "error", "tags": ["prod"]}),
                await store.list_traces(order_by={"field": "endedAt", "direction": "ASC"},
                                        pagination={"page": 1, "perPage": 2}),
            ]

    got = asyncio.run(main())
    expected = [
        sync.get_trace(trace_id="t3"), sync.get_span(trace_id="t1", span_id="child-1"),
        sync.get_root_span(trace_id="t2"), sync.get_spans(trace_id="t1", span_ids=["root", "child-2", "missing"]),
        sync.list_traces(), sync.list_traces(filters={"status": "error", "tags": ["prod"]}),
        sync.list_traces(order_by={"field": "endedAt", "direction": "ASC"}, pagination={"page": 1, "perPage": 2}),
    ]
    assert [g and g.model_dump() for g in got] == [e and e.model_dump() for e in expected]
    assert got[4].pagination.total == 3 and got[5].spans[0].trace_id == "t3"
    sync.close()


@pytest.mark.parametrize("transport", ["chdb", "http"])
def test_errors_are_the_sync_stores(transport: str, chdb_path: str, database: str,
                                    request: pytest.FixtureRequest) -> None:
    async def main() -> None:
        async with AsyncClickHouseObservabilityStore(database=database, **connection(transport, chdb_path,
                                                                                     request)) as store:
            await store.init()
            with pytest.raises(NotFoundError):
                await store.update_span(trace_id="nope", span_id="x", updates={"name": "n"})
            with pytest.raises(ValidationError) as err:
                await store.batch_create_spans(records=[span("t", "ok"), {"traceId": "t"}])
            assert err.value.code == "INVALID_SPANS"
            assert await store.get_trace(trace_id="t") is None  # nothing written

    asyncio.run(main())


def test_lifecycle(chdb_path: str, database: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        AsyncClickHouseObservabilityStore(host="127.0.0.1", client=object())
    assert err.value.code == "ASYNC_CLIENT_UNSUPPORTED"
    with pytest.raises(ValidationError):
        AsyncClickHouseObservabilityStore(database="bad-name")
    store = AsyncClickHouseObservabilityStore(path=chdb_path, database=database)

    async def main() -> None:
        assert not store.is_open
        await store.init()  # opens on first use
        assert store.is_open and store.path == chdb_path
        assert any(t.name.startswith("mastra-chdb") for t in threading.enumerate())
        await store.close()
        await store.close()
        assert not store.is_open
        await store.create_span(span=span("t1", "root"))  # reopens
        assert (await store.get_span(trace_id="t1", span_id="root")) is not None
        await store.close()

    async def on_another_loop() -> None:
        async with store:
            got = await store.get_trace(trace_id="t1")
            assert got is not None and [s.span_id for s in got.spans] == ["root"]

    asyncio.run(main())
    asyncio.run(on_another_loop())
