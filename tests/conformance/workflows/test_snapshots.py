"""Spec 3.2 run snapshots: persist (upsert), load, get by id, delete, timestamps and awkward values/ids."""

from __future__ import annotations

import copy

import pytest

from mastra_dynamo.errors import ValidationError
from mastra_dynamo.records.workflows import WorkflowRun, WorkflowRuns
from mastra_dynamo.stores.workflows import DynamoWorkflowsStore
from tests.conftest import FakeClock

from .data import at, new_id, snapshot


def _run(wf: DynamoWorkflowsStore, run_id: str, workflow_name: str | None = None) -> WorkflowRun:
    run = wf.get_workflow_run_by_id(run_id=run_id, workflow_name=workflow_name)
    assert run is not None
    return run


def wf_ids(runs: WorkflowRuns) -> list[str]:
    return [r.run_id for r in runs.runs]


# ------------------------------------------------------------------------------------------ persist / load
def test_supports_concurrent_updates(wf: DynamoWorkflowsStore) -> None:
    assert wf.supports_concurrent_updates() is True


def test_persist_and_load_round_trip(wf: DynamoWorkflowsStore) -> None:
    run_id = new_id("run")
    state = snapshot(run_id, "suspended", suspendedPaths={"step-1": [0]}, result={"answer": 42},
                     error=None, requestContext={"user": "u1"},
                     tracingContext={"traceId": "t1", "spanId": "s1", "parentSpanId": None})
    wf.persist_workflow_snapshot(workflow_name="wf", run_id=run_id, snapshot=state)
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id=run_id) == state


def test_load_missing_run_is_none(wf: DynamoWorkflowsStore) -> None:
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="no-such-run") is None
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"))
    assert wf.load_workflow_snapshot(workflow_name="other-wf", run_id="r1") is None
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r2") is None


def test_loaded_snapshot_is_a_copy(wf: DynamoWorkflowsStore) -> None:
    state = snapshot("r1")
    original = copy.deepcopy(state)
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=state)
    state["context"]["input"]["question"] = "mutated after persist"
    loaded = wf.load_workflow_snapshot(workflow_name="wf", run_id="r1")
    assert loaded == original
    loaded["status"] = "mutated after load"
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == original


def test_persist_is_an_upsert(wf: DynamoWorkflowsStore) -> None:
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "running"))
    second = snapshot("r1", "success", result={"done": True}, context={"input": {}, "step-1": {"status": "success"}})
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=second)  # no conditional failure
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == second
    listed = wf.list_workflow_runs(workflow_name="wf")
    assert listed.total == 1 and [r.snapshot for r in listed.runs] == [second]
    assert wf.list_workflow_runs(status="running").total == 0
    assert [r.run_id for r in wf.list_workflow_runs(status="success").runs] == ["r1"]


def test_persisted_snapshot_keeps_unknown_top_level_fields(wf: DynamoWorkflowsStore) -> None:
    state = snapshot("r1", stepExecutionPath=["a", "b"], tripwire={"reason": "blocked"}, custom={"x": [1, 2]})
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=state)
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == state


# ------------------------------------------------------------------------------------------ timestamps
def test_created_at_and_updated_at_default_to_now(cwf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    cwf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"))
    run = _run(cwf, "r1", "wf")
    assert run.created_at == clock.now and run.updated_at == clock.now


def test_given_timestamps_are_stored(wf: DynamoWorkflowsStore) -> None:
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"),
                                 created_at=at(days=1), updated_at=at(days=2, ms=7))
    run = _run(wf, "r1", "wf")
    assert run.created_at == at(days=1) and run.updated_at == at(days=2, ms=7)
    assert run.created_at.tzinfo is not None


def test_created_at_is_write_once(cwf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    created = clock.now
    cwf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "running"))
    for step in range(3):
        clock.advance(minutes=5)
        cwf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", f"s{step}"))
    run = _run(cwf, "r1", "wf")
    assert run.created_at == created
    assert run.updated_at == clock.now
    assert run.snapshot["status"] == "s2"
    # listings still place the run at its creation time
    assert wf_ids(cwf.list_workflow_runs(to_date=created)) == ["r1"]
    assert wf_ids(cwf.list_workflow_runs(from_date=created + (clock.now - created) / 2)) == []


