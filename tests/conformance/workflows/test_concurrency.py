"""Atomic workflow updates under many concurrent writers (a real endpoint: capability concurrent_clients)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mastra_dynamo.stores.workflows import DynamoWorkflowsStore
from tests.conftest import Backend, require

from .data import at, snapshot

THREADS = 16
STEPS_PER_THREAD = 5


def _persist(wf: DynamoWorkflowsStore, status: str = "running", **extra: Any) -> None:
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", status, **extra),
                                 resource_id="res-1", created_at=at(days=1), updated_at=at(days=1))


def _run_all(count: int, fn: Any) -> list[Any]:
    """Run ``fn(i)`` for i in range(count) on ``count`` threads released together."""
    barrier = threading.Barrier(count)

    def task(i: int) -> Any:
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(task, range(count)))


def test_concurrent_step_results_are_all_kept(backend: Backend, wf: DynamoWorkflowsStore) -> None:
    require(backend, "concurrent_clients")
    _persist(wf)

    def writer(worker: int) -> None:
        for step in range(STEPS_PER_THREAD):
            wf.update_workflow_results(workflow_name="wf", run_id="r1", step_id=f"w{worker}-s{step}",
                                       result={"status": "success", "output": {"worker": worker, "step": step}},
                                       request_context={f"w{worker}": step})

    _run_all(THREADS, writer)
    loaded = wf.load_workflow_snapshot(workflow_name="wf", run_id="r1")
    assert loaded is not None
    steps = {k: v for k, v in loaded["context"].items() if k != "input"}
    assert len(steps) == THREADS * STEPS_PER_THREAD == 80
    for worker in range(THREADS):
        for step in range(STEPS_PER_THREAD):
            assert steps[f"w{worker}-s{step}"] == {"status": "success", "output": {"worker": worker, "step": step}}
    assert loaded["context"]["input"] == {"question": "why?"}
    assert loaded["requestContext"] == {f"w{w}": STEPS_PER_THREAD - 1 for w in range(THREADS)}
    run = wf.get_workflow_run_by_id(run_id="r1", workflow_name="wf")
    assert run is not None and run.created_at == at(days=1) and run.resource_id == "res-1"


def test_concurrent_results_into_a_missing_run_create_it_once(backend: Backend, wf: DynamoWorkflowsStore) -> None:
    require(backend, "concurrent_clients")

    def writer(worker: int) -> None:
        wf.update_workflow_results(workflow_name="wf", run_id="fresh", step_id=f"s{worker}",
                                   result={"status": "success", "output": worker}, request_context={})

    _run_all(12, writer)
    loaded = wf.load_workflow_snapshot(workflow_name="wf", run_id="fresh")
    assert loaded is not None and loaded["status"] == "pending"
    assert loaded["context"] == {f"s{w}": {"status": "success", "output": w} for w in range(12)}
    assert wf.list_workflow_runs(workflow_name="wf").total == 1


def test_concurrent_foreach_iterations_are_all_kept(backend: Backend, wf: DynamoWorkflowsStore) -> None:
    require(backend, "concurrent_clients")
    n = 12
    _persist(wf)
    wf.update_workflow_results(workflow_name="wf", run_id="r1", step_id="each",
                               result={"__mastra_foreach__": True, "status": "running", "output": [None] * n},
                               request_context={})

    def iteration(index: int) -> None:
        output: list[Any] = [None] * n
        output[index] = {"item": index}
        result = {"__mastra_foreach__": True, "__mastra_foreach_completed_indexes__": [index],
                  "status": "running", "output": output}
        wf.update_workflow_results(workflow_name="wf", run_id="r1", step_id="each", result=result,
                                   request_context={})

    _run_all(n, iteration)
    loaded = wf.load_workflow_snapshot(workflow_name="wf", run_id="r1")
    assert loaded is not None
    assert loaded["context"]["each"]["output"] == [{"item": i} for i in range(n)]


def test_double_resume_has_exactly_one_winner(backend: Backend, wf: DynamoWorkflowsStore) -> None:
    require(backend, "concurrent_clients")
    _persist(wf, "suspended", suspendedPaths={"step-1": [0]})

    def resume(worker: int) -> dict[str, Any] | None:
        return wf.update_workflow_state(workflow_name="wf", run_id="r1",
                                        opts={"status": "running", "suspendedPaths": {},
                                              "resumeLabels": {"winner": {"stepId": f"w{worker}"}},
                                              "expectedStatus": "suspended"})

    outcomes = _run_all(THREADS, resume)
    winners = [i for i, o in enumerate(outcomes) if o is not None]
    assert len(winners) == 1
    (winner,) = winners
    loaded = wf.load_workflow_snapshot(workflow_name="wf", run_id="r1")
    assert loaded == outcomes[winner]
    assert loaded is not None and loaded["status"] == "running"
    assert loaded["resumeLabels"] == {"winner": {"stepId": f"w{winner}"}}


def test_state_change_and_results_racing_keep_both(backend: Backend, wf: DynamoWorkflowsStore) -> None:
    require(backend, "concurrent_clients")
    _persist(wf, "suspended")

    def actor(worker: int) -> Any:
        if worker == 0:
            return wf.update_workflow_state(workflow_name="wf", run_id="r1",
                                            opts={"status": "running", "expectedStatus": ["suspended"]})
        for step in range(3):
            wf.update_workflow_results(workflow_name="wf", run_id="r1", step_id=f"w{worker}-s{step}",
                                       result={"status": "success"}, request_context={})
        return None

    outcomes = _run_all(8, actor)
    assert outcomes[0] is not None
    loaded = wf.load_workflow_snapshot(workflow_name="wf", run_id="r1")
    assert loaded is not None and loaded["status"] == "running"
    assert {k for k in loaded["context"] if k != "input"} == {f"w{w}-s{s}" for w in range(1, 8) for s in range(3)}
