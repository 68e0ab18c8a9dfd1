"""Spec 3.2 updateWorkflowResults / updateWorkflowState: merge semantics, foreach outputs, compare-and-set."""

from __future__ import annotations

from typing import Any

import pytest

from mastra_dynamo.stores.workflows import DynamoWorkflowsStore
from tests.conftest import FakeClock

from .data import PENDING, at, snapshot


def _persist(wf: DynamoWorkflowsStore, run_id: str = "r1", status: str = "running", **extra: Any) -> dict[str, Any]:
    state = snapshot(run_id, status, **extra)
    wf.persist_workflow_snapshot(workflow_name="wf", run_id=run_id, snapshot=state, resource_id="res-1",
                                 created_at=at(days=1), updated_at=at(days=1))
    return state


def _load(wf: DynamoWorkflowsStore, run_id: str = "r1") -> dict[str, Any]:
    loaded = wf.load_workflow_snapshot(workflow_name="wf", run_id=run_id)
    assert loaded is not None
    return loaded  # type: ignore[no-any-return]


def _result(wf: DynamoWorkflowsStore, step_id: str, result: Any, run_id: str = "r1",
            request_context: dict[str, Any] | None = None) -> dict[str, Any]:
    return wf.update_workflow_results(workflow_name="wf", run_id=run_id, step_id=step_id, result=result,
                                      request_context=request_context or {})


# ------------------------------------------------------------------------------------------ results
def test_step_result_is_merged_into_the_context(wf: DynamoWorkflowsStore) -> None:
    before = _persist(wf)
    step = {"status": "success", "output": {"answer": 42}, "startedAt": 1, "endedAt": 2}
    context = _result(wf, "step-1", step)
    assert context == {"input": {"question": "why?"}, "step-1": step}
    after = _load(wf)
    assert after["context"] == context
    assert {k: v for k, v in after.items() if k != "context"} == {k: v for k, v in before.items() if k != "context"}


def test_results_of_several_steps_accumulate(wf: DynamoWorkflowsStore) -> None:
    _persist(wf)
    _result(wf, "step-1", {"status": "success", "output": 1})
    _result(wf, "step-2", {"status": "failed", "error": "boom"})
    context = _result(wf, "step-3", {"status": "success", "output": None})
    assert context == {
        "input": {"question": "why?"},
        "step-1": {"status": "success", "output": 1},
        "step-2": {"status": "failed", "error": "boom"},
        "step-3": {"status": "success", "output": None},
    }
    assert _load(wf)["context"] == context


def test_a_later_result_of_the_same_step_wins(wf: DynamoWorkflowsStore) -> None:
    _persist(wf)
    _result(wf, "step-1", {"status": "running", "startedAt": 10})
    context = _result(wf, "step-1", {"status": "success", "output": {"x": 1}, "startedAt": 10, "endedAt": 20})
    assert context["step-1"] == {"status": "success", "output": {"x": 1}, "startedAt": 10, "endedAt": 20}
    assert _load(wf)["context"]["step-1"] == context["step-1"]


def test_request_context_is_merged(wf: DynamoWorkflowsStore) -> None:
    _persist(wf, requestContext={"user": "u1", "tier": "free"})
    _result(wf, "step-1", {"status": "success"}, request_context={"tier": "pro", "locale": "fr"})
    assert _load(wf)["requestContext"] == {"user": "u1", "tier": "pro", "locale": "fr"}
    _result(wf, "step-2", {"status": "success"}, request_context={})
    assert _load(wf)["requestContext"] == {"user": "u1", "tier": "pro", "locale": "fr"}


def test_request_context_is_created_when_the_snapshot_has_none(wf: DynamoWorkflowsStore) -> None:
    _persist(wf)
    _result(wf, "step-1", {"status": "success"}, request_context={"k": "v"})
    assert _load(wf)["requestContext"] == {"k": "v"}