def test_explicit_created_at_is_kept_by_a_later_persist_without_it(wf: DynamoWorkflowsStore) -> None:
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"), created_at=at(days=1),
                                 updated_at=at(days=1))
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "success"))
    run = _run(wf, "r1", "wf")
    assert run.created_at == at(days=1)
    assert run.updated_at > at(days=1)


def test_updated_at_follows_each_persist(cwf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    cwf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"))
    clock.advance(seconds=30)
    cwf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "success"))
    assert _run(cwf, "r1", "wf").updated_at == clock.now
    cwf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "success"),
                                  updated_at=at(days=3))
    assert _run(cwf, "r1", "wf").updated_at == at(days=3)


# ------------------------------------------------------------------------------------------ resource id
def test_resource_id_is_kept_when_not_given(wf: DynamoWorkflowsStore) -> None:
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"), resource_id="res-1")
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "success"))
    assert _run(wf, "r1", "wf").resource_id == "res-1"
    assert _run(wf, "r1").resource_id == "res-1"
    assert wf_ids(wf.list_workflow_runs(resource_id="res-1")) == ["r1"]
    assert wf.list_workflow_runs(resource_id="res-1").runs[0].snapshot["status"] == "success"


def test_resource_id_can_be_changed(wf: DynamoWorkflowsStore) -> None:
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"), resource_id="res-1")
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"), resource_id="res-2")
    assert _run(wf, "r1", "wf").resource_id == "res-2"
    assert wf.list_workflow_runs(resource_id="res-1").total == 0
    assert wf_ids(wf.list_workflow_runs(resource_id="res-2")) == ["r1"]


def test_run_without_resource_id(wf: DynamoWorkflowsStore) -> None:
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"))
    assert _run(wf, "r1", "wf").resource_id is None
    assert wf.list_workflow_runs(resource_id="res-1").total == 0


# ------------------------------------------------------------------------------------------ get by id
def test_get_run_by_id_with_and_without_workflow_name(wf: DynamoWorkflowsStore) -> None:
    state = snapshot("r1", "success")
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=state, resource_id="res-1",
                                 created_at=at(days=1), updated_at=at(days=1, hours=2))
    expected = WorkflowRun(workflow_name="wf", run_id="r1", snapshot=state, created_at=at(days=1),
                           updated_at=at(days=1, hours=2), resource_id="res-1")
    assert wf.get_workflow_run_by_id(run_id="r1", workflow_name="wf") == expected
    assert wf.get_workflow_run_by_id(run_id="r1") == expected


def test_get_missing_run_is_none(wf: DynamoWorkflowsStore) -> None:
    assert wf.get_workflow_run_by_id(run_id="nope") is None
    assert wf.get_workflow_run_by_id(run_id="nope", workflow_name="wf") is None
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"))
    assert wf.get_workflow_run_by_id(run_id="r1", workflow_name="other") is None
    assert wf.get_workflow_run_by_id(run_id="r10") is None
    assert wf.get_workflow_run_by_id(run_id="r") is None


@pytest.mark.parametrize("newer_first", [False, True])
def test_same_run_id_under_two_workflows(wf: DynamoWorkflowsStore, newer_first: bool) -> None:
    older = ("wf-z-old", snapshot("shared", "success"), at(days=1))
    newer = ("wf-a-new", snapshot("shared", "running"), at(days=2))
    for name, state, created in ([newer, older] if newer_first else [older, newer]):
        wf.persist_workflow_snapshot(workflow_name=name, run_id="shared", snapshot=state, created_at=created,
                                     updated_at=created)
    assert _run(wf, "shared").workflow_name == "wf-a-new"
    assert _run(wf, "shared").snapshot == newer[1]
    assert _run(wf, "shared", "wf-z-old").snapshot == older[1]
    assert wf.load_workflow_snapshot(workflow_name="wf-z-old", run_id="shared") == older[1]
    assert wf.load_workflow_snapshot(workflow_name="wf-a-new", run_id="shared") == newer[1]
    assert wf.list_workflow_runs().total == 2
    # deleting the newer one leaves the other one as "the" run
    wf.delete_workflow_run_by_id(run_id="shared", workflow_name="wf-a-new")
    assert _run(wf, "shared").workflow_name == "wf-z-old"
    assert wf.load_workflow_snapshot(workflow_name="wf-a-new", run_id="shared") is None


