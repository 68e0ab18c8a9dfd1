"""Snapshots beyond DynamoDB's 400 KB item limit: lossless round trips, chunk clean-up, the configured cap."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.errors import ItemTooLargeError
from mastra_dynamo.stores.workflows import DynamoWorkflowsStore
from tests.conftest import Backend, make_store

from .data import at, partition_sort_keys, snapshot

KB = 1024
MB = 1024 * 1024


def blob(size: int) -> str:
    """``size`` characters of incompressible text."""
    return os.urandom(size // 2 + 1).hex()[:size]


def big_snapshot(run_id: str, size: int, status: str = "running") -> dict[str, Any]:
    return snapshot(run_id, status, context={"input": {"doc": blob(size)}, "step-1": {"status": "success"}})


@pytest.fixture
def wf_store(store: DynamoDBStore) -> tuple[DynamoDBStore, DynamoWorkflowsStore]:
    return store, store.get_store("workflows")


@pytest.mark.parametrize("size", [1 * MB, 4 * MB + MB // 2], ids=["1MB", "4.5MB"])
def test_large_snapshot_round_trips(wf_store: tuple[DynamoDBStore, DynamoWorkflowsStore], size: int) -> None:
    store, wf = wf_store
    state = big_snapshot("big", size)
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="big", snapshot=state, resource_id="res",
                                 created_at=at(days=1), updated_at=at(days=1))
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="big") == state
    run = wf.get_workflow_run_by_id(run_id="big")
    assert run is not None and run.snapshot == state and run.created_at == at(days=1)
    listed = wf.list_workflow_runs(workflow_name="wf")
    assert listed.total == 1 and listed.runs[0].snapshot == state
    assert wf.list_workflow_runs(resource_id="res").runs[0].snapshot == state
    assert wf.list_workflow_runs(status="running").runs[0].snapshot == state
    assert len(partition_sort_keys(store, "big")) > 1  # it cannot fit in one item


def test_large_compressible_snapshot_round_trips(wf_store: tuple[DynamoDBStore, DynamoWorkflowsStore]) -> None:
    _, wf = wf_store
    state = snapshot("text", value={"log": "step finished with status success; " * 60_000})  # ~2 MB of text
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="text", snapshot=state)
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="text") == state


def test_many_mid_sized_steps_round_trip(wf_store: tuple[DynamoDBStore, DynamoWorkflowsStore]) -> None:
    _, wf = wf_store
    state = snapshot("steps", context={f"step-{i}": {"status": "success", "output": blob(60 * KB)}
                                       for i in range(20)})  # ~1.2 MB spread over many keys
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="steps", snapshot=state)
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="steps") == state


def test_shrinking_back_to_inline_leaves_no_chunks(wf_store: tuple[DynamoDBStore, DynamoWorkflowsStore]) -> None:
    store, wf = wf_store
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=big_snapshot("r1", 1 * MB))
    assert len(partition_sort_keys(store, "r1")) > 1
    small = snapshot("r1", "success")
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=small)
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == small
    assert partition_sort_keys(store, "r1") == ["I#wf", "N#wf"]  # the run's index entry and head only


def test_rewriting_a_large_snapshot_does_not_accumulate_chunks(
    wf_store: tuple[DynamoDBStore, DynamoWorkflowsStore],
) -> None:
    store, wf = wf_store
    first = big_snapshot("r1", 1 * MB)
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=first)
    items_once = len(partition_sort_keys(store, "r1"))
    for status in ("running", "waiting", "success"):
        latest = big_snapshot("r1", 1 * MB, status)
        wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=latest)
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == latest
    assert len(partition_sort_keys(store, "r1")) == items_once
    # a smaller (but still large) snapshot uses fewer items
    half = big_snapshot("r1", 500 * KB)
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=half)
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == half
    assert 1 <= len(partition_sort_keys(store, "r1")) < items_once


def test_delete_removes_the_chunks(wf_store: tuple[DynamoDBStore, DynamoWorkflowsStore]) -> None:
    store, wf = wf_store
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=big_snapshot("r1", 1 * MB))
    wf.persist_workflow_snapshot(workflow_name="other", run_id="r1", snapshot=big_snapshot("r1", 1 * MB))
    items_both = len(partition_sort_keys(store, "r1"))
    wf.delete_workflow_run_by_id(run_id="r1", workflow_name="wf")
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") is None
    assert len(partition_sort_keys(store, "r1")) == items_both // 2  # the other workflow's run is untouched
    assert wf.load_workflow_snapshot(workflow_name="other", run_id="r1") is not None
    wf.delete_workflow_run_by_id(run_id="r1", workflow_name="other")
    assert partition_sort_keys(store, "r1") == []


def test_updates_of_a_large_snapshot(wf_store: tuple[DynamoDBStore, DynamoWorkflowsStore]) -> None:
    store, wf = wf_store
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "suspended"))
    big_output = blob(700 * KB)
    context = wf.update_workflow_results(workflow_name="wf", run_id="r1", step_id="big-step",
                                         result={"status": "success", "output": big_output}, request_context={})
    assert context["big-step"]["output"] == big_output
    loaded = wf.load_workflow_snapshot(workflow_name="wf", run_id="r1")
    assert loaded is not None and loaded["context"]["big-step"]["output"] == big_output
    new = wf.update_workflow_state(workflow_name="wf", run_id="r1",
                                   opts={"status": "running", "expectedStatus": "suspended"})
    assert new is not None and new["context"]["big-step"]["output"] == big_output
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == new
    assert wf.update_workflow_state(workflow_name="wf", run_id="r1",
                                    opts={"status": "running", "expectedStatus": "suspended"}) is None
    items = len(partition_sort_keys(store, "r1"))
    wf.update_workflow_results(workflow_name="wf", run_id="r1", step_id="small", result={"status": "success"},
                               request_context={})
    assert len(partition_sort_keys(store, "r1")) == items


# ------------------------------------------------------------------------------------------ the cap
@pytest.fixture
def capped(backend: Backend) -> Iterator[DynamoDBStore]:
    s = make_store(backend, max_snapshot_bytes=2 * MB)
    s.create_table()
    s.init()
    try:
        yield s
    finally:
        try:
            s.delete_table()
        finally:
            s.close()


def test_first_snapshot_over_the_cap_writes_nothing(capped: DynamoDBStore) -> None:
    wf = capped.get_store("workflows")
    with pytest.raises(ItemTooLargeError):
        wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=big_snapshot("r1", 3 * MB))
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") is None
    assert wf.list_workflow_runs().total == 0
    assert partition_sort_keys(capped, "r1") == []


@pytest.mark.parametrize("previous_size", [10 * KB, 1 * MB], ids=["inline", "chunked"])
def test_snapshot_over_the_cap_keeps_the_previous_one(capped: DynamoDBStore, previous_size: int) -> None:
    wf = capped.get_store("workflows")
    previous = big_snapshot("r1", previous_size)
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=previous, created_at=at(days=1),
                                 updated_at=at(days=1))
    items_before = sorted(partition_sort_keys(capped, "r1"))
    with pytest.raises(ItemTooLargeError):
        wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=big_snapshot("r1", 3 * MB, "success"))
    with pytest.raises(ItemTooLargeError):
        wf.update_workflow_results(workflow_name="wf", run_id="r1", step_id="huge",
                                   result={"status": "success", "output": blob(3 * MB)}, request_context={})
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == previous
    run = wf.get_workflow_run_by_id(run_id="r1", workflow_name="wf")
    assert run is not None and run.updated_at == at(days=1) and run.snapshot == previous
    assert sorted(partition_sort_keys(capped, "r1")) == items_before
    assert [r.run_id for r in wf.list_workflow_runs(status="running").runs] == ["r1"]


def test_snapshot_just_under_the_cap_is_stored(capped: DynamoDBStore) -> None:
    wf = capped.get_store("workflows")
    state = big_snapshot("r1", 2 * MB - 4 * KB)
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=state)
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == state
