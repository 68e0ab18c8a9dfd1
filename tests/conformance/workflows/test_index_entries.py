"""A run's head is not indexed; a small index entry beside it carries what listings filter and sort on.

Checked here: the requests each kind of write sends, that head and entry always agree, that heads of the
older layout (indexed themselves, no entry) are listed, read and migrated by their next write, and that heads
holding a snapshot of a few KB as text (as they were stored before snapshots were compressed from 512 bytes)
are read by every path and stored compressed by their next write.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.schema import keys
from mastra_dynamo.stores.workflows import DynamoWorkflowsStore, run_index_keys

from .data import at, snapshot, spent


def raw(store: DynamoDBStore, run_id: str, sk: str) -> dict[str, Any] | None:
    return store.table.get_item(keys.Key(keys.run_pk(run_id), sk))


def assert_entry_agrees(store: DynamoDBStore, run_id: str, workflow: str = "wf") -> None:
    head = raw(store, run_id, f"N#{workflow}")
    entry = raw(store, run_id, f"I#{workflow}")
    assert head is not None and entry is not None
    assert "gsi1pk" not in head and "gsi3pk" not in head  # the head is in no index
    for attr in ("workflowName", "runId", "createdAt", "status", "resourceId", "ttl"):
        assert entry.get(attr) == head.get(attr), attr
    expected = run_index_keys(workflow, run_id, head["createdAt"]["S"],
                              head["resourceId"]["S"] if "resourceId" in head else None, head["status"]["S"])
    assert {k: v for k, v in entry.items() if k.startswith("gsi")} == expected


def test_a_write_that_keeps_the_indexed_fields_is_one_update_of_the_head(store: DynamoDBStore,
                                                                          wf: DynamoWorkflowsStore) -> None:
    before = store.request_counts()
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"), resource_id="res")
    assert spent(store, before) == {"TransactWriteItems": 1}  # first write: head and entry
    assert_entry_agrees(store, "r1")
    for step in range(3):
        before = store.request_counts()
        wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", step=step))
        assert spent(store, before) == {"UpdateItem": 1}
    before = store.request_counts()
    wf.update_workflow_results(workflow_name="wf", run_id="r1", step_id="s", result={"status": "success"},
                               request_context={})
    assert spent(store, before) == {"GetItem": 1, "UpdateItem": 1}
    assert_entry_agrees(store, "r1")
    loaded = wf.load_workflow_snapshot(workflow_name="wf", run_id="r1")
    assert loaded is not None and loaded["step"] == 2 and loaded["context"]["s"] == {"status": "success"}


def test_a_status_change_moves_the_index_entry_atomically(store: DynamoDBStore, wf: DynamoWorkflowsStore) -> None:
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "running"),
                                 resource_id="res")
    before = store.request_counts()
    assert wf.update_workflow_state(workflow_name="wf", run_id="r1",
                                    opts={"status": "suspended", "expectedStatus": "running"}) is not None
    assert spent(store, before) == {"GetItem": 1, "TransactWriteItems": 1}
    assert_entry_agrees(store, "r1")
    assert [r.run_id for r in wf.list_workflow_runs(status="suspended").runs] == ["r1"]
    assert wf.list_workflow_runs(status="running").runs == []
    before = store.request_counts()
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "success"))
    assert spent(store, before) == {"TransactWriteItems": 1}  # the head as this store last read it
    assert_entry_agrees(store, "r1")
    assert [r.run_id for r in wf.list_workflow_runs(status="success").runs] == ["r1"]
    assert [r.run_id for r in wf.list_workflow_runs(resource_id="res").runs] == ["r1"]  # resource kept


def other_process(wf: DynamoWorkflowsStore) -> DynamoWorkflowsStore:
    """Another store on the same table, as another process has it: it has seen no head yet."""
    return DynamoWorkflowsStore(table=wf.table, ttl=wf.ttl, clock=wf.clock)


def sent(wf: DynamoWorkflowsStore, before: dict[str, int]) -> dict[str, int]:
    """The requests a domain store's own table client sent since ``before`` (its ``request_counts``)."""
    after = wf.table.request_counts
    return {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}


