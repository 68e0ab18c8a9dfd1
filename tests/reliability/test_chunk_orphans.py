"""Chunked workflow snapshots leave no orphan chunks: the cleanup after a commit does not depend on the answer
of the head update (lost answers, botocore resends), and a crash between the commit and the cleanup leaves
orphans that the next write of the run removes."""

from __future__ import annotations

import os
from typing import Any

import pytest

from mastra_dynamo.schema import keys
from mastra_dynamo.stores.workflows import DynamoWorkflowsStore
from tests.conformance.workflows.data import partition_sort_keys, snapshot

from .conftest import Faulty

MB = 1024 * 1024
AFTER_KINDS = ("reset_after", "timeout_after", "http500_after")


def big(run_id: str, status: str, step: int) -> dict[str, Any]:
    """About 1 MB of incompressible text: two chunks."""
    return snapshot(run_id, status, step=step, context={"input": {"doc": os.urandom(MB // 2).hex()}})


def assert_only_live_chunks(faulty: Faulty, wf: DynamoWorkflowsStore, run_id: str) -> None:
    head = faulty.verifier.table.get_item(keys.run_key("wf", run_id))
    assert head is not None
    expected = ["I#wf", "N#wf"]
    if "snapGen" in head:
        prefix = keys.run_chunk_prefix("wf", head["snapGen"]["S"])
        expected += [f"{prefix}{n:05d}" for n in range(int(head["snapChunks"]["N"]))]
    assert sorted(partition_sort_keys(faulty.verifier, run_id)) == sorted(expected)


def test_lost_head_update_answers_leave_no_orphan_chunks(faulty: Faulty) -> None:
    wf: DynamoWorkflowsStore = faulty.store.get_store("workflows")
    statuses = ["running", "running", "waiting", "waiting", "running", "running", "running", "success",
                "success", "success"]
    latest: dict[str, Any] = {}
    for i, status in enumerate(statuses):
        latest = big("r1", status, i)
        if i % 3 != 1:  # most writes: the head update is applied, its answer is lost, botocore resends it
            changes_index = i == 0 or statuses[i - 1] != status  # a status change writes head + index entry
            operation = "TransactWriteItems" if changes_index else "UpdateItem"
            faulty.injector.script = [(operation, AFTER_KINDS[i % len(AFTER_KINDS)])]
        wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=latest)
        assert faulty.injector.script == []
        assert_only_live_chunks(faulty, wf, "r1")
    assert faulty.injector.total_injected >= 6
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == latest
    assert faulty.verifier.get_store("workflows").load_workflow_snapshot(workflow_name="wf", run_id="r1") == latest


def test_lost_answers_of_updates_of_a_chunked_run_leave_no_orphan_chunks(faulty: Faulty) -> None:
    wf: DynamoWorkflowsStore = faulty.store.get_store("workflows")
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r2", snapshot=big("r2", "running", 0))
    for i in range(4):
        faulty.injector.script = [("UpdateItem", AFTER_KINDS[i % len(AFTER_KINDS)])]
        wf.update_workflow_results(workflow_name="wf", run_id="r2", step_id=f"s{i}", result={"status": "success"},
                                   request_context={})
        assert faulty.injector.script == []
        assert_only_live_chunks(faulty, wf, "r2")
    loaded = wf.load_workflow_snapshot(workflow_name="wf", run_id="r2")
    assert loaded is not None and sorted(k for k in loaded["context"] if k.startswith("s")) == ["s0", "s1", "s2",
                                                                                                 "s3"]


class Crash(Exception):
    pass


@pytest.mark.parametrize("next_size", ["chunked", "inline"])
def test_a_crash_after_the_commit_leaves_orphans_that_the_next_write_removes(
    faulty: Faulty, monkeypatch: pytest.MonkeyPatch, next_size: str,
) -> None:
    wf: DynamoWorkflowsStore = faulty.store.get_store("workflows")
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r3", snapshot=big("r3", "running", 0))
    first = set(partition_sort_keys(faulty.verifier, "r3"))

    def crash(*_: Any, **__: Any) -> None:
        raise Crash()

    second = big("r3", "running", 1)
    with monkeypatch.context() as patch:
        patch.setattr(wf, "_delete_older_than", crash)
        with pytest.raises(Crash):
            wf.persist_workflow_snapshot(workflow_name="wf", run_id="r3", snapshot=second)
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r3") == second  # committed
    orphans = {sk for sk in first if sk.startswith("C#")}
    assert orphans and orphans <= set(partition_sort_keys(faulty.verifier, "r3"))  # the crash left them
    third = big("r3", "success", 2) if next_size == "chunked" else snapshot("r3", "success", step=2)
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r3", snapshot=third)
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r3") == third
    assert_only_live_chunks(faulty, wf, "r3")


@pytest.mark.parametrize("next_size", ["chunked", "inline"])
def test_a_writer_whose_clock_is_behind_still_wins_and_cleans_up(
    faulty: Faulty, monkeypatch: pytest.MonkeyPatch, next_size: str,
) -> None:
    """The head's stamp only grows (a head write is conditioned on it): a writer whose clock is an hour behind
    fails that condition, takes a stamp after the head's, rewrites its chunks and commits; nothing is left."""
    import time

    wf: DynamoWorkflowsStore = faulty.store.get_store("workflows")
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r4", snapshot=big("r4", "running", 0))
    real = time.time_ns
    later = big("r4", "running", 1) if next_size == "chunked" else snapshot("r4", "running", step=1)
    with monkeypatch.context() as patch:
        patch.setattr(time, "time_ns", lambda: real() - 3600 * 10**9)
        wf.persist_workflow_snapshot(workflow_name="wf", run_id="r4", snapshot=later)
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r4") == later
    assert_only_live_chunks(faulty, wf, "r4")
