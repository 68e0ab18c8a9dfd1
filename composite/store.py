"""MastraCompositeStore: one storage facade whose domains come from different stores.

Each domain (``memory``, ``workflows``, ``observability``, ...) is resolved once, at construction:
an explicit ``domains[key]`` wins, then the ``editor`` store (editor domains only), then the ``default`` store.
``domains[key] = False`` disables a domain (no fallback); ``None`` means "not given" (falls back).

A source store (``default``, ``editor``, or a store given as a ``domains`` value) is anything with a ``stores``
mapping or a ``get_store(name)`` method: a ``DynamoDBStore``, an ``AsyncDynamoDBStore`` or another
``MastraCompositeStore``. A domain value that is itself a store (it has ``get_store``) contributes that store's
domain of the same name, and the store becomes a parent: ``init()`` and ``close()`` reach it, so its setup
(e.g. the DynamoDB table check) is never bypassed.

Both a blocking API (``init``, ``close``) and an awaitable one (``ainit``, ``aclose``, ``async with``) are
provided; they share one init cache.

* ``await ainit()`` / ``await aclose()`` start no thread. Members whose ``init``/``close`` are coroutine
  functions (``AsyncDynamoDBStore``, ``AsyncClickHouseObservabilityStore``) are awaited on the caller's loop,
  concurrently. A blocking member (a sync ``DynamoDBStore`` or ``ClickHouseObservabilityStore``, or any object
  whose ``init``/``close`` are plain functions) is called directly on the loop's thread and blocks it for its
  duration (a DynamoDB ``init()`` is two requests, a ClickHouse one a few queries; ``close()`` only releases
  connections). This is deliberate: such a member blocks the loop on every domain call anyway, so startup and
  shutdown are no different; handing it to a worker thread would run it on a thread it may not expect (e.g. a
  client bound to another thread or loop) while the application calls it from the loop. Use the async forms of
  the stores in an async application; a composite mixing both kinds still initialises and closes correctly.
* ``init()`` / ``close()`` run the members on worker threads in parallel; a coroutine-function member runs on a
  private event loop in its worker thread. Prefer ``ainit()`` for async members: a client an async store opens
  during a blocking ``init()`` belongs to that private loop, which ends with the call.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from mastra_dynamo.composite.registry import DOMAIN_KEYS, EDITOR_DOMAINS, domain_key, snake_name
from mastra_dynamo.errors import BackendError, ConfigurationError, StorageError, ValidationError

logger = logging.getLogger(__name__)

MAX_PARALLEL = 16
"""Upper bound on worker threads used by one init()/close() phase."""


def _is_store(value: object) -> bool:
    """A source store (has ``get_store``) as opposed to a domain object."""
    return callable(getattr(value, "get_store", None))


def lookup_domain(source: Any, key: str) -> Any:
    """The domain ``key`` served by ``source`` (its ``stores`` mapping, else ``get_store``), or None.

    Raises:
        ValidationError: ``source`` is neither a mapping holder nor has ``get_store``, or its ``get_store`` is
            asynchronous (pass the domain objects through ``domains`` instead).
    """
    alias = snake_name(key)
    stores = getattr(source, "stores", None)
    if isinstance(stores, Mapping):
        found = stores.get(key)
        if found is None and alias != key:
            found = stores.get(alias)
        return found
    get_store = getattr(source, "get_store", None)
    if not callable(get_store):
        raise ValidationError(
            f"{type(source).__name__} is not a storage source: it needs a `stores` mapping or get_store(name)",
            code="INVALID_STORAGE_SOURCE",
        )
    found = get_store(key)
    if found is None and alias != key:
        found = get_store(alias)
    if inspect.isawaitable(found):
        if inspect.iscoroutine(found):
            found.close()
        raise ValidationError(
            f"{type(source).__name__}.get_store is asynchronous; pass its domain objects through `domains`",
            code="INVALID_STORAGE_SOURCE",
        )
    return found


def _distinct(objects: Iterable[Any]) -> list[Any]:
    seen: set[int] = set()
    out: list[Any] = []
    for obj in objects:
        if id(obj) not in seen:
            seen.add(id(obj))
            out.append(obj)
    return out


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def _call_blocking(fn: Callable[[], Any]) -> None:
    """Call ``fn``; if it returns an awaitable, run it to completion on a private event loop."""
    result = fn()
    if inspect.isawaitable(result):
        asyncio.run(_await(result))


async def _call_async(fn: Callable[[], Any]) -> None:
    """Await ``fn()``: a coroutine function's coroutine, or whatever awaitable a plain function returns. A plain
    (blocking) function runs here, on the loop's thread (see the module docstring)."""
    result = fn()
    if inspect.isawaitable(result):
        await result


def _as_storage_error(exc: BaseException, *, what: str) -> BaseException:
    if isinstance(exc, StorageError) or not isinstance(exc, Exception):
        return exc
    return BackendError(f"{what} failed: {type(exc).__name__}", code="INIT_FAILED",
                        details={"target": what, "exception": type(exc).__name__}, cause=exc)