def test_results_keep_created_at_resource_and_bump_updated_at(cwf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    created = clock.now
    cwf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"), resource_id="res-1")
    clock.advance(seconds=10)
    _result(cwf, "step-1", {"status": "success"})
    run = cwf.get_workflow_run_by_id(run_id="r1", workflow_name="wf")
    assert run is not None
    assert run.created_at == created and run.updated_at == clock.now and run.resource_id == "res-1"
    assert [r.run_id for r in cwf.list_workflow_runs(resource_id="res-1").runs] == ["r1"]


def test_results_for_a_missing_run_create_a_pending_snapshot(cwf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    step = {"status": "success", "output": "first"}
    context = _result(cwf, "step-1", step, run_id="new-run", request_context={"user": "u1"})
    assert context == {"step-1": step}
    loaded = _load(cwf, "new-run")
    assert loaded["status"] == "pending"
    assert loaded["runId"] == "new-run"
    assert loaded["context"] == {"step-1": step}
    assert loaded["requestContext"] == {"user": "u1"}
    for empty_map in ("activeStepsPath", "suspendedPaths", "resumeLabels", "waitingPaths", "value"):
        assert loaded[empty_map] == {}
    assert loaded["activePaths"] == [] and loaded["serializedStepGraph"] == []
    run = cwf.get_workflow_run_by_id(run_id="new-run")
    assert run is not None and run.workflow_name == "wf" and run.created_at == clock.now
    assert [r.run_id for r in cwf.list_workflow_runs(status="pending").runs] == ["new-run"]
    # the run then continues normally
    _result(cwf, "step-2", {"status": "success"}, run_id="new-run")
    assert set(_load(cwf, "new-run")["context"]) == {"step-1", "step-2"}


# ------------------------------------------------------------------------------------------ foreach outputs
FOREACH = "__mastra_foreach__"
DONE = "__mastra_foreach_completed_indexes__"
SUSPENDED = {"status": "suspended", "suspendedAt": 1, "suspendPayload": {"__workflow_meta": {"path": ["each"]}}}


def _iteration(output: list[Any], *, done: list[int] | None = None, status: str = "running") -> dict[str, Any]:
    result: dict[str, Any] = {FOREACH: True, "status": status, "output": output}
    if done is not None:
        result[DONE] = done
    return result


def test_foreach_iterations_merge_slot_by_slot_in_any_order(wf: DynamoWorkflowsStore) -> None:
    _persist(wf)
    _result(wf, "each", _iteration([None, None, None, None]))
    _result(wf, "each", _iteration([None, None, "r2", None], done=[2]))
    _result(wf, "each", _iteration(["r0", None, None, None], done=[0]))
    context = _result(wf, "each", _iteration([None, None, None, {"v": 3}], done=[3]))
    assert context["each"]["output"] == ["r0", None, "r2", {"v": 3}]
    context = _result(wf, "each", _iteration([None, "r1", None, None], done=[1], status="success"))
    assert context["each"]["output"] == ["r0", "r1", "r2", {"v": 3}]
    assert context["each"]["status"] == "success" and context["each"][DONE] == [0, 1, 2, 3]
    assert FOREACH not in context["each"]
    assert _load(wf)["context"]["each"] == context["each"]


def test_a_completed_slot_is_not_clobbered_by_a_stale_writer(wf: DynamoWorkflowsStore) -> None:
    _persist(wf)
    _result(wf, "each", _iteration(["a", None], done=[0]))
    context = _result(wf, "each", _iteration(["stale", "b"], done=[1]))
    assert context["each"]["output"] == ["a", "b"]


def test_a_pending_marker_resets_only_unfinished_slots(wf: DynamoWorkflowsStore) -> None:
    _persist(wf)
    _result(wf, "each", _iteration(["a", dict(SUSPENDED), None], done=[0]))
    context = _result(wf, "each", {**_iteration([PENDING, PENDING, PENDING]), "status": "ignored"})
    each = context["each"]
    assert each["output"] == ["a", None, None]  # the finished slot survives, the suspended one is reset
    assert each["status"] == "running"  # a reset keeps the stored step-level fields
    assert _load(wf)["context"]["each"]["output"] == ["a", None, None]


def test_finished_falsy_elements_are_kept(wf: DynamoWorkflowsStore) -> None:
    _persist(wf)
    _result(wf, "each", _iteration([0, "", False, None], done=[0, 1, 2]))
    context = _result(wf, "each", _iteration([None, None, None, []], done=[3]))
    assert context["each"]["output"] == [0, "", False, []]


def test_a_longer_output_extends_the_list(wf: DynamoWorkflowsStore) -> None:
    _persist(wf)
    _result(wf, "each", _iteration(["a", None]))
    context = _result(wf, "each", _iteration([None, "b", "c"]))
    assert context["each"]["output"] == ["a", "b", "c"]


def test_untagged_results_replace_the_stored_one(wf: DynamoWorkflowsStore) -> None:
    """Only writers that tag a result as a foreach iteration get the slot merge."""
    _persist(wf)
    _result(wf, "each", {"status": "running", "output": [None, "r1", None]})
    context = _result(wf, "each", {"status": "running", "output": ["r0", None, None]})
    assert context["each"]["output"] == ["r0", None, None]


def test_non_list_outputs_are_replaced(wf: DynamoWorkflowsStore) -> None:
    _persist(wf)
    _result(wf, "step", {"status": "success", "output": {"a": 1}})
    context = _result(wf, "step", {"status": "success", "output": {"b": 2}})
    assert context["step"]["output"] == {"b": 2}
    context = _result(wf, "step", {"status": "success", "output": ["x"]})
    assert context["step"]["output"] == ["x"]


# ------------------------------------------------------------------------------------------ state
def test_update_state_shallow_merges(wf: DynamoWorkflowsStore) -> None:
    before = _persist(wf, status="suspended", suspendedPaths={"step-1": [0]}, result={"partial": True, "keep": 1},
                      resumeLabels={"go": {"stepId": "step-1"}})
    new = wf.update_workflow_state(workflow_name="wf", run_id="r1",
                                   opts={"status": "success", "result": {"final": 1}, "suspendedPaths": {}})
    assert new == {**before, "status": "success", "result": {"final": 1}, "suspendedPaths": {}}
    assert _load(wf) == new


def test_update_state_sets_optional_fields(wf: DynamoWorkflowsStore) -> None:
    before = _persist(wf)
    opts = {"status": "failed", "error": {"message": "boom", "name": "Error"}, "waitingPaths": {"evt": [1]},
            "activePaths": [1, 2], "activeStepsPath": {"s": [1]},
            "tracingContext": {"traceId": "t", "spanId": "s", "parentSpanId": None}}
    new = wf.update_workflow_state(workflow_name="wf", run_id="r1", opts=opts)
    assert new == {**before, **opts}
    assert _load(wf) == new


def test_update_state_keeps_results_and_bumps_updated_at(cwf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    created = clock.now
    cwf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=snapshot("r1"), resource_id="res-1")
    _result(cwf, "step-1", {"status": "success", "output": 1})
    clock.advance(seconds=5)
    new = cwf.update_workflow_state(workflow_name="wf", run_id="r1", opts={"status": "success"})
    assert new is not None and new["context"]["step-1"] == {"status": "success", "output": 1}
    run = cwf.get_workflow_run_by_id(run_id="r1", workflow_name="wf")
    assert run is not None
    assert (run.created_at, run.updated_at, run.resource_id) == (created, clock.now, "res-1")
    assert run.snapshot == new


@pytest.mark.parametrize("expected_status", ["suspended", ["waiting", "suspended"]])
def test_expected_status_match_applies(wf: DynamoWorkflowsStore, expected_status: str | list[str]) -> None:
    _persist(wf, status="suspended", suspendedPaths={"step-1": [0]})
    new = wf.update_workflow_state(workflow_name="wf", run_id="r1",
                                   opts={"status": "running", "suspendedPaths": {}, "expectedStatus": expected_status})
    assert new is not None
    assert new["status"] == "running" and new["suspendedPaths"] == {}
    assert "expectedStatus" not in new and "expected_status" not in new
    loaded = _load(wf)
    assert loaded == new
    assert "expectedStatus" not in loaded and "expected_status" not in loaded


def test_expected_status_mismatch_is_a_no_op(cwf: DynamoWorkflowsStore, clock: FakeClock) -> None:
    before = snapshot("r1", "suspended", suspendedPaths={"step-1": [0]})
    cwf.persist_workflow_snapshot(workflow_name="wf", run_id="r1", snapshot=before)
    written_at = clock.now
    for expected_status in ("running", ["waiting", "paused"], []):
        clock.advance(seconds=5)
        result = cwf.update_workflow_state(workflow_name="wf", run_id="r1",
                                           opts={"status": "running", "suspendedPaths": {},
                                                 "expectedStatus": expected_status})
        assert result is None, expected_status
        run = cwf.get_workflow_run_by_id(run_id="r1", workflow_name="wf")
        assert run is not None and run.snapshot == before and run.updated_at == written_at, expected_status
    assert [r.run_id for r in cwf.list_workflow_runs(status="suspended").runs] == ["r1"]


def test_second_resume_loses(wf: DynamoWorkflowsStore) -> None:
    _persist(wf, status="suspended")
    opts = {"status": "running", "expectedStatus": "suspended"}
    assert wf.update_workflow_state(workflow_name="wf", run_id="r1", opts=opts) is not None
    assert wf.update_workflow_state(workflow_name="wf", run_id="r1", opts=opts) is None
    assert _load(wf)["status"] == "running"


def test_update_state_of_a_missing_run_is_none_and_writes_nothing(wf: DynamoWorkflowsStore) -> None:
    assert wf.update_workflow_state(workflow_name="wf", run_id="missing", opts={"status": "running"}) is None
    assert wf.update_workflow_state(workflow_name="wf", run_id="missing",
                                    opts={"status": "running", "expectedStatus": "suspended"}) is None
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="missing") is None
    assert wf.get_workflow_run_by_id(run_id="missing") is None
    assert wf.list_workflow_runs().total == 0


def test_update_state_needs_the_right_workflow(wf: DynamoWorkflowsStore) -> None:
    before = _persist(wf, status="suspended")
    assert wf.update_workflow_state(workflow_name="other", run_id="r1", opts={"status": "running"}) is None
    assert _load(wf) == before
    assert wf.load_workflow_snapshot(workflow_name="other", run_id="r1") is None


def test_update_state_of_a_deleted_run_is_none(wf: DynamoWorkflowsStore) -> None:
    _persist(wf)
    wf.delete_workflow_run_by_id(run_id="r1", workflow_name="wf")
    assert wf.update_workflow_state(workflow_name="wf", run_id="r1", opts={"status": "success"}) is None
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="r1") is None