# ------------------------------------------------------------------------------------------ delete
def test_delete_run(wf: DynamoWorkflowsStore) -> None:
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"), resource_id="res")
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r2", snapshot=snapshot("r2"), resource_id="res")
    wf.delete_workflow_run_by_id(run_id="r1", workflow_name="wf")
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") is None
    assert wf.get_workflow_run_by_id(run_id="r1") is None
    assert wf.get_workflow_run_by_id(run_id="r1", workflow_name="wf") is None
    assert wf_ids(wf.list_workflow_runs()) == ["r2"]
    assert wf_ids(wf.list_workflow_runs(workflow_name="wf")) == ["r2"]
    assert wf_ids(wf.list_workflow_runs(resource_id="res")) == ["r2"]
    assert wf_ids(wf.list_workflow_runs(status="running")) == ["r2"]
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r2") is not None


def test_delete_is_idempotent_and_scoped_to_the_workflow(wf: DynamoWorkflowsStore) -> None:
    wf.delete_workflow_run_by_id(run_id="never-existed", workflow_name="wf")  # no error
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"))
    wf.delete_workflow_run_by_id(run_id="r1", workflow_name="other-wf")
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == snapshot("r1")
    wf.delete_workflow_run_by_id(run_id="r1", workflow_name="wf")
    wf.delete_workflow_run_by_id(run_id="r1", workflow_name="wf")
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") is None


def test_run_can_be_persisted_again_after_delete(cwf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    cwf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"), resource_id="res")
    cwf.delete_workflow_run_by_id(run_id="r1", workflow_name="wf")
    clock.advance(hours=1)
    cwf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", "success"))
    run = _run(cwf, "r1", "wf")
    assert run.created_at == clock.now  # a new life: the deleted run's createdAt is gone
    assert run.resource_id is None
    assert run.snapshot == snapshot("r1", "success")


# ------------------------------------------------------------------------------------------ values and ids
def test_empty_strings_and_nulls_round_trip_inside_snapshots(wf: DynamoWorkflowsStore) -> None:
    state = snapshot(
        "r1",
        result=None,
        error=None,
        value={"empty": "", "none": None, "zero": 0, "false": False, "list": [None, "", 0, False, {}, []]},
        context={"input": {"text": "", "opt": None}, "step-1": {"status": "success", "output": ""},
                 "step-2": {"status": "success", "output": None}, "": {"status": "success", "output": {"": ""}}},
        resumeLabels={"": {"stepId": "", "foreachIndex": None}},
    )
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=state)
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") == state
    assert _run(wf, "r1").snapshot == state
    assert wf.list_workflow_runs().runs[0].snapshot == state


def test_numbers_and_unicode_round_trip_exactly(wf: DynamoWorkflowsStore) -> None:
    state = snapshot(
        "r1",
        value={"big": 2**53 - 1, "neg": -17, "float": 0.1, "exp": 1.5e-300, "one": 1.0,
               "text": "\u00e9\u00e8 \u4e2d\u6587 \U0001f9ea \"quoted\" \\ back\nslash\t", "nul": "a\u0000b"},
        timestamp=1741593600123,
    )
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=state)
    loaded = wf.load_workflow_snapshot(workflow_name="wf", run_id="r1")
    assert loaded == state
    assert type(loaded["value"]["big"]) is int and type(loaded["value"]["float"]) is float


SPECIAL_IDS = [
    ("wf#with#hashes", "run#1"),
    ("wf%25encoded", "run%23"),
    ("wf~tilde", "run~x"),
    ("wf with spaces/and:colons", "run with spaces"),
    ("\u0432\u043e\u0440\u043a\u0444\u043b\u043e\u0443-\U0001f680", "\u0440\u0430\u043d-\u4e2d"),
    ("W#evil", "N#evil"),
    ("C#wf#gen#00000", "r"),
]


