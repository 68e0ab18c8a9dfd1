"""Spec 3.7 experiment results: add, upsert by (experiment, item, attempt), update, list, delete, review
summary; retention and concurrent upserts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from mastra_dynamo.errors import ConflictError, NotFoundError, ValidationError
from mastra_dynamo.schema import keys
from mastra_dynamo.stores.datasets import DynamoDatasetsStore
from mastra_dynamo.stores.experiments import DynamoExperimentsStore
from tests.conftest import Backend, require

from ..datasets.conftest import DAY, Clocked

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_add_result_fields_and_errors(experiments: DynamoExperimentsStore) -> None:
    exp = experiments.create_experiment(dataset_id="ds", dataset_version=1, total_items=2)
    result = experiments.add_experiment_result(
        experiment_id=exp.id, item_id="item-1", item_dataset_version=3, input={"prompt": "Hello"},
        output={"text": "Hi"}, ground_truth={"text": "Hello!"}, metadata={"m": [1, 2]}, started_at=at(0),
        completed_at=at(1), retry_count=0, trace_id="trace-1", status="needs-review", tags=["x", "y"],
        tool_mock_report={"calls": 1})
    assert result.id and result.experiment_id == exp.id and result.item_dataset_version == 3
    assert (result.input, result.output, result.ground_truth) == ({"prompt": "Hello"}, {"text": "Hi"},
                                                                   {"text": "Hello!"})
    assert (result.attempt, result.comment, result.error) == (0, None, None)
    assert experiments.get_experiment_result_by_id(id=result.id) == result
    failed = experiments.add_experiment_result(id="r-custom", experiment_id=exp.id, item_id="item-2", input="x",
                                               error={"message": "Agent timeout", "code": "E1"}, retry_count=2,
                                               started_at=at(2), completed_at=at(3))
    assert failed.id == "r-custom" and failed.output is None and failed.item_dataset_version is None
    assert failed.error is not None and failed.error.message == "Agent timeout" and failed.retry_count == 2
    with pytest.raises(ConflictError) as err:
        experiments.add_experiment_result(id="r-custom", experiment_id=exp.id, item_id="item-3", input="x")
    assert err.value.code == "EXPERIMENT_RESULT_ID_CONFLICT"
    with pytest.raises(NotFoundError):
        experiments.add_experiment_result(experiment_id="missing", item_id="i", input="x")
    with pytest.raises(ValidationError):
        experiments.add_experiment_result(experiment_id=exp.id, item_id="i", input="x", status="bogus")
    with pytest.raises(ValidationError):
        experiments.add_experiment_result(experiment_id=exp.id, item_id="", input="x")
    assert experiments.get_experiment_result_by_id(id="missing") is None


def test_upsert_is_keyed_by_experiment_item_and_attempt(experiments: DynamoExperimentsStore) -> None:
    exp = experiments.create_experiment()
    first = experiments.upsert_experiment_result(experiment_id=exp.id, item_id="i", input="v1", output="o1",
                                                 status="needs-review", started_at=at(0), completed_at=at(1))
    experiments.update_experiment_result(id=first.id, comment="looks odd")
    second = experiments.upsert_experiment_result(experiment_id=exp.id, item_id="i", input="v2", output="o2",
                                                  status="complete", started_at=at(5), completed_at=at(6),
                                                  trace_id="t2")
    assert second.id == first.id and second.created_at == first.created_at and second.comment == "looks odd"
    assert (second.input, second.output, second.status, second.trace_id) == ("v2", "o2", "complete", "t2")
    assert experiments.get_experiment_result_by_id(id=first.id) == second
    retry = experiments.upsert_experiment_result(experiment_id=exp.id, item_id="i", attempt=1, input="v3")
    assert retry.id != first.id and retry.attempt == 1
    page = experiments.list_experiment_results(experiment_id=exp.id)
    assert page.pagination.total == 2
    summary = experiments.get_review_summary()
    assert [(s.experiment_id, s.total, s.needs_review, s.reviewed, s.complete) for s in summary] == [
        (exp.id, 2, 0, 0, 1)]
    # an upsert after an add replaces the newest result of that key
    added = experiments.add_experiment_result(experiment_id=exp.id, item_id="j", input="a")
    replaced = experiments.upsert_experiment_result(experiment_id=exp.id, item_id="j", input="b")
    assert replaced.id == added.id and replaced.input == "b"


def test_update_result_review_fields(experiments: DynamoExperimentsStore) -> None:
    exp = experiments.create_experiment()
    other = experiments.create_experiment()
    result = experiments.add_experiment_result(experiment_id=exp.id, item_id="i", input="x", tags=["a"])
    updated = experiments.update_experiment_result(id=result.id, experiment_id=exp.id, status="reviewed",
                                                   tags=["b", "c"], comment="fine")
    assert (updated.status, updated.tags, updated.comment, updated.input) == ("reviewed", ["b", "c"], "fine", "x")
    assert experiments.get_experiment_result_by_id(id=result.id) == updated
    cleared = experiments.update_experiment_result(id=result.id, comment=None)
    assert cleared.comment is None and cleared.status == "reviewed" and cleared.tags == ["b", "c"]
    unchanged = experiments.update_experiment_result(id=result.id)
    assert unchanged == cleared
    with pytest.raises(NotFoundError):
        experiments.update_experiment_result(id=result.id, experiment_id=other.id, status="complete")
    with pytest.raises(NotFoundError) as err:
        experiments.update_experiment_result(id="missing", status="complete")
    assert err.value.code == "EXPERIMENT_RESULT_NOT_FOUND"
    assert experiments.get_review_summary()[0].reviewed == 1


def test_list_results_filters_order_delete_and_summary(experiments: DynamoExperimentsStore) -> None:
    exp = experiments.create_experiment()
    quiet = experiments.create_experiment()  # no results: not in the summary
    r1 = experiments.add_experiment_result(experiment_id=exp.id, item_id="1", input=1, started_at=at(30),
                                           trace_id="t1", status="needs-review", tags=["a", "b"])
    r2 = experiments.add_experiment_result(experiment_id=exp.id, item_id="2", input=2, started_at=at(10),
                                           trace_id="t2", status="reviewed", tags=["a"])
    r3 = experiments.add_experiment_result(experiment_id=exp.id, item_id="3", input=3, started_at=at(20),
                                           status="needs-review")

    def ids(**kwargs: object) -> list[str]:
        page = experiments.list_experiment_results(experiment_id=exp.id, **kwargs)  # type: ignore[arg-type]
        return [r.id for r in page.results]

    assert ids() == [r2.id, r3.id, r1.id]  # startedAt ASC
    assert ids(order_by={"field": "startedAt", "direction": "DESC"}) == [r1.id, r3.id, r2.id]
    assert ids(order_by={"field": "createdAt", "direction": "DESC"}) == [r3.id, r2.id, r1.id]
    assert ids(order_by={"field": "createdAt", "direction": "ASC"}) == [r1.id, r2.id, r3.id]
    assert ids(trace_id="t1") == [r1.id]
    assert ids(status="needs-review") == [r3.id, r1.id]
    assert ids(tags=["a"]) == [r2.id, r1.id]
    assert ids(tags=["a", "b"]) == [r1.id]
    assert ids(tags=["a", "z"]) == []
    page = experiments.list_experiment_results(experiment_id=exp.id, pagination={"page": 0, "perPage": 2})
    assert [r.id for r in page.results] == [r2.id, r3.id]
    assert (page.pagination.total, page.pagination.has_more) == (3, True)
    assert experiments.list_experiment_results(experiment_id="none").pagination.total == 0
    with pytest.raises(ValidationError):
        experiments.list_experiment_results(experiment_id=exp.id, order_by={"field": "status"})

    summary = {s.experiment_id: s for s in experiments.get_review_summary()}
    assert quiet.id not in summary
    assert (summary[exp.id].total, summary[exp.id].needs_review, summary[exp.id].reviewed) == (3, 2, 1)

    experiments.delete_experiment_results(experiment_id=exp.id)
    assert experiments.list_experiment_results(experiment_id=exp.id).results == []
    assert experiments.get_experiment_result_by_id(id=r1.id) is None
    assert experiments.get_review_summary() == []
    assert experiments.get_experiment_by_id(id=exp.id) is not None  # the experiment stays
    again = experiments.upsert_experiment_result(experiment_id=exp.id, item_id="1", input="fresh")
    assert again.id != r1.id  # the slot went with the results


def test_results_share_the_experiment_ttl(clocked: Clocked) -> None:
    experiments, clock = clocked.experiments, clocked.clock
    exp = experiments.create_experiment(id="short-lived")
    result = experiments.add_experiment_result(experiment_id=exp.id, item_id="i", input=1, status="complete")
    raw_exp = experiments.table.get_item(keys.experiment_key(exp.id))
    assert raw_exp is not None and raw_exp["ttl"]["N"] == str(int(clock.now.timestamp()) + DAY)
    clock.advance(seconds=DAY + 1)
    assert experiments.get_experiment_by_id(id=exp.id) is None
    assert experiments.get_experiment_result_by_id(id=result.id) is None
    assert experiments.list_experiments().experiments == []
    assert experiments.list_experiment_results(experiment_id=exp.id).results == []
    assert experiments.get_review_summary() == []
    with pytest.raises(NotFoundError):
        experiments.add_experiment_result(experiment_id=exp.id, item_id="i", input=2)
    with pytest.raises(NotFoundError):
        experiments.update_experiment(id=exp.id, status="running")
    fresh = experiments.create_experiment(id="short-lived")  # a new life for the id
    assert fresh.created_at == clock.now


def test_concurrent_upserts_converge_and_counters_stay_exact(experiments: DynamoExperimentsStore,
                                                             backend: Backend) -> None:
    require(backend, "concurrent_clients")
    exp = experiments.create_experiment()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: experiments.upsert_experiment_result(
            experiment_id=exp.id, item_id="same", input=i, status="needs-review"), range(8)))
    assert len({r.id for r in results}) == 1
    with ThreadPoolExecutor(8) as pool:
        added = list(pool.map(lambda i: experiments.add_experiment_result(
            experiment_id=exp.id, item_id=f"i{i}", input=i, status="complete"), range(16)))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda r: experiments.update_experiment_result(id=r.id, status="reviewed"), added[:10]))
    summary = experiments.get_review_summary()[0]
    assert (summary.total, summary.needs_review, summary.reviewed, summary.complete) == (17, 1, 10, 6)
    assert experiments.list_experiment_results(experiment_id=exp.id).pagination.total == 17


def test_results_racing_a_purge_are_all_scrubbed(datasets: DynamoDatasetsStore,
                                                  experiments: DynamoExperimentsStore, backend: Backend) -> None:
    require(backend, "concurrent_clients")
    ds = datasets.create_dataset(name="race")
    item = datasets.add_item(dataset_id=ds.id, input={"ssn": "secret"})
    exp = experiments.create_experiment(dataset_id=ds.id, dataset_version=1)

    def write(i: int) -> str:
        if i == 6:
            datasets.purge_item(id=item.id, dataset_id=ds.id)
            return "purge"
        return experiments.add_experiment_result(experiment_id=exp.id, item_id=item.id, input={"ssn": "secret"},
                                                 output=f"o{i}").id

    with ThreadPoolExecutor(8) as pool:
        written = [r for r in pool.map(write, range(16)) if r != "purge"]
    results = experiments.list_experiment_results(experiment_id=exp.id, pagination={"perPage": False}).results
    assert sorted(r.id for r in results) == sorted(written)
    for result in results:  # written before the purge (scrubbed by it) or after (stored scrubbed)
        assert result.input is None and result.output is None
        assert result.metadata is not None and result.metadata["__purged"] is True
