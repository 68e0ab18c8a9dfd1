"""In-memory stand-ins for domain objects and source stores (they count init/close calls)."""

from __future__ import annotations

import threading
import time
from typing import Any

from mastra_dynamo.errors import BackendError


class Events:
    """A thread-safe log of what happened, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[str] = []

    def add(self, item: str) -> None:
        with self._lock:
            self.items.append(item)


class FakeDomain:
    """A domain object with init/close counters; ``fail_inits`` makes the first N inits fail."""

    def __init__(self, name: str, *, events: Events | None = None, fail_inits: int = 0,
                 failure: Exception | None = None, barrier: threading.Barrier | None = None,
                 delay: float = 0.0) -> None:
        self.name = name
        self.events = events or Events()
        self.fail_inits = fail_inits
        self.failure = failure or BackendError(f"{name} init failed", code="FAKE_INIT_FAILED")
        self.barrier = barrier
        self.delay = delay
        self.init_calls = 0
        self.close_calls = 0
        self._lock = threading.Lock()

    def init(self) -> None:
        with self._lock:
            self.init_calls += 1
            failing = self.init_calls <= self.fail_inits
        if self.delay:
            time.sleep(self.delay)
        if self.barrier is not None:
            self.barrier.wait()
        self.events.add(f"init:{self.name}")
        if failing:
            raise self.failure

    def close(self) -> None:
        with self._lock:
            self.close_calls += 1
        self.events.add(f"close:{self.name}")


class FakeMemory(FakeDomain):
    """Just enough of the memory domain for routing tests: threads in a dict."""

    def __init__(self, name: str = "memory", **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.threads: dict[str, dict[str, Any]] = {}

    def save_thread(self, *, thread: dict[str, Any]) -> dict[str, Any]:
        self.threads[thread["id"]] = dict(thread)
        return dict(thread)

    def get_thread_by_id(self, *, thread_id: str) -> dict[str, Any] | None:
        return self.threads.get(thread_id)

    def delete_thread(self, *, thread_id: str) -> None:
        self.threads.pop(thread_id, None)


class FakeWorkflows(FakeDomain):
    def __init__(self, name: str = "workflows", **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.snapshots: dict[str, Any] = {}

    def persist_workflow_snapshot(self, *, run_id: str, snapshot: Any) -> None:
        self.snapshots[run_id] = snapshot

    def load_workflow_snapshot(self, *, run_id: str) -> Any:
        return self.snapshots.get(run_id)


class FakeStore(FakeDomain):
    """A source store: a ``stores`` mapping plus get_store/init/close."""

    def __init__(self, name: str, domains: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.id = name
        self.stores = dict(domains or {})

    def get_store(self, name: str) -> Any:
        return self.stores.get(name)


def full_store(name: str, events: Events | None = None) -> FakeStore:
    """A store serving memory, workflows and scores (like the default in Mastra's composite tests)."""
    events = events or Events()
    return FakeStore(name, {
        "memory": FakeMemory(f"{name}.memory", events=events),
        "workflows": FakeWorkflows(f"{name}.workflows", events=events),
        "scores": FakeDomain(f"{name}.scores", events=events),
    }, events=events)


class AsyncDomain:
    """A domain whose init/close are coroutines."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.init_calls = 0
        self.close_calls = 0

    async def init(self) -> None:
        import asyncio

        await asyncio.sleep(0.01)
        self.init_calls += 1

    async def close(self) -> None:
        self.close_calls += 1
