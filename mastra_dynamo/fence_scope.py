"""Ambient run fences (spec 3.12.1): the fence a block of code writes under, without passing ``fence=`` to
every call.

A workflow step that owns its run can open a scope once; every fence-accepting write of the stores inside it
(workflow snapshots, results, state and deletes, and the fenced memory writes) then carries the scope's fence,
exactly as if it had been passed explicitly, and is rejected with
:class:`~mastra_dynamo.errors.RunFenceConflictError` when the fence is no longer the run's current claim::

    with run_fence_scope(claim.record_fence()):       # or run_fence_scope(lambda store, run_id: ...)
        workflows.persist_workflow_snapshot(...)       # fenced
        memory.save_messages(messages=...)             # fenced
        with run_outside_run_fence_scope():
            memory.save_messages(messages=...)         # not fenced

An explicit ``fence=`` always wins over the scope. The scope lives in a :class:`contextvars.ContextVar`, so it
follows the code that opened it into the coroutines and tasks it starts (``asyncio`` copies the context) and
never leaks into other threads or requests.

``fence_for(store, run_id)`` decides per write: workflows pass the run the write targets, memory passes None.
A scope opened with a fence answers that fence for memory writes and for writes of its own run; for another
run (a nested workflow run) it answers the same fence too, so the nested run's writes are conditioned on the
parent's claim (``cover_nested=False`` leaves other runs unfenced). ``on_conflict`` is called with each
conflict error raised under the scope, before it propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from mastra_dynamo.errors import RunFenceConflictError
from mastra_dynamo.records.run_fencing import RunFence

FenceLike = RunFence | Mapping[str, Any]
FenceFor = Callable[[Any, str | None], FenceLike | None]
"""``(store, run_id) -> fence or None``: the fence of one write (``run_id`` None for memory writes)."""

_MAX_CAUSES = 8


@dataclass(frozen=True)
class RunFenceScope:
    fence_for: FenceFor
    on_conflict: Callable[[RunFenceConflictError], None] | None = None


_SCOPE: ContextVar[RunFenceScope | None] = ContextVar("mastra_dynamo_run_fence_scope", default=None)


def _fixed(fence: FenceLike, cover_nested: bool) -> FenceFor:
    run_id = fence.run_id if isinstance(fence, RunFence) else fence.get("runId", fence.get("run_id"))

    def fence_for(_store: Any, target: str | None) -> FenceLike | None:
        return fence if target is None or target == run_id or cover_nested else None

    return fence_for


@contextmanager
def run_fence_scope(fence: FenceLike | FenceFor, *, on_conflict: Callable[[RunFenceConflictError], None] | None = None,
                    cover_nested: bool = True) -> Iterator[RunFenceScope]:
    """Within the block, fence-accepting writes without an explicit ``fence`` carry the scope's: ``fence`` is a
    fence (a :class:`RunFence` or ``{runId, generation, ownerId}``) or a ``fence_for(store, run_id)``
    function. Scopes nest: the innermost one decides."""
    fence_for = fence if callable(fence) else _fixed(fence, cover_nested)
    scope = RunFenceScope(fence_for, on_conflict)
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


@contextmanager
def run_outside_run_fence_scope() -> Iterator[None]:
    """Within the block no ambient fence applies (explicit ``fence=`` arguments still do)."""
    token = _SCOPE.set(None)
    try:
        yield
    finally:
        _SCOPE.reset(token)


def ambient_fence(store: Any, run_id: str | None = None) -> FenceLike | None:
    """The fence the current scope gives a write of ``store`` (on run ``run_id``), or None."""
    scope = _SCOPE.get()
    return None if scope is None else scope.fence_for(store, run_id)


def resolve_run_fence(store: Any, fence: FenceLike | None, run_id: str | None = None) -> FenceLike | None:
    """The explicit ``fence`` when given, else the current scope's fence for this write (or None)."""
    return fence if fence is not None else ambient_fence(store, run_id)


def notify_conflict(error: RunFenceConflictError) -> RunFenceConflictError:
    """Tell the current scope (if any) about a conflict error; returns the error."""
    scope = _SCOPE.get()
    if scope is not None and scope.on_conflict is not None:
        scope.on_conflict(error)
    return error


def matches_run_fence(current: FenceLike | None, fence: FenceLike | None) -> bool:
    """Same generation and same owner (``matchesRunFence``)."""
    if current is None or fence is None:
        return False
    a = current if isinstance(current, RunFence) else RunFence.model_validate(current)
    b = fence if isinstance(fence, RunFence) else RunFence.model_validate(fence)
    return a.generation == b.generation and a.owner_id == b.owner_id


def is_run_fence_conflict_error(error: BaseException | None) -> bool:
    """The error, or one of its causes (``__cause__``, up to 8 levels), is a run fence conflict."""
    for _ in range(_MAX_CAUSES + 1):
        if error is None:
            return False
        if isinstance(error, RunFenceConflictError) or getattr(error, "code", None) == RunFenceConflictError.code:
            return True
        error = error.__cause__ or error.__context__
    return False
