"""Test harness: one conformance suite, parametrized over backends.

Backends:
* ``moto``: moto's in-process DynamoDB (``mock_aws``); fast, but no real TTL expiry, no 1 MB page cap.
* ``ddblocal``: Amazon's DynamoDB Local over HTTP. The README's test command starts it on loopback inside a
  private network namespace and exports ``MASTRA_DYNAMO_DDB_LOCAL`` (its endpoint URL). Without that variable
  the ddblocal cases are skipped, unless ``MASTRA_DYNAMO_REQUIRE_ALL_BACKENDS=1`` (set by the test command),
  in which case they fail: CI never passes with a backend silently missing.

Each test gets a fresh table whose layout comes from ``TABLE_SPEC`` through ``DynamoDBStore.create_table``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import moto  # noqa: F401  (imported first: moto hooks botocore sessions created after it is imported)
import pytest
from hypothesis import settings

from mastra_dynamo import DynamoDBStore

# `pytest --hypothesis-profile=shared-cpu` (make test-versions runs three suites at once on CI's two cores): the
# same examples without the per-example deadline, which measures the machine's load rather than the code.
settings.register_profile("shared-cpu", deadline=None)

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)

DDB_LOCAL_ENV = "MASTRA_DYNAMO_DDB_LOCAL"
REQUIRE_ALL_ENV = "MASTRA_DYNAMO_REQUIRE_ALL_BACKENDS"


@dataclass
class Backend:
    name: str
    endpoint_url: str | None
    capabilities: frozenset[str] = field(default_factory=frozenset)

    def supports(self, capability: str) -> bool:
        return capability in self.capabilities


# Capability flags: what a backend really does.
#   real_ttl_expiry   - the endpoint deletes expired items by itself
#   page_cap_1mb      - Query pages are cut at 1 MB like real DynamoDB
#   item_size_limit   - the endpoint enforces the 400 KB item limit
#   concurrent_clients - safe to call from many threads at once (moto's in-process backend is not: its
#                        conditional writes race and its transactions fail with "dictionary changed size")
MOTO_CAPS = frozenset({"item_size_limit"})
DDB_LOCAL_CAPS = frozenset({"real_ttl_expiry", "page_cap_1mb", "item_size_limit", "concurrent_clients"})


def require(backend: Backend, capability: str) -> None:
    """Skip (naming the capability) when the backend lacks it: the case still runs on the other backend."""
    if not backend.supports(capability):
        pytest.skip(f"{backend.name} lacks capability {capability!r}")


class FakeClock:
    """An injectable clock: starts at the real time, moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        if start is None:  # real time, truncated to whole milliseconds (exact comparisons after round trips)
            start = datetime.now(UTC)
            start = start.replace(microsecond=start.microsecond // 1000 * 1000)
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now = self.now + timedelta(**kwargs)


ASYNC_API_ENV = "MASTRA_DYNAMO_API"
"""``MASTRA_DYNAMO_API=async``: the ``store``/``clocked_store``/``store_factory`` fixtures serve the async API
through :class:`tests.async_shim.SyncOverAsyncStore`, so the same test bodies run against it; moto then runs as
a server on loopback (aiobotocore does not go through moto's in-process hooks)."""
ASYNC_API = os.environ.get(ASYNC_API_ENV) == "async"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the async API run, leave out the white-box tests of sync internals (marked ``sync_internals``)."""
    if not ASYNC_API:
        return
    for item in items:
        marker = item.get_closest_marker("sync_internals")
        if marker is not None:
            reason = marker.args[0] if marker.args else "calls the sync domain's internals"
            item.add_marker(pytest.mark.skip(reason=f"sync internals: {reason}"))


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's server on 127.0.0.1 (an ephemeral port), for clients that speak HTTP only."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(params=["moto", "ddblocal"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "moto":
        if ASYNC_API:
            yield Backend("moto", request.getfixturevalue("moto_server"), MOTO_CAPS)
            return
        from moto import mock_aws

        with mock_aws():
            yield Backend("moto", None, MOTO_CAPS)
        return
    yield _ddb_local()


@pytest.fixture(params=["moto", "ddblocal"])
def http_backend(request: pytest.FixtureRequest) -> Backend:
    """A backend reached over HTTP (moto's server, DynamoDB Local): what the async API's aiobotocore client needs."""
    if request.param == "moto":
        return Backend("moto", request.getfixturevalue("moto_server"), MOTO_CAPS)
    return _ddb_local()


@pytest.fixture
def http_store(http_backend: Backend) -> Iterator[DynamoDBStore]:
    """A sync DynamoDBStore on a fresh table of an HTTP backend (to build an AsyncDynamoDBStore on)."""
    with fresh_store(http_backend, api="sync") as s:
        yield s


def _ddb_local() -> Backend:
    endpoint = os.environ.get(DDB_LOCAL_ENV)
    if not endpoint:
        if os.environ.get(REQUIRE_ALL_ENV) == "1":
            pytest.fail(f"{DDB_LOCAL_ENV} is not set but every backend is required (run `make test`)")
        pytest.skip(f"DynamoDB Local not running ({DDB_LOCAL_ENV} unset); `make test` starts it")
    return Backend("ddblocal", endpoint, DDB_LOCAL_CAPS)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_store(backend: Backend, **kwargs: object) -> DynamoDBStore:
    table = f"t-{uuid.uuid4().hex[:12]}"
    return DynamoDBStore(
        id="test-store",
        table_name=table,
        region="us-east-1",
        endpoint_url=backend.endpoint_url,
        **kwargs,  # type: ignore[arg-type]
    )


@contextmanager
def fresh_store(backend: Backend, api: str | None = None, **kwargs: object) -> Iterator[DynamoDBStore]:
    """A DynamoDBStore on a fresh table (created from TABLE_SPEC), initialised, dropped afterwards. With
    ``MASTRA_DYNAMO_API=async`` (unless ``api="sync"``), the same table served through the async API
    (``tests/async_shim.py``)."""
    s = make_store(backend, **kwargs)
    s.create_table()
    s.init()
    try:
        if ASYNC_API and api != "sync":
            from tests.async_shim import SyncOverAsyncStore

            with SyncOverAsyncStore(s) as shim:
                yield shim  # type: ignore[misc]
        else:
            yield s
    finally:
        try:
            s.delete_table()
        finally:
            s.close()


@pytest.fixture
def store(backend: Backend) -> Iterator[DynamoDBStore]:
    """A DynamoDBStore on a fresh table."""
    with fresh_store(backend) as s:
        yield s


@pytest.fixture
def clocked_store(backend: Backend, clock: FakeClock) -> Iterator[DynamoDBStore]:
    """A DynamoDBStore on a fresh table whose clock the test controls."""
    with fresh_store(backend, clock=clock) as s:
        yield s


StoreFactory = Callable[..., DynamoDBStore]


@pytest.fixture
def store_factory(backend: Backend, clock: FakeClock) -> Iterator[StoreFactory]:
    """Makes more fresh-table stores (the test's clock unless given), e.g. ``store_factory(ttl={...})``."""
    with ExitStack() as stack:
        def make(**kwargs: object) -> DynamoDBStore:
            kwargs.setdefault("clock", clock)
            return stack.enter_context(fresh_store(backend, **kwargs))

        yield make


@pytest.fixture
def memory(store: DynamoDBStore):  # type: ignore[no-untyped-def]
    return store.get_store("memory")


def table_item_count(store: DynamoDBStore) -> int:
    """Every item in the store's table (a raw consistent Scan, test-only): proves a rejected call wrote nothing."""
    import boto3

    client = boto3.client("dynamodb", region_name=store.region, endpoint_url=store.endpoint_url)
    request: dict[str, Any] = {"TableName": store.table_name, "Select": "COUNT", "ConsistentRead": True}
    total = 0
    while True:
        response = client.scan(**request)
        total += int(response["Count"])
        if "LastEvaluatedKey" not in response:
            return total
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
