"""The async API behind the sync API's face, so that the conformance suites run their same bodies against it.

(The observability store's async form has its shim at the end: ``SyncOverAsyncObservability``.)

``SyncOverAsyncStore`` wraps a :class:`~mastra_dynamo.aio.AsyncDynamoDBStore` on the table of a sync store: its
domain stores answer every method by running the awaitable one on an event loop that lives on a thread of the
harness (``asyncio.run_coroutine_threadsafe``, so tests that call from several threads work too). What is not a
domain method (the table, the raw client, settings) comes from the sync store, which serves the same table: raw
checks of the stored items see what the async API wrote.
"""

from __future__ import annotations

import asyncio
import atexit
import inspect
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.aio import AsyncDomainStore, AsyncDynamoDBStore
from mastra_dynamo.dynamo.bridge import in_bridge

T = TypeVar("T")


class _Loop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="async-api-under-test", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class SyncOverAsyncDomain:
    """A domain store whose methods are the async API's, run to completion."""

    def __init__(self, domain: AsyncDomainStore, loop: _Loop, fallback: Any, sync_table: Any) -> None:
        object.__setattr__(self, "_domain", domain)
        object.__setattr__(self, "_loop", loop)
        object.__setattr__(self, "_fallback", fallback)
        object.__setattr__(self, "_sync_table", sync_table)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._fallback(), name, value)  # a setting of the domain the async API runs

    def __getattr__(self, name: str) -> Any:
        if name == "table":
            return _TableView(self._fallback().table, self._sync_table)
        if name.startswith("_") or not hasattr(type(self._domain), name):
            return getattr(self._fallback(), name)  # internals of the domain the async API runs
        attr = getattr(self._domain, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._loop.run(attr(*args, **kwargs))

        return call


class _TableView:
    """The async API's TableClient (so a test that patches ``store.table.transact_write`` patches the requests the
    async API sends). A method the test calls itself (a raw check, outside the bridge) runs on the sync store's
    TableClient, which serves the same table; ``raw`` is the sync store's botocore client."""

    def __init__(self, table: Any, sync_table: Any) -> None:
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_sync", sync_table)

    @property
    def raw(self) -> Any:
        return object.__getattribute__(self, "_sync").raw

    def __getattr__(self, name: str) -> Any:
        in_async = getattr(object.__getattribute__(self, "_table"), name)
        if not callable(in_async):
            return in_async
        in_sync = getattr(object.__getattribute__(self, "_sync"), name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return (in_async if in_bridge() else in_sync)(*args, **kwargs)

        return call

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_table"), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(object.__getattribute__(self, "_table"), name)


_shared: dict[str | None, tuple[_Loop, Any, Any]] = {}
_shared_lock = threading.Lock()


def _shared_client(endpoint_url: str | None, region: str | None) -> tuple[_Loop, Any]:
    """One event loop and one aiobotocore client per endpoint for the whole test run (opening a client costs
    ~0.1-0.3 s; the tables differ per test, the client does not need to)."""
    with _shared_lock:
        found = _shared.get(endpoint_url)
        if found is None:
            from mastra_dynamo.dynamo.aio_session import open_async_client

            loop = _Loop()
            context, client = loop.run(open_async_client(region=region, endpoint_url=endpoint_url))
            found = _shared[endpoint_url] = (loop, context, client)
            if len(_shared) == 1:
                atexit.register(_close_shared)
        return found[0], found[2]


def _close_shared() -> None:
    for loop, context, _ in _shared.values():
        loop.run(context.__aexit__(None, None, None))
        loop.stop()
    _shared.clear()


class SyncOverAsyncStore:
    def __init__(self, store: DynamoDBStore) -> None:
        self._sync = store
        self._loop, client = _shared_client(store.endpoint_url, store.region)
        self._async = AsyncDynamoDBStore(store, client=client)
        self._loop.run(self._async.init())  # as the sync store the fixture initialised
        self._domains: dict[int, SyncOverAsyncDomain] = {}

    def __enter__(self) -> SyncOverAsyncStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.run(self._async.close())  # the shared client stays open

    @property
    def async_store(self) -> AsyncDynamoDBStore:
        return self._async

    def get_store(self, name: str) -> Any:
        domain = self._async.get_store(name)
        if domain is None:
            return None
        wrapped = self._domains.get(id(domain))
        if wrapped is None:
            wrapped = SyncOverAsyncDomain(domain, self._loop, lambda: self._async.sync.get_store(name),
                                          self._sync.table)
            self._domains[id(domain)] = wrapped
        return wrapped

    @property
    def stores(self) -> dict[str, Any]:
        return {name: self.get_store(name) for name in self._sync.stores}

    def init(self) -> None:
        self._loop.run(self._async.init())

    @property
    def table(self) -> _TableView:
        return _TableView(self._async.sync.table, self._sync.table)

    def request_counts(self) -> dict[str, int]:
        return self._async.request_counts()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sync, name)


_loop: _Loop | None = None


def shared_loop() -> _Loop:
    """One event loop on a harness thread for the async stores that are not DynamoDB's (observability)."""
    global _loop
    with _shared_lock:
        if _loop is None:
            _loop = _Loop()
            atexit.register(_loop.stop)
        return _loop


class SyncOverAsyncObservability:
    """An :class:`~mastra_dynamo.composite.AsyncClickHouseObservabilityStore` behind the sync store's face: every
    ``async def`` of the async store (``init``, the span methods, ``close``) is run to completion on
    :func:`shared_loop`; the rest (``database``, ``tables``, ``clock``, ...) is the sync store it runs."""

    def __init__(self, store: Any) -> None:
        object.__setattr__(self, "_async", store)
        object.__setattr__(self, "_loop", shared_loop())

    @property
    def async_store(self) -> Any:
        return self._async

    def __getattr__(self, name: str) -> Any:
        attr = getattr(type(self._async), name, None)
        if attr is None or not inspect.iscoroutinefunction(attr):
            return getattr(self._async.sync, name)
        method = getattr(self._async, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._loop.run(method(*args, **kwargs))

        return call

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._async.sync, name, value)
