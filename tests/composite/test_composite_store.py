"""MastraCompositeStore routing and lifecycle (spec 2 and 6.16) with in-memory stand-in stores."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from mastra_dynamo.composite import DOMAIN_KEYS, EDITOR_DOMAINS, MastraCompositeStore
from mastra_dynamo.errors import BackendError, ConfigurationError, StorageError, ValidationError

from .fakes import AsyncDomain, Events, FakeDomain, FakeMemory, FakeStore, FakeWorkflows, full_store
from .threads import threads_started_by


# ------------------------------------------------------------------------ spec 6.16: Basic Composition
def test_basic_composition_uses_the_default_for_every_domain() -> None:
    default = full_store("default")
    composite = MastraCompositeStore(id="c", default=default)
    for key in ("memory", "workflows", "scores"):
        assert composite.get_store(key) is default.stores[key]
    memory = composite.get_store("memory")
    memory.save_thread(thread={"id": "t1", "resourceId": "r1", "title": "Hello"})
    assert composite.get_store("memory").get_thread_by_id(thread_id="t1")["title"] == "Hello"
    memory.delete_thread(thread_id="t1")
    assert composite.get_store("memory").get_thread_by_id(thread_id="t1") is None


# ------------------------------------------------------------------------ spec 6.16: Domain Overrides
def test_domain_override_routes_to_the_alternate_store() -> None:
    default, alternate = full_store("default"), full_store("alternate")
    composite = MastraCompositeStore(id="c", default=default, domains={"memory": alternate.get_store("memory")})
    assert composite.get_store("memory") is alternate.stores["memory"]
    assert composite.get_store("workflows") is default.stores["workflows"]
    composite.get_store("memory").save_thread(thread={"id": "t1", "resourceId": "r"})
    composite.get_store("workflows").persist_workflow_snapshot(run_id="run1", snapshot={"status": "ok"})
    assert alternate.stores["memory"].get_thread_by_id(thread_id="t1") is not None
    assert default.stores["memory"].get_thread_by_id(thread_id="t1") is None
    assert default.stores["workflows"].load_workflow_snapshot(run_id="run1") == {"status": "ok"}
    assert alternate.stores["workflows"].load_workflow_snapshot(run_id="run1") is None


# ------------------------------------------------------------------------ spec 6.16: No Default Storage
def test_domains_without_default() -> None:
    a, b = full_store("a"), full_store("b")
    composite = MastraCompositeStore(id="c", domains={
        "memory": a.stores["memory"], "workflows": b.stores["workflows"], "scores": a.stores["scores"],
    })
    assert composite.get_store("memory") is a.stores["memory"]
    assert composite.get_store("workflows") is b.stores["workflows"]
    assert composite.get_store("scores") is a.stores["scores"]
    assert composite.get_store("observability") is None
    assert composite.get_store("agents") is None
    composite.get_store("memory").save_thread(thread={"id": "t", "resourceId": "r"})
    composite.get_store("workflows").persist_workflow_snapshot(run_id="r", snapshot=1)
    assert a.stores["memory"].threads and b.stores["workflows"].snapshots


# ------------------------------------------------------------------------ spec 6.16: Configuration Edge Cases
@pytest.mark.parametrize("domains", [{}, {"memory": None}, None])
def test_empty_or_none_overrides_fall_back_to_default(domains: Any) -> None:
    default = full_store("default")
    composite = MastraCompositeStore(id="c", default=default, domains=domains)
    assert composite.get_store("memory") is default.stores["memory"]


def test_only_memory_given() -> None:
    memory = FakeMemory()
    composite = MastraCompositeStore(id="c", domains={"memory": memory})
    assert composite.get_store("memory") is memory
    assert composite.get_store("workflows") is None
    assert composite.stores == {"memory": memory}


# ------------------------------------------------------------------------ spec 6.16: disableInit
def test_disable_init_still_serves_domains_without_init() -> None:
    default = full_store("default")
    composite = MastraCompositeStore(id="c", default=default, disable_init=True)
    assert composite.disable_init is True
    assert composite.get_store("memory") is default.stores["memory"]
    assert default.init_calls == 0
    composite.init()  # an explicit call still runs
    assert default.init_calls == 1


# ------------------------------------------------------------------------ spec 2: precedence and False
def test_precedence_explicit_over_editor_over_default() -> None:
    default = FakeStore("default", {k: FakeDomain(f"default.{k}") for k in ("memory", "agents", "skills", "favorites")})
    editor = FakeStore("editor", {k: FakeDomain(f"editor.{k}") for k in ("memory", "agents", "skills")})
    explicit = FakeDomain("explicit.skills")
    composite = MastraCompositeStore(id="c", default=default, editor=editor, domains={"skills": explicit})
    assert composite.get_store("agents") is editor.stores["agents"]
    assert composite.get_store("memory") is default.stores["memory"], "memory is not an editor domain"
    assert composite.get_store("skills") is explicit
    assert composite.get_store("favorites") is default.stores["favorites"], "editor lacks it: default"
    assert "agents" in EDITOR_DOMAINS and "memory" not in EDITOR_DOMAINS


def test_false_disables_a_domain_without_fallback() -> None:
    default = full_store("default")
    editor = FakeStore("editor", {"agents": FakeDomain("editor.agents")})
    composite = MastraCompositeStore(id="c", default=default, editor=editor,
                                     domains={"memory": False, "agents": False})
    assert composite.get_store("memory") is None
    assert composite.get_store("agents") is None
    assert composite.get_store("workflows") is default.stores["workflows"]


def test_editor_alone_is_a_source() -> None:
    editor = FakeStore("editor", {"agents": FakeDomain("a"), "memory": FakeDomain("m")})
    composite = MastraCompositeStore(id="c", editor=editor)
    assert composite.get_store("agents") is editor.stores["agents"]
    assert composite.get_store("memory") is None


# ------------------------------------------------------------------------ construction errors
@pytest.mark.parametrize("kwargs", [
    {},
    {"domains": {}},
    {"domains": {"memory": False}},
    {"domains": {"memory": None}},
    {"default": FakeStore("empty")},
    {"editor": FakeStore("editor", {"memory": FakeDomain("m")})},
])
def test_no_storage_source_is_an_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as err:
        MastraCompositeStore(id="c", **kwargs)
    assert err.value.message.startswith("MastraCompositeStore requires at least one storage source")
    assert err.value.code == "NO_STORAGE_SOURCE"


@pytest.mark.parametrize("bad_id", ["", "   ", None, 3])
def test_blank_id_is_rejected(bad_id: Any) -> None:
    with pytest.raises(ValidationError) as err:
        MastraCompositeStore(id=bad_id, default=full_store("d"))
    assert err.value.message == "MastraCompositeStore: id must be provided and cannot be empty."
    with pytest.raises(ValidationError) as named:
        MastraCompositeStore(id=bad_id, name="MyStorage", default=full_store("d"))
    assert named.value.message == "MyStorage: id must be provided and cannot be empty."


def test_invalid_domain_overrides() -> None:
    default = full_store("d")
    with pytest.raises(ValidationError, match="unknown storage domain 'memroy'"):
        MastraCompositeStore(id="c", default=default, domains={"memroy": FakeMemory()})
    with pytest.raises(ValidationError):
        MastraCompositeStore(id="c", default=default, domains={"memory": True})
    with pytest.raises(ValidationError, match="given twice"):
        MastraCompositeStore(id="c", domains={"backgroundTasks": FakeDomain("a"), "background_tasks": FakeDomain("b")})
    with pytest.raises(ValidationError):
        MastraCompositeStore(id="c", default=object())


def test_snake_case_names_are_accepted() -> None:
    tasks = FakeDomain("tasks")
    composite = MastraCompositeStore(id="c", domains={"background_tasks": tasks})
    assert composite.get_store("backgroundTasks") is tasks
    assert composite.get_store("background_tasks") is tasks
    default = FakeStore("d", {"tool_provider_connections": FakeDomain("tpc")})
    assert MastraCompositeStore(id="c", default=default).get_store("toolProviderConnections") is not None


def test_get_store_of_unknown_or_missing_domain_is_none() -> None:
    composite = MastraCompositeStore(id="c", default=full_store("d"))
    for name in ("nope", "", "observability", "threadState"):
        assert composite.get_store(name) is None
    assert len(DOMAIN_KEYS) == 24 and DOMAIN_KEYS[0] == "memory"


def test_a_store_given_as_domain_contributes_its_domain_and_becomes_a_parent() -> None:
    alternate = full_store("alternate")
    composite = MastraCompositeStore(id="c", default=full_store("default"), domains={"memory": alternate})
    assert composite.get_store("memory") is alternate.stores["memory"]
    composite.init()
    assert alternate.init_calls == 1 and alternate.stores["memory"].init_calls == 0
    with pytest.raises(ConfigurationError, match="does not serve"):
        MastraCompositeStore(id="c", domains={"observability": alternate})


def test_nested_composite_as_default() -> None:
    inner_default = full_store("inner")
    inner = MastraCompositeStore(id="inner", default=inner_default)
    outer = MastraCompositeStore(id="outer", default=inner, domains={"observability": FakeDomain("obs")})
    assert outer.get_store("memory") is inner_default.stores["memory"]
    outer.init()
    outer.init()
    assert inner_default.init_calls == 1
    assert outer.get_store("observability").init_calls == 1


# ------------------------------------------------------------------------ init
def test_init_runs_parents_first_then_each_distinct_domain_once() -> None:
    events = Events()
    default = full_store("default", events)
    editor = FakeStore("editor", {"agents": FakeDomain("editor.agents", events=events)}, events=events)
    shared = FakeDomain("shared", events=events)
    observability = FakeDomain("observability", events=events)
    composite = MastraCompositeStore(id="c", default=default, editor=editor, domains={
        "observability": observability, "datasets": shared, "experiments": shared,
    })
    composite.init()
    assert sorted(events.items[:2]) == ["init:default", "init:editor"], "parents first"
    assert sorted(events.items[2:]) == ["init:observability", "init:shared"]
    assert shared.init_calls == 1
    assert default.stores["memory"].init_calls == 0, "owned by a parent: the parent's init covers it"
    composite.init()
    assert default.init_calls == editor.init_calls == observability.init_calls == 1


def test_same_store_as_default_and_editor_is_initialised_once() -> None:
    store = FakeStore("both", {"memory": FakeDomain("m"), "agents": FakeDomain("a")})
    composite = MastraCompositeStore(id="c", default=store, editor=store)
    composite.init()
    assert store.init_calls == 1


def test_init_runs_in_parallel() -> None:
    parents_barrier = threading.Barrier(2, timeout=5)
    domains_barrier = threading.Barrier(2, timeout=5)
    default = FakeStore("default", {"memory": FakeDomain("m")}, barrier=parents_barrier)
    editor = FakeStore("editor", {"agents": FakeDomain("a")}, barrier=parents_barrier)
    composite = MastraCompositeStore(id="c", default=default, editor=editor, domains={
        "observability": FakeDomain("o", barrier=domains_barrier),
        "datasets": FakeDomain("d", barrier=domains_barrier),
    })
    composite.init()  # a sequential init would break both barriers


def test_concurrent_callers_share_one_run() -> None:
    default = FakeStore("default", {"memory": FakeDomain("m")}, delay=0.1)
    observability = FakeDomain("o", delay=0.05)
    composite = MastraCompositeStore(id="c", default=default, domains={"observability": observability})
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: composite.init(), range(8)))
    assert default.init_calls == 1 and observability.init_calls == 1


def test_failed_init_is_not_cached_and_retries_run_again() -> None:
    default = full_store("default")
    flaky = FakeDomain("flaky", fail_inits=1)
    composite = MastraCompositeStore(id="c", default=default, domains={"observability": flaky})
    with pytest.raises(BackendError, match="flaky init failed"):
        composite.init()
    composite.init()
    composite.init()
    assert flaky.init_calls == 2 and default.init_calls == 2


def test_failed_parent_stops_before_domains() -> None:
    default = FakeStore("default", {"memory": FakeDomain("m")}, fail_inits=1)
    observability = FakeDomain("o")
    composite = MastraCompositeStore(id="c", default=default, domains={"observability": observability})
    with pytest.raises(StorageError):
        composite.init()
    assert observability.init_calls == 0
    composite.init()
    assert observability.init_calls == 1


def test_concurrent_callers_all_see_the_failure() -> None:
    flaky = FakeDomain("flaky", fail_inits=1, delay=0.1)
    composite = MastraCompositeStore(id="c", domains={"memory": flaky})
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(composite.init) for _ in range(4)]
        errors = [f.exception() for f in futures]
    assert all(isinstance(e, BackendError) for e in errors)
    assert flaky.init_calls == 1
    composite.init()
    assert flaky.init_calls == 2


def test_foreign_init_errors_are_wrapped() -> None:
    broken = FakeDomain("broken", fail_inits=1, failure=RuntimeError("driver exploded"))
    composite = MastraCompositeStore(id="c", domains={"memory": broken})
    with pytest.raises(BackendError) as err:
        composite.init()
    assert err.value.code == "INIT_FAILED" and isinstance(err.value.__cause__, RuntimeError)


# ------------------------------------------------------------------------ close
def test_close_closes_each_distinct_target_once() -> None:
    default = full_store("default")
    shared = FakeDomain("shared")
    composite = MastraCompositeStore(id="c", default=default, editor=default,
                                     domains={"datasets": shared, "experiments": shared})
    composite.close()
    assert default.close_calls == 1 and shared.close_calls == 1
    assert default.stores["memory"].close_calls == 0


def test_close_failures_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    class BadClose(FakeDomain):
        def close(self) -> None:
            raise RuntimeError("close exploded")

    good = FakeDomain("good")
    composite = MastraCompositeStore(id="c", domains={"memory": BadClose("bad"), "workflows": good})
    with caplog.at_level(logging.WARNING, logger="mastra_dynamo.composite.store"):
        composite.close()
    assert good.close_calls == 1
    assert "close exploded" in caplog.text


def test_objects_without_init_or_close_are_skipped() -> None:
    composite = MastraCompositeStore(id="c", domains={"memory": object(), "workflows": FakeWorkflows()})
    composite.init()
    composite.close()


# ------------------------------------------------------------------------ async API
def test_ainit_and_aclose() -> None:
    async_domain = AsyncDomain("async")
    default = full_store("default")
    composite = MastraCompositeStore(id="c", default=default, domains={"observability": async_domain})

    async def main() -> None:
        await asyncio.gather(*(composite.ainit() for _ in range(5)))
        await composite.ainit()
        await composite.aclose()

    asyncio.run(main())
    assert async_domain.init_calls == 1 and default.init_calls == 1
    assert async_domain.close_calls == 1 and default.close_calls == 1
    composite.init()  # shares the cache with ainit
    assert default.init_calls == 1


def test_ainit_and_aclose_start_no_thread() -> None:
    """Async members are awaited; blocking ones run on the loop's thread (no worker thread, no executor)."""
    async_domain = AsyncDomain("async")
    default = full_store("default")
    composite = MastraCompositeStore(id="c", default=default, domains={"observability": async_domain})
    loop_threads: list[threading.Thread] = []
    original = default.init

    def init() -> None:
        loop_threads.append(threading.current_thread())
        original()

    default.init = init  # type: ignore[method-assign]

    async def main() -> None:
        async with composite as opened:
            assert opened is composite
        assert getattr(asyncio.get_running_loop(), "_default_executor", None) is None

    with threads_started_by(threading.current_thread()) as started:
        asyncio.run(main())
    assert started == []
    assert loop_threads == [threading.current_thread()]
    assert async_domain.init_calls == 1 and default.init_calls == 1
    assert async_domain.close_calls == 1 and default.close_calls == 1


def test_blocking_init_runs_async_domains() -> None:
    async_domain = AsyncDomain("async")
    composite = MastraCompositeStore(id="c", domains={"memory": async_domain, "workflows": FakeWorkflows()})
    composite.init()
    composite.close()
    assert async_domain.init_calls == 1 and async_domain.close_calls == 1


def test_ainit_failure_is_retried() -> None:
    flaky = FakeDomain("flaky", fail_inits=1)
    composite = MastraCompositeStore(id="c", domains={"memory": flaky})

    async def main() -> None:
        with pytest.raises(BackendError):
            await composite.ainit()
        await composite.ainit()

    asyncio.run(main())
    assert flaky.init_calls == 2


def test_repr() -> None:
    assert "memory" in repr(MastraCompositeStore(id="c", domains={"memory": FakeMemory()}))
