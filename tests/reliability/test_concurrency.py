"""Many threads on one thread, one run, one dataset: no lost updates, compare-and-set holds (DynamoDB Local:
moto's in-process backend is not thread-safe). Extends tests/conformance (test_volume_and_races.py,
workflows/test_concurrency.py, datasets/test_ttl_and_concurrency.py, agents/test_races.py) with the cases
they do not cover."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from mastra_dynamo import ConflictError, DynamoDBStore
from mastra_dynamo.schema import keys
from tests.conftest import Backend, FakeClock, make_store, require

from .conftest import scaled


@pytest.fixture
def clocked_store(backend: Backend, clock: FakeClock) -> Iterator[DynamoDBStore]:
    """A store whose clock stands still (every updatedAt bump is then exactly 1 ms)."""
    s = make_store(backend, clock=clock)
    s.create_table()
    s.init()
    try:
        yield s
    finally:
        s.delete_table()
        s.close()


def _together(count: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run fn(i) for i in range(count) on ``count`` threads released at once."""
    barrier = threading.Barrier(count)

    def task(i: int) -> Any:
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(task, range(count)))


def test_concurrent_large_snapshot_writers_never_break_a_run(backend: Backend, store: DynamoDBStore) -> None:
    """Chunked snapshots (> 300 KB compressed) persisted and updated concurrently: every reader sees a complete
    snapshot, and the run ends as one of the writes with every step result that was acknowledged."""
    require(backend, "concurrent_clients")
    wf = store.get_store("workflows")
    rng = random.Random(5)
    blobs = [rng.randbytes(360_000).hex() for _ in range(4)]
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="big", snapshot={"status": "running", "blob": blobs[0],
                                                                              "context": {}})

    def actor(i: int) -> None:
        for turn in range(scaled(3)):
            if i % 2 == 0:
                wf.persist_workflow_snapshot(workflow_name="wf", run_id="big",
                                             snapshot={"status": "running", "blob": blobs[i % 4], "context": {}})
            else:
                wf.update_workflow_results(workflow_name="wf", run_id="big", step_id=f"a{i}-{turn}",
                                           result={"status": "success"}, request_context={})
            loaded = wf.load_workflow_snapshot(workflow_name="wf", run_id="big")
            assert loaded is not None and loaded["blob"] in blobs

    _together(6, actor)
    loaded = wf.load_workflow_snapshot(workflow_name="wf", run_id="big")
    assert loaded is not None and loaded["blob"] in blobs


def test_thread_revision_and_updated_at_count_every_concurrent_write(backend: Backend,
                                                                     clocked_store: DynamoDBStore) -> None:
    """The clock is frozen, so every write that touches the thread moves ``updatedAt`` by exactly 1 ms and
    ``_rev`` by 1: after N acknowledged writes from many threads both have moved by exactly N (a lost update
    would show as less), and the message count is exact."""
    require(backend, "concurrent_clients")
    memory = clocked_store.get_store("memory")
    memory.save_thread(thread={"id": "hot", "resourceId": "r"})
    start = memory.get_thread_by_id(thread_id="hot")
    assert start is not None
    raw0 = clocked_store.table.get_item(keys.thread_key("hot"))
    assert raw0 is not None
    turns = scaled(6)

    gave_up = Counter[str]()

    def persist(name: str, call: Callable[[], Any]) -> None:
        """A call that gives up under contention (ConflictError) applied nothing: the client calls again."""
        while True:
            try:
                call()
                return
            except ConflictError:
                gave_up[name] += 1

    def writer(worker: int) -> int:
        writes = 0
        for turn in range(turns):
            ids = [f"w{worker}-{turn}-{k}" for k in range(2)]
            persist("save_messages", lambda ids=ids: memory.save_messages(messages=[
                {"id": i, "threadId": "hot", "resourceId": "r", "role": "user", "content": i} for i in ids]))
            persist("update_messages", lambda ids=ids: memory.update_messages(
                messages=[{"id": ids[0], "content": {"content": "edited"}}]))
            persist("delete_messages", lambda ids=ids: memory.delete_messages([ids[1]]))
            persist("update_thread", lambda turn=turn: memory.update_thread(id="hot", metadata={f"w{worker}": turn}))
            writes += 4
        return writes

    total = sum(_together(8, writer))
    print("\nhot thread: writes", total, "calls that gave up under contention", dict(gave_up))
    thread = memory.get_thread_by_id(thread_id="hot")
    assert thread is not None
    assert thread.updated_at - start.updated_at == timedelta(milliseconds=total)
    raw = clocked_store.table.get_item(keys.thread_key("hot"))
    assert raw is not None and int(raw["_rev"]["N"]) - int(raw0["_rev"]["N"]) == total
    assert thread.metadata == {f"w{w}": turns - 1 for w in range(8)}
    page = memory.list_messages(thread_id="hot", per_page=False)
    assert page.total == len(page.messages) == 8 * turns
    assert all(m.content["content"] == "edited" for m in page.messages)


