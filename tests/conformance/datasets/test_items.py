"""Spec 3.6 items: the SCD-2 versioning model, visibility at version V, reads, batch operations."""

from __future__ import annotations

import pytest

from mastra_dynamo.errors import NotFoundError, ValidationError
from mastra_dynamo.records.datasets import DatasetItemRow
from mastra_dynamo.stores.datasets import DynamoDatasetsStore


def _versions(datasets: DynamoDatasetsStore, dataset_id: str) -> list[int]:
    return [v.version for v in datasets.list_dataset_versions(dataset_id=dataset_id).versions]


def test_every_item_mutation_bumps_the_version_once_and_keeps_history(datasets: DynamoDatasetsStore) -> None:
    ds = datasets.create_dataset(name="scd2")
    a = datasets.add_item(dataset_id=ds.id, input={"q": "a"}, ground_truth="A", metadata={"m": 1},
                          tool_mocks=[{"toolName": "search", "args": {"q": 1}, "output": "r"}],
                          unmocked_tool_policy="deny", scorer_ids=["s1"], request_context={"u": "x"},
                          source={"type": "csv", "referenceId": "row-1"}, expected_trajectory=[{"step": 1}])
    assert a.dataset_version == 1 and a.created_at == a.updated_at
    assert a.tool_mocks is not None and a.tool_mocks[0].tool_name == "search"
    assert a.source is not None and a.source.reference_id == "row-1"
    b = datasets.add_item(dataset_id=ds.id, input={"q": "b"})
    assert b.dataset_version == 2

    updated = datasets.update_item(id=a.id, dataset_id=ds.id, ground_truth="A2", metadata=None)
    assert updated.dataset_version == 3 and updated.created_at == a.created_at and updated.updated_at > a.updated_at
    assert (updated.input, updated.ground_truth, updated.metadata) == ({"q": "a"}, "A2", None)
    assert (updated.tool_mocks, updated.scorer_ids, updated.source) == (a.tool_mocks, ["s1"], a.source)

    datasets.delete_item(id=b.id, dataset_id=ds.id)
    dataset = datasets.get_dataset_by_id(id=ds.id)
    assert dataset is not None and dataset.version == 4
    assert _versions(datasets, ds.id) == [4, 3, 2, 1]

    history = datasets.get_item_history(a.id)
    assert [(r.dataset_version, r.valid_to, r.is_deleted) for r in history] == [(3, None, False), (1, 3, False)]
    assert isinstance(history[0], DatasetItemRow) and history[1].ground_truth == "A"
    tomb = datasets.get_item_history(b.id)
    assert [(r.dataset_version, r.valid_to, r.is_deleted) for r in tomb] == [(4, None, True), (2, 4, False)]
    assert tomb[0].input == {"q": "b"} and tomb[0].created_at == b.created_at

    # visibility at version V
    def at(version: int) -> dict[str, object]:
        return {i.id: i.ground_truth for i in datasets.list_items(dataset_id=ds.id, version=version).items}

    assert at(0) == {}
    assert at(1) == {a.id: "A"}
    assert at(2) == {a.id: "A", b.id: None}
    assert at(3) == {a.id: "A2", b.id: None}
    assert at(4) == {a.id: "A2"}
    assert at(99) == at(4)  # beyond the current version: the current snapshot
    assert [i.id for i in datasets.get_items_by_version(dataset_id=ds.id, version=2)] == [b.id, a.id]
    assert datasets.get_item_by_id(id=a.id, dataset_version=1) == a
    assert datasets.get_item_by_id(id=a.id, dataset_version=3) == updated
    assert datasets.get_item_by_id(id=b.id, dataset_version=3) == b
    assert datasets.get_item_by_id(id=b.id, dataset_version=4) is None
    assert datasets.get_item_by_id(id=b.id) is None
    assert datasets.get_item_by_id(id=a.id) == updated
    assert [i.id for i in datasets.list_items(dataset_id=ds.id).items] == [a.id]


def test_missing_items_and_items_of_other_datasets(datasets: DynamoDatasetsStore) -> None:
    ds = datasets.create_dataset(name="one")
    other = datasets.create_dataset(name="two")
    item = datasets.add_item(dataset_id=ds.id, input="x")
    with pytest.raises(NotFoundError):
        datasets.update_item(id="missing", dataset_id=ds.id, input="y")
    with pytest.raises(NotFoundError):
        datasets.update_item(id=item.id, dataset_id=other.id, input="y")
    with pytest.raises(NotFoundError) as err:
        datasets.update_item(id=item.id, dataset_id="no-such-dataset", input="y")
    assert err.value.code == "DATASET_NOT_FOUND"
    with pytest.raises(NotFoundError):
        datasets.add_item(dataset_id="no-such-dataset", input="y")
    with pytest.raises(NotFoundError):
        datasets.delete_item(id=item.id, dataset_id=other.id)  # wrong dataset: throws
    datasets.delete_item(id="missing", dataset_id=ds.id)  # missing item: no-op
    datasets.delete_item(id=item.id, dataset_id="no-such-dataset")  # missing dataset: no-op
    datasets.delete_item(id=item.id, dataset_id=ds.id)
    datasets.delete_item(id=item.id, dataset_id=ds.id)  # already deleted: no-op, no bump
    assert _versions(datasets, ds.id) == [2, 1]
    with pytest.raises(NotFoundError):
        datasets.update_item(id=item.id, dataset_id=ds.id, input="y")  # deleted
    assert datasets.get_item_history("missing") == []
    assert datasets.get_item_by_id(id="missing") is None
    assert datasets.list_items(dataset_id="no-such-dataset").pagination.total == 0
    assert datasets.get_items_by_version(dataset_id="no-such-dataset", version=1) == []


