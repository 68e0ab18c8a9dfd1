"""Spec 3.7 experiments: create, update, get, list (filters, order, pagination), delete with results."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mastra_dynamo.errors import ConflictError, NotFoundError, ValidationError
from mastra_dynamo.schema import keys
from mastra_dynamo.stores.experiments import DynamoExperimentsStore


def test_create_get_and_update(experiments: DynamoExperimentsStore) -> None:
    exp = experiments.create_experiment(
        dataset_id="ds-1", dataset_version=5, target_type="agent", target_id="agent-1", total_items=10,
        name="run", description="d", metadata={"nested": {"v": 1}}, scorer_ids=["s1"], agent_version="v7",
        provenance={"source": "github", "sourceId": "mastra-ai/mastra", "sourceVersion": "abc",
                    "metadata": {"pullRequest": 42}},
        runner_attestation={"runnerId": "r1", "invocationId": "i1", "runnerVersion": "1.0.0"},
        experiment_set_id="set-1", comparison_id="cmp-1", variant_id="a", trial_index=0)
    assert (exp.status, exp.succeeded_count, exp.failed_count, exp.skipped_count) == ("pending", 0, 0, 0)
    assert exp.started_at is None and exp.completed_at is None and exp.dataset_version == 5
    assert experiments.get_experiment_by_id(id=exp.id) == exp
    stored = experiments.get_experiment_by_id(id=exp.id)
    assert stored is not None and stored.provenance is not None and stored.provenance.source_id == "mastra-ai/mastra"
    assert stored.runner_attestation is not None and stored.runner_attestation.runner_version == "1.0.0"
    assert stored.trial_index == 0
    assert experiments.get_experiment_by_id(id="missing") is None

    inline = experiments.create_experiment(id="custom-id", total_items=3)
    assert (inline.id, inline.dataset_id, inline.dataset_version) == ("custom-id", None, None)
    with pytest.raises(ConflictError) as err:
        experiments.create_experiment(id="custom-id")
    assert err.value.code == "EXPERIMENT_ID_CONFLICT"
    with pytest.raises(ValidationError):
        experiments.create_experiment(id="")

    started = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    running = experiments.update_experiment(id=exp.id, status="running", started_at=started)
    assert running.status == "running" and running.started_at == started
    assert (running.name, running.description, running.metadata, running.total_items) == (
        "run", "d", {"nested": {"v": 1}}, 10)
    done = experiments.update_experiment(id=exp.id, status="completed", succeeded_count=8, failed_count=2,
                                         skipped_count=1, completed_at="2026-01-02T04:00:00Z", description=None)
    assert (done.status, done.succeeded_count, done.failed_count, done.skipped_count) == ("completed", 8, 2, 1)
    assert done.completed_at == datetime(2026, 1, 2, 4, tzinfo=UTC) and done.description is None
    assert done.started_at == started and done.updated_at >= running.updated_at
    assert experiments.get_experiment_by_id(id=exp.id) == done
    with pytest.raises(NotFoundError) as nf:
        experiments.update_experiment(id="missing", status="running")
    assert nf.value.code == "EXPERIMENT_NOT_FOUND"
    with pytest.raises(ValidationError):
        experiments.update_experiment(id=exp.id, status="bogus")


def test_tenancy_filters(experiments: DynamoExperimentsStore) -> None:
    exp = experiments.create_experiment(organization_id="org", project_id="p")
    assert experiments.get_experiment_by_id(id=exp.id, filters={"organizationId": "org"}) == exp
    assert experiments.get_experiment_by_id(id=exp.id, filters={"organizationId": "other"}) is None
    assert experiments.get_experiment_by_id(id=exp.id, filters={"projectId": "q"}) is None
    with pytest.raises(NotFoundError):
        experiments.update_experiment(id=exp.id, name="x", filters={"organizationId": "other"})
    result = experiments.add_experiment_result(experiment_id=exp.id, item_id="i", input=1)
    assert (result.organization_id, result.project_id) == ("org", "p")  # inherited from the experiment
    with pytest.raises(ValidationError) as err:
        experiments.add_experiment_result(experiment_id=exp.id, item_id="i", input=1, organization_id="other")
    assert err.value.code == "EXPERIMENT_TENANCY_MISMATCH"
    assert experiments.get_experiment_result_by_id(id=result.id, filters={"organizationId": "other"}) is None
    assert experiments.list_experiment_results(experiment_id=exp.id, filters={"projectId": "q"}).results == []
    experiments.delete_experiment_results(experiment_id=exp.id, filters={"organizationId": "other"})  # gated
    experiments.delete_experiment(id=exp.id, filters={"organizationId": "other"})  # no-op
    assert experiments.get_experiment_result_by_id(id=result.id) == result
    assert experiments.list_experiments(filters={"organizationId": "org"}).experiments[0].id == exp.id
    assert experiments.list_experiments(filters={"organizationId": "other"}).experiments == []
    experiments.delete_experiment(id=exp.id, filters={"organizationId": "org", "projectId": "p"})
    assert experiments.get_experiment_by_id(id=exp.id) is None


def test_list_filters_order_and_pagination(experiments: DynamoExperimentsStore) -> None:
    a = experiments.create_experiment(dataset_id="ds-1", target_type="agent", target_id="a1", agent_version="v1",
                                      experiment_set_id="set-1", comparison_id="c1", variant_id="a", trial_index=0)
    b = experiments.create_experiment(dataset_id="ds-1", target_type="agent", target_id="a1", agent_version="v2",
                                      experiment_set_id="set-1", comparison_id="c1", variant_id="b", trial_index=1)
    c = experiments.create_experiment(dataset_id="ds-2", target_type="workflow", target_id="w1")
    d = experiments.create_experiment(target_type="agent", target_id="a2")
    experiments.update_experiment(id=b.id, status="running")
    experiments.update_experiment(id=c.id, status="completed")

    def ids(**kwargs: object) -> list[str]:
        return [e.id for e in experiments.list_experiments(**kwargs).experiments]  # type: ignore[arg-type]

    assert ids() == [d.id, c.id, b.id, a.id]
    assert ids(order_by={"field": "createdAt", "direction": "ASC"}) == [a.id, b.id, c.id, d.id]
    assert ids(dataset_id="ds-1") == [b.id, a.id]
    assert ids(target_type="agent") == [d.id, b.id, a.id]
    assert ids(target_id="w1") == [c.id]
    assert ids(agent_version="v2") == [b.id]
    assert ids(status="pending") == [d.id, a.id]
    assert ids(experiment_set_id="set-1", comparison_id="c1", variant_id="a", trial_index=0) == [a.id]
    assert ids(trial_index=1) == [b.id]
    by_status = experiments.list_experiments(order_by={"field": "status", "direction": "ASC"}).experiments
    assert [e.status for e in by_status] == ["completed", "pending", "pending", "running"]
    assert [e.id for e in by_status[1:3]] == sorted([a.id, d.id])  # ties by id
    page = experiments.list_experiments(pagination={"page": 1, "perPage": 3})
    assert [e.id for e in page.experiments] == [a.id]
    assert (page.pagination.total, page.pagination.has_more) == (4, False)
    first = experiments.list_experiments(pagination={"page": 0, "perPage": 3}).pagination
    assert (first.total, first.has_more) == (4, True)
    with pytest.raises(ValidationError):
        experiments.list_experiments(order_by={"field": "name"})


def test_delete_experiment_removes_its_results(experiments: DynamoExperimentsStore) -> None:
    exp = experiments.create_experiment(total_items=2)
    keep = experiments.create_experiment(total_items=1)
    r1 = experiments.add_experiment_result(experiment_id=exp.id, item_id="i1", input={"p": 1}, output="o")
    r2 = experiments.upsert_experiment_result(experiment_id=exp.id, item_id="i2", input=2)
    kept = experiments.add_experiment_result(experiment_id=keep.id, item_id="i1", input=1)
    experiments.delete_experiment(id=exp.id)
    assert experiments.get_experiment_by_id(id=exp.id) is None
    assert experiments.list_experiment_results(experiment_id=exp.id).results == []
    assert experiments.get_experiment_result_by_id(id=r1.id) is None
    assert experiments.table.get_item(keys.experiment_result_ref_key(r2.id)) is None
    assert experiments.table.get_item(keys.experiment_result_slot_key(exp.id, "i2", 0)) is None
    assert experiments.get_experiment_result_by_id(id=kept.id) == kept
    experiments.delete_experiment(id=exp.id)  # missing: no-op
    with pytest.raises(NotFoundError):  # results need their experiment
        experiments.add_experiment_result(experiment_id=exp.id, item_id="i1", input=1)
