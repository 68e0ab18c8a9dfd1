"""MastraCompositeStore over real DynamoDBStores (moto and DynamoDB Local, via the `store` fixture)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator

import pytest

from mastra_dynamo import DynamoDBStore, TableNotFoundError
from mastra_dynamo.aio import AsyncDynamoDBStore
from mastra_dynamo.composite import AsyncClickHouseObservabilityStore, MastraCompositeStore

from ..conftest import Backend, make_store
from .chdb_http import ChdbHttpServer
from .conftest import HTTP_PASSWORD, HTTP_USER, run_sql
from .fakes import FakeDomain, FakeWorkflows
from .spans_data import span
from .threads import threads_started_by


@pytest.fixture
def alternate(backend: Backend) -> Iterator[DynamoDBStore]:
    """A second DynamoDBStore on its own table."""
    other = make_store(backend)
    other.create_table()
    other.init()
    try:
        yield other
    finally:
        other.delete_table()
        other.close()


def thread(thread_id: str) -> dict[str, str]:
    return {"id": thread_id, "resourceId": "user-1", "title": "composite"}


def test_dynamodb_store_alone_has_no_observability(store: DynamoDBStore) -> None:
    assert store.get_store("observability") is None
    assert store.get_store("memory") is not None


def test_basic_composition_over_dynamodb(store: DynamoDBStore) -> None:
    composite = MastraCompositeStore(id="app", default=store)
    memory = composite.get_store("memory")
    assert memory is store.get_store("memory")
    assert composite.get_store("observability") is None
    composite.init()
    memory.save_thread(thread=thread("t1"))
    fetched = composite.get_store("memory").get_thread_by_id(thread_id="t1")
    assert fetched is not None and fetched.title == "composite"
    memory.delete_thread(thread_id="t1")
    assert memory.get_thread_by_id(thread_id="t1") is None


def test_memory_override_lands_in_the_alternate_table(store: DynamoDBStore, alternate: DynamoDBStore) -> None:
    workflows = FakeWorkflows()
    composite = MastraCompositeStore(id="app", default=store, domains={
        "memory": alternate.get_store("memory"), "workflows": workflows,
    })
    assert composite.get_store("memory") is alternate.get_store("memory")
    composite.get_store("memory").save_thread(thread=thread("t1"))
    assert alternate.get_store("memory").get_thread_by_id(thread_id="t1") is not None
    assert store.get_store("memory").get_thread_by_id(thread_id="t1") is None
    composite.get_store("workflows").persist_workflow_snapshot(run_id="r1", snapshot={"s": 1})
    assert workflows.load_workflow_snapshot(run_id="r1") == {"s": 1}


def test_store_as_domain_value_gets_its_table_check(store: DynamoDBStore, backend: Backend) -> None:
    fresh = DynamoDBStore(id="fresh", table_name=store.table_name, region="us-east-1",
                          endpoint_url=backend.endpoint_url)
    composite = MastraCompositeStore(id="app", domains={"memory": fresh, "observability": FakeDomain("obs")})
    composite.init()
    composite.init()
    assert fresh.request_counts().get("DescribeTable") == 1
    composite.get_store("memory").save_thread(thread=thread("t2"))
    assert store.get_store("memory").get_thread_by_id(thread_id="t2") is not None
    composite.close()


def test_missing_table_fails_init_and_is_retried(backend: Backend) -> None:
    missing = DynamoDBStore(id="missing", table_name=f"missing-{uuid.uuid4().hex[:8]}", region="us-east-1",
                            endpoint_url=backend.endpoint_url)
    composite = MastraCompositeStore(id="app", default=missing)
    for _ in range(2):
        with pytest.raises(TableNotFoundError):
            composite.init()
    assert missing.request_counts()["DescribeTable"] == 2
    composite.close()


def test_async_dynamodb_store_as_default(http_store: DynamoDBStore) -> None:
    store = http_store
    default = AsyncDynamoDBStore(store)
    composite = MastraCompositeStore(id="app", default=default)

    async def main() -> None:
        await composite.ainit()
        memory = composite.get_store("memory")
        await memory.save_thread(thread=thread("t3"))
        assert (await memory.get_thread_by_id(thread_id="t3")) is not None
        await default.close()

    asyncio.run(main())


def test_async_members_are_awaited_without_threads(http_store: DynamoDBStore, chdb_http: ChdbHttpServer,
                                                   chdb_path: str) -> None:
    """AsyncDynamoDBStore and AsyncClickHouseObservabilityStore in one composite: ``async with`` initialises and
    closes both, the domains are awaited, and the loop's thread starts no thread."""
    database = f"obs_{uuid.uuid4().hex[:12]}"
    traces = AsyncClickHouseObservabilityStore(host="127.0.0.1", port=chdb_http.port, username=HTTP_USER,
                                               password=HTTP_PASSWORD, database=database)
    default = AsyncDynamoDBStore(http_store)
    composite = MastraCompositeStore(id="app", default=default, domains={"observability": traces})

    async def main() -> None:
        async with composite:
            assert default.is_open and traces.is_open
            memory, observability = composite.get_store("memory"), composite.get_store("observability")
            await asyncio.gather(memory.save_thread(thread=thread("t4")),
                                 observability.create_span(span=span("trace-1", "root", threadId="t4")))
            page = await observability.list_traces(filters={"threadId": "t4"})
            assert [s.trace_id for s in page.spans] == ["trace-1"]
            assert (await memory.get_thread_by_id(thread_id="t4")) is not None
        assert not default.is_open and not traces.is_open

    try:
        with threads_started_by(threading.current_thread()) as started:
            asyncio.run(main())
        assert started == []
    finally:
        run_sql(chdb_path, f"DROP DATABASE IF EXISTS `{database}`")
