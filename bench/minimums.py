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
HOT_SHARDS = 4

Formula = Callable[[dict[str, Any]], tuple[int, int, str]]


def _ceil(a: int, b: int) -> int:
    return max(0, math.ceil(a / b))


def _page(count: int, k: int, partitions: int = 1) -> tuple[int, int]:
    """(documented, minimum) of a first page of ``k`` over ``count`` matches read from ``partitions``.

    Documented (``listing.page_with_total``): P page Queries, plus P COUNT Queries unless page 0 came back
    shorter than k. Minimum (the Min column "1 (+1)"): one Query, +1 for ``total`` only when the range is
    larger than the page.
    """
    documented = partitions + (partitions if count >= k else 0)
    minimum = 1 + (1 if count > k else 0)
    return documented, minimum


SHARDING = "sharded listing: one Query per shard, plus one COUNT per shard when the page is full (doc 1.7, 5.2)"
EXACT_PAGE = ("the range holds exactly perPage items: the page is full, so a COUNT is sent although nothing "
              "follows (a Limit of perPage+1 would tell)")


def _listing_reason(count: int, k: int, partitions: int) -> str:
    reasons = []
    if partitions > 1:
        reasons.append(SHARDING)
    if count == k:
        reasons.append(EXACT_PAGE)
    return "; ".join(reasons)


def _list_messages(ctx: dict[str, Any]) -> tuple[int, int, str]:
    m, k, includes = int(ctx.get("m", 0)), int(ctx.get("k", 20)), int(ctx.get("includes", 0))
    documented, minimum = _page(m, k)
    reason = EXACT_PAGE if m == k else ""
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
    documented = pages + _ceil(m, 100) + _ceil(2 * m, 25) + 1
    minimum = pages + _ceil(m + 1, 25)
    return documented, minimum, "pointer hops: every message's pointer is read, then deleted (doc 5.1)"


def _update_resource(ctx: dict[str, Any]) -> tuple[int, int, str]:
    if ctx.get("exists", True):
        return 2, 2, ""
    return 2, 1, "a missing resource is found by the GetItem, then created with a PutItem (doc 4.1: 2, 1 for a create)"


def _runs(partitions: int) -> Formula:
    def formula(ctx: dict[str, Any]) -> tuple[int, int, str]:
        runs = int(ctx.get("runs", 0))
        if "k" not in ctx:  # not paginated: every run, no COUNT
            return partitions, 1, SHARDING if partitions > 1 else ""
        k = int(ctx["k"])
        documented, minimum = _page(runs, k, partitions)
        return documented, minimum, _listing_reason(runs, k, partitions)

    return formula


def _scores(partitions: int) -> Formula:
    def formula(ctx: dict[str, Any]) -> tuple[int, int, str]:
        count, k = int(ctx.get("count", 0)), int(ctx.get("k", 20))
        documented, minimum = _page(count, k, partitions)
        return documented, minimum, _listing_reason(count, k, partitions)

    return formula


def _threads(ctx: dict[str, Any]) -> tuple[int, int, str]:
    count, k = int(ctx.get("t", 0)), int(ctx.get("k", 10))
    documented, minimum = _page(count, k)
    return documented, minimum, _listing_reason(count, k, 1)


FORMULAS: dict[str, Formula] = {
    "saveThread": lambda ctx: (1, 1, ""),
    "getThreadById": lambda ctx: (1, 1, ""),
    "listMessages[last20]": _list_messages,
    # ⌈(n+t)/100⌉ BatchGetItem + C=1 transaction; min: 1 BatchWriteItem + 1 thread update
    "saveMessages[2]": lambda ctx: (2, 2, ""),
    "updateResource[workingMemory]": _update_resource,
    "listThreads[byResource]": _threads,
    "listMessages[last20+include2]": _list_messages,
    "updateMessages[2]": lambda ctx: (4, 3, "reads before conditional writes: pointers, messages and the "
                                            "parent thread are read before the transaction (doc 5.4)"),
    "deleteMessages[2]": lambda ctx: (3, 2, "the parent thread is read (BatchGetItem) so the transaction can "
                                            "bump its updatedAt conditionally (doc 4.1)"),
    "deleteThread": _delete_thread,
    "persistWorkflowSnapshot": lambda ctx: (1, 1, ""),
    "loadWorkflowSnapshot": lambda ctx: (1, 1, ""),
    "listWorkflowRuns[byWorkflow,page]": _runs(HOT_SHARDS),
    "listWorkflowRuns[all,page]": _runs(GLOBAL_SHARDS),
    "listWorkflowRuns[byResource]": _runs(1),
    "saveScore": lambda ctx: (1, 1, ""),
    "listScoresByScorerId[page]": _scores(HOT_SHARDS),
    "listScoresByRunId[page]": _scores(1),
    "listScoresByEntityId[page]": _scores(1),
}


def evaluate(label: str, ctx: dict[str, Any]) -> tuple[int, int, str] | None:
    formula = FORMULAS.get(label)
    return None if formula is None else formula(ctx)