def test_batch_insert_and_batch_delete_are_one_version_each(datasets: DynamoDatasetsStore) -> None:
    ds = datasets.create_dataset(name="batch")
    assert datasets.batch_insert_items(dataset_id=ds.id, items=[]) == []
    with pytest.raises(NotFoundError):
        datasets.batch_insert_items(dataset_id="missing", items=[])
    items = datasets.batch_insert_items(dataset_id=ds.id, items=[{"input": i} for i in range(10)])
    assert [i.input for i in items] == list(range(10))  # input order
    assert {i.dataset_version for i in items} == {1}
    assert _versions(datasets, ds.id) == [1]
    datasets.batch_delete_items(dataset_id=ds.id, item_ids=[items[0].id, items[1].id, "unknown", items[0].id])
    assert _versions(datasets, ds.id) == [2, 1]
    assert datasets.list_items(dataset_id=ds.id).pagination.total == 8
    assert len(datasets.list_items(dataset_id=ds.id, version=1).items) == 10
    datasets.batch_delete_items(dataset_id=ds.id, item_ids=["unknown", items[0].id])  # nothing left: no bump
    datasets.batch_delete_items(dataset_id=ds.id, item_ids=[])
    assert _versions(datasets, ds.id) == [2, 1]
    with pytest.raises(NotFoundError):
        datasets.batch_delete_items(dataset_id="missing", item_ids=[items[2].id])
    with pytest.raises(ValidationError):
        datasets.batch_delete_items(dataset_id=ds.id, item_ids="abc")


def test_list_items_search_order_and_pagination(datasets: DynamoDatasetsStore) -> None:
    ds = datasets.create_dataset(name="search")
    first = datasets.add_item(dataset_id=ds.id, input="What is the Capital of France?", ground_truth="Paris")
    second = datasets.add_item(dataset_id=ds.id, input={"question": "capital of Spain"}, ground_truth={"a": "Madrid"})
    third = datasets.add_item(dataset_id=ds.id, input={"question": "2+2"}, ground_truth=4)
    datasets.update_item(id=first.id, dataset_id=ds.id, metadata={"touched": True})

    def ids(**kwargs: object) -> list[str]:
        return [i.id for i in datasets.list_items(dataset_id=ds.id, **kwargs).items]  # type: ignore[arg-type]

    assert ids() == [third.id, second.id, first.id]
    assert ids(order_by={"field": "createdAt", "direction": "ASC"}) == [first.id, second.id, third.id]
    assert ids(order_by={"field": "updatedAt", "direction": "DESC"}) == [first.id, third.id, second.id]
    assert ids(search="CAPITAL") == [second.id, first.id]
    assert ids(search="madrid") == [second.id]
    assert ids(search='"question":"2+2"') == [third.id]
    assert ids(search="paris", version=3) == [first.id]
    page = datasets.list_items(dataset_id=ds.id, pagination={"page": 1, "perPage": 2})
    assert [i.id for i in page.items] == [first.id]
    assert (page.pagination.total, page.pagination.has_more) == (3, False)
    page0 = datasets.list_items(dataset_id=ds.id, pagination={"page": 0, "perPage": 2})
    assert (len(page0.items), page0.pagination.total, page0.pagination.has_more) == (2, 3, True)
    searched = datasets.list_items(dataset_id=ds.id, search="capital", pagination={"page": 0, "perPage": 1})
    assert (len(searched.items), searched.pagination.total, searched.pagination.has_more) == (1, 2, True)
    versioned = datasets.list_items(dataset_id=ds.id, version=2, pagination={"page": 0, "perPage": 1})
    assert [i.id for i in versioned.items] == [second.id] and versioned.pagination.total == 2
    assert datasets.list_items(dataset_id=ds.id, pagination={"perPage": False}).pagination.per_page is False
    with pytest.raises(ValidationError):
        datasets.list_items(dataset_id=ds.id, order_by={"field": "name"})
    with pytest.raises(ValidationError):
        datasets.list_items(dataset_id=ds.id, version=-1)
    versions = datasets.list_dataset_versions(dataset_id=ds.id, pagination={"page": 1, "perPage": 3})
    assert [v.version for v in versions.versions] == [1] and versions.pagination.total == 4


def test_create_dataset_version_directly(datasets: DynamoDatasetsStore) -> None:
    from mastra_dynamo.errors import ConflictError

    ds = datasets.create_dataset(name="versions")
    row = datasets.create_dataset_version(ds.id, 7)
    assert (row.dataset_id, row.version) == (ds.id, 7)
    with pytest.raises(ConflictError) as err:
        datasets.create_dataset_version(ds.id, 7)
    assert err.value.code == "DATASET_VERSION_CONFLICT"
    with pytest.raises(NotFoundError):
        datasets.create_dataset_version("missing", 1)
    assert [v.version for v in datasets.list_dataset_versions(dataset_id=ds.id).versions] == [7]
    dataset = datasets.get_dataset_by_id(id=ds.id)
    assert dataset is not None and dataset.version == 0  # a version row does not bump the dataset
