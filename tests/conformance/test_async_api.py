"""The async API (mastra_dynamo.aio): one implementation with the sync API, no worker threads, typed like it,
its client opened on the running loop."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.aio import (
    AsyncDomainStore,
    AsyncDynamoDBStore,
)
from mastra_dynamo.errors import ConfigurationError, NotFoundError
from tests.conftest import Backend, make_store

DOMAINS = ("memory", "workflows", "scores", "agents", "datasets", "experiments", "backgroundTasks")
INTERNAL = {
    # helpers of the domain code, not part of Mastra's storage API
    "alive", "bumped", "not_expired", "now", "check_fence", "fence_check", "fenced", "fencing", "fetch",
    "get_item", "get_thread_item", "locate", "locate_with_threads", "fetch_with_threads", "replace_expired",
    "thread_items", "complete",
    "write_parts", "sweep_parts", "runs_of", "apply", "mutate", "project", "read_dataset", "row_at",
    "unchanged_values", "visible_rows", "rollback",
}


@pytest.mark.parametrize("name", DOMAINS)
def test_every_method_of_the_sync_api_is_awaitable_with_the_same_signature(name: str) -> None:
    sync_class = DynamoDBStore.domain_class(name)
    assert sync_class is not None
    astore = AsyncDynamoDBStore(id="typed", table_name="typed", region="us-east-1")  # no loop, no client: fine
    domain = astore.get_store(name)
    assert isinstance(domain, AsyncDomainStore)
    public = {n for n, v in inspect.getmembers(sync_class) if not n.startswith("_") and inspect.isfunction(v)}
    awaitable = {n for n, v in inspect.getmembers(type(domain)) if not n.startswith("_") and inspect.isfunction(v)}
    assert public - INTERNAL == awaitable
    for method in awaitable:
        sync_sig = inspect.signature(getattr(sync_class, method))
        async_method = getattr(type(domain), method)
        assert inspect.iscoroutinefunction(async_method)
        assert async_method.__doc__ == getattr(sync_class, method).__doc__
        assert sync_sig == inspect.signature(getattr(sync_class, method))  # (awaitable keeps the sync one)


def _ops(memory: Any) -> list[Any]:
    return [
        lambda: memory.save_thread(thread={"id": "t", "resourceId": "r", "title": "x"}),
        lambda: memory.save_messages(messages=[{"id": f"m{i}", "threadId": "t", "resourceId": "r", "role": "user",
                                                "content": f"hello {i}"} for i in range(3)]),
        lambda: memory.list_messages(thread_id="t", per_page=2, order_by={"direction": "DESC"}),
        lambda: memory.update_messages(messages=[{"id": "m1", "content": {"metadata": {"k": 1}}}]),
        lambda: memory.delete_messages(["m0"]),
        lambda: memory.get_thread_by_id(thread_id="t"),
        lambda: memory.update_resource(resource_id="r", working_memory="wm"),
        lambda: memory.list_messages_by_resource_id(resource_id="r"),
    ]


def test_the_async_api_sends_the_same_requests_and_returns_the_same_records(http_backend: Backend) -> None:
    sync = make_store(http_backend)
    sync.create_table()
    sync.init()
    other = make_store(http_backend)
    other.create_table()

    async def run_async() -> list[Any]:
        async with AsyncDynamoDBStore(other) as astore:
            await astore.init()
            before = astore.request_counts()
            out = [await op() for op in _ops(astore.get_store("memory"))]
            counts = _delta(astore.request_counts(), before)
        return [out, counts]

    try:
        before = sync.request_counts()
        expected = [op() for op in _ops(sync.get_store("memory"))]
        got, counts = asyncio.run(run_async())
        assert counts == _delta(sync.request_counts(), before)
        for a, b in zip(expected, got, strict=True):
            if hasattr(a, "model_dump"):
                a, b = a.model_dump(exclude={"updated_at"}), b.model_dump(exclude={"updated_at"})
            assert type(a) is type(b)
    finally:
        sync.delete_table()
        other.delete_table()


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def _our_threads() -> int:
    """Threads of this process, without the request threads of moto's server (it runs in the test process)."""
    return sum(1 for t in threading.enumerate() if "process_request" not in t.name)


def test_errors_are_the_sync_apis(http_store: DynamoDBStore) -> None:
    async def scenario() -> None:
        async with AsyncDynamoDBStore(http_store) as astore:
            memory = astore.get_store("memory")
            with pytest.raises(NotFoundError):
                await memory.update_thread(id="missing", title="x")

    asyncio.run(scenario())


def test_no_thread_is_started_and_the_client_lives_on_the_loop(http_backend: Backend,
                                                               http_store: DynamoDBStore) -> None:
    seen: list[int] = []

    async def scenario() -> None:
        astore = AsyncDynamoDBStore(http_store, max_pool_connections=7)
        assert not astore.is_open  # nothing built before the loop asks
        memory = astore.get_store("memory")
        await memory.save_thread(thread={"id": "t", "resourceId": "r", "title": "x"})
        assert astore.is_open
        client = astore.sync.table.raw.aio
        assert client.meta.config.max_pool_connections == 7
        before = _our_threads()

        async def sample() -> None:
            while True:
                seen.append(_our_threads() - before)
                await asyncio.sleep(0)

        sampler = asyncio.create_task(sample())
        results = await asyncio.gather(*[memory.get_thread_by_id(thread_id="t") for _ in range(50)])
        sampler.cancel()
        assert all(r is not None and r.id == "t" for r in results)
        await astore.close()
        assert not astore.is_open

    asyncio.run(scenario())
    assert seen and max(seen) == 0


