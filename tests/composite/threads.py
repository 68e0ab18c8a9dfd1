"""Which threads a block of code starts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock


@contextmanager
def threads_started_by(starter: threading.Thread) -> Iterator[list[str]]:
    """Names of the threads ``starter`` starts inside the block (a thread pool's workers included: a pool starts
    them on the thread that submits work to it)."""
    started: list[str] = []
    original = threading.Thread.start

    def start(self: threading.Thread) -> None:
        if threading.current_thread() is starter:
            started.append(self.name)
        original(self)

    with mock.patch.object(threading.Thread, "start", start):
        yield started
