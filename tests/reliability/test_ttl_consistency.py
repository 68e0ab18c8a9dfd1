"""Retention under a controlled clock: expired items are never returned (also when only part of a collection
has expired: pages, totals, include windows), never brought back by an update of any domain, and every item
collection carries one consistent TTL (a message and its pointer, a run head and its live chunks, a
dataset's rows, an experiment's results, an agent's versions). Real expiry by DynamoDB Local is covered by
tests/conformance/test_ttl.py."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore, NotFoundError
from mastra_dynamo.models.memory import MessageItem
from mastra_dynamo.schema import keys
from tests.conftest import Backend, FakeClock, make_store

from .conftest import scan_all, snapshot_table

DAY = 86400

ENTITIES = ("thread", "message", "resource", "workflow_snapshot", "score", "agent", "dataset", "experiment")


@pytest.fixture
def ttl_store(backend: Backend, clock: FakeClock) -> Iterator[DynamoDBStore]:
    store = make_store(backend, clock=clock, ttl={e: {"enabled": True, "defaultTtlSeconds": DAY} for e in ENTITIES})
    store.create_table()
    store.init()
    try:
        yield store
    finally:
        store.delete_table()
        store.close()


def _ttl(item: dict[str, Any]) -> int | None:
    return int(item["ttl"]["N"]) if "ttl" in item else None


def test_half_expired_history_pages_totals_and_windows_show_only_live_messages(ttl_store: DynamoDBStore,
                                                                                clock: FakeClock) -> None:
    memory = ttl_store.get_store("memory")
    start = clock.now
    memory.save_thread(thread={"id": "t", "resourceId": "r"})
    for i in range(12):  # messages written 2 h apart: the oldest expire first
        memory.save_messages(messages=[{"id": f"m{i:02d}", "threadId": "t", "resourceId": "r", "role": "user",
                                        "content": f"{i}", "createdAt": start + timedelta(minutes=i)}])
        clock.advance(hours=2)
    clock.now = start + timedelta(seconds=DAY + 1) + timedelta(hours=9)  # m00..m04 (written <= 8 h) expired
    live = [f"m{i:02d}" for i in range(5, 12)]
    for size in (1, 2, 3, 5):
        seen: list[str] = []
        for page_no in range(10):
            page = memory.list_messages(thread_id="t", page=page_no, per_page=size)
            assert page.total == len(live)
            seen += [m.id for m in page.messages]
            if not page.has_more:
                break
        assert seen == live
    window = memory.list_messages(thread_id="t", per_page=0, include=[
        {"id": "m06", "withPreviousMessages": 5, "withNextMessages": 1},
        {"id": "m02", "withPreviousMessages": 3, "withNextMessages": 3}])
    assert [m.id for m in window.messages] == ["m05", "m06", "m07"]
    assert memory.list_messages_by_id(message_ids=["m00", "m04", "m05"]).messages[0].id == "m05"
    assert len(memory.list_messages_by_id(message_ids=["m00", "m04", "m05"]).messages) == 1
    by_resource = memory.list_messages_by_resource_id(resource_id="r", per_page=3)
    assert by_resource.total == len(live) and [m.id for m in by_resource.messages] == live[:3]
    assert memory.list_messages(thread_id="t", filter={"dateRange": {"end": start + timedelta(minutes=4)}},
                                per_page=False).messages == []


def test_no_update_of_any_domain_brings_an_expired_record_back(ttl_store: DynamoDBStore, clock: FakeClock) -> None:
    memory, wf = ttl_store.get_store("memory"), ttl_store.get_store("workflows")
    agents, datasets = ttl_store.get_store("agents"), ttl_store.get_store("datasets")
    experiments = ttl_store.get_store("experiments")
    memory.save_thread(thread={"id": "t", "resourceId": "r"})
    memory.save_messages(messages=[{"id": "m", "threadId": "t", "resourceId": "r", "role": "user", "content": "x"}])
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="run", snapshot={"status": "suspended"})
    agents.create(agent={"id": "a"})
    datasets.create_dataset(id="d", name="d")
    item = datasets.add_item(dataset_id="d", input=1)
    experiments.create_experiment(id="e", dataset_id="d")
    experiments.add_experiment_result(id="res", experiment_id="e", item_id=item.id)
    clock.advance(seconds=DAY + 1)
    before = snapshot_table(ttl_store)

    for call in (
        lambda: memory.update_thread(id="t", title="back"),
        lambda: agents.update(id="a", metadata={"back": True}),
        lambda: datasets.update_dataset(id="d", name="back"),
        lambda: datasets.add_item(dataset_id="d", input=2),
        lambda: datasets.update_item(id=item.id, dataset_id="d", input=3),
        lambda: datasets.create_dataset_version("d", 5),
        lambda: experiments.update_experiment(id="e", name="back"),
        lambda: experiments.update_experiment_result(id="res", status="reviewed"),
        lambda: experiments.add_experiment_result(experiment_id="e", item_id=item.id),
    ):
        with pytest.raises(NotFoundError):
            call()
    assert memory.update_messages(messages=[{"id": "m", "content": {"content": "back"}}]) == []
    assert wf.update_workflow_state(workflow_name="wf", run_id="run",
                                    opts={"status": "running", "expectedStatus": "suspended"}) is None
    datasets.delete_item(id=item.id, dataset_id="d")
    assert snapshot_table(ttl_store) == before  # nothing written, no TTL extended

    assert memory.get_thread_by_id(thread_id="t") is None
    assert memory.list_messages(thread_id="t").messages == []
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="run") is None
    assert agents.get_by_id(id="a") is None and agents.get_latest_version(agent_id="a") is None
    assert datasets.get_dataset_by_id(id="d") is None and datasets.get_item_by_id(id=item.id) is None
    assert experiments.get_experiment_by_id(id="e") is None
    assert experiments.get_experiment_result_by_id(id="res") is None


def test_every_item_collection_carries_one_consistent_ttl(ttl_store: DynamoDBStore, clock: FakeClock) -> None:
    """A workload with the clock moving between writes; then, in the raw table: a message and its pointer, a
    run head and its live chunks, a dataset and all its rows, an experiment and all its results, slots,
    pointers, an agent and its versions share one TTL value."""
    memory, wf = ttl_store.get_store("memory"), ttl_store.get_store("workflows")
    agents, datasets = ttl_store.get_store("agents"), ttl_store.get_store("datasets")
    experiments = ttl_store.get_store("experiments")
    rng = random.Random(11)
    memory.save_thread(thread={"id": "t1", "resourceId": "r"})
    memory.save_thread(thread={"id": "t2", "resourceId": "r"})
    agents.create(agent={"id": "a"})
    datasets.create_dataset(id="d", name="d")
    experiments.create_experiment(id="e", dataset_id="d")
    blob = rng.randbytes(360_000).hex()
    items: list[str] = []
    for step in range(8):
        clock.advance(minutes=7)
        memory.save_messages(messages=[{"id": f"m{step}", "threadId": "t1", "resourceId": "r", "role": "user",
                                        "content": f"{step}"}])
        if step % 3 == 1:  # a move keeps the message's TTL
            memory.save_messages(messages=[{"id": f"m{step - 1}", "threadId": "t2", "resourceId": "r",
                                            "role": "user", "content": "moved"}])
        memory.update_messages(messages=[{"id": f"m{step}", "content": {"content": "edited"}}])
        wf.persist_workflow_snapshot(workflow_name="wf", run_id="big",
                                     snapshot={"status": "running", "blob": blob, "step": step})
        wf.update_workflow_results(workflow_name="wf", run_id="big", step_id=f"s{step}", result={"ok": step},
                                   request_context={})
        agents.create_version(version={"agentId": "a", "versionNumber": step + 2})
        items.append(datasets.add_item(dataset_id="d", input=step, external_id=f"x{step}").id)
        datasets.update_item(id=items[rng.randrange(len(items))], dataset_id="d", input=-step)
        experiments.upsert_experiment_result(experiment_id="e", item_id=items[-1], output=step)
    raw = scan_all(ttl_store)
    by_key = {(i["pk"]["S"], i["sk"]["S"]): i for i in raw}
    # messages and pointers
    messages = [i for i in raw if i["_et"]["S"] == "message"]
    assert len(messages) == 8
    for message in messages:
        ref = by_key[(keys.message_ref_key(str(MessageItem.id_of(message))).pk, "MI")]
        assert _ttl(ref) == _ttl(message) is not None
    # run head and its live chunks (the previous generations were deleted)
    head = by_key[(keys.run_pk("big"), "N#wf")]
    chunks = [i for i in raw if i["_et"]["S"] == "workflow_chunk"]
    assert chunks and len(chunks) == int(head["snapChunks"]["N"])
    assert {_ttl(c) for c in chunks} == {_ttl(head)}
    assert _ttl(by_key[(keys.run_pk("big"), "I#wf")]) == _ttl(head)  # the run's index entry expires with it
    # collections that expire as a unit with their parent
    for parent_key, parent_pk in ((keys.dataset_key("d"), "D#d"), (keys.experiment_key("e"), "E#e"),
                                  (keys.agent_key("a"), "A#a")):
        parent = by_key[(parent_key.pk, parent_key.sk)]
        children = [i for i in raw if i["pk"]["S"] == parent_pk]
        assert {_ttl(c) for c in children} == {_ttl(parent)}, parent_pk
    pointers = [i for i in raw if i["_et"]["S"] in ("dataset_item_ref", "experiment_result_ref",
                                                     "agent_version_ref", "dataset_item_link")]
    parents = {"dataset_item_ref": "D#d", "dataset_item_link": "D#d", "experiment_result_ref": "E#e",
               "agent_version_ref": "A#a"}
    for pointer in pointers:
        parent_pk = parents[pointer["_et"]["S"]]
        parent = next(i for i in raw if i["pk"]["S"] == parent_pk and i["sk"]["S"] == parent_pk[0])
        assert _ttl(pointer) == _ttl(parent), pointer["pk"]["S"]
    # and all of it expires together: nothing of any collection outlives its parent
    clock.advance(seconds=DAY + 1)
    assert memory.list_messages(thread_id=["t1", "t2"], per_page=False).messages == []
    assert wf.load_workflow_snapshot(workflow_name="wf", run_id="big") is None
    assert agents.list_versions(agent_id="a").versions == []
    assert datasets.get_item_history(items[0]) == []
    assert experiments.list_experiment_results(experiment_id="e").results == []
