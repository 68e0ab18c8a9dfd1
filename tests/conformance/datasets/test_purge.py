"""Spec 3.6 purge_item: payload scrubbed from every history row and from experiment results."""

from __future__ import annotations

import pytest

from mastra_dynamo.errors import ConflictError, NotFoundError
from mastra_dynamo.stores.datasets import DynamoDatasetsStore
from mastra_dynamo.stores.experiments import DynamoExperimentsStore

SECRET = {"ssn": "123-45-6789"}


def test_purge_scrubs_history_current_row_and_results(datasets: DynamoDatasetsStore,
                                                      experiments: DynamoExperimentsStore) -> None:
    ds = datasets.create_dataset(name="pii")
    item = datasets.add_item(dataset_id=ds.id, input=SECRET, ground_truth="secret answer",
                             request_context={"email": "a@b.c"}, metadata={"m": 1}, source={"type": "trace"},
                             external_id="person-1")
    other = datasets.add_item(dataset_id=ds.id, input="not affected")
    datasets.update_item(id=item.id, dataset_id=ds.id, ground_truth="secret 2")
    exp = experiments.create_experiment(dataset_id=ds.id, dataset_version=3)
    r1 = experiments.add_experiment_result(experiment_id=exp.id, item_id=item.id, input=SECRET, output="out",
                                           ground_truth="secret answer", metadata={"x": 1}, tags=["t"],
                                           error={"message": "contains secret"}, status="needs-review")
    experiments.update_experiment_result(id=r1.id, comment="keep me")
    r_other = experiments.add_experiment_result(experiment_id=exp.id, item_id=other.id, input="not affected")

    datasets.purge_item(id=item.id, dataset_id=ds.id)

    history = datasets.get_item_history(item.id)
    assert len(history) == 2
    for row in history:
        assert row.input is None and row.ground_truth is None and row.request_context is None
        assert row.metadata is not None and row.metadata["__purged"] is True and "purgedAt" in row.metadata
        assert row.source is not None and row.source.type == "trace"  # not personal data: kept
    current = datasets.get_item_by_id(id=item.id)
    assert current is not None and current.input is None and current.metadata == history[0].metadata
    old = datasets.get_item_by_id(id=item.id, dataset_version=1)  # older versions are scrubbed too
    assert old is not None and old.input is None and old.ground_truth is None
    assert "123-45" not in datasets.list_items(dataset_id=ds.id, version=2).model_dump_json()
    assert datasets.list_items(dataset_id=ds.id, search="123-45").items == []

    scrubbed = experiments.get_experiment_result_by_id(id=r1.id)
    assert scrubbed is not None
    assert (scrubbed.input, scrubbed.output, scrubbed.ground_truth, scrubbed.error, scrubbed.tags) == (
        None, None, None, None, None)
    assert scrubbed.metadata == current.metadata
    assert (scrubbed.status, scrubbed.comment) == ("needs-review", "keep me")  # review state kept
    assert experiments.get_experiment_result_by_id(id=r_other.id) == r_other

    # later results of a purged item are stored scrubbed; the item can no longer be updated
    late = experiments.upsert_experiment_result(experiment_id=exp.id, item_id=item.id, attempt=1, input=SECRET,
                                                output="o")
    assert late.input is None and late.output is None and late.metadata == current.metadata
    with pytest.raises(ConflictError) as err:
        datasets.update_item(id=item.id, dataset_id=ds.id, input="again")
    assert err.value.code == "DATASET_ITEM_PURGED"

    datasets.purge_item(id=item.id, dataset_id=ds.id)  # idempotent: same marker
    assert datasets.get_item_by_id(id=item.id) == current
    datasets.purge_item(id="missing", dataset_id=ds.id)  # missing: no-op
    other_ds = datasets.create_dataset(name="other")
    with pytest.raises(NotFoundError):
        datasets.purge_item(id=item.id, dataset_id=other_ds.id)

    # deleting a purged item keeps it scrubbed; the external id stays taken
    datasets.delete_item(id=item.id, dataset_id=ds.id)
    tomb = datasets.get_item_history(item.id)[0]
    assert tomb.is_deleted and tomb.input is None and tomb.metadata == current.metadata
    with pytest.raises(ConflictError):
        datasets.add_item(dataset_id=ds.id, input=SECRET, ground_truth="secret answer",
                          request_context={"email": "a@b.c"}, metadata={"m": 1}, source={"type": "trace"},
                          external_id="person-1")
