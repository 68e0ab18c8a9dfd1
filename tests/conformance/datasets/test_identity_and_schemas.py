"""Spec 3.6: external_id idempotency (equal payload, payload_mismatch, deleted), input validation and
JSON-schema validation of items, schema changes checked against the current items."""

from __future__ import annotations

from typing import Any

import pytest

from mastra_dynamo.errors import ConflictError, ValidationError
from mastra_dynamo.stores.datasets import DynamoDatasetsStore


def _version(datasets: DynamoDatasetsStore, dataset_id: str) -> int:
    dataset = datasets.get_dataset_by_id(id=dataset_id)
    assert dataset is not None
    return dataset.version


def test_external_id_idempotency(datasets: DynamoDatasetsStore) -> None:
    ds = datasets.create_dataset(name="ids")
    first = datasets.add_item(dataset_id=ds.id, input={"a": 1, "b": [1.0, 2]}, ground_truth="g", external_id="ext-1")
    # equal payload (key order, 1 vs 1.0, missing vs None do not matter): the existing item, no new version
    same = datasets.add_item(dataset_id=ds.id, input={"b": [1, 2.0], "a": 1.0}, ground_truth="g", metadata=None,
                             external_id="ext-1")
    assert same == first and _version(datasets, ds.id) == 1

    with pytest.raises(ConflictError) as err:
        datasets.batch_insert_items(dataset_id=ds.id, items=[
            {"input": "new"}, {"input": {"a": 2}, "groundTruth": "g", "externalId": "ext-1"}])
    assert err.value.code == "DATASET_ITEM_IDENTITY_CONFLICT"
    assert err.value.details["conflicts"] == [
        {"index": 1, "externalId": "ext-1", "existingItemId": first.id, "reason": "payload_mismatch"}]
    assert _version(datasets, ds.id) == 1 and datasets.list_items(dataset_id=ds.id).pagination.total == 1

    # the comparison is with the first accepted payload, even after an update
    datasets.update_item(id=first.id, dataset_id=ds.id, ground_truth="changed")
    again = datasets.add_item(dataset_id=ds.id, input={"a": 1, "b": [1, 2]}, ground_truth="g", external_id="ext-1")
    assert again.id == first.id and again.ground_truth == "changed" and _version(datasets, ds.id) == 2

    datasets.delete_item(id=first.id, dataset_id=ds.id)
    with pytest.raises(ConflictError) as err:
        datasets.add_item(dataset_id=ds.id, input={"a": 1, "b": [1, 2]}, ground_truth="g", external_id="ext-1")
    assert err.value.details["conflicts"] == [
        {"index": 0, "externalId": "ext-1", "existingItemId": first.id, "reason": "deleted"}]

    # duplicates inside one request resolve to one item; a mismatch inside the request conflicts
    mixed = datasets.batch_insert_items(dataset_id=ds.id, items=[
        {"input": "x", "externalId": "ext-2"}, {"input": "y"}, {"input": "x", "externalId": "ext-2"}])
    assert mixed[0].id == mixed[2].id != mixed[1].id and _version(datasets, ds.id) == 4
    with pytest.raises(ConflictError) as err:
        datasets.batch_insert_items(dataset_id=ds.id, items=[
            {"input": "p", "externalId": "ext-3"}, {"input": "q", "externalId": "ext-3"}])
    assert err.value.details["conflicts"][0]["reason"] == "payload_mismatch"
    assert err.value.details["conflicts"][0]["existingItemId"] is not None

    # all duplicates: the existing items in input order, no version bump
    dupes = datasets.batch_insert_items(dataset_id=ds.id, items=[{"input": "x", "externalId": "ext-2"}] * 2)
    assert [d.id for d in dupes] == [mixed[0].id] * 2 and _version(datasets, ds.id) == 4

    for bad in ("", "  "):
        with pytest.raises(ValidationError) as verr:
            datasets.add_item(dataset_id=ds.id, input="z", external_id=bad)
        assert verr.value.code == "DATASET_ITEM_EXTERNAL_ID_INVALID"