def test_bad_pool_sizes_and_sessions_are_refused(http_store: DynamoDBStore) -> None:
    async def scenario() -> None:
        for kwargs in ({"max_pool_connections": 0}, {"aio_session": object()}):
            astore = AsyncDynamoDBStore(http_store, **kwargs)
            with pytest.raises(ConfigurationError):
                await astore.open()

    asyncio.run(scenario())


def test_a_store_reopened_after_close_runs_its_calls_on_the_new_client(http_store: DynamoDBStore) -> None:
    async def scenario() -> None:
        astore = AsyncDynamoDBStore(http_store)
        memory = astore.get_store("memory")
        await memory.save_thread(thread={"id": "reopen", "resourceId": "r", "title": "x"})
        first = astore.sync
        await astore.close()
        with pytest.raises(RuntimeError):
            _ = memory.sync
        thread = await memory.get_thread_by_id(thread_id="reopen")  # opens a new client
        assert thread is not None and thread.title == "x"
        assert astore.sync is not first and memory.sync is astore.sync.get_store("memory")
        await astore.close()

    asyncio.run(scenario())


def test_bridge_greenlets_are_reused_and_keep_nothing_of_a_call() -> None:
    from mastra_dynamo.dynamo import bridge

    var: contextvars.ContextVar[str] = contextvars.ContextVar("bridge_test", default="unset")

    def body(value: str) -> tuple[str, bool]:
        seen = var.get()
        var.set(value)  # stays in this call's copy of the context
        bridge.await_only(asyncio.sleep(0))
        return seen, bridge.in_bridge()

    def failing() -> None:
        bridge.await_only(asyncio.sleep(0))
        raise ValueError("from the domain code")

    def waits() -> None:
        bridge.await_only(asyncio.sleep(10))

    async def scenario() -> None:
        var.set("caller")
        results = await asyncio.gather(*(bridge.run_sync(body, f"call-{i}") for i in range(20)))
        assert results == [("caller", True)] * 20 and var.get() == "caller" and not bridge.in_bridge()
        idle = list(bridge._idle.workers)
        assert len(idle) >= 20
        var.set("second")
        assert await bridge.run_sync(body, "again") == ("second", True)  # a reused greenlet, a fresh context
        assert bridge._idle.workers[-1] is idle[-1]
        with pytest.raises(ValueError, match="from the domain code"):
            await bridge.run_sync(failing)
        task = asyncio.create_task(bridge.run_sync(waits))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await bridge.run_sync(body, "after") == ("second", True)
        with pytest.raises(RuntimeError, match="outside the async API's bridge"):
            bridge.await_only(asyncio.sleep(0))

    asyncio.run(scenario())


def test_a_burst_of_calls_starts_its_requests_in_turns_and_lets_other_tasks_run_between() -> None:
    """200 calls gathered at once: at most turns.STEPS_PER_ITERATION calls start per loop iteration, so a
    task that yields every iteration runs between every group of starts; every call still completes, and a call
    cancelled while it waits for its turn sends nothing."""
    from mastra_dynamo.dynamo import bridge, turns

    log: list[str] = []
    sent: list[int] = []

    async def request(i: int) -> int:
        log.append("start")
        sent.append(i)
        await asyncio.sleep(0)  # the network
        return i

    def call(i: int) -> int:
        return bridge.await_only(request(i))

    async def other_task(stop: asyncio.Event) -> None:
        while not stop.is_set():
            log.append("other")
            await asyncio.sleep(0)

    async def scenario() -> None:
        stop = asyncio.Event()
        ticker = asyncio.create_task(other_task(stop))
        await asyncio.sleep(0)
        results = await asyncio.gather(*(bridge.run_sync(call, i) for i in range(200)))
        stop.set()
        await ticker
        assert results == list(range(200))
        runs, run = [], 0
        for entry in log:
            if entry == "start":
                run += 1
            else:
                runs.append(run)
                run = 0
        runs.append(run)
        assert max(runs) <= turns.STEPS_PER_ITERATION and sum(runs) == 200
        # a lone call is not held back; a call cancelled in the queue never sends its request
        sent.clear()
        tasks = [asyncio.create_task(bridge.run_sync(call, i)) for i in range(turns.STEPS_PER_ITERATION + 1)]
        await asyncio.sleep(0)  # every task ran once: the first ones started, the last one waits
        assert len(sent) == turns.STEPS_PER_ITERATION
        tasks[-1].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(done[-1], asyncio.CancelledError) and len(sent) == turns.STEPS_PER_ITERATION
        assert await bridge.run_sync(call, 7) == 7

    asyncio.run(scenario())
