"""Spec 3.6 datasets: create (caller ids, convergence, conflicts), get, update, delete (cascade), list."""

from __future__ import annotations

from typing import Any

import pytest

from mastra_dynamo.errors import ConflictError, NotFoundError, ValidationError
from mastra_dynamo.stores.datasets import DynamoDatasetsStore
from mastra_dynamo.stores.experiments import DynamoExperimentsStore


def test_create_defaults_get_and_caller_ids(datasets: DynamoDatasetsStore) -> None:
    created = datasets.create_dataset(name="QA set", description="d", metadata={"k": [1, 2.5, None]},
                                      tags=["a"], target_type="agent", target_ids=["agent-1"], scorer_ids=["s"])
    assert created.version == 0 and created.id and created.created_at == created.updated_at
    assert datasets.get_dataset_by_id(id=created.id) == created
    assert datasets.get_dataset_by_id(id="missing") is None

    own = datasets.create_dataset(id="ds#1~%", name="own", organization_id="org", candidate_key="ck")
    assert own.id == "ds#1~%" and datasets.get_dataset_by_id(id="ds#1~%") == own
    for bad in ("", "   "):
        with pytest.raises(ValidationError) as err:
            datasets.create_dataset(id=bad, name="x")
        assert err.value.code == "DATASET_INVALID_ID"


def test_existing_id_returns_existing_when_immutables_match(datasets: DynamoDatasetsStore) -> None:
    first = datasets.create_dataset(id="same", name="first", organization_id="o", project_id="p",
                                    candidate_key="k", candidate_id="c")
    again = datasets.create_dataset(id="same", name="other name", organization_id="o", project_id="p",
                                    candidate_key="k", candidate_id="c")
    assert again == first  # the stored record, not the new input
    for field in ("organization_id", "project_id", "candidate_key", "candidate_id"):
        args: dict[str, Any] = {"organization_id": "o", "project_id": "p", "candidate_key": "k",
                                "candidate_id": "c", field: "zz"}
        with pytest.raises(ConflictError) as err:
            datasets.create_dataset(id="same", name="first", **args)
        assert err.value.code == "DATASET_ID_CONFLICT"


def test_tenancy_filters_make_mismatches_look_missing(datasets: DynamoDatasetsStore) -> None:
    ds = datasets.create_dataset(name="t", organization_id="org-a", project_id="p1")
    assert datasets.get_dataset_by_id(id=ds.id, filters={"organizationId": "org-a"}) == ds
    assert datasets.get_dataset_by_id(id=ds.id, filters={"organization_id": "org-a", "project_id": "p1"}) == ds
    assert datasets.get_dataset_by_id(id=ds.id, filters={"organizationId": "org-b"}) is None
    assert datasets.get_dataset_by_id(id=ds.id, filters={"projectId": "p2"}) is None
    with pytest.raises(NotFoundError):
        datasets.update_dataset(id=ds.id, name="x", filters={"organizationId": "org-b"})
    with pytest.raises(NotFoundError):
        datasets.add_item(dataset_id=ds.id, input="x", filters={"organizationId": "org-b"})
    item = datasets.add_item(dataset_id=ds.id, input="x")
    assert (item.organization_id, item.project_id) == ("org-a", "p1")  # inherited from the dataset
    assert datasets.list_items(dataset_id=ds.id, filters={"organizationId": "org-b"}).items == []
    assert datasets.get_item_by_id(id=item.id, filters={"organizationId": "org-b"}) is None
    assert datasets.list_dataset_versions(dataset_id=ds.id, filters={"projectId": "nope"}).versions == []
    datasets.delete_dataset(id=ds.id, filters={"organizationId": "org-b"})  # no-op
    assert datasets.get_dataset_by_id(id=ds.id) is not None


def test_update_changes_only_given_fields_and_not_the_version(datasets: DynamoDatasetsStore) -> None:
    ds = datasets.create_dataset(name="n", description="keep", metadata={"a": 1}, tags=["x"],
                                 organization_id="o")
    datasets.add_item(dataset_id=ds.id, input="i")
    updated = datasets.update_dataset(id=ds.id, name="renamed", metadata={"b": 2}, tags=None)
    assert (updated.name, updated.description, updated.metadata, updated.tags) == ("renamed", "keep", {"b": 2}, None)
    assert updated.version == 1 and updated.organization_id == "o"
    assert updated.updated_at > ds.updated_at and updated.created_at == ds.created_at
    assert datasets.get_dataset_by_id(id=ds.id) == updated
    with pytest.raises(NotFoundError) as err:
        datasets.update_dataset(id="missing", name="x")
    assert err.value.code == "DATASET_NOT_FOUND"


