"""Retention of finished tasks, and what each call sends (docs/access-patterns.md, background tasks)."""

from __future__ import annotations

from mastra_dynamo import DynamoDBStore
from tests.conftest import FakeClock, StoreFactory

from .data import sample

DAY = 86400


def test_a_task_expires_only_after_it_completed(store_factory: StoreFactory, clock: FakeClock) -> None:
    store = store_factory(ttl={"background_task": {"enabled": True, "defaultTtlSeconds": DAY}})
    bt = store.get_store("background_tasks")
    running, done = sample(status="running"), sample(status="pending")
    bt.create_task(running)
    bt.create_task(done)
    bt.update_task(done["id"], {"status": "completed", "completedAt": clock.now})
    clock.advance(seconds=DAY + 1)
    assert bt.get_task(done["id"]) is None  # past retention: absent for every read
    assert [t.id for t in bt.list_tasks().tasks] == [running["id"]]
    assert bt.get_task(running["id"]) is not None  # never completed: kept
    assert bt.update_task(done["id"], {"status": "pending"}) is False
    bt.create_task({**done, "status": "pending"})  # an expired task's id can be used again
    assert bt.get_task(done["id"]) is not None


def test_clearing_completed_at_clears_the_expiry(store_factory: StoreFactory, clock: FakeClock) -> None:
    store = store_factory(ttl={"background_task": {"enabled": True, "defaultTtlSeconds": DAY}})
    bt = store.get_store("backgroundTasks")
    task = sample(status="completed", completedAt=clock.now)
    bt.create_task(task)
    assert bt.update_task(task["id"], {"status": "pending", "completedAt": None})  # retried
    clock.advance(seconds=2 * DAY)
    assert bt.get_task(task["id"]) is not None


def _sent(store: DynamoDBStore, before: dict[str, int]) -> dict[str, int]:
    after = store.request_counts()
    return {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}


def test_requests_per_call(clocked_store: DynamoDBStore) -> None:
    bt = clocked_store.get_store("backgroundTasks")
    for i in range(30):
        bt.create_task(sample(id=f"t{i:02d}", status="pending" if i % 3 else "running", agentId=f"a{i % 2}"))
    calls = {
        "create": lambda: bt.create_task(sample(id="new")),
        "claim": lambda: bt.update_task("t01", {"status": "running"}, {"expectedStatus": "pending"}),
        "refused claim": lambda: bt.update_task("t01", {"status": "running"}, {"expectedStatus": "pending"}),
        "get": lambda: bt.get_task("t01"),
        "running count": bt.get_running_count,
        "running count by agent": lambda: bt.get_running_count_by_agent("a1"),
        "pending page": lambda: bt.list_tasks({"status": "pending", "perPage": 5}),
        "delete": lambda: bt.delete_task("new"),
    }
    expected = {
        "create": {"PutItem": 1},
        "claim": {"UpdateItem": 1},
        "refused claim": {"UpdateItem": 1},
        "get": {"GetItem": 1},
        "running count": {"Query": 1},
        "running count by agent": {"Query": 1},
        "pending page": {"Query": 1, "BatchGetItem": 1},
        "delete": {"DeleteItem": 1},
    }
    for name, call in calls.items():
        before = clocked_store.request_counts()
        call()
        assert _sent(clocked_store, before) == expected[name], name
    # listing every task reads each status partition once and the records once
    before = clocked_store.request_counts()
    assert bt.list_tasks().total == 30
    assert _sent(clocked_store, before) == {"Query": 7, "BatchGetItem": 1}
