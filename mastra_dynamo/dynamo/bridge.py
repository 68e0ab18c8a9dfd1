"""One implementation for both APIs: the domain code is written once, synchronously, and the async API runs it in
a greenlet on the event loop's own thread, where every DynamoDB request is awaited on aiobotocore.

How it works. :func:`run_sync` (a coroutine) starts the synchronous call in a new greenlet. When that code sends a
request, the transport (:class:`AsyncClientAdapter`) hands the aiobotocore coroutine to :func:`await_only`, which
switches back to :func:`run_sync` on the event loop; :func:`run_sync` awaits it like any coroutine, while other
tasks run, and switches back into the greenlet with the answer (or throws the exception into it). Nothing runs
on another thread, and no line of domain logic exists twice: the sync API calls the same methods directly on a
botocore client. The alternatives weighed were a second, ``async def`` copy of each domain (two copies of every
rule) and domain logic written as coroutines driven by hand from the sync API (every method and every iterator
rewritten, and a cost on every sync call); a greenlet switch costs about a microsecond per request.

Rules for code that runs on both: wait only through :func:`pause` (never ``time.sleep``), and hold no
``threading`` lock across a request (another task on the same loop would block the thread that must release
it). Context variables (run fences) follow the caller into the greenlet.
"""

from __future__ import annotations

import contextvars
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

P = ParamSpec("P")
T = TypeVar("T")

_MARK = "_mastra_dynamo_bridge"


def _greenlet_module() -> Any:
    try:
        import greenlet  # type: ignore[import-untyped]
    except ImportError:  # sync-only installs
        return None
    return greenlet


def _greenlet() -> Any:
    greenlet = _greenlet_module()
    if greenlet is None:  # pragma: no cover - the async extra installs it
        from mastra_dynamo.errors import ConfigurationError

        raise ConfigurationError("the async API needs the `async` extra: pip install 'mastra-dynamo[async]'",
                                 code="MISSING_DEPENDENCY", details={"package": "greenlet"})
    return greenlet


def in_bridge() -> bool:
    """Whether the current code runs inside :func:`run_sync` (its requests are awaited on the event loop)."""
    greenlet = _greenlet_module()
    return greenlet is not None and bool(getattr(greenlet.getcurrent(), _MARK, False))


async def run_sync(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run the synchronous ``fn(*args, **kwargs)`` on this event loop; its requests are awaited (see module)."""
    greenlet = _greenlet()
    context = contextvars.copy_context()
    worker = greenlet.greenlet(lambda: fn(*args, **kwargs), parent=greenlet.getcurrent())
    worker.gr_context = context
    setattr(worker, _MARK, True)
    step: Any = worker.switch()
    while not worker.dead:
        try:
            value = await cast(Awaitable[Any], step)
        except BaseException as exc:
            step = worker.throw(exc)
        else:
            step = worker.switch(value)
    return cast(T, step)


def await_only(awaitable: Awaitable[T]) -> T:
    """Inside :func:`run_sync`: wait for ``awaitable`` on the event loop and return its result (or raise)."""
    greenlet = _greenlet()
    current = greenlet.getcurrent()
    if not getattr(current, _MARK, False):
        if inspect.iscoroutine(awaitable):
            awaitable.close()
        raise RuntimeError("an async request was sent outside the async API's bridge (mastra_dynamo.aio)")
    return cast(T, current.parent.switch(awaitable))


class BridgedStore(Protocol):
    """An async face of a sync store: ``_call(name, ...)`` runs the sync method ``name`` through
    :func:`run_sync` (opening what it needs first)."""

    async def _call(self, name: str, /, *args: Any, **kwargs: Any) -> Any: ...


AsyncMethod = Callable[Concatenate[BridgedStore, P], Awaitable[T]]


def awaitable(method: Callable[Concatenate[Any, P], T]) -> AsyncMethod[P, T]:
    """The awaitable form of a sync store method, with its exact signature (mypy checks every argument of an
    async call against the sync method). The call is ``self._call(name, ...)``: the sync method run on the event
    loop through the bridge."""
    name = method.__name__

    async def call(self: BridgedStore, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return cast(T, await self._call(name, *args, **kwargs))

    call.__name__ = name
    call.__qualname__ = name
    call.__doc__ = method.__doc__
    return call


def pause(seconds: float) -> None:
    """Wait ``seconds``: ``asyncio.sleep`` inside the bridge (other tasks go on), ``time.sleep`` otherwise."""
    if in_bridge():
        import asyncio  # the sync API never imports asyncio

        await_only(asyncio.sleep(seconds))
    else:
        time.sleep(seconds)


class AsyncClientAdapter:
    """A synchronous face of an aiobotocore DynamoDB client for code running inside :func:`run_sync`: each
    operation method awaits the client's coroutine through :func:`await_only`. ``meta`` and ``exceptions`` are
    the client's (botocore's own)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.meta = client.meta
        self.exceptions = client.exceptions

    @property
    def aio(self) -> Any:
        """The aiobotocore client."""
        return self._client

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._client, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            result = target(*args, **kwargs)
            return await_only(result) if inspect.isawaitable(result) else result

        call.__name__ = name
        setattr(self, name, call)  # built once per operation, not once per request
        return call
