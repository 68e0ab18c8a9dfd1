"""A fair share of the event loop for the async API's requests.

When many calls start at once (``asyncio.gather`` of 200 reads, a burst of requests in a web server), each one
runs, on the event loop's thread, up to the moment its request waits on the network: the domain code, then
aiobotocore building and signing the request (~0.5-1 ms of CPU each on a small machine). asyncio runs every
task that is ready in one iteration of its loop, so 200 such starts would hold the loop for 100-200 ms, and
every other task of the process (a health check, a stream being written) waits that long.

:func:`take` spreads them: in one iteration of the loop at most :data:`STEPS_PER_ITERATION` steps of the async
API's CPU work run: the start of a call (its domain code up to its first request, and sending that request) and
the parsing of an answer (with the domain code that follows it, up to the next request or the result). The
steps beyond that wait for the next iteration (an ``asyncio.Future`` resolved then, in their order of arrival),
so other tasks and timers run between each group. Nothing waits when the loop is not busy with such steps (a
lone call takes its turns at once, without suspending), and the total CPU is unchanged: the same work is done
in more, shorter iterations.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque

STEPS_PER_ITERATION = 2
"""Steps of the async API's CPU work (a call started, an answer parsed) per iteration of the event loop, at
most."""


class _Turns:
    """The turns of one event loop: how many steps ran in its current iteration, and who waits."""

    __slots__ = ("__weakref__", "loop", "scheduled", "used", "waiting")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.used = 0
        self.scheduled = False
        self.waiting: deque[asyncio.Future[None]] = deque()

    def take(self) -> asyncio.Future[None] | None:
        if self.used < STEPS_PER_ITERATION:
            self.used += 1
            self._schedule()
            return None
        future: asyncio.Future[None] = self.loop.create_future()
        self.waiting.append(future)
        return future

    def _schedule(self) -> None:
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self._next_iteration)  # runs in the loop's next iteration

    def _next_iteration(self) -> None:
        self.scheduled = False
        self.used = 0
        while self.waiting and self.used < STEPS_PER_ITERATION:
            future = self.waiting.popleft()
            if not future.done():  # a cancelled call gives its turn up
                future.set_result(None)  # its task runs in the next iteration
                self.used += 1
        if self.used or self.waiting:
            self._schedule()


_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Turns] = weakref.WeakKeyDictionary()


def take() -> asyncio.Future[None] | None:
    """A turn for one step in this iteration of the running loop: None when it may run now, else a future to
    await first (resolved in a later iteration)."""
    loop = asyncio.get_running_loop()
    turns = _by_loop.get(loop)
    if turns is None:
        turns = _by_loop[loop] = _Turns(loop)
    return turns.take()
