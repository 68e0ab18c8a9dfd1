"""Requests per call as docs/access-patterns.md documents them ("Requests per call" and "Min" columns),
evaluated for the parameters of each workload call (the plan's ``ctx``).

Every function returns ``(documented, minimum, reason)``; the reason is the doc's own note for an operation
whose documented cost is above its minimum (section 5 of docs/access-patterns.md), or "" when it is not.
Items here are small (a thread's history stays far below 1 MB in the workload), so ``pages(x) = ⌈x / L⌉``
and ``cpages = 1``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

GLOBAL_SHARDS = 8

Formula = Callable[[dict[str, Any]], tuple[int, int, str]]


def _ceil(a: int, b: int) -> int:
    return max(0, math.ceil(a / b))


def _page(count: int, k: int, partitions: int = 1) -> tuple[int, int]:
    """(documented, minimum) of a first page of ``k`` over ``count`` matches read from ``partitions``.

    Documented (``listing.page_with_total``): P page Queries reading k+1 items, plus P COUNT Queries only when
    more than k items match. Minimum (the Min column "1 (+1)"): one Query, +1 for ``total`` only when the
    range is larger than the page.
    """
    documented = partitions + (partitions if count > k else 0)
    minimum = 1 + (1 if count > k else 0)
    return documented, minimum


SHARDING = "sharded listing: one Query per shard, plus one COUNT per shard when more than a page matches (doc 1.7, 5.2)"
REBUILD = ("the thread's message counters are not stored yet: one projected Query counts the history and one "
           "UpdateItem stores the counters (doc 4.1, once per thread)")
HEADS = "run heads are not indexed: the page's heads are read with one BatchGetItem (doc 2.2)"


def _listing_reason(count: int, k: int, partitions: int) -> str:
    return SHARDING if partitions > 1 else ""


def _list_messages(ctx: dict[str, Any]) -> tuple[int, int, str]:
    m, k, includes = int(ctx.get("m", 0)), int(ctx.get("k", 20)), int(ctx.get("includes", 0))
    # newest first over one whole thread: the thread item (its message counters) comes with the page
    documented = 1 + (2 if ctx.get("rebuild") else 0)
    minimum = 1 + (1 if m > k else 0)
    reason = REBUILD if ctx.get("rebuild") else ""
    if includes:
        # ⌈I/100⌉ BatchGetItem of pointers + one Query before and one after each target (withNextMessages > 0).
        # The Min column covers the page only; no time-keyed layout reads a window around a message known by id
        # with less than its location plus one Query per direction, so the windows count at that cost.
        windows = _ceil(includes, 100) + 2 * includes
        documented += windows
        minimum += windows
    return documented, minimum, reason


def _delete_thread(ctx: dict[str, Any]) -> tuple[int, int, str]:
    m = int(ctx.get("m", 0))
    pages = max(1, _ceil(m, 1000))
    # + 1 UpdateItem before the cascade when there are messages: the thread's message counters are turned off
    # messages go in batches of 500: pointers first, then the messages, each in requests of 25
    batches = [min(500, m - start) for start in range(0, m, 500)]
    documented = pages + _ceil(m, 100) + sum(2 * _ceil(b, 25) for b in batches) + 1 + (1 if m else 0)
    minimum = pages + _ceil(m + 1, 25)
    return documented, minimum, ("pointer hops: every message's pointer is read, then deleted (doc 5.1); the "
                                 "thread's message counters are turned off before the cascade (doc 4.1)")


def _update_resource(ctx: dict[str, Any]) -> tuple[int, int, str]:
    if ctx.get("exists", True):
        return 1, 1, ""
    return 2, 1, ("a missing resource: the single conditional UpdateItem fails (and says the resource is absent), "
                  "then a PutItem creates it (doc 4.1)")


def _runs(partitions: int) -> Formula:
    def formula(ctx: dict[str, Any]) -> tuple[int, int, str]:
        runs = int(ctx.get("runs", 0))
        if "k" not in ctx:  # not paginated: every run, no COUNT
            heads = _ceil(runs, 100)
            return partitions + heads, 1, "; ".join(r for r in (SHARDING if partitions > 1 else "", HEADS) if r)
        k = int(ctx["k"])
        documented, minimum = _page(runs, k, partitions)
        heads = _ceil(min(runs, k), 100)
        return documented + heads, minimum, "; ".join(
            r for r in (_listing_reason(runs, k, partitions), HEADS if heads else "") if r)

    return formula


def _scores(partitions: int) -> Formula:
    def formula(ctx: dict[str, Any]) -> tuple[int, int, str]:
        count, k = int(ctx.get("count", 0)), int(ctx.get("k", 20))
        documented, minimum = _page(count, k, partitions)
        return documented, minimum, _listing_reason(count, k, partitions)

    return formula


def _threads(ctx: dict[str, Any]) -> tuple[int, int, str]:
    # ordered by updatedAt: every entry of the resource (one Query while under 1,000), then its threads
    count, k = int(ctx.get("t", 0)), int(ctx.get("k", 10))
    _, minimum = _page(count, k)
    documented = max(1, _ceil(count, 1000)) + _ceil(count, 100)
    return documented, minimum, ("threads are listed by small index entries and read with one BatchGetItem; no "
                                 "index is keyed on updatedAt, so a resource's threads are read whole and "
                                 "ordered client-side (doc 2.1, 4.1)")


FORMULAS: dict[str, Formula] = {
    "saveThread": lambda ctx: (1, 1, ""),
    "getThreadById": lambda ctx: (1, 1, ""),
    "listMessages[last20]": _list_messages,
    # ⌈(n+t)/100⌉ BatchGetItem + C=1 transaction; min: 1 BatchWriteItem + 1 thread update
    "saveMessages[2]": lambda ctx: (1, 1, ""),
    "updateResource[workingMemory]": _update_resource,
    "listThreads[byResource]": _threads,
    "listMessages[last20+include2]": _list_messages,
    "updateMessages[2]": lambda ctx: (3, 3, ""),
    # a thread this store has read or written is planned from its hints; another one is read first (+1)
    "deleteMessages[2]": lambda ctx: (2, 2, ""),
    "deleteThread": _delete_thread,
    # a run this store wrote or read before, or a new one (doc 2.2); a run another process wrote: 2
    "persistWorkflowSnapshot": lambda ctx: (1, 1, ""),
    "loadWorkflowSnapshot": lambda ctx: (1, 1, ""),
    "listWorkflowRuns[byWorkflow,page]": _runs(1),
    "listWorkflowRuns[all,page]": _runs(GLOBAL_SHARDS),
    "listWorkflowRuns[byResource]": _runs(1),
    "saveScore": lambda ctx: (1, 1, ""),
    "listScoresByScorerId[page]": _scores(1),
    "listScoresByRunId[page]": _scores(1),
    "listScoresByEntityId[page]": _scores(1),
}


def evaluate(label: str, ctx: dict[str, Any]) -> tuple[int, int, str] | None:
    formula = FORMULAS.get(label)
    return None if formula is None else formula(ctx)
