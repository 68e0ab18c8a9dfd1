"""Retention of datasets (every row of a dataset expires with it) and concurrent writers."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

from mastra_dynamo.schema import keys
from mastra_dynamo.stores.datasets import DynamoDatasetsStore
from tests.conftest import Backend, require

from .conftest import DAY, Clocked


def test_dataset_rows_share_the_dataset_ttl_and_expire_with_it(clocked: Clocked) -> None:
    datasets, clock = clocked.datasets, clocked.clock
    ds = datasets.create_dataset(id="retained", name="r")
    items = datasets.batch_insert_items(dataset_id=ds.id, items=[{"input": 1, "externalId": "x"}, {"input": 2}])
    datasets.update_item(id=items[0].id, dataset_id=ds.id, input=3)
    expected = str(int(clock.now.timestamp()) + DAY)
    for key in (keys.dataset_key(ds.id), keys.dataset_item_row_key(ds.id, items[0].id, 1),
                keys.dataset_item_row_key(ds.id, items[0].id, 2), keys.dataset_item_current_key(ds.id, items[1].id),
                keys.dataset_version_key(ds.id, 2), keys.dataset_external_id_key(ds.id, "x"),
                keys.dataset_item_ref_key(items[1].id)):
        raw = datasets.table.get_item(key)
        assert raw is not None and raw["ttl"]["N"] == expected, key

    clock.advance(seconds=DAY + 1)
    assert datasets.get_dataset_by_id(id=ds.id) is None
    assert datasets.list_datasets().datasets == []
    assert datasets.list_items(dataset_id=ds.id).items == []
    assert datasets.get_item_by_id(id=items[1].id) is None
    assert datasets.get_item_history(items[0].id) == []
    assert datasets.get_items_by_version(dataset_id=ds.id, version=2) == []
    assert datasets.list_dataset_versions(dataset_id=ds.id).versions == []

    # the id starts a new life: nothing of the expired dataset shows through
    again = datasets.create_dataset(id="retained", name="new life")
    assert again.version == 0 and again.created_at == clock.now
    fresh = datasets.add_item(dataset_id=ds.id, input="n", external_id="x")  # the expired record is no obstacle
    assert fresh.dataset_version == 1
    assert [v.version for v in datasets.list_dataset_versions(dataset_id=ds.id).versions] == [1]
    assert [i.id for i in datasets.list_items(dataset_id=ds.id).items] == [fresh.id]


def test_concurrent_writers_converge(datasets: DynamoDatasetsStore, backend: Backend) -> None:
    require(backend, "concurrent_clients")
    # identical creates converge on one record
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: datasets.create_dataset(id="shared", name="n", organization_id="o"),
                             range(8)))
    assert len({(d.id, d.created_at) for d in made}) == 1

    # every concurrent mutation is its own version, none is lost
    with ThreadPoolExecutor(8) as pool:
        added = list(pool.map(lambda i: datasets.add_item(dataset_id="shared", input=i), range(24)))
    assert sorted(i.dataset_version for i in added) == list(range(1, 25))
    dataset = datasets.get_dataset_by_id(id="shared")
    assert dataset is not None and dataset.version == 24
    assert datasets.list_dataset_versions(dataset_id="shared").pagination.total == 24
    assert datasets.list_items(dataset_id="shared", pagination={"perPage": False}).pagination.total == 24

    # concurrent inserts of one external id resolve to one item
    with ThreadPoolExecutor(6) as pool:
        same = list(pool.map(lambda _: datasets.add_item(dataset_id="shared", input="e", external_id="one"),
                             range(6)))
    assert len({i.id for i in same}) == 1
    dataset = datasets.get_dataset_by_id(id="shared")
    assert dataset is not None and dataset.version == 25

    # concurrent updates of one item: each becomes a version, the history stays a chain
    target = added[0].id
    with ThreadPoolExecutor(5) as pool:
        list(pool.map(lambda i: datasets.update_item(id=target, dataset_id="shared", input=f"u{i}"), range(5)))
    history = datasets.get_item_history(target)
    assert len(history) == 6 and history[0].valid_to is None
    for newer, older in itertools.pairwise(history):
        assert older.valid_to == newer.dataset_version


def test_staged_batches_and_small_writes_interleave_safely(datasets: DynamoDatasetsStore, backend: Backend) -> None:
    require(backend, "concurrent_clients")
    datasets.max_transaction_actions = 12  # batches of 10 use the staged protocol
    ds = datasets.create_dataset(name="mixed")

    def work(i: int) -> None:
        if i % 4 == 0:
            datasets.batch_insert_items(dataset_id=ds.id, items=[
                {"input": [i, j], "externalId": f"{i}-{j}"} for j in range(10)])
        elif i % 4 == 1:
            listed = datasets.list_items(dataset_id=ds.id, pagination={"perPage": 5}).items
            datasets.batch_delete_items(dataset_id=ds.id, item_ids=[x.id for x in listed])
        else:
            datasets.add_item(dataset_id=ds.id, input=i)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(24)))
    dataset = datasets.get_dataset_by_id(id=ds.id)
    assert dataset is not None
    raw = datasets.table.get_item(keys.dataset_key(ds.id))
    assert raw is not None and "lock" not in raw and "projecting" not in raw
    versions = datasets.list_dataset_versions(dataset_id=ds.id, pagination={"perPage": False}).versions
    assert [v.version for v in versions] == list(range(dataset.version, 0, -1))
    listed = datasets.list_items(dataset_id=ds.id, pagination={"perPage": False})
    snapshot = datasets.get_items_by_version(dataset_id=ds.id, version=dataset.version)
    assert listed.pagination.total == len(listed.items) == len(snapshot) == int(raw["itemCount"]["N"])
    assert {i.id for i in listed.items} == {i.id for i in snapshot}
