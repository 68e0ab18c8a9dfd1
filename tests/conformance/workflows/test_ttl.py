"""Retention of workflow runs (TTL entity ``workflow_snapshot``) with an injected clock: expired runs are
invisible on every read path, even before DynamoDB deletes them, and are never resurrected by an update."""

from __future__ import annotations

import os

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.workflows import DynamoWorkflowsStore
from tests.conftest import Backend, FakeClock, StoreFactory, make_store

from .data import partition_sort_keys, snapshot

DAY = 86400


@pytest.fixture
def ttl_store(store_factory: StoreFactory) -> DynamoDBStore:
    return store_factory(ttl={"workflow_snapshot": {"enabled": True, "defaultTtlSeconds": DAY}})


@pytest.fixture
def twf(ttl_store: DynamoDBStore) -> DynamoWorkflowsStore:
    return ttl_store.get_store("workflows")  # type: ignore[no-any-return]


def _seed(wf: DynamoWorkflowsStore) -> None:
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "suspended"),
                                 resource_id="res")


def _visible(wf: DynamoWorkflowsStore, run_id: str = "r1") -> bool:
    loaded = wf.load_workflow_snapshot(workflow_name="wf", run_id=run_id)
    by_name = wf.get_workflow_run_by_id(run_id=run_id, workflow_name="wf")
    by_id = wf.get_workflow_run_by_id(run_id=run_id)
    listings = [wf.list_workflow_runs(), wf.list_workflow_runs(workflow_name="wf"),
                wf.list_workflow_runs(resource_id="res"), wf.list_workflow_runs(status="suspended"),
                wf.list_workflow_runs(workflow_name="wf", page=0, per_page=10)]
    seen = [loaded is not None, by_name is not None, by_id is not None,
            *(run_id in [r.run_id for r in listing.runs] for listing in listings)]
    assert len(set(seen)) == 1, f"read paths disagree: {seen}"
    return seen[0]


def test_ttl_attribute_is_written_from_the_retention(ttl_store: DynamoDBStore, twf: DynamoWorkflowsStore,
                                                     clock: FakeClock) -> None:
    _seed(twf)
    item = ttl_store.table.raw.get_item(TableName=ttl_store.table_name,
                                        Key={"pk": {"S": "W#r1"}, "sk": {"S": "N#wf"}}, ConsistentRead=True)["Item"]
    assert int(item["ttl"]["N"]) == int(clock.now.timestamp()) + DAY