def test_payload_validation_rejects_the_whole_batch(datasets: DynamoDatasetsStore) -> None:
    ds = datasets.create_dataset(name="checks")
    with pytest.raises(ValidationError) as err:
        datasets.batch_insert_items(dataset_id=ds.id, items=[{"input": 1}, {"input": float("nan")}])
    assert err.value.code == "INVALID_JSON"
    with pytest.raises(ValidationError):
        datasets.batch_insert_items(dataset_id=ds.id, items=[{"input": 1, "unknownField": 2}])
    with pytest.raises(ValidationError):
        datasets.batch_insert_items(dataset_id=ds.id, items=[{"input": 1, "source": {"type": "nope"}}])
    with pytest.raises(ValidationError):
        datasets.batch_insert_items(dataset_id=ds.id, items={"input": 1})  # type: ignore[arg-type]
    assert _version(datasets, ds.id) == 0


INPUT_SCHEMA: dict[str, Any] = {
    "type": "object", "properties": {"q": {"type": "string"}, "n": {"type": "integer", "minimum": 0}},
    "required": ["q"], "additionalProperties": False,
}


def test_items_are_validated_against_the_dataset_schemas(datasets: DynamoDatasetsStore) -> None:
    ds = datasets.create_dataset(name="typed", input_schema=INPUT_SCHEMA,
                                 ground_truth_schema={"type": "string", "enum": ["yes", "no"]},
                                 request_context_schema={"type": "object", "required": ["user"]})
    ok = datasets.add_item(dataset_id=ds.id, input={"q": "a", "n": 1}, ground_truth="yes",
                           request_context={"user": "u"})
    datasets.add_item(dataset_id=ds.id, input={"q": "b"})  # ground truth / request context optional
    cases: list[dict[str, Any]] = [
        {"input": {"n": 1}},
        {"input": {"q": "a", "n": -1}},
        {"input": {"q": "a", "extra": 1}},
        {"input": {"q": "a"}, "groundTruth": "maybe"},
        {"input": {"q": "a"}, "requestContext": {"other": 1}},
    ]
    for case in cases:
        with pytest.raises(ValidationError) as err:
            datasets.batch_insert_items(dataset_id=ds.id, items=[{"input": {"q": "fine"}}, case])
        assert err.value.code == "SCHEMA_VALIDATION_FAILED"
        assert err.value.details["index"] == 1 and err.value.details["errors"]
        assert "secret" not in str(err.value.details)
    assert _version(datasets, ds.id) == 2
    with pytest.raises(ValidationError) as err:
        datasets.update_item(id=ok.id, dataset_id=ds.id, input={"q": 5})
    assert err.value.code == "SCHEMA_VALIDATION_FAILED" and err.value.details["field"] == "input"
    assert datasets.update_item(id=ok.id, dataset_id=ds.id, ground_truth="no").ground_truth == "no"
    with pytest.raises(ValidationError) as err:
        datasets.create_dataset(name="bad", input_schema={"type": "not-a-type"})
    assert err.value.code == "INVALID_SCHEMA"


def test_schema_changes_are_checked_against_current_items(datasets: DynamoDatasetsStore) -> None:
    ds = datasets.create_dataset(name="evolving")
    keep = datasets.add_item(dataset_id=ds.id, input={"q": "a"})
    gone = datasets.add_item(dataset_id=ds.id, input={"q": 1})
    with pytest.raises(ValidationError) as err:
        datasets.update_dataset(id=ds.id, input_schema=INPUT_SCHEMA)
    assert err.value.code == "SCHEMA_UPDATE_VALIDATION_FAILED"
    assert [f["item_id"] for f in err.value.details["failing_items"]] == [gone.id]
    dataset = datasets.get_dataset_by_id(id=ds.id)
    assert dataset is not None and dataset.input_schema is None
    datasets.delete_item(id=gone.id, dataset_id=ds.id)  # deleted items do not count
    updated = datasets.update_dataset(id=ds.id, input_schema=INPUT_SCHEMA)
    assert updated.input_schema == INPUT_SCHEMA and updated.version == 3
    with pytest.raises(ValidationError):
        datasets.add_item(dataset_id=ds.id, input={"q": 2})
    cleared = datasets.update_dataset(id=ds.id, input_schema=None)
    assert cleared.input_schema is None
    assert datasets.add_item(dataset_id=ds.id, input={"q": 2}).input == {"q": 2}
    assert datasets.get_item_by_id(id=keep.id) == keep
