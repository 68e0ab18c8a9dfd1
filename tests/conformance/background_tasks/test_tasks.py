"""Spec 3.11 background tasks: create/get round trip, partial updates with clearing, filters, ordering, paging,
deletes, running counts (Mastra's conformance cases, plus the cases its stores leave open)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mastra_dynamo.errors import ConflictError, ValidationError
from mastra_dynamo.stores.background_tasks import DynamoBackgroundTasksStore
from tests.conftest import FakeClock

from .data import at, sample


def test_create_and_get_round_trip(bt: DynamoBackgroundTasksStore) -> None:
    task = sample(threadId="thread-1", resourceId="res-1", result={"answer": [1, {"x": None}]},
                  error={"message": "boom", "stack": "at line 1"}, suspendPayload={"wait": "approval"})
    stored = bt.create_task(task)
    got = bt.get_task(task["id"])
    assert got == stored
    shown = got.to_mastra()
    for key, value in task.items():
        if key != "createdAt":
            assert shown[key] == value, key
    assert got.created_at == task["createdAt"]
    assert bt.get_task("missing") is None


def test_optional_fields_stay_absent(bt: DynamoBackgroundTasksStore) -> None:
    task = sample()
    bt.create_task(task)
    got = bt.get_task(task["id"])
    assert got is not None
    assert got.thread_id is None and got.resource_id is None and got.result is None and got.error is None
    shown = got.to_mastra()
    assert "threadId" not in shown and "resourceId" not in shown and "startedAt" not in shown
    assert shown["args"] == {"query": "test"} and shown["timeoutMs"] == 300000


def test_a_duplicate_id_is_refused_and_nothing_changes(bt: DynamoBackgroundTasksStore) -> None:
    task = sample()
    bt.create_task(task)
    with pytest.raises(ConflictError) as info:
        bt.create_task({**task, "toolName": "other"})
    assert info.value.code == "TASK_ALREADY_EXISTS"
    got = bt.get_task(task["id"])
    assert got is not None and got.tool_name == "test-tool"


@pytest.mark.parametrize("bad", [{"status": "sleeping"}, {"id": ""}, {"retryCount": -1}, {"args": "x"},
                                 {"unknownField": 1}])
def test_invalid_tasks_are_typed_errors(bt: DynamoBackgroundTasksStore, bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        bt.create_task(sample(**bad))


def test_lifecycle_updates(bt: DynamoBackgroundTasksStore) -> None:
    task = sample()
    bt.create_task(task)
    started = at(1)
    assert bt.update_task(task["id"], {"status": "running", "startedAt": started}) is True
    got = bt.get_task(task["id"])
    assert got is not None and got.status == "running" and got.started_at == started
    assert bt.update_task(task["id"], {"retryCount": 2}) is True
    assert bt.update_task(task["id"], {"status": "completed", "result": {"ok": True}, "completedAt": at(2)})
    got = bt.get_task(task["id"])
    assert got is not None and got.status == "completed" and got.result == {"ok": True}
    assert got.completed_at == at(2) and got.retry_count == 2 and got.started_at == started
    assert got.tool_name == "test-tool" and got.args == {"query": "test"}


def test_none_clears_a_field(bt: DynamoBackgroundTasksStore) -> None:
    task = sample(status="failed", error={"message": "boom"})
    bt.create_task(task)
    assert bt.update_task(task["id"], {"status": "pending", "error": None})
    got = bt.get_task(task["id"])
    assert got is not None and got.status == "pending" and got.error is None
    assert "error" not in got.to_mastra()


def test_suspend_and_resume(bt: DynamoBackgroundTasksStore) -> None:
    task = sample(status="running")
    bt.create_task(task)
    suspended = at(3)
    assert bt.update_task(task["id"], {"status": "suspended", "suspendPayload": {"ask": ["a", 1]},
                                       "suspendedAt": suspended})
    got = bt.get_task(task["id"])
    assert got is not None and got.suspend_payload == {"ask": ["a", 1]} and got.suspended_at == suspended
    assert bt.update_task(task["id"], {"status": "running", "suspendPayload": None, "suspendedAt": None})
    got = bt.get_task(task["id"])
    assert got is not None and got.suspend_payload is None and got.suspended_at is None


def test_update_of_a_missing_task_is_false(bt: DynamoBackgroundTasksStore) -> None:
    assert bt.update_task("missing", {"status": "running"}) is False
    assert bt.update_task("missing", {}) is False
    assert bt.get_task("missing") is None


def test_expected_status_is_a_compare_and_set(bt: DynamoBackgroundTasksStore) -> None:
    task = sample()
    bt.create_task(task)
    assert bt.update_task(task["id"], {"status": "running"}, {"expectedStatus": "pending"}) is True
    assert bt.update_task(task["id"], {"status": "running", "startedAt": at(5)},
                          {"expectedStatus": "pending"}) is False
    got = bt.get_task(task["id"])
    assert got is not None and got.started_at is None  # the refused update wrote nothing
    assert bt.update_task(task["id"], {"status": "completed"}, expected_status="running") is True
    assert bt.update_task(task["id"], {}, expected_status="completed") is True
    assert bt.update_task(task["id"], {}, expected_status="running") is False


def test_identity_fields_cannot_be_updated(bt: DynamoBackgroundTasksStore) -> None:
    task = sample()
    bt.create_task(task)
    for field in ("id", "agentId", "runId", "createdAt", "toolName", "args"):
        with pytest.raises(ValidationError):
            bt.update_task(task["id"], {field: "x"})
    with pytest.raises(ValidationError):
        bt.update_task(task["id"], {"status": "nope"})
    with pytest.raises(ValidationError):
        bt.update_task(task["id"], {}, {"expectedStatuz": "pending"})
    assert bt.get_task(task["id"]) is not None


# ------------------------------------------------------------------------------------------ listings
def _three(bt: DynamoBackgroundTasksStore) -> list[dict[str, object]]:
    tasks = [sample(id="t1", createdAt=at(1), status="pending", agentId="a1", threadId="th1", toolName="search",
                    toolCallId="c1"),
             sample(id="t2", createdAt=at(2), status="running", agentId="a1", threadId="th2", toolName="fetch",
                    toolCallId="c2"),
             sample(id="t3", createdAt=at(3), status="completed", agentId="a2", threadId="th1", toolName="search",
                    toolCallId="c3")]
    for task in (tasks[2], tasks[0], tasks[1]):  # inserted out of order
        bt.create_task(task)
    return tasks


def ids(result: object) -> list[str]:
    return [t.id for t in result.tasks]  # type: ignore[attr-defined]


def test_list_everything_oldest_first(bt: DynamoBackgroundTasksStore) -> None:
    _three(bt)
    result = bt.list_tasks({})
    assert ids(result) == ["t1", "t2", "t3"] and result.total == 3
    assert ids(bt.list_tasks()) == ["t1", "t2", "t3"]
    assert ids(bt.list_tasks({"orderDirection": "desc"})) == ["t3", "t2", "t1"]


@pytest.mark.parametrize(("criteria", "expected"), [
    ({"status": "pending"}, ["t1"]),
    ({"status": ["pending", "completed"]}, ["t1", "t3"]),
    ({"agentId": "a1"}, ["t1", "t2"]),
    ({"agentId": "a1", "status": "running"}, ["t2"]),
    ({"threadId": "th1"}, ["t1", "t3"]),
    ({"toolName": "search"}, ["t1", "t3"]),
    ({"toolCallId": "c2"}, ["t2"]),
    ({"agentId": "nobody"}, []),
    ({"threadId": "th1", "status": "completed", "agentId": "a2"}, ["t3"]),
])
def test_filters(bt: DynamoBackgroundTasksStore, criteria: dict[str, object], expected: list[str]) -> None:
    _three(bt)
    result = bt.list_tasks(criteria)
    assert ids(result) == expected and result.total == len(expected)
    assert ids(bt.list_tasks(**criteria)) == expected  # keyword form


def test_filter_by_run(bt: DynamoBackgroundTasksStore) -> None:
    bt.create_task(sample(id="r1", runId="run-x", createdAt=at(2), status="running"))
    bt.create_task(sample(id="r2", runId="run-x", createdAt=at(1), agentId="a9"))
    bt.create_task(sample(id="r3", runId="run-y", createdAt=at(0)))
    assert ids(bt.list_tasks({"runId": "run-x"})) == ["r2", "r1"]
    assert ids(bt.list_tasks({"runId": "run-x", "status": "running"})) == ["r1"]
    assert ids(bt.list_tasks({"runId": "run-x", "agentId": "a9"})) == ["r2"]


def test_date_range_on_a_chosen_column(bt: DynamoBackgroundTasksStore) -> None:
    _three(bt)
    assert ids(bt.list_tasks({"fromDate": at(2)})) == ["t2", "t3"]
    assert ids(bt.list_tasks({"fromDate": at(1), "toDate": at(3)})) == ["t1", "t2"]  # to is exclusive
    bt.update_task("t2", {"startedAt": at(10)})
    bt.update_task("t3", {"startedAt": at(20)})
    assert ids(bt.list_tasks({"dateFilterBy": "startedAt", "fromDate": at(0)})) == ["t2", "t3"]
    assert ids(bt.list_tasks({"dateFilterBy": "startedAt", "toDate": at(15)})) == ["t2"]


def test_order_by_another_date(bt: DynamoBackgroundTasksStore) -> None:
    _three(bt)
    bt.update_task("t1", {"startedAt": at(30)})
    bt.update_task("t3", {"startedAt": at(10)})
    # a task without the date sorts as the earliest
    assert ids(bt.list_tasks({"orderBy": "startedAt"})) == ["t2", "t3", "t1"]
    assert ids(bt.list_tasks({"orderBy": "startedAt", "orderDirection": "desc"})) == ["t1", "t3", "t2"]


def test_paging(bt: DynamoBackgroundTasksStore) -> None:
    for i in range(5):
        bt.create_task(sample(id=f"p{i}", createdAt=at(i)))
    first = bt.list_tasks({"page": 0, "perPage": 2})
    assert ids(first) == ["p0", "p1"] and first.total == 5
    assert ids(bt.list_tasks({"page": 1, "perPage": 2})) == ["p2", "p3"]
    assert ids(bt.list_tasks({"page": 2, "perPage": 2})) == ["p4"]
    assert ids(bt.list_tasks({"perPage": 3})) == ["p0", "p1", "p2"]
    assert bt.list_tasks({"page": 9, "perPage": 2}).tasks == [] and bt.list_tasks({"page": 9, "perPage": 2}).total == 5
    paged = bt.list_tasks({"toolName": "test-tool", "page": 1, "perPage": 2})  # the in-memory path pages alike
    assert ids(paged) == ["p2", "p3"] and paged.total == 5
    with pytest.raises(ValidationError):
        bt.list_tasks({"page": -1, "perPage": 2})
    with pytest.raises(ValidationError):
        bt.list_tasks({"perPag": 2})


def test_delete_task_and_delete_tasks(bt: DynamoBackgroundTasksStore) -> None:
    _three(bt)
    bt.delete_task("t1")
    bt.delete_task("t1")  # a missing id is not an error
    assert bt.get_task("t1") is None
    bt.delete_tasks({"status": "completed"})
    assert ids(bt.list_tasks()) == ["t2"]
    bt.create_task(sample(id="t4", status="failed"))
    bt.create_task(sample(id="t5", status="cancelled"))
    bt.delete_tasks({"status": ["failed", "cancelled"]})
    assert ids(bt.list_tasks()) == ["t2"]
    bt.delete_tasks({})
    assert bt.list_tasks().total == 0


def test_running_counts(bt: DynamoBackgroundTasksStore) -> None:
    assert bt.get_running_count() == 0
    bt.create_task(sample(status="running", agentId="a1"))
    bt.create_task(sample(status="running", agentId="a1"))
    bt.create_task(sample(status="running", agentId="a2"))
    done = sample(status="completed", agentId="a1")
    bt.create_task(done)
    assert bt.get_running_count() == 3
    assert bt.get_running_count_by_agent("a1") == 2
    assert bt.get_running_count_by_agent("a2") == 1
    assert bt.get_running_count_by_agent("unknown") == 0
    bt.update_task(done["id"], {"status": "running"})
    assert bt.get_running_count_by_agent("a1") == 3
    # an agent id that is a prefix of another's is not mixed up with it
    bt.create_task(sample(status="running", agentId="a1x"))
    assert bt.get_running_count_by_agent("a1") == 3 and bt.get_running_count_by_agent("a1x") == 1


def test_clear_all(bt: DynamoBackgroundTasksStore) -> None:
    _three(bt)
    bt.dangerously_clear_all()
    assert bt.list_tasks().total == 0 and bt.get_running_count() == 0


def test_store_names_and_clock(bt: DynamoBackgroundTasksStore, clock: FakeClock) -> None:
    task = sample()
    del task["createdAt"]
    stored = bt.create_task(task)
    assert abs(stored.created_at - clock.now) < timedelta(days=1)


def test_the_composite_store_routes_background_tasks(clocked_store: object) -> None:
    from mastra_dynamo.composite import MastraCompositeStore

    composite = MastraCompositeStore(id="c", default=clocked_store)
    tasks = composite.get_store("backgroundTasks")
    assert tasks is clocked_store.get_store("backgroundTasks")  # type: ignore[attr-defined]
    assert composite.get_store("background_tasks") is tasks
    tasks.create_task(sample(id="via-composite"))
    assert tasks.get_task("via-composite") is not None
