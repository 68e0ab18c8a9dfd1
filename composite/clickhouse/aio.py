"""AsyncClickHouseObservabilityStore: the observability store's awaitable form, one implementation with the sync one.

Every method runs :class:`~mastra_dynamo.composite.clickhouse.store.ClickHouseObservabilityStore`'s own code (no
line of the store's logic exists twice); where it runs depends on the backend:

* **ClickHouse server** (``host``/``dsn``): in a greenlet on the event loop's thread
  (:mod:`mastra_dynamo.dynamo.bridge`, as ``AsyncDynamoDBStore`` does for DynamoDB). clickhouse-connect's
  synchronous HTTP client builds and parses every request as it does for the sync store, but its connection
  pool is :class:`AioHttpPool`, which sends each HTTP
  request on aiohttp and awaits it through :func:`~mastra_dynamo.dynamo.bridge.await_only`. The event loop
  serves other tasks while ClickHouse works, and no thread is started: encoding the inserted rows and decoding
  the answers (a page of at most 100 traces, or one trace) happen on the loop's thread.

  Why not clickhouse-connect's own ``get_async_client``: its sockets are aiohttp's (natively async), but it
  hands the CPU work of every call to the loop's default thread pool (``loop.run_in_executor(None, ...)``:
  decompressing and parsing each query result and command answer, serializing each insert on a producer
  thread), so every call would run on worker threads, and its query, insert and command methods are a second
  client API the store would need a second copy of its calls for. The transport here keeps one client
  implementation for both stores, on one thread.

  Limits of this path: name resolution of a host name goes through the loop's ``getaddrinfo`` (asyncio's default
  thread pool) unless ``aiodns`` is installed, once per new connection (an IP address needs none); after an
  HTTP 502/503/504 answer clickhouse-connect waits 0.1 s per attempt with ``time.sleep`` before retrying a read,
  which holds the loop for that long. Decoding the answer and building its records is CPU work on the loop, so
  the loop's longest stall grows with the size of the answer (``python -m bench.clickhouse_loop``: 6-12 ms for
  a page of 100 traces, 49-117 ms for a trace of 2,000 spans, about what the sync store takes for the same
  call); the wait for ClickHouse itself holds nothing.

* **chDB** (embedded, the default without a server): chDB runs queries in this process and has no async
  interface (clickhouse-connect refuses its async client for chDB). Run on the loop, a query would hold the loop
  for its whole duration, so each method call runs whole (the same sync code: the query, decoding its rows and
  building the records) on the store's own worker thread and is awaited. There is one such thread per store,
  named ``mastra-chdb``, started by ``open()`` and ended by ``close()``: chDB serializes the calls on its handle
  anyway. chDB releases the GIL while it executes; the Python work around it shares the GIL with the loop, which
  gets it back at least every ``sys.getswitchinterval()`` (5 ms). Measured with ``python -m
  bench.clickhouse_loop`` (6,000 spans, a shared 2-core machine): the loop's longest stall was 4-5 ms during a
  ``list_traces`` page of 100 traces and 8-12 ms during a ``get_trace`` of 2,000 spans, where calling the sync
  store from a coroutine holds the loop for the whole call (20-57 ms and 65-89 ms).

The client (aiohttp session or worker thread) is created on the running loop at first use (``async with``, or
the first awaited call) and released by ``await store.close()``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import io
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from mastra_dynamo.composite.clickhouse.store import ClickHouseObservabilityStore
from mastra_dynamo.dynamo.bridge import await_only, awaitable, run_sync
from mastra_dynamo.errors import ConfigurationError, ValidationError

T = TypeVar("T")

_HOP_HEADERS = frozenset({"transfer-encoding", "content-length", "connection", "keep-alive"})


def _seconds(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class AioHttpPool:
    """The part of urllib3's ``PoolManager`` that clickhouse-connect's HTTP client uses (``request``, ``clear``),
    sending each request on an aiohttp session. For code running inside :func:`run_sync` only: ``request``
    awaits the exchange through :func:`await_only`. The answer is a urllib3 ``HTTPResponse`` over the received
    bytes, so the client decodes it exactly as it decodes urllib3's own (aiohttp's decompression is off)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None, body: Any = None,
                fields: Mapping[str, Any] | None = None, timeout: Any = None, preload_content: bool = True,
                **_options: Any) -> Any:
        """Send one request and return its whole answer (``retries`` and pool options are urllib3's: the
        client's retry loop above this is the same as with urllib3)."""
        headers = dict(headers or {})
        if fields:
            from urllib3.filepost import encode_multipart_formdata

            body, headers["Content-Type"] = encode_multipart_formdata(dict(fields))
        elif isinstance(body, str):
            body = body.encode()
        elif body is not None and not isinstance(body, bytes | bytearray | memoryview):
            body = b"".join(bytes(chunk) for chunk in body)  # an insert's generator of encoded blocks
        connect = _seconds(getattr(timeout, "connect_timeout", None))
        read = _seconds(getattr(timeout, "read_timeout", None))
        status, reason, received, data = await_only(self._send(method, url, headers, body, connect, read))
        from urllib3 import HTTPResponse
        from urllib3._collections import HTTPHeaderDict

        answer_headers = HTTPHeaderDict()
        for name, value in received:
            if name.lower() not in _HOP_HEADERS:
                answer_headers.add(name, value)
        return HTTPResponse(body=io.BytesIO(data), headers=answer_headers, status=status, reason=reason,
                            preload_content=preload_content, decode_content=True, request_method=method,
                            request_url=url, enforce_content_length=False)

    async def _send(self, method: str, url: str, headers: dict[str, str], body: Any, connect: float | None,
                    read: float | None) -> tuple[int, str | None, list[tuple[str, str]], bytes]:
        import aiohttp
        from urllib3.exceptions import ProtocolError, ReadTimeoutError

        timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        try:
            async with self.session.request(method, url, headers=headers, data=body, timeout=timeout) as response:
                data = await response.read()
                return response.status, response.reason, list(response.headers.items()), data
        except TimeoutError as exc:
            raise ReadTimeoutError(None, url, f"ClickHouse did not answer in time ({type(exc).__name__})") from exc  # type: ignore[arg-type]
        except aiohttp.ClientError as exc:
            raise ProtocolError(f"ClickHouse connection failed ({type(exc).__name__}: {exc})") from exc

    def clear(self) -> None:
        """urllib3 drops its pooled connections here (clickhouse-connect's ``max_connection_age``); aiohttp
        retires idle connections itself (its keep-alive timeout), so there is nothing to do."""


