"""Spec 3.12.1 ambient run fences: a run fence scope fences every fence-accepting write inside it, an explicit
fence wins, run_outside_run_fence_scope escapes, the scope hears of conflicts, nested runs are covered by the
parent's fence, and the scope does not leak into other threads or survive its block."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from mastra_dynamo import (
    DynamoDBStore,
    RunFence,
    RunFenceConflictError,
    is_run_fence_conflict_error,
    matches_run_fence,
    resolve_run_fence,
    run_fence_scope,
    run_outside_run_fence_scope,
)
from mastra_dynamo.errors import StorageError

WF = "fence-scope-workflow"
LEASE = 30_000


def _claim(store: DynamoDBStore, run: str, owner: str, *, force: bool = False) -> RunFence:
    claim = store.get_store("workflows").claim_run_ownership(run_id=run, owner_id=owner, lease_ms=LEASE, force=force)
    assert claim.acquired and claim.record is not None
    return RunFence(run_id=run, generation=claim.record.generation, owner_id=owner)


def _snapshot(writer: str) -> dict[str, Any]:
    return {"runId": "r", "status": "running", "value": {"writer": writer}, "context": {}}


def _message(thread: str, text: str) -> dict[str, Any]:
    return {"id": f"{thread}-{text}", "threadId": thread, "resourceId": "res", "role": "user",
            "content": {"format": 2, "parts": [{"type": "text", "text": text}]}}


def test_writes_inside_a_scope_carry_its_fence(clocked_store: DynamoDBStore) -> None:
    wf = clocked_store.get_store("workflows")
    memory = clocked_store.get_store("memory")
    stale = _claim(clocked_store, "r", "owner-a")
    assert memory.raise_run_fence(stale)
    with run_fence_scope(stale):
        wf.persist_workflow_snapshot(workflow_name=WF, run_id="r", snapshot=_snapshot("a"))
        memory.save_thread(thread={"id": "t", "resourceId": "res", "title": "x", "metadata": {}})
        memory.save_messages(messages=[_message("t", "a")])
    current = _claim(clocked_store, "r", "owner-b", force=True)
    assert memory.raise_run_fence(current)
    heard: list[RunFenceConflictError] = []
    with run_fence_scope(stale, on_conflict=heard.append):
        with pytest.raises(RunFenceConflictError):
            wf.persist_workflow_snapshot(workflow_name=WF, run_id="r", snapshot=_snapshot("stale"))
        with pytest.raises(RunFenceConflictError):
            memory.save_messages(messages=[_message("t", "stale")])
        with pytest.raises(RunFenceConflictError):
            memory.update_resource(resource_id="res", working_memory="stale")
        # an explicit fence wins over the scope's
        wf.persist_workflow_snapshot(workflow_name=WF, run_id="r", snapshot=_snapshot("b"), fence=current)
        # outside the scope nothing is fenced; reads and delete_thread never are
        with run_outside_run_fence_scope():
            memory.save_messages(messages=[_message("t", "free")])
        memory.get_thread_by_id(thread_id="t")
    assert [e.details["operation"] for e in heard] == ["persistWorkflowSnapshot", "saveMessages", "updateResource"]
    assert wf.load_workflow_snapshot(workflow_name=WF, run_id="r")["value"] == {"writer": "b"}
    texts = [m.content["parts"][0]["text"] for m in memory.list_messages(thread_id="t").messages]
    assert texts == ["a", "free"]
    # after the block, nothing is fenced
    wf.persist_workflow_snapshot(workflow_name=WF, run_id="r", snapshot=_snapshot("after"))


def test_a_parent_fence_covers_nested_runs_unless_asked_not_to(clocked_store: DynamoDBStore) -> None:
    wf = clocked_store.get_store("workflows")
    parent = _claim(clocked_store, "parent", "owner-a")
    _claim(clocked_store, "parent", "owner-b", force=True)  # the parent run was taken over
    with run_fence_scope(parent), pytest.raises(RunFenceConflictError) as info:
        wf.persist_workflow_snapshot(workflow_name=WF, run_id="child", snapshot=_snapshot("child"))
    assert info.value.details["run_id"] == "parent"
    assert wf.load_workflow_snapshot(workflow_name=WF, run_id="child") is None
    with run_fence_scope(parent, cover_nested=False):
        wf.persist_workflow_snapshot(workflow_name=WF, run_id="child", snapshot=_snapshot("child"))
    assert wf.load_workflow_snapshot(workflow_name=WF, run_id="child")["value"] == {"writer": "child"}


def test_a_fence_function_decides_per_store_and_run(clocked_store: DynamoDBStore) -> None:
    wf = clocked_store.get_store("workflows")
    memory = clocked_store.get_store("memory")
    stale = _claim(clocked_store, "r2", "owner-a")
    _claim(clocked_store, "r2", "owner-b", force=True)
    asked: list[tuple[str, str | None]] = []

    def fence_for(store: Any, run_id: str | None) -> RunFence | None:
        asked.append((type(store).__name__, run_id))
        return stale if run_id == "r2" else None

    with run_fence_scope(fence_for):
        memory.save_thread(thread={"id": "t2", "resourceId": "res", "title": "x", "metadata": {}})  # None: free
        with pytest.raises(RunFenceConflictError):
            wf.update_workflow_state(workflow_name=WF, run_id="r2", opts={"status": "failed"})
        assert resolve_run_fence(wf, None, "other") is None
        assert resolve_run_fence(wf, stale, "other") == stale
    assert ("DynamoWorkflowsStore", "r2") in asked and any(run is None for _, run in asked)


def test_the_scope_stays_in_its_context(clocked_store: DynamoDBStore) -> None:
    fence = RunFence(run_id="r3", generation=1, owner_id="o")
    seen: list[object] = []
    with run_fence_scope(fence):
        worker = threading.Thread(target=lambda: seen.append(resolve_run_fence(None, None)))
        worker.start()
        worker.join()

        async def in_task() -> object:
            return resolve_run_fence(None, None)

        seen.append(asyncio.run(in_task()))  # asyncio copies the context into its tasks
    seen.append(resolve_run_fence(None, None))
    assert seen == [None, fence, None]


def test_conflict_helpers() -> None:
    fence = {"runId": "r", "generation": 3, "ownerId": "o"}
    assert matches_run_fence(fence, RunFence(run_id="r", generation=3, owner_id="o"))
    assert not matches_run_fence(fence, {"runId": "r", "generation": 4, "ownerId": "o"})
    assert not matches_run_fence(None, fence)
    conflict = RunFenceConflictError("x", details={})
    try:
        try:
            raise conflict
        except RunFenceConflictError as inner:
            raise StorageError("wrapped") from inner
    except StorageError as outer:
        assert is_run_fence_conflict_error(outer)
    assert not is_run_fence_conflict_error(StorageError("other"))
    assert not is_run_fence_conflict_error(None)
