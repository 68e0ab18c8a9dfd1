"""What a workflows store last knew of each run's head (a bounded, thread-safe map).

A hint, never a source of truth: a write that uses it is still conditioned on the head being exactly as
remembered (its revision), so a head changed by another writer makes the write fail and the write goes on with
the head that failure returned. What it saves: the request that would otherwise find out whether a run exists
and which status its index entry carries (docs/access-patterns.md 2.2).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

from mastra_dynamo.dynamo.codec import Item

DEFAULT_CAPACITY = 1024
"""Runs remembered per store; the oldest is forgotten first (a head without its snapshot is ~0.3 KB)."""


class RecentHeads:
    """Heads by run, without the attributes named in ``left_out`` (the inline snapshot)."""

    def __init__(self, left_out: frozenset[str], capacity: int = DEFAULT_CAPACITY) -> None:
        self._left_out = left_out
        self._capacity = capacity
        self._heads: dict[Hashable, Item] = {}
        self._lock = threading.Lock()

    def get(self, run: Hashable) -> Item | None:
        return self._heads.get(run)

    def remember(self, run: Hashable, head: Item | None) -> None:
        """Keep ``head`` as the run's head (None: the run is not known any more)."""
        if head is None:
            self.forget(run)
            return
        left_out = self._left_out
        kept = {name: value for name, value in head.items() if name not in left_out}
        with self._lock:
            self._heads.pop(run, None)
            self._heads[run] = kept
            if len(self._heads) > self._capacity:
                del self._heads[next(iter(self._heads))]

    def forget(self, run: Hashable) -> None:
        with self._lock:
            self._heads.pop(run, None)
