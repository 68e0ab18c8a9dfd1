"""Spec 3.12.5/3.12.6 fenced workflow writes: the current claim writes, a superseded one is refused with
RunFenceConflictError and writes nothing; unfenced writes are unchanged; a racing superseded writer never
overwrites the new owner."""

from __future__ import annotations

import threading

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.errors import RunFenceConflictError, ValidationError
from mastra_dynamo.stores.workflows import DynamoWorkflowsStore
from tests.conftest import Backend, make_store, require

WF = "run-fencing-workflow"
LEASE = 30_000


def _fence(wf: DynamoWorkflowsStore, run: str, owner: str, *, force: bool = False) -> dict[str, object]:
    claim = wf.claim_run_ownership(run_id=run, owner_id=owner, lease_ms=LEASE, force=force)
    assert claim.acquired and claim.record is not None
    return {"runId": run, "generation": claim.record.generation, "ownerId": owner}


def _snapshot(writer: str, status: str = "running") -> dict[str, object]:
    return {"runId": "r", "status": status, "value": {"writer": writer}, "context": {}}


def test_current_claim_writes_and_a_superseded_one_is_refused(owners: DynamoWorkflowsStore) -> None:
    wf = owners
    a = _fence(wf, "r", "owner-a")
    wf.persist_workflow_snapshot(workflow_name=WF, run_id="r", snapshot=_snapshot("a"), fence=a)
    wf.update_workflow_results(workflow_name=WF, run_id="r", step_id="s1", result={"status": "success"}, fence=a)
    wf.update_workflow_state(workflow_name=WF, run_id="r", opts={"status": "running"}, fence=a)
    b = _fence(wf, "r", "owner-b", force=True)
    stored = wf.load_workflow_snapshot(workflow_name=WF, run_id="r")
    for call in (
        lambda: wf.persist_workflow_snapshot(workflow_name=WF, run_id="r", snapshot=_snapshot("stale"), fence=a),
        lambda: wf.update_workflow_results(workflow_name=WF, run_id="r", step_id="stale", result=1, fence=a),
        lambda: wf.update_workflow_state(workflow_name=WF, run_id="r", opts={"status": "failed"}, fence=a),
        lambda: wf.update_workflow_state(workflow_name=WF, run_id="r", opts={"status": "failed",
                                                                              "expectedStatus": "nope"}, fence=a),
        lambda: wf.delete_workflow_run_by_id(workflow_name=WF, run_id="r", fence=a),
    ):
        with pytest.raises(RunFenceConflictError) as info:
            call()
        assert info.value.code == "STORAGE_RUN_FENCE_CONFLICT" and info.value.details["run_id"] == "r"
    assert wf.load_workflow_snapshot(workflow_name=WF, run_id="r") == stored  # nothing written
    assert "stale" not in stored["context"]
    wf.persist_workflow_snapshot(workflow_name=WF, run_id="r", snapshot=_snapshot("b"), fence=b)
    assert wf.load_workflow_snapshot(workflow_name=WF, run_id="r")["value"] == {"writer": "b"}
    wf.delete_workflow_run_by_id(workflow_name=WF, run_id="r", fence=b)
    assert wf.load_workflow_snapshot(workflow_name=WF, run_id="r") is None


def test_a_released_owner_writes_until_the_run_is_claimed_again(owners: DynamoWorkflowsStore) -> None:
    wf = owners
    a = _fence(wf, "r", "owner-a")
    assert wf.release_run_ownership(a)
    wf.persist_workflow_snapshot(workflow_name=WF, run_id="r", snapshot=_snapshot("a-after-release"), fence=a)
    _fence(wf, "r", "owner-b")
    with pytest.raises(RunFenceConflictError):
        wf.persist_workflow_snapshot(workflow_name=WF, run_id="r", snapshot=_snapshot("a-late"), fence=a)
    assert wf.load_workflow_snapshot(workflow_name=WF, run_id="r")["value"] == {"writer": "a-after-release"}


def test_unfenced_writes_are_unchanged_and_a_fence_names_its_run(owners: DynamoWorkflowsStore) -> None:
    wf = owners
    _fence(wf, "r", "owner-a")
    wf.persist_workflow_snapshot(workflow_name=WF, run_id="r", snapshot=_snapshot("free"))
    assert wf.load_workflow_snapshot(workflow_name=WF, run_id="r")["value"] == {"writer": "free"}
    with pytest.raises(ValidationError):
        wf.persist_workflow_snapshot(workflow_name=WF, run_id="r", snapshot=_snapshot("x"),
                                     fence={"runId": "other", "generation": 1, "ownerId": "o"})
    never = {"runId": "never-claimed", "generation": 1, "ownerId": "o"}
    with pytest.raises(RunFenceConflictError):
        wf.persist_workflow_snapshot(workflow_name=WF, run_id="never-claimed", snapshot=_snapshot("x"), fence=never)
    assert wf.load_workflow_snapshot(workflow_name=WF, run_id="never-claimed") is None


def test_a_large_fenced_snapshot_is_fenced_too(owners: DynamoWorkflowsStore) -> None:
    wf = owners
    a = _fence(wf, "big", "owner-a")
    big = {"status": "running", "blob": "x" * 600_000, "context": {}}
    wf.persist_workflow_snapshot(workflow_name=WF, run_id="big", snapshot=big, fence=a)
    _fence(wf, "big", "owner-b", force=True)
    with pytest.raises(RunFenceConflictError):
        wf.persist_workflow_snapshot(workflow_name=WF, run_id="big", snapshot={**big, "blob": "y" * 600_000},
                                     fence=a)
    assert wf.load_workflow_snapshot(workflow_name=WF, run_id="big") == big


def test_a_superseded_writer_racing_the_takeover_never_wins(backend: Backend) -> None:
    require(backend, "concurrent_clients")
    first = make_store(backend)
    first.create_table()
    other = DynamoDBStore(id="b", table_name=first.table_name, region="us-east-1", endpoint_url=backend.endpoint_url)
    try:
        wf_a, wf_b = first.get_store("workflows"), other.get_store("workflows")
        a = _fence(wf_a, "race", "owner-a")
        stop = threading.Event()

        def writer_a() -> None:
            while not stop.is_set():
                try:
                    wf_a.persist_workflow_snapshot(workflow_name=WF, run_id="race", snapshot=_snapshot("a"), fence=a)
                except RunFenceConflictError:
                    return

        thread = threading.Thread(target=writer_a)
        thread.start()
        b = _fence(wf_b, "race", "owner-b", force=True)
        wf_b.persist_workflow_snapshot(workflow_name=WF, run_id="race", snapshot=_snapshot("b"), fence=b)
        thread.join(timeout=60)
        stop.set()
        assert not thread.is_alive()
        assert wf_b.load_workflow_snapshot(workflow_name=WF, run_id="race")["value"] == {"writer": "b"}
    finally:
        other.close()
        first.delete_table()
        first.close()