def test_special_ids(wf: DynamoWorkflowsStore) -> None:
    for workflow_name, run_id in SPECIAL_IDS:
        state = snapshot(run_id)
        wf.persist_workflow_snapshot(workflow_name=workflow_name, run_id=run_id, snapshot=state, resource_id=run_id)
    assert wf.list_workflow_runs().total == len(SPECIAL_IDS)
    for workflow_name, run_id in SPECIAL_IDS:
        assert wf.load_workflow_snapshot(workflow_name=workflow_name, run_id=run_id) == snapshot(run_id)
        run = _run(wf, run_id)
        assert (run.workflow_name, run.run_id, run.resource_id) == (workflow_name, run_id, run_id)
        assert wf_ids(wf.list_workflow_runs(workflow_name=workflow_name)) == [run_id]
        assert wf_ids(wf.list_workflow_runs(resource_id=run_id)) == [run_id]
    for workflow_name, run_id in SPECIAL_IDS:
        wf.delete_workflow_run_by_id(run_id=run_id, workflow_name=workflow_name)
        assert wf.load_workflow_snapshot(workflow_name=workflow_name, run_id=run_id) is None
    assert wf.list_workflow_runs().total == 0


def test_ids_containing_separators_do_not_collide(wf: DynamoWorkflowsStore) -> None:
    pairs = [("a#b", "c"), ("a", "b#c"), ("a#b#c", "d"), ("a", "b"), ("a#", "b")]
    for name, run_id in pairs:
        wf.persist_workflow_snapshot(workflow_name=name, run_id=run_id, snapshot=snapshot(run_id, value={"n": name}))
    for name, run_id in pairs:
        loaded = wf.load_workflow_snapshot(workflow_name=name, run_id=run_id)
        assert loaded is not None and loaded["value"] == {"n": name}
    assert sorted(wf_ids(wf.list_workflow_runs(workflow_name="a"))) == ["b", "b#c"]
    assert wf.list_workflow_runs(workflow_name="a#b").total == 1
    assert wf.list_workflow_runs().total == len(pairs)


def test_case_of_ids_is_preserved(wf: DynamoWorkflowsStore) -> None:
    wf.persist_workflow_snapshot(workflow_name="MyWorkflow", run_id="Run-ABC", snapshot=snapshot("Run-ABC"))
    wf.persist_workflow_snapshot(workflow_name="myworkflow", run_id="run-abc", snapshot=snapshot("run-abc", "x"))
    assert wf.load_workflow_snapshot(workflow_name="MyWorkflow", run_id="Run-ABC") == snapshot("Run-ABC")
    assert wf.load_workflow_snapshot(workflow_name="myworkflow", run_id="run-abc") == snapshot("run-abc", "x")
    assert wf.load_workflow_snapshot(workflow_name="MyWorkflow", run_id="run-abc") is None
    assert _run(wf, "Run-ABC").workflow_name == "MyWorkflow"


def test_blank_ids_are_rejected(wf: DynamoWorkflowsStore) -> None:
    for workflow_name, run_id in [("", "r1"), ("wf", ""), ("   ", "r1"), ("wf", " \t")]:
        with pytest.raises(ValidationError):
            wf.persist_workflow_snapshot(workflow_name=workflow_name, run_id=run_id, snapshot=snapshot("r1"))
        with pytest.raises(ValidationError):
            wf.load_workflow_snapshot(workflow_name=workflow_name, run_id=run_id)
    assert wf.list_workflow_runs().total == 0


def test_non_json_snapshot_is_rejected_and_nothing_is_written(wf: DynamoWorkflowsStore) -> None:
    with pytest.raises(ValidationError):
        wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1", value={"x": object()}))
    with pytest.raises(ValidationError):
        wf.persist_workflow_snapshot(workflow_name="wf", run_id="r1",
                                     snapshot=snapshot("r1", value={"x": float("nan")}))
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") is None
    assert wf.list_workflow_runs().total == 0