def test_a_chain_of_compare_and_set_steps_has_exactly_one_winner_per_step(backend: Backend,
                                                                           store: DynamoDBStore) -> None:
    """Workers race to advance a run's status n0 -> n1 -> ... with expectedStatus: every step is won exactly
    once, and concurrent step results written meanwhile are all kept."""
    require(backend, "concurrent_clients")
    wf = store.get_store("workflows")
    steps = scaled(40)
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="chain", snapshot={"status": "n0", "context": {}})
    wins: list[tuple[int, int]] = []
    lock = threading.Lock()

    def racer(worker: int) -> None:
        rng = random.Random(worker)
        while True:
            current = wf.load_workflow_snapshot(workflow_name="wf", run_id="chain")
            assert current is not None
            step = int(current["status"][1:])
            if step >= steps:
                return
            if rng.random() < 0.3:
                wf.update_workflow_results(workflow_name="wf", run_id="chain", step_id=f"r{worker}-{step}",
                                           result={"seen": step}, request_context={})
            won = wf.update_workflow_state(workflow_name="wf", run_id="chain",
                                           opts={"status": f"n{step + 1}", "expectedStatus": f"n{step}",
                                                 "winner": worker})
            if won is not None:
                with lock:
                    wins.append((step, worker))

    _together(8, racer)
    assert sorted(step for step, _ in wins) == list(range(steps))
    final = wf.load_workflow_snapshot(workflow_name="wf", run_id="chain")
    assert final is not None and final["status"] == f"n{steps}"
    assert final["winner"] == next(w for s, w in wins if s == steps - 1)
    assert all(v == {"seen": int(k.split("-")[1])} for k, v in final["context"].items())


def test_readers_never_see_a_torn_dataset_version(backend: Backend, store: DynamoDBStore) -> None:
    """Writers add, update and delete items (one version each) while readers list the items at the version
    they read: at the end, every snapshot a reader saw equals the history's view of that version."""
    require(backend, "concurrent_clients")
    datasets = store.get_store("datasets")
    datasets.create_dataset(id="d", name="d")
    seen: dict[int, set[tuple[str, str]]] = {}
    lock = threading.Lock()
    rounds = scaled(8)

    def actor(i: int) -> None:
        rng = random.Random(i)
        for turn in range(rounds):
            if i < 4:
                item = datasets.add_item(dataset_id="d", input=f"{i}-{turn}")
                if rng.random() < 0.5:
                    datasets.update_item(id=item.id, dataset_id="d", input=f"{i}-{turn}-u")
                if rng.random() < 0.3:
                    datasets.delete_item(id=item.id, dataset_id="d")
            else:
                dataset = datasets.get_dataset_by_id(id="d")
                assert dataset is not None
                view = datasets.get_items_by_version(dataset_id="d", version=dataset.version)
                with lock:
                    seen.setdefault(dataset.version, set()).update({(x.id, str(x.input)) for x in view})

    _together(8, actor)
    dataset = datasets.get_dataset_by_id(id="d")
    assert dataset is not None
    for version, items in seen.items():
        truth = {(x.id, str(x.input)) for x in datasets.get_items_by_version(dataset_id="d", version=version)}
        assert items == truth, f"version {version} was seen torn"
    versions = datasets.list_dataset_versions(dataset_id="d", pagination={"perPage": False}).versions
    assert [v.version for v in versions] == list(range(dataset.version, 0, -1))


def test_concurrent_results_keep_the_experiment_counters_exact(backend: Backend, store: DynamoDBStore) -> None:
    require(backend, "concurrent_clients")
    experiments = store.get_store("experiments")
    experiments.create_experiment(id="e")
    per_worker = scaled(6)

    def worker(i: int) -> None:
        for turn in range(per_worker):
            result = experiments.add_experiment_result(experiment_id="e", item_id=f"item-{i}-{turn}",
                                                       status="needs-review")
            if turn % 2:
                experiments.update_experiment_result(id=result.id, status="reviewed")
            experiments.upsert_experiment_result(experiment_id="e", item_id="shared", output=i, status="complete")

    _together(8, worker)
    raw = store.table.get_item(keys.experiment_key("e"))
    assert raw is not None
    results = experiments.list_experiment_results(experiment_id="e", pagination={"perPage": False}).results
    assert int(raw["resultCount"]["N"]) == len(results) == 8 * per_worker + 1  # upserts converge on one result
    for status, counter in (("needs-review", "needsReview"), ("reviewed", "reviewed"), ("complete", "complete")):
        assert int(raw[counter]["N"]) == sum(1 for r in results if r.status == status), counter


def _process_writer(endpoint: str, table: str, worker: int, count: int) -> None:
    from mastra_dynamo import DynamoDBStore as Store

    store = Store(id=f"p{worker}", table_name=table, region="us-east-1", endpoint_url=endpoint)
    memory = store.get_store("memory")
    for turn in range(count):
        memory.save_messages(messages=[{"id": f"p{worker}-{turn}", "threadId": "shared", "resourceId": "r",
                                        "role": "user", "content": "x"}])
        memory.update_thread(id="shared", metadata={f"p{worker}": turn})
    store.close()


def test_several_processes_on_one_thread_lose_nothing(backend: Backend, store: DynamoDBStore) -> None:
    """Separate processes (own clients, own interpreters) writing to one thread."""
    require(backend, "concurrent_clients")
    import multiprocessing

    assert backend.endpoint_url is not None
    memory = store.get_store("memory")
    memory.save_thread(thread={"id": "shared", "resourceId": "r"})
    count = scaled(10)
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_process_writer, args=(backend.endpoint_url, store.table_name, w, count))
                 for w in range(3)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(120)
        assert p.exitcode == 0
    page = memory.list_messages(thread_id="shared", per_page=False)
    assert page.total == 3 * count
    thread = memory.get_thread_by_id(thread_id="shared")
    assert thread is not None and thread.metadata == {f"p{w}": count - 1 for w in range(3)}
