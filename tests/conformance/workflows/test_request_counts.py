"""Requests of the run listings and of ``get_workflow_run_by_id`` without a workflow name.

The runs of one workflow are one index partition: a page is one Query (plus a COUNT only when more runs
follow) and one BatchGetItem of its heads. The global listings (all runs, runs by status) read their eight
shards. A run found by id alone is read by one Query of its heads, which carry the snapshot.
"""

from __future__ import annotations

import itertools
import os

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.schema import keys
from mastra_dynamo.stores.workflows import DynamoWorkflowsStore

from .data import at, snapshot, spent


def seed(wf: DynamoWorkflowsStore, workflow: str, count: int) -> list[str]:
    """``count`` runs of ``workflow`` (with runs of another workflow in between), newest first."""
    for i in range(count):
        for name in (workflow, f"other-{workflow}"):
            wf.persist_workflow_snapshot(workflow_name=name, run_id=f"{name}-{i:02d}", resource_id="res",
                                         snapshot=snapshot(f"{name}-{i:02d}", "success"), created_at=at(hours=i))
    return [f"{workflow}-{i:02d}" for i in reversed(range(count))]


def run_ids(store: DynamoWorkflowsStore, **kwargs: object) -> list[str]:
    return [r.run_id for r in store.list_workflow_runs(**kwargs).runs]  # type: ignore[arg-type]


def test_every_run_of_a_workflow_is_in_one_partition(store: DynamoDBStore, wf: DynamoWorkflowsStore) -> None:
    for run_id in seed(wf, "wf", 6):
        entry = store.table.get_item(keys.run_index_key("wf", run_id))
        assert entry is not None and entry["gsi1pk"] == {"S": keys.runs_by_workflow_pk("wf")}


def test_a_page_of_a_workflow_with_nothing_after_it_is_one_query(store: DynamoDBStore,
                                                                 wf: DynamoWorkflowsStore) -> None:
    newest_first = seed(wf, "wf", 6)
    for kwargs in ({"page": 0, "per_page": 6}, {"page": 0, "per_page": 20}, {"page": 1, "per_page": 4}, {}):
        before = store.request_counts()
        result = wf.list_workflow_runs(workflow_name="wf", **kwargs)  # type: ignore[arg-type]
        assert spent(store, before) == {"Query": 1, "BatchGetItem": 1}, kwargs  # the page, its heads
        assert result.total == 6, kwargs
    assert run_ids(wf, workflow_name="wf", page=1, per_page=4) == newest_first[4:]


def test_a_page_of_a_workflow_with_more_after_it_is_one_query_and_one_count(store: DynamoDBStore,
                                                                            wf: DynamoWorkflowsStore) -> None:
    newest_first = seed(wf, "wf", 11)
    pages = []
    for p in range(3):
        before = store.request_counts()
        pages.append(wf.list_workflow_runs(workflow_name="wf", page=p, per_page=4))
        assert spent(store, before) == {"Query": 2 if p < 2 else 1, "BatchGetItem": 1}, p  # COUNT if more follow
    assert list(itertools.chain.from_iterable([r.run_id for r in p.runs] for p in pages)) == newest_first
    assert [p.total for p in pages] == [11, 11, 11]
    before = store.request_counts()
    dated = wf.list_workflow_runs(workflow_name="wf", from_date=at(hours=2), to_date=at(hours=8), page=0,
                                  per_page=3)
    assert spent(store, before) == {"Query": 2, "BatchGetItem": 1}
    assert [r.run_id for r in dated.runs] == ["wf-08", "wf-07", "wf-06"] and dated.total == 7
    before = store.request_counts()
    assert wf.list_workflow_runs(workflow_name="wf", page=0, per_page=0).total == 11
    assert spent(store, before) == {"Query": 1}  # the COUNT alone


def test_global_listings_read_every_shard_once(store: DynamoDBStore, wf: DynamoWorkflowsStore) -> None:
    """All runs and runs by status: one Query per shard (8), plus one COUNT per shard only when more follow."""
    newest = seed(wf, "wf", 5)  # and 5 runs of another workflow
    before = store.request_counts()
    assert wf.list_workflow_runs(page=0, per_page=10).total == 10
    assert spent(store, before) == {"Query": keys.GLOBAL_SHARDS, "BatchGetItem": 1}
    before = store.request_counts()
    first = wf.list_workflow_runs(page=0, per_page=3)
    assert spent(store, before) == {"Query": 2 * keys.GLOBAL_SHARDS, "BatchGetItem": 1}
    assert first.total == 10 and len(first.runs) == 3
    before = store.request_counts()
    success = wf.list_workflow_runs(status="success", page=0, per_page=10)
    assert spent(store, before) == {"Query": keys.GLOBAL_SHARDS, "BatchGetItem": 1}
    assert success.total == 10
    assert run_ids(wf, workflow_name="wf", status="success") == newest


def test_equal_creation_times_are_ordered_by_run_id(wf: DynamoWorkflowsStore) -> None:
    for run_id in ("b", "d", "a", "e", "c"):
        wf.persist_workflow_snapshot(workflow_name="tied", run_id=run_id, snapshot=snapshot(run_id),
                                     created_at=at(days=1))
    pages = [run_ids(wf, workflow_name="tied", page=p, per_page=2) for p in range(3)]
    assert pages == [["e", "d"], ["c", "b"], ["a"]]
    assert run_ids(wf, workflow_name="tied") == ["e", "d", "c", "b", "a"]


def test_a_run_found_by_id_alone_is_one_query(store: DynamoDBStore, wf: DynamoWorkflowsStore) -> None:
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", step=1),
                                 resource_id="res", created_at=at(days=1))
    before = store.request_counts()
    run = wf.get_workflow_run_by_id(run_id="r1")
    assert spent(store, before) == {"Query": 1}
    assert run is not None and (run.workflow_name, run.resource_id, run.created_at) == ("wf", "res", at(days=1))
    assert run.snapshot == snapshot("r1", step=1)
    assert run == wf.get_workflow_run_by_id(run_id="r1", workflow_name="wf")
    # the same run id in a second workflow, created later: the newer run wins, still one Query
    wf.persist_workflow_snapshot(workflow_name="other", run_id="r1", snapshot=snapshot("r1", step=2),
                                 created_at=at(days=2))
    before = store.request_counts()
    newer = wf.get_workflow_run_by_id(run_id="r1")
    assert spent(store, before) == {"Query": 1}
    assert newer is not None and newer.workflow_name == "other" and newer.snapshot == snapshot("r1", step=2)
    before = store.request_counts()
    assert wf.get_workflow_run_by_id(run_id="missing") is None
    assert spent(store, before) == {"Query": 1}


def test_a_chunked_run_found_by_id_alone_adds_the_query_of_its_chunks(store: DynamoDBStore,
                                                                      wf: DynamoWorkflowsStore) -> None:
    state = snapshot("big", context={"input": {"doc": os.urandom(400 * 1024).hex()}})  # ~400 KB compressed
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="big", snapshot=state)
    before = store.request_counts()
    run = wf.get_workflow_run_by_id(run_id="big")
    assert spent(store, before) == {"Query": 2}  # the head, then its chunks
    assert run is not None and run.snapshot == state
