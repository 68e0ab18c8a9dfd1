"""Batches larger than one transaction: still ONE version bump, and all-or-nothing.

The staged-version protocol (``stores/datasets/mutations.py``) is exercised with real DynamoDB limits
(100 actions per transaction) and with failures injected into ``table.transact_write``: in the middle of
staging, with the rollback suppressed (a crashed process; recovered after the lock lease), and after the
commit (projection pending).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mastra_dynamo.dynamo.client import TableClient
from mastra_dynamo.errors import BackendError, ConflictError
from mastra_dynamo.schema import keys
from mastra_dynamo.stores.datasets import DynamoDatasetsStore

from .conftest import Clocked

LARGE = 40  # staged with external ids: 3 actions per item, two staging transactions (33 + 7 items)


def _snapshot(datasets: DynamoDatasetsStore, dataset_id: str, item_ids: list[str]) -> dict[str, Any]:
    """Everything a caller can observe about a dataset."""
    dataset = datasets.get_dataset_by_id(id=dataset_id)
    assert dataset is not None
    everything = {"perPage": False}
    return {
        "dataset": dataset,
        "items": datasets.list_items(dataset_id=dataset_id, pagination=everything).model_dump(),
        "versions": datasets.list_dataset_versions(dataset_id=dataset_id, pagination=everything).model_dump(),
        "snapshots": [datasets.get_items_by_version(dataset_id=dataset_id, version=v)
                      for v in range(dataset.version + 2)],
        "history": {i: datasets.get_item_history(i) for i in item_ids},
        "by_id": {i: datasets.get_item_by_id(id=i) for i in item_ids},
    }


class FailingTransactions:
    """Wraps ``transact_write``: the ``fail_on``-th call raises a backend error; records staged item ids."""

    def __init__(self, table: TableClient, fail_on: int) -> None:
        self.original: Callable[..., None] = table.transact_write
        self.fail_on = fail_on
        self.calls = 0
        self.staged_ids: set[str] = set()

    def __call__(self, actions: Any, **kwargs: Any) -> None:
        self.calls += 1
        if self.calls == self.fail_on:
            raise BackendError("injected failure", details={"operation": "TransactWriteItems"})
        for action in actions:
            item = action.get("Put", {}).get("Item", {})
            if "stage" in item and "stageNew" in item:
                self.staged_ids.add(item["id"]["S"])
        self.original(actions, **kwargs)


def _raw(datasets: DynamoDatasetsStore, key: keys.Key) -> dict[str, Any] | None:
    return datasets.table.get_item(key)


def _assert_no_trace_of(datasets: DynamoDatasetsStore, dataset_id: str, item_ids: set[str]) -> None:
    assert item_ids
    for item_id in item_ids:
        assert _raw(datasets, keys.dataset_item_ref_key(item_id)) is None
        assert _raw(datasets, keys.dataset_item_row_key(dataset_id, item_id, 2)) is None
        assert _raw(datasets, keys.dataset_item_current_key(dataset_id, item_id)) is None
    raw = _raw(datasets, keys.dataset_key(dataset_id))
    assert raw is not None and "lock" not in raw and "projecting" not in raw


def test_large_insert_and_delete_are_one_version_each(datasets: DynamoDatasetsStore) -> None:
    ds = datasets.create_dataset(name="big")
    items = datasets.batch_insert_items(dataset_id=ds.id, items=[
        {"input": {"n": i}, "externalId": f"e{i}"} for i in range(LARGE)])
    assert [i.input for i in items] == [{"n": i} for i in range(LARGE)]
    assert {i.dataset_version for i in items} == {1}
    page = datasets.list_items(dataset_id=ds.id, pagination={"perPage": False})
    assert page.pagination.total == LARGE and len(page.items) == LARGE
    assert [v.version for v in datasets.list_dataset_versions(dataset_id=ds.id).versions] == [1]
    again = datasets.batch_insert_items(dataset_id=ds.id, items=[
        {"input": {"n": i}, "externalId": f"e{i}"} for i in range(LARGE)])
    assert [i.id for i in again] == [i.id for i in items]  # idempotent, no version

    datasets.batch_delete_items(dataset_id=ds.id, item_ids=[i.id for i in items])
    assert [v.version for v in datasets.list_dataset_versions(dataset_id=ds.id).versions] == [2, 1]
    assert datasets.list_items(dataset_id=ds.id).pagination.total == 0
    assert len(datasets.get_items_by_version(dataset_id=ds.id, version=1)) == LARGE
    assert [(r.dataset_version, r.valid_to, r.is_deleted) for r in datasets.get_item_history(items[7].id)] == [
        (2, None, True), (1, 2, False)]
    dataset = datasets.get_dataset_by_id(id=ds.id)
    assert dataset is not None and dataset.version == 2


def test_failure_in_the_middle_of_a_large_insert_changes_nothing(datasets: DynamoDatasetsStore,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ds = datasets.create_dataset(name="atomic")
    seed = datasets.batch_insert_items(dataset_id=ds.id, items=[{"input": i} for i in range(3)])
    datasets.update_item(id=seed[0].id, dataset_id=ds.id, input="changed")
    before = _snapshot(datasets, ds.id, [s.id for s in seed])

    failing = FailingTransactions(datasets.table, fail_on=2)  # the second staging transaction
    monkeypatch.setattr(datasets.table, "transact_write", failing)
    with pytest.raises(BackendError):
        datasets.batch_insert_items(dataset_id=ds.id, items=[
            {"input": {"n": i}, "externalId": f"x{i}"} for i in range(LARGE)])
    monkeypatch.undo()

    assert _snapshot(datasets, ds.id, [s.id for s in seed]) == before
    _assert_no_trace_of(datasets, ds.id, failing.staged_ids)
    # nothing is left in the way: the same batch succeeds (external ids are free) as version 3
    items = datasets.batch_insert_items(dataset_id=ds.id, items=[
        {"input": {"n": i}, "externalId": f"x{i}"} for i in range(LARGE)])
    assert {i.dataset_version for i in items} == {3}
    assert datasets.list_items(dataset_id=ds.id).pagination.total == LARGE + 3


def test_failure_in_the_middle_of_a_large_delete_changes_nothing(datasets: DynamoDatasetsStore,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ds = datasets.create_dataset(name="atomic-delete")
    datasets.max_transaction_actions = 12  # smaller transactions: more of them, same protocol
    items = datasets.batch_insert_items(dataset_id=ds.id, items=[{"input": i} for i in range(20)])
    before = _snapshot(datasets, ds.id, [i.id for i in items])

    monkeypatch.setattr(datasets.table, "transact_write", FailingTransactions(datasets.table, fail_on=3))
    with pytest.raises(BackendError):
        datasets.batch_delete_items(dataset_id=ds.id, item_ids=[i.id for i in items])
    monkeypatch.undo()

    assert _snapshot(datasets, ds.id, [i.id for i in items]) == before  # closes of previous rows undone
    datasets.batch_delete_items(dataset_id=ds.id, item_ids=[i.id for i in items])
    assert datasets.list_items(dataset_id=ds.id).pagination.total == 0
    assert [(r.dataset_version, r.valid_to) for r in datasets.get_item_history(items[0].id)] == [(2, None), (1, 2)]


def test_crashed_batch_is_invisible_and_rolled_back_after_the_lease(clocked: Clocked,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = clocked.datasets
    ds = datasets.create_dataset(name="crash")
    seed = datasets.batch_insert_items(dataset_id=ds.id, items=[{"input": i} for i in range(3)])
    before = _snapshot(datasets, ds.id, [s.id for s in seed])

    failing = FailingTransactions(datasets.table, fail_on=2)
    monkeypatch.setattr(datasets.table, "transact_write", failing)
    monkeypatch.setattr(datasets, "rollback", lambda *args, **kwargs: None)  # the process dies: no cleanup
    with pytest.raises(BackendError):
        datasets.batch_insert_items(dataset_id=ds.id, items=[
            {"input": {"n": i}, "externalId": f"c{i}"} for i in range(LARGE)])
    monkeypatch.undo()
    raw = datasets.table.get_item(keys.dataset_key(ds.id))
    assert raw is not None and "lock" in raw  # left behind by the "crash"
    assert len(failing.staged_ids) == 33  # the first staging transaction landed

    assert _snapshot(datasets, ds.id, [s.id for s in seed]) == before  # staged rows are invisible

    monkeypatch.setattr(datasets, "_sleep", lambda seconds: None)
    datasets.lock_wait_attempts = 3
    with pytest.raises(ConflictError) as err:  # a live lock is honoured
        datasets.add_item(dataset_id=ds.id, input="blocked")
    assert err.value.code == "DATASET_BUSY"

    clocked.clock.advance(seconds=datasets.lock_lease_seconds + 1)
    item = datasets.add_item(dataset_id=ds.id, input="after recovery", external_id="c0")
    assert item.dataset_version == 2  # the crashed batch never got a version
    _assert_no_trace_of(datasets, ds.id, failing.staged_ids)
    assert datasets.list_items(dataset_id=ds.id).pagination.total == 4


def test_commit_without_projection_is_visible_and_finished_later(datasets: DynamoDatasetsStore,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ds = datasets.create_dataset(name="projection")
    seed = datasets.add_item(dataset_id=ds.id, input="seed")
    datasets.max_transaction_actions = 40
    # 30 items x 2 actions: staging 1 and 2, commit 3, projection 4 (fails)
    monkeypatch.setattr(datasets.table, "transact_write", FailingTransactions(datasets.table, fail_on=4))
    items = datasets.batch_insert_items(dataset_id=ds.id, items=[{"input": i} for i in range(30)])
    monkeypatch.undo()
    raw = datasets.table.get_item(keys.dataset_key(ds.id))
    assert raw is not None and raw["projecting"]["N"] == "2"

    page = datasets.list_items(dataset_id=ds.id, pagination={"perPage": False})
    assert page.pagination.total == 31 and {i.id for i in page.items} == {seed.id, *(i.id for i in items)}
    assert datasets.get_item_by_id(id=items[5].id) == items[5]
    assert datasets.get_item_by_id(id=seed.id) == seed

    datasets.update_item(id=items[5].id, dataset_id=ds.id, input="next")  # finishes the projection first
    raw = datasets.table.get_item(keys.dataset_key(ds.id))
    assert raw is not None and "projecting" not in raw
    page = datasets.list_items(dataset_id=ds.id, pagination={"perPage": False})
    assert page.pagination.total == 31 and len(page.items) == 31
    assert datasets.get_item_by_id(id=items[5].id) is not None
    assert [i.input for i in page.items if i.id == items[5].id] == ["next"]


class LostResponse(FailingTransactions):
    """The ``fail_on``-th transaction is applied, but its response is lost (the caller sees an error)."""

    def __call__(self, actions: Any, **kwargs: Any) -> None:
        self.calls += 1
        self.original(actions, **kwargs)
        if self.calls == self.fail_on:
            raise BackendError("connection reset after the request was sent")


@pytest.mark.parametrize("fail_on, committed", [(2, False), (3, True)])
def test_commit_outcome_is_decided_by_the_dataset_item(datasets: DynamoDatasetsStore, monkeypatch: pytest.MonkeyPatch,
                                                       fail_on: int, committed: bool) -> None:
    """A lost response of the last staging transaction (call 2) fails the call and rolls back; a lost response
    of the commit (call 3) is recognised as committed (the call succeeds, exactly one version)."""
    ds = datasets.create_dataset(name="ambiguous")
    datasets.max_transaction_actions = 12  # 8 items x 2 staged actions: staging 1 and 2, commit 3
    monkeypatch.setattr(datasets.table, "transact_write", LostResponse(datasets.table, fail_on=fail_on))
    if committed:
        items = datasets.batch_insert_items(dataset_id=ds.id, items=[{"input": i} for i in range(8)])
        assert {i.dataset_version for i in items} == {1}
    else:
        with pytest.raises(BackendError):
            datasets.batch_insert_items(dataset_id=ds.id, items=[{"input": i} for i in range(8)])
    monkeypatch.undo()
    dataset = datasets.get_dataset_by_id(id=ds.id)
    assert dataset is not None and dataset.version == (1 if committed else 0)
    assert datasets.list_items(dataset_id=ds.id).pagination.total == (8 if committed else 0)
    raw = datasets.table.get_item(keys.dataset_key(ds.id))
    assert raw is not None and "lock" not in raw and "projecting" not in raw