def test_runs_stay_visible_until_they_expire(twf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    _seed(twf)
    clock.advance(seconds=DAY - 60)
    assert _visible(twf)
    clock.advance(seconds=61)
    assert not _visible(twf)


def test_expired_runs_are_invisible_on_every_read_path(twf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    _seed(twf)
    clock.advance(seconds=DAY + 1)
    assert not _visible(twf)
    for kwargs in ({}, {"workflow_name": "wf"}, {"resource_id": "res"}, {"status": "suspended"},
                   {"page": 0, "per_page": 5}):
        listing = twf.list_workflow_runs(**kwargs)  # type: ignore[arg-type]
        assert listing.runs == [] and listing.total == 0, kwargs


def test_totals_count_only_live_runs(twf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    for i in range(3):
        twf.persist_workflow_snapshot(workflow_name="wf", run_id=f"old-{i}", snapshot=snapshot(f"old-{i}"))
    clock.advance(seconds=DAY // 2)
    for i in range(2):
        twf.persist_workflow_snapshot(workflow_name="wf", run_id=f"new-{i}", snapshot=snapshot(f"new-{i}"))
    clock.advance(seconds=DAY // 2 + 1)
    page = twf.list_workflow_runs(workflow_name="wf", page=0, per_page=1)
    assert page.total == 2 and [r.run_id for r in page.runs] == ["new-1"]
    assert [r.run_id for r in twf.list_workflow_runs(status="running").runs] == ["new-1", "new-0"]


def test_expired_run_is_not_resurrected_by_update_state(twf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    _seed(twf)
    clock.advance(seconds=DAY + 1)
    assert twf.update_workflow_state(workflow_name="wf", run_id="r1", opts={"status": "running"}) is None
    assert twf.update_workflow_state(workflow_name="wf", run_id="r1",
                                     opts={"status": "running", "expectedStatus": "suspended"}) is None
    assert not _visible(twf)


def test_update_results_on_an_expired_run_starts_a_fresh_pending_run(twf: DynamoWorkflowsStore,
                                                                    clock: FakeClock) -> None:
    twf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", resource_id="res",
                                  snapshot=snapshot("r1", "suspended", context={"input": {}, "old": {"x": 1}}))
    clock.advance(seconds=DAY + 1)
    context = twf.update_workflow_results(workflow_name="wf", run_id="r1", step_id="new",
                                          result={"status": "success"}, request_context={})
    assert context == {"new": {"status": "success"}}  # nothing of the expired run comes back
    loaded = twf.load_workflow_snapshot(workflow_name="wf", run_id="r1")
    assert loaded is not None and loaded["status"] == "pending"
    run = twf.get_workflow_run_by_id(run_id="r1")
    assert run is not None and run.created_at == clock.now and run.resource_id is None


def test_persist_after_expiry_starts_a_new_life(twf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    _seed(twf)
    clock.advance(seconds=DAY + 1)
    twf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "running"))
    run = twf.get_workflow_run_by_id(run_id="r1", workflow_name="wf")
    assert run is not None
    assert run.created_at == clock.now and run.resource_id is None
    assert run.snapshot == snapshot("r1", "running")
    assert twf.list_workflow_runs().total == 1


def test_writes_renew_the_retention(twf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    _seed(twf)
    clock.advance(seconds=DAY // 2)
    twf.update_workflow_results(workflow_name="wf", run_id="r1", step_id="s", result={"status": "success"},
                                request_context={})
    clock.advance(seconds=DAY // 2 + 60)
    assert _visible(twf)  # an active run does not expire a day after it started
    clock.advance(seconds=DAY // 2)
    assert not _visible(twf)


def test_expired_chunked_run_is_invisible(ttl_store: DynamoDBStore, twf: DynamoWorkflowsStore,
                                          clock: FakeClock) -> None:
    big = snapshot("r1", "suspended", value={"blob": os.urandom(600_000).hex()})
    twf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=big, resource_id="res")
    assert twf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == big
    expected_ttl = int(clock.now.timestamp()) + DAY
    raw = ttl_store.table.raw.query(TableName=ttl_store.table_name, KeyConditionExpression="pk = :pk",
                                    ExpressionAttributeValues={":pk": {"S": "W#r1"}}, ConsistentRead=True,
                                    ProjectionExpression="sk, #t", ExpressionAttributeNames={"#t": "ttl"})
    assert len(raw["Items"]) > 1
    assert all(int(i["ttl"]["N"]) == expected_ttl for i in raw["Items"])  # chunks expire with their run
    clock.advance(seconds=DAY + 1)
    assert not _visible(twf)
    # a fresh persist after expiry does not mix in the expired chunks
    twf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"))
    assert twf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == snapshot("r1")
    assert twf.list_workflow_runs(resource_id="res").total == 0
    twf.delete_workflow_run_by_id(run_id="r1", workflow_name="wf")
    assert partition_sort_keys(ttl_store, "r1") == []  # delete removes every chunk, expired ones too


def test_runs_without_retention_never_expire(backend: Backend, clock: FakeClock) -> None:
    s = make_store(backend, clock=clock, ttl={"thread": {"enabled": True, "defaultTtlSeconds": 60}})
    s.create_table()
    try:
        wf = s.get_store("workflows")
        wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "suspended"),
                                     resource_id="res")
        clock.advance(days=365)
        assert _visible(wf)
        item = s.table.raw.get_item(TableName=s.table_name, Key={"pk": {"S": "W#r1"}, "sk": {"S": "N#wf"}},
                                    ConsistentRead=True)["Item"]
        assert "ttl" not in item
    finally:
        s.delete_table()
        s.close()


def test_with_retention_every_write_moves_head_and_index_entry_together(
        ttl_store: DynamoDBStore, twf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    """The expiry is exactly now + retention on every write (no rounding), and the index entry carries the
    same value, so listings agree with the head to the second: a persist is one transaction (conditioned on
    the head as the store last wrote it)."""
    _seed(twf)
    for step in range(3):
        clock.advance(seconds=7)
        before = ttl_store.request_counts()
        twf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "suspended"))
        after = ttl_store.request_counts()
        assert {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)} == {
            "TransactWriteItems": 1}, step
        expected = int(clock.now.timestamp()) + DAY
        for sk in ("N#wf", "I#wf"):
            item = ttl_store.table.raw.get_item(TableName=ttl_store.table_name,
                                                Key={"pk": {"S": "W#r1"}, "sk": {"S": sk}}, ConsistentRead=True)
            assert int(item["Item"]["ttl"]["N"]) == expected, sk
    clock.advance(seconds=DAY - 1)
    assert _visible(twf)
    clock.advance(seconds=1)
    assert not _visible(twf)