@pytest.mark.sync_internals("builds domain stores on the store's own table client")
def test_a_run_written_elsewhere_costs_one_failed_request_then_goes_on_from_the_head_it_returned(
        store: DynamoDBStore, wf: DynamoWorkflowsStore) -> None:
    first = other_process(wf)
    first.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "running"),
                                    resource_id="res", created_at=at(hours=1))
    other = other_process(wf)
    before = dict(other.table.request_counts)
    other.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "running", step=1))
    # the transaction of a new run fails on the stored head, which it returns: the head-only update follows
    assert sent(other, before) == {"TransactWriteItems": 1, "UpdateItem": 1}
    before = dict(other.table.request_counts)
    other.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "running", step=2))
    assert sent(other, before) == {"UpdateItem": 1}
    # the first store's knowledge is stale now (revision and status moved): its write still lands, in order
    other.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "suspended", step=3))
    before = dict(first.table.request_counts)
    first.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "success", step=4))
    assert sent(first, before) == {"TransactWriteItems": 2}  # the failed one returned the head
    assert_entry_agrees(store, "r1")
    run = wf.get_workflow_run_by_id(run_id="r1", workflow_name="wf")
    assert run is not None and run.snapshot["step"] == 4 and run.snapshot["status"] == "success"
    assert run.resource_id == "res" and run.created_at == at(hours=1)
    assert [r.run_id for r in wf.list_workflow_runs(status="success").runs] == ["r1"]
    assert wf.list_workflow_runs(status="suspended").runs == []


@pytest.mark.sync_internals("builds domain stores on the store's own table client")
def test_a_deleted_run_known_to_the_store_is_written_anew(store: DynamoDBStore, wf: DynamoWorkflowsStore) -> None:
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "running"),
                                 created_at=at(hours=1))
    other_process(wf).delete_workflow_run_by_id(run_id="r1", workflow_name="wf")
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "running", step=1))
    assert_entry_agrees(store, "r1")
    run = wf.get_workflow_run_by_id(run_id="r1", workflow_name="wf")
    assert run is not None and run.snapshot["step"] == 1 and run.created_at != at(hours=1)


def test_a_new_resource_moves_the_index_entry(store: DynamoDBStore, wf: DynamoWorkflowsStore) -> None:
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"), resource_id="a",
                                 created_at=at(hours=1))
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"), resource_id="b")
    assert_entry_agrees(store, "r1")
    assert wf.list_workflow_runs(resource_id="a").total == 0
    runs = wf.list_workflow_runs(resource_id="b").runs
    assert [r.run_id for r in runs] == ["r1"] and runs[0].created_at == at(hours=1)  # createdAt write-once


def test_a_page_of_runs_is_its_queries_and_one_batch_get(store: DynamoDBStore, wf: DynamoWorkflowsStore) -> None:
    for i in range(6):
        wf.persist_workflow_snapshot(workflow_name="wf", run_id=f"r{i}", snapshot=snapshot(f"r{i}", step=i),
                                     resource_id="res", created_at=at(seconds=i))
    before = store.request_counts()
    page = wf.list_workflow_runs(resource_id="res", page=0, per_page=4)
    assert spent(store, before) == {"Query": 2, "BatchGetItem": 1}  # page + COUNT (more follow), heads
    assert page.total == 6 and [r.run_id for r in page.runs] == ["r5", "r4", "r3", "r2"]
    assert [r.snapshot["step"] for r in page.runs] == [5, 4, 3, 2]
    before = store.request_counts()
    last = wf.list_workflow_runs(resource_id="res", page=1, per_page=4)
    assert spent(store, before) == {"Query": 1, "BatchGetItem": 1}  # nothing follows: no COUNT
    assert last.total == 6 and [r.run_id for r in last.runs] == ["r1", "r0"]


def test_delete_removes_head_and_entry(store: DynamoDBStore, wf: DynamoWorkflowsStore) -> None:
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"), resource_id="res")
    wf.delete_workflow_run_by_id(run_id="r1", workflow_name="wf")
    assert raw(store, "r1", "N#wf") is None and raw(store, "r1", "I#wf") is None
    assert wf.list_workflow_runs().total == 0 and wf.list_workflow_runs(resource_id="res").runs == []


def _legacy_head(store: DynamoDBStore, run_id: str, status: str) -> None:
    """A head as the older layout wrote it: indexed itself, no index entry."""
    created = keys.ts(at(days=-1))
    key = keys.run_key("wf", run_id)
    item: dict[str, Any] = {
        "pk": {"S": key.pk}, "sk": {"S": key.sk}, "workflowName": {"S": "wf"}, "runId": {"S": run_id},
        "createdAt": {"S": created}, "updatedAt": {"S": created}, "status": {"S": status},
        "resourceId": {"S": "res"}, "snapshot": {"S": json.dumps({"runId": run_id, "status": status})},
        "_rev": {"N": "3"}, "_et": {"S": "workflow_run"}, "_sv": {"N": "1"},
        **run_index_keys("wf", run_id, created, "res", status),
    }
    store.table.call("PutItem", TableName=store.table_name, Item=item)