class AsyncClickHouseObservabilityStore:
    """Awaitable :class:`ClickHouseObservabilityStore` (see the module docstring for what runs where).

    Arguments: those of :class:`ClickHouseObservabilityStore` (``host``/``port``/``username``/``password``/
    ``secure`` or ``dsn`` for a server; ``path`` for chDB; ``database``, ``retention_days``, ...), except
    ``client=`` (a synchronous clickhouse-connect client cannot be awaited). ``max_connections``: the size of
    the aiohttp connection pool to a server (default 32).

    Every method of the sync store is here as an ``async def`` with the same signature, returning the same
    records and raising the same errors. ``async with store:`` opens the client on the running loop (so does
    the first awaited call) and closes it at the end; ``await store.close()`` closes it.

    Raises:
        ValidationError: as the sync store's constructor (and ``max_connections`` below 1).
        ConfigurationError: ``client=`` given (code ``ASYNC_CLIENT_UNSUPPORTED``).
    """

    name = "AsyncClickHouseObservabilityStore"

    def __init__(self, *, max_connections: int = 32, **kwargs: Any) -> None:
        if kwargs.get("client") is not None:
            raise ConfigurationError(
                f"{self.name} makes its own connection: a synchronous clickhouse-connect client= cannot be awaited",
                code="ASYNC_CLIENT_UNSUPPORTED")
        if isinstance(max_connections, bool) or not isinstance(max_connections, int) or max_connections < 1:
            raise ValidationError("max_connections must be a positive integer", code="INVALID_CONNECTION")
        self._store = ClickHouseObservabilityStore(**kwargs)  # validates the arguments; connects lazily
        self.id = self._store.id
        self.embedded = self._store.embedded
        self._max_connections = max_connections
        self._session: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._opened = False
        self._opening: asyncio.Lock | None = None
        self._init_lock: asyncio.Lock | None = None

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> AsyncClickHouseObservabilityStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect on the running loop (once; later calls return at once).

        Raises:
            ConfigurationError: driver missing, credentials refused, chDB path conflict.
            RetryableError: the server could not be reached.
            BackendError: any other failure.
        """
        if self._opened:
            return
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._opened:
                return
            client = self._store.client
            if self.embedded:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mastra-chdb")
            else:
                self._session = _new_session(self._max_connections)
                client.use_pool_manager(AioHttpPool(self._session))
            try:
                await self._run(lambda: client.driver)
            except BaseException:
                await self._release()
                raise
            self._opened = True

    async def close(self) -> None:
        """Close the connection (idempotent; never raises). A closed store reconnects on its next call."""
        if self._opened:
            self._opened = False
            await self._run(self._store.close)
        await self._release()

    async def _release(self) -> None:
        session, self._session = self._session, None
        executor, self._executor = self._executor, None
        self._store.client.use_pool_manager(None)
        if session is not None:
            try:
                await session.close()
            except Exception as exc:  # closing never raises to the caller
                _ = exc
        if executor is not None:
            executor.shutdown(wait=False)  # idle once the client is closed: its thread ends by itself

    @property
    def is_open(self) -> bool:
        return self._opened

    @property
    def sync(self) -> ClickHouseObservabilityStore:
        """The store whose code every call runs (its settings, tables and clock)."""
        return self._store

    @property
    def database(self) -> str:
        return self._store.database

    @property
    def path(self) -> str | None:
        """The chDB engine path in use (after the first call), else None."""
        return self._store.path

    @property
    def observability_strategy(self) -> dict[str, Any]:
        return self._store.observability_strategy

    tracing_strategy = observability_strategy

    async def _run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` (the sync store's code): on the worker thread for chDB, else in the bridge."""
        if self._executor is not None:
            call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
            return await asyncio.get_running_loop().run_in_executor(self._executor, call)
        return await run_sync(fn, *args, **kwargs)

    async def _call(self, name: str, /, *args: Any, **kwargs: Any) -> Any:
        await self.open()
        return await self._run(getattr(self._store, name), *args, **kwargs)

    async def init(self) -> None:
        """Create or check the tables (see :meth:`ClickHouseObservabilityStore.init`); one task at a time.

        Raises:
            TableMismatchError, ConfigurationError, RetryableError, BackendError: as the sync ``init``.
        """
        await self.open()
        if self._init_lock is None:
            self._init_lock = asyncio.Lock()
        async with self._init_lock:  # the sync store's own lock is a thread lock, held across requests
            await self._run(self._store.init)

    create_span = awaitable(ClickHouseObservabilityStore.create_span)
    batch_create_spans = awaitable(ClickHouseObservabilityStore.batch_create_spans)
    update_span = awaitable(ClickHouseObservabilityStore.update_span)
    batch_update_spans = awaitable(ClickHouseObservabilityStore.batch_update_spans)
    get_span = awaitable(ClickHouseObservabilityStore.get_span)
    get_root_span = awaitable(ClickHouseObservabilityStore.get_root_span)
    get_trace = awaitable(ClickHouseObservabilityStore.get_trace)
    get_spans = awaitable(ClickHouseObservabilityStore.get_spans)
    list_traces = awaitable(ClickHouseObservabilityStore.list_traces)
    batch_delete_traces = awaitable(ClickHouseObservabilityStore.batch_delete_traces)
    dangerously_clear_all = awaitable(ClickHouseObservabilityStore.dangerously_clear_all)

    def __repr__(self) -> str:
        where_ = "chDB" if self.embedded else "ClickHouse server"
        return f"{self.name}(id={self.id!r}, database={self.database!r}, backend={where_})"


def _new_session(limit: int) -> Any:
    try:
        import aiohttp
    except ImportError as exc:
        raise ConfigurationError(
            "the async ClickHouse store needs aiohttp and greenlet: pip install 'mastra-dynamo[clickhouse,async]'",
            code="MISSING_DEPENDENCY", details={"package": "aiohttp"}, cause=exc) from exc
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit), auto_decompress=False)


__all__ = ["AioHttpPool", "AsyncClickHouseObservabilityStore"]
