"""Fixtures for the composite store and ClickHouse observability tests.

chDB hosts ONE engine path per process, so the whole session shares one engine directory: the direct chDB
client (clickhouse-connect's ``chdb://`` backend) and the HTTP front end (``chdb_http.ChdbHttpServer``, a thread
of this process) both use it. Each test gets a fresh database, dropped afterwards.

``observability`` is parametrized over the two transports:
* ``chdb``: clickhouse-connect's in-process chDB backend (the embedded default);
* ``http``: clickhouse-connect's HTTP transport (the one used with a real ClickHouse server) against the
  front end on 127.0.0.1, with a username and password.

With ``MASTRA_DYNAMO_API=async`` (as for the DynamoDB conformance suites), ``make_observability`` builds
``AsyncClickHouseObservabilityStore``s instead, behind the sync face of ``tests.async_shim
.SyncOverAsyncObservability``: the same test bodies run against the async store on both transports.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest

from mastra_dynamo.composite import AsyncClickHouseObservabilityStore, ClickHouseObservabilityStore
from tests.conftest import ASYNC_API

from .chdb_http import ChdbHttpServer, chdb

HTTP_USER = "mastra"
HTTP_PASSWORD = "s3cret"

ObsFactory = Callable[..., ClickHouseObservabilityStore]


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's chDB engine directory. One handle stays open for the whole session: chDB starts the
    engine with the first open handle and stops it with the last, so stores opened and closed per test would
    otherwise restart it every time."""
    path = os.path.realpath(tmp_path_factory.mktemp("chdb-engine"))
    keeper = chdb.connect(path)
    try:
        yield path
    finally:
        keeper.close()


@pytest.fixture(scope="session")
def chdb_http(chdb_path: str) -> Iterator[ChdbHttpServer]:
    server = ChdbHttpServer(chdb_path, user=HTTP_USER, password=HTTP_PASSWORD).start()
    try:
        yield server
    finally:
        server.stop()


def run_sql(path: str, query: str) -> str:
    """Run SQL directly on the session's chDB engine (bypassing the store); TabSeparated text result."""
    handle = chdb.connect(path)
    try:
        return str(handle.query(query, "TabSeparated").bytes().decode())
    finally:
        handle.close()


def _drop_database(path: str, database: str) -> None:
    run_sql(path, f"DROP DATABASE IF EXISTS `{database}`")


@pytest.fixture(params=["chdb", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_observability(transport: str, chdb_path: str, request: pytest.FixtureRequest) -> Iterator[ObsFactory]:
    """Build (not init) observability stores on the chosen transport; every database is dropped at the end."""
    created: list[ClickHouseObservabilityStore] = []
    databases: set[str] = set()

    def make(*, database: str | None = None, **kwargs: Any) -> ClickHouseObservabilityStore:
        database = database or f"obs_{uuid.uuid4().hex[:12]}"
        databases.add(database)
        if transport == "chdb":
            kwargs["path"] = chdb_path
        else:
            server: ChdbHttpServer = request.getfixturevalue("chdb_http")
            kwargs.setdefault("username", HTTP_USER)
            kwargs.setdefault("password", HTTP_PASSWORD)
            kwargs.update(host="127.0.0.1", port=server.port)
        store: Any
        if ASYNC_API:
            from tests.async_shim import SyncOverAsyncObservability

            store = SyncOverAsyncObservability(AsyncClickHouseObservabilityStore(database=database, **kwargs))
        else:
            store = ClickHouseObservabilityStore(database=database, **kwargs)
        created.append(store)
        return cast(ClickHouseObservabilityStore, store)

    try:
        yield make
    finally:
        for store in created:
            store.close()
        for database in databases:
            _drop_database(chdb_path, database)


@pytest.fixture
def observability(make_observability: ObsFactory) -> ClickHouseObservabilityStore:
    """An initialised observability store on a fresh database."""
    store = make_observability()
    store.init()
    return store