def test_heads_of_the_older_layout_are_listed_and_migrated(store: DynamoDBStore, wf: DynamoWorkflowsStore) -> None:
    _legacy_head(store, "old", "suspended")
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="new", snapshot=snapshot("new", "suspended"),
                                 resource_id="res")
    for kwargs in ({}, {"workflow_name": "wf"}, {"resource_id": "res"}, {"status": "suspended"}):
        listing = wf.list_workflow_runs(**kwargs)  # type: ignore[arg-type]
        assert sorted(r.run_id for r in listing.runs) == ["new", "old"] and listing.total == 2, kwargs
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="old") == {"runId": "old", "status": "suspended"}
    resumed = wf.update_workflow_state(workflow_name="wf", run_id="old",
                                       opts={"status": "running", "expectedStatus": "suspended"})
    assert resumed == {"runId": "old", "status": "running"}
    assert_entry_agrees(store, "old")  # migrated: the head left the indexes, an entry took its place
    assert raw(store, "old", "N#wf")["createdAt"]["S"] == keys.ts(at(days=-1))  # type: ignore[index]
    assert [r.run_id for r in wf.list_workflow_runs(status="running").runs] == ["old"]
    assert wf.list_workflow_runs().total == 2
    _legacy_head(store, "old2", "running")
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="old2", snapshot=snapshot("old2", "running"))
    assert_entry_agrees(store, "old2")  # a persist that keeps the status migrates it too
    assert wf.list_workflow_runs(status="running").total == 2


def test_a_head_with_a_text_snapshot_of_a_few_kb_is_read_and_rewritten_compressed(
        store: DynamoDBStore, wf: DynamoWorkflowsStore) -> None:
    big = snapshot("r1", context={"input": {}, **{f"step{i}": {"status": "success", "output": {"text": "ok " * 60}}
                                                  for i in range(10)}})
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=big, resource_id="res")
    head = raw(store, "r1", "N#wf")
    assert head is not None and set(head["snapshot"]) == {"B"}  # a few KB: stored compressed
    head["snapshot"] = {"S": json.dumps(big, separators=(",", ":"))}  # the same head with the text form
    store.table.call("PutItem", TableName=store.table_name, Item=head)
    assert len(head["snapshot"]["S"]) > 2048
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == big
    for run in (wf.get_workflow_run_by_id(run_id="r1"), wf.get_workflow_run_by_id(run_id="r1", workflow_name="wf")):
        assert run is not None and run.snapshot == big
    for kwargs in ({}, {"workflow_name": "wf"}, {"resource_id": "res"}, {"status": "running"}):
        assert [r.snapshot for r in wf.list_workflow_runs(**kwargs).runs] == [big], kwargs  # type: ignore[arg-type]
    merged = wf.update_workflow_results(workflow_name="wf", run_id="r1", step_id="step10",
                                        result={"status": "success"}, request_context={})
    assert merged["step10"] == {"status": "success"}
    rewritten = raw(store, "r1", "N#wf")
    assert rewritten is not None and set(rewritten["snapshot"]) == {"B"}
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == {
        **big, "context": {**big["context"], "step10": {"status": "success"}}}


@pytest.mark.sync_internals("reads the store's remembered heads")
def test_the_remembered_head_agrees_with_the_stored_one_after_every_kind_of_write(
        store: DynamoDBStore, wf: DynamoWorkflowsStore) -> None:
    big = {"blob": random.Random(7).randbytes(400_000).hex()}  # chunked: over the inline limit compressed
    chunked = 0
    for step, (status, extra) in enumerate([("running", {}), ("running", {}), ("running", big),
                                            ("suspended", {}), ("suspended", big), ("success", {})]):
        wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1",
                                     snapshot=snapshot("r1", status, step=step, **extra))
        stored = raw(store, "r1", "N#wf")
        known = wf._heads.get(("wf", "r1"))
        assert stored is not None and known is not None
        for name in ("_rev", "_gen", "_wid", "snapGen", "snapChunks", "status", "createdAt", "resourceId"):
            assert known.get(name) == stored.get(name), (step, name)
        assert "snapshot" not in known
        chunked += "snapGen" in stored
    assert chunked == 2