def test_delete_cascades_and_detaches_experiments(datasets: DynamoDatasetsStore,
                                                  experiments: DynamoExperimentsStore) -> None:
    ds = datasets.create_dataset(name="gone")
    other = datasets.create_dataset(name="stays")
    items = datasets.batch_insert_items(dataset_id=ds.id, items=[{"input": 1, "externalId": "e"}, {"input": 2}])
    kept = datasets.add_item(dataset_id=other.id, input="k")
    exp = experiments.create_experiment(dataset_id=ds.id, dataset_version=1, total_items=2)
    experiments.add_experiment_result(experiment_id=exp.id, item_id=items[0].id, input=1)

    datasets.delete_dataset(id=ds.id)
    assert datasets.get_dataset_by_id(id=ds.id) is None
    assert datasets.get_item_by_id(id=items[0].id) is None and datasets.get_item_history(items[0].id) == []
    assert datasets.list_items(dataset_id=ds.id).items == []
    assert datasets.list_dataset_versions(dataset_id=ds.id).versions == []
    detached = experiments.get_experiment_by_id(id=exp.id)
    assert detached is not None and detached.dataset_id is None and detached.dataset_version is None
    assert experiments.list_experiments(dataset_id=ds.id).experiments == []
    assert len(experiments.list_experiment_results(experiment_id=exp.id).results) == 1  # results stay
    assert datasets.get_item_by_id(id=kept.id) == kept
    datasets.delete_dataset(id=ds.id)  # missing: no-op
    # the id can be reused: a fresh dataset, no leftovers
    again = datasets.create_dataset(id=ds.id, name="again")
    assert again.version == 0 and datasets.list_items(dataset_id=ds.id).pagination.total == 0
    again_item = datasets.add_item(dataset_id=ds.id, input=1, external_id="e")  # external id is free again
    assert again_item.id != items[0].id


def test_list_datasets_filters_order_and_pagination(datasets: DynamoDatasetsStore) -> None:
    org = "org-list"
    made = [
        datasets.create_dataset(name="Alpha Set", organization_id=org, project_id="p1", target_type="agent",
                                target_ids=["a1", "a2"], candidate_key="k1", candidate_id="c1"),
        datasets.create_dataset(name="beta", organization_id=org, project_id="p2", target_type="workflow",
                                target_ids=["w1"]),
        datasets.create_dataset(name="GAMMA set", organization_id=org, project_id="p1", target_type="agent",
                                target_ids=["a3"], candidate_key="k2"),
    ]
    datasets.create_dataset(name="alpha elsewhere", organization_id="other-org")

    def ids(**kwargs: object) -> list[str]:
        page = datasets.list_datasets(filters={"organizationId": org, **kwargs})
        return [d.id for d in page.datasets]

    newest_first = [d.id for d in reversed(made)]
    assert ids() == newest_first
    assert ids(projectId="p1") == [made[2].id, made[0].id]
    assert ids(targetType="agent") == [made[2].id, made[0].id]
    assert ids(targetIds=["a2", "w1"]) == [made[1].id, made[0].id]
    assert ids(name="SET") == [made[2].id, made[0].id]
    assert ids(candidateKey="k1", candidateId="c1") == [made[0].id]
    assert len(datasets.list_datasets(filters={"name": "alpha"}).datasets) == 2

    by_name = datasets.list_datasets(filters={"organizationId": org}, order_by={"field": "name", "direction": "ASC"})
    assert [d.name for d in by_name.datasets] == ["Alpha Set", "beta", "GAMMA set"]
    oldest = datasets.list_datasets(filters={"organizationId": org}, order_by={"field": "createdAt",
                                                                               "direction": "ASC"})
    assert [d.id for d in oldest.datasets] == [d.id for d in made]
    datasets.update_dataset(id=made[0].id, description="touched")
    recent = datasets.list_datasets(filters={"organizationId": org}, order_by={"field": "updatedAt"})
    assert recent.datasets[0].id == made[0].id

    page = datasets.list_datasets(filters={"organizationId": org}, pagination={"page": 1, "perPage": 2})
    assert [d.id for d in page.datasets] == [made[0].id]
    info = page.pagination
    assert (info.total, info.page, info.per_page, info.has_more) == (3, 1, 2, False)
    first = datasets.list_datasets(filters={"organizationId": org}, pagination={"page": 0, "perPage": 2}).pagination
    assert (first.total, first.has_more) == (3, True)
    everything = datasets.list_datasets(filters={"organizationId": org}, pagination={"page": 0, "perPage": False})
    assert everything.pagination.per_page is False and len(everything.datasets) == 3
    assert datasets.list_datasets(pagination={"perPage": 0}).datasets == []
    with pytest.raises(ValidationError):
        datasets.list_datasets(order_by={"field": "nope"})
    with pytest.raises(ValidationError):
        datasets.list_datasets(pagination={"page": -1})
