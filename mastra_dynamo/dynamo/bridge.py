"""One implementation for both APIs: the domain code is written once, synchronously, and the async API runs it in
a greenlet on the event loop's own thread, where every DynamoDB request is awaited on aiobotocore.

How it works. :func:`run_sync` (a coroutine) runs the synchronous call in a greenlet. When that code sends a
request, the transport (:class:`AsyncClientAdapter`) hands the aiobotocore coroutine to :func:`await_only`, which
switches back to :func:`run_sync` on the event loop; :func:`run_sync` awaits it like any coroutine, while other
tasks run, and switches back into the greenlet with the answer (or throws the exception into it). Nothing runs
on another thread, and no line of domain logic exists twice: the sync API calls the same methods directly on a
botocore client. The alternatives weighed were a second, ``async def`` copy of each domain (two copies of every
rule) and domain logic written as coroutines driven by hand from the sync API (every method and every iterator
rewritten, and a cost on every sync call); a greenlet switch costs well under a microsecond.

Greenlets are reused: starting a new one costs ~10 µs of CPU (more than all of the bridge's other work on a
call), so a greenlet that finished a call waits in a per-thread list of idle ones (at most :data:`MAX_IDLE`) for
the next call of that thread's event loop.

Rules for code that runs on both: wait only through :func:`pause` (never ``time.sleep``), and hold no
``threading`` lock across a request (another task on the same loop would block the thread that must release
it). Context variables (run fences) follow the caller into the greenlet: each call runs in a copy of the
caller's context, as an asyncio task does.
"""

from __future__ import annotations

import contextvars
import inspect
import threading
import time
import types
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

P = ParamSpec("P")
T = TypeVar("T")

_MARK = "_mastra_dynamo_bridge"
_COROUTINE = types.CoroutineType

_module: Any = None  # the greenlet module once imported (False: not installed); the sync API never imports it
_worker_class: Any = None  # the greenlet subclass run_sync starts (carries _MARK), made once
_getcurrent: Callable[[], Any] | None = None


def _greenlet_module() -> Any:
    global _module, _getcurrent
    if _module is None:
        try:
            import greenlet  # type: ignore[import-untyped]
        except ImportError:  # sync-only installs
            _module = False
        else:
            _module, _getcurrent = greenlet, greenlet.getcurrent
    return _module or None


def _greenlet() -> Any:
    greenlet = _greenlet_module()
    if greenlet is None:  # pragma: no cover - the async extra installs it
        from mastra_dynamo.errors import ConfigurationError

        raise ConfigurationError("the async API needs the `async` extra: pip install 'mastra-dynamo[async]'",
                                 code="MISSING_DEPENDENCY", details={"package": "greenlet"})
    return greenlet


def _worker() -> Any:
    """The greenlet class :func:`run_sync` runs the synchronous call in (built on first use)."""
    global _worker_class
    if _worker_class is None:
        greenlet = _greenlet()
        _worker_class = type("BridgeGreenlet", (greenlet.greenlet,), {_MARK: True, "__slots__": ()})
    return _worker_class


def in_bridge() -> bool:
    """Whether the current code runs inside :func:`run_sync` (its requests are awaited on the event loop)."""
    return _greenlet_module() is not None and bool(getattr(_current(), _MARK, False))


def _current() -> Any:
    if _getcurrent is None:
        _greenlet()
    assert _getcurrent is not None
    return _getcurrent()


MAX_IDLE = 256
"""Idle greenlets kept per thread for later calls (each holds a few KB of saved stack)."""


class _Idle(threading.local):
    def __init__(self) -> None:
        self.workers: list[Any] = []


_idle = _Idle()


class _Outcome:
    """What a call in a worker greenlet ended with (told apart from the awaitables it hands over by its type)."""

    __slots__ = ("error", "value")

    def __init__(self, value: Any, error: BaseException | None) -> None:
        self.value = value
        self.error = error


def _serve(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """The body of a worker greenlet: run a call, hand its outcome to the caller, wait for the next call."""
    greenlet = _greenlet()
    while True:
        try:
            outcome = _Outcome(fn(*args, **kwargs), None)
        except greenlet.GreenletExit:  # the idle greenlet is being discarded
            raise
        except BaseException as exc:
            outcome = _Outcome(None, exc)
        fn = args = kwargs = None  # type: ignore[assignment]  # nothing of a call outlives it
        fn, args, kwargs = greenlet.getcurrent().parent.switch(outcome)


async def run_sync(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run the synchronous ``fn(*args, **kwargs)`` on this event loop; its requests are awaited (see module),
    each started in its turn (:mod:`mastra_dynamo.dynamo.turns`)."""
    from mastra_dynamo.dynamo import turns  # imports asyncio: the sync API never loads it

    turn = turns.take()  # the call's domain code and its first request start in their turn
    if turn is not None:
        await turn
    idle = _idle.workers
    if idle:
        worker = idle.pop()
        worker.parent = _current()
    else:
        worker = _worker()(_serve)  # its parent: the current greenlet (the event loop's)
    worker.gr_context = contextvars.copy_context()
    step: Any = worker.switch(fn, args, kwargs)
    while type(step) is not _Outcome:
        try:
            value = await cast(Awaitable[Any], step)
        except BaseException as exc:
            step = worker.throw(exc)
        else:
            step = worker.switch(value)
    worker.gr_context = contextvars.Context()  # the call's context variables are not kept alive
    if len(idle) < MAX_IDLE:
        idle.append(worker)
    error = step.error
    if error is None:
        return cast(T, step.value)
    try:
        raise error
    finally:
        del error, step


def await_only(awaitable: Awaitable[T]) -> T:
    """Inside :func:`run_sync`: wait for ``awaitable`` on the event loop and return its result (or raise)."""
    current = _current()
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


_PARSE_IN_TURN = "mastra-dynamo-parse-in-turn"


async def _parse_in_turn(**_: Any) -> None:
    """aiobotocore's ``before-parse`` handler: the answer is parsed in its turn (:mod:`turns`)."""
    from mastra_dynamo.dynamo import turns

    turn = turns.take()
    if turn is not None:
        await turn


class AsyncClientAdapter:
    """A synchronous face of an aiobotocore DynamoDB client for code running inside :func:`run_sync`: each
    operation method awaits the client's coroutine through :func:`await_only`. ``meta`` and ``exceptions`` are
    the client's (botocore's own)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.meta = client.meta
        self.exceptions = client.exceptions
        # parsing an answer is CPU work on the loop too: it waits for its turn like the start of a request
        client.meta.events.register("before-parse", _parse_in_turn, unique_id=_PARSE_IN_TURN)

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
            if type(result) is _COROUTINE or inspect.isawaitable(result):  # operations return coroutines
                return await_only(result)
            return result

        call.__name__ = name
        setattr(self, name, call)  # built once per operation, not once per request
        return call