def _label(obj: Any) -> str:
    ident = getattr(obj, "id", None)
    return f"{type(obj).__name__}({ident!r})" if isinstance(ident, str) else type(obj).__name__


class MastraCompositeStore:
    """Routes each Mastra storage domain to the store that owns it.

    Args:
        id: non-empty store id.
        name: display name used in error messages (default ``"MastraCompositeStore"``).
        default: the store every domain falls back to.
        editor: a store supplying the editor domains (agents, promptBlocks, scorerDefinitions, mcpClients,
            mcpServers, workspaces, skills, favorites, toolProviderConnections) ahead of ``default``.
        domains: per-domain overrides keyed by domain name (camelCase or snake_case): a domain object, a
            store serving that domain, ``False`` (domain disabled, no fallback) or ``None`` (not given).
        disable_init: a flag for the framework (do not call ``init()`` automatically); ``init()`` still runs
            when called.

    Raises:
        ValidationError: blank id; unknown domain name; a domain value of ``True``; a source that is not a
            store; the same domain given twice (both spellings).
        ConfigurationError: no storage source contributes any domain; a store given for a domain it does not
            serve.

    ``threadState`` has no in-memory fallback here: it is resolved like every other domain.
    """

    def __init__(
        self,
        *,
        id: str,
        name: str = "MastraCompositeStore",
        default: Any = None,
        editor: Any = None,
        domains: Mapping[str, Any] | None = None,
        disable_init: bool = False,
    ) -> None:
        if not isinstance(id, str) or not id.strip():
            raise ValidationError(f"{name}: id must be provided and cannot be empty.", code="INVALID_STORE_ID")
        self.id = id
        self.name = name
        self.disable_init = disable_init
        self.default = default
        self.editor = editor

        overrides, store_parents = self._read_overrides(domains or {})
        contributed = any(value is not False for value in overrides.values())
        resolved: dict[str, Any] = {}
        for key in DOMAIN_KEYS:
            if key in overrides:
                if overrides[key] is not False:
                    resolved[key] = overrides[key]
                continue
            value = None
            if editor is not None and key in EDITOR_DOMAINS:
                value = lookup_domain(editor, key)
            if value is None and default is not None:
                value = lookup_domain(default, key)
            if value is not None:
                resolved[key] = value
        if not contributed:
            contributed = (default is not None and any(lookup_domain(default, k) is not None for k in DOMAIN_KEYS)) \
                or (editor is not None and any(lookup_domain(editor, k) is not None for k in EDITOR_DOMAINS))
        if not contributed:
            raise ConfigurationError(
                "MastraCompositeStore requires at least one storage source. Provide a default store, an editor "
                "store, or at least one domain in `domains` (a domain set to False does not count).",
                code="NO_STORAGE_SOURCE",
            )
        self._stores = resolved
        self._parents = _distinct([p for p in (default, editor, *store_parents) if p is not None])
        owned = _distinct(v for p in self._parents for k in DOMAIN_KEYS if (v := lookup_domain(p, k)) is not None)
        self._unowned = [d for d in _distinct(resolved.values()) if not any(d is o for o in owned)]
        self._init_lock = threading.Lock()
        self._init_future: Future[None] | None = None

    def _read_overrides(self, domains: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        if not isinstance(domains, Mapping):
            raise ValidationError(f"{self.name}: domains must be a mapping of domain name to store",
                                  code="INVALID_DOMAINS")
        overrides: dict[str, Any] = {}
        parents: list[Any] = []
        for raw, value in domains.items():
            key = domain_key(raw)
            if key is None:
                raise ValidationError(
                    f"{self.name}: unknown storage domain {raw!r}; known domains: {', '.join(DOMAIN_KEYS)}",
                    code="UNKNOWN_DOMAIN", details={"domain": str(raw)[:64]},
                )
            if value is None:
                continue
            if key in overrides:
                raise ValidationError(f"{self.name}: domain {key!r} is given twice", code="DUPLICATE_DOMAIN",
                                      details={"domain": key})
            if value is True:
                raise ValidationError(f"{self.name}: domain {key!r} must be a store, a domain object or False",
                                      code="INVALID_DOMAINS", details={"domain": key})
            if value is not False and _is_store(value):
                served = lookup_domain(value, key)
                if served is None:
                    raise ConfigurationError(
                        f"{self.name}: {_label(value)} does not serve the {key!r} domain",
                        code="DOMAIN_NOT_SERVED", details={"domain": key},
                    )
                parents.append(value)
                value = served
            overrides[key] = value
        return overrides, parents

    # ------------------------------------------------------------------ domains
    @property
    def stores(self) -> dict[str, Any]:
        """Domain key -> domain object for every resolved domain (a copy)."""
        return dict(self._stores)

    def get_store(self, name: str) -> Any:
        """The domain object for ``name`` (camelCase or snake_case), or None when missing. Never raises."""
        key = domain_key(name)
        return None if key is None else self._stores.get(key)

    # ------------------------------------------------------------------ init
    def _init_phases(self) -> list[list[Any]]:
        parents = [p for p in self._parents if callable(getattr(p, "init", None))]
        domains = [d for d in self._unowned if callable(getattr(d, "init", None))]
        return [parents, domains]

    def _claim_init(self) -> tuple[Future[None], bool]:
        with self._init_lock:
            if self._init_future is not None:
                return self._init_future, False
            self._init_future = Future()
            return self._init_future, True

    def _finish_init(self, future: Future[None], exc: BaseException | None) -> None:
        if exc is None:
            future.set_result(None)
            return
        with self._init_lock:
            if self._init_future is future:
                self._init_future = None
        future.set_exception(exc)

    def init(self) -> None:
        """Initialise every distinct underlying store once.

        First the parent stores (``default``, ``editor``, stores given in ``domains``) in parallel, then every
        remaining distinct domain object that has an ``init`` method, in parallel. The result is cached:
        concurrent callers (threads or ``ainit``) share one run; after a failure the cache is cleared so the
        next call runs again.

        Raises:
            StorageError: the first failure of an underlying init (errors that are not StorageError are
                wrapped in BackendError with code ``INIT_FAILED``).
        """
        future, owner = self._claim_init()
        if not owner:
            future.result()
            return
        try:
            for phase in self._init_phases():
                self._run_blocking(phase, "init", raise_errors=True)
        except BaseException as exc:
            self._finish_init(future, exc)
            raise
        self._finish_init(future, None)

    async def ainit(self) -> None:
        """Awaitable ``init()`` with the same order, caching and errors (the two share one cache). Starts no
        thread: awaitable members are awaited concurrently, blocking ones called on this thread (see the module
        docstring)."""
        future, owner = self._claim_init()
        if not owner:
            await asyncio.wrap_future(future)
            return
        try:
            for phase in self._init_phases():
                await self._run_async(phase, "init", raise_errors=True)
        except BaseException as exc:
            self._finish_init(future, exc)
            raise
        self._finish_init(future, None)

    # ------------------------------------------------------------------ close
    def _close_targets(self) -> list[Any]:
        return [t for t in _distinct([*self._parents, *self._unowned]) if callable(getattr(t, "close", None))]

    def close(self) -> None:
        """Close every parent store and every domain object not owned by a parent, each once.

        Never raises: failures are logged (logger ``mastra_dynamo.composite.store``) and the other targets are
        still closed.
        """
        self._run_blocking(self._close_targets(), "close", raise_errors=False)

    async def aclose(self) -> None:
        """Awaitable ``close()`` (no thread, as ``ainit``); never raises."""
        await self._run_async(self._close_targets(), "close", raise_errors=False)

    async def __aenter__(self) -> MastraCompositeStore:
        """``async with store:`` is ``await store.ainit()`` ... ``await store.aclose()``."""
        await self.ainit()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ runners
    def _run_blocking(self, targets: list[Any], method: str, *, raise_errors: bool) -> None:
        if not targets:
            return
        errors: list[tuple[Any, BaseException]] = []
        # Worker threads even for one target: an async init then gets a thread without a running event loop.
        with ThreadPoolExecutor(max_workers=min(len(targets), MAX_PARALLEL),
                                thread_name_prefix=f"composite-{method}") as pool:
            futures = [(t, pool.submit(_call_blocking, getattr(t, method))) for t in targets]
            for target, fut in futures:
                failure = fut.exception()
                if failure is not None:
                    errors.append((target, failure))
        self._report(errors, method, raise_errors=raise_errors)

    async def _run_async(self, targets: list[Any], method: str, *, raise_errors: bool) -> None:
        if not targets:
            return
        # Blocking members first, one after the other on this thread; then the awaitable ones concurrently.
        ordered = sorted(targets, key=lambda t: inspect.iscoroutinefunction(getattr(t, method)))
        calls: list[Coroutine[Any, Any, None]] = [_call_async(getattr(t, method)) for t in ordered]
        results = await asyncio.gather(*calls, return_exceptions=True)
        targets = ordered
        errors = [(t, r) for t, r in zip(targets, results, strict=True) if isinstance(r, BaseException)]
        self._report(errors, method, raise_errors=raise_errors)

    def _report(self, errors: list[tuple[Any, BaseException]], method: str, *, raise_errors: bool) -> None:
        """Log every failure; with ``raise_errors`` the first one is raised (the others only logged)."""
        logged = errors[1:] if raise_errors else errors
        for target, exc in logged:
            logger.warning("%s: %s() of %s failed: %s", self.name, method, _label(target), exc, exc_info=exc)
        if raise_errors and errors:
            target, first = errors[0]
            wrapped = _as_storage_error(first, what=f"{method}() of {_label(target)}")
            if wrapped is first:
                raise first
            raise wrapped from first

    def __repr__(self) -> str:
        return f"MastraCompositeStore(id={self.id!r}, domains={sorted(self._stores)!r})"


__all__ = ["MastraCompositeStore", "lookup_domain"]
