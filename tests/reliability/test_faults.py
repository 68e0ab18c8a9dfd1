"""Targeted faults: each fault kind on each kind of request, partial batches, lost answers of conditional
writes and transactions, and typed errors naming what was not written. The mixed campaign is in
test_fault_campaign.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mastra_dynamo import ThrottledError
from mastra_dynamo.models.memory import MessageItem
from mastra_dynamo.schema import keys

from .conftest import Faulty, scan_all, snapshot_table
from .faults import AFTER, BEFORE

BASE = datetime(2026, 2, 1, tzinfo=UTC)
KINDS = (*BEFORE, *AFTER)


def _messages(thread_id: str, count: int, prefix: str = "m") -> list[dict[str, object]]:
    return [{"id": f"{prefix}{i:03d}", "threadId": thread_id, "resourceId": "r", "role": "user",
             "content": f"text {i}", "createdAt": BASE + timedelta(seconds=i)} for i in range(count)]


@pytest.mark.parametrize("kind", KINDS)
def test_every_fault_kind_is_absorbed_by_each_request_kind(faulty: Faulty, kind: str) -> None:
    """One fault on the first attempt of an UpdateItem, a TransactWriteItems, a BatchGetItem, a Query and a
    GetItem: every call succeeds, and a write whose first attempt was applied is not applied twice."""
    memory = faulty.store.get_store("memory")
    datasets = faulty.store.get_store("datasets")
    inj = faulty.injector
    inj.script = [("UpdateItem", kind)]
    memory.save_thread(thread={"id": "t", "resourceId": "r", "title": "one"})
    inj.script = [("TransactWriteItems", kind)]
    memory.save_messages(messages=_messages("t", 3))  # the thread was just saved: one transaction, no read
    inj.script = [("Query", kind)]
    assert [m.id for m in memory.list_messages(thread_id="t").messages] == ["m000", "m001", "m002"]
    inj.script = [("BatchGetItem", kind)]
    assert [m.id for m in memory.list_messages_by_id(message_ids=["m002", "m000"]).messages] == ["m000", "m002"]
    inj.script = [("GetItem", kind)]
    thread = memory.get_thread_by_id(thread_id="t")
    assert thread is not None and thread.title == "one"
    datasets.create_dataset(id="d", name="d")
    inj.script = [("TransactWriteItems", kind)]
    datasets.add_item(dataset_id="d", input={"q": 1})
    dataset = datasets.get_dataset_by_id(id="d")
    assert dataset is not None and dataset.version == 1  # the token made the retried transaction a no-op
    assert datasets.list_items(dataset_id="d").pagination.total == 1
    assert inj.script == [] and inj.injected[kind] == 6


def test_partial_batches_are_completed(faulty: Faulty) -> None:
    """Every BatchWriteItem / BatchGetItem applies only part of its requests: the library resends the rest
    until all are done."""
    memory = faulty.store.get_store("memory")
    memory.save_thread(thread={"id": "t", "resourceId": "r"})
    memory.save_messages(messages=_messages("t", 60))
    faulty.injector.rate = 1.0
    faulty.injector.weights = {"partial_batch": 1}
    found = memory.list_messages_by_id(message_ids=[f"m{i:03d}" for i in range(60)]).messages
    assert len(found) == 60
    memory.delete_thread(thread_id="t")
    faulty.injector.rate = 0.0
    assert faulty.injector.injected["partial_batch"] >= 4
    assert [i for i in scan_all(faulty.verifier) if i["pk"]["S"] != "R#r"] == []


def test_an_interrupted_thread_cascade_never_leaves_pointers_without_messages(faulty: Faulty) -> None:
    """delete_thread fails part way (batches stay unprocessed): whatever it deleted, every pointer left still
    has its message, so the retry finds and removes everything."""
    memory = faulty.store.get_store("memory")
    memory.save_thread(thread={"id": "t", "resourceId": "r"})
    memory.save_messages(messages=_messages("t", 40))
    faulty.store.table.max_batch_attempts = 2
    faulty.injector.partial_keep = 3
    for _ in range(3):
        faulty.injector.script = [("BatchWriteItem", "partial_batch")] * 2  # each write keeps 3 of its requests
        with pytest.raises(ThrottledError):
            memory.delete_thread(thread_id="t")
        items = scan_all(faulty.verifier)
        messages = {MessageItem.id_of(i) for i in items if i["_et"]["S"] == "message"}
        pointers = {i["pk"]["S"][3:] for i in items if i["_et"]["S"] == "message_ref"}
        assert pointers <= messages
    assert len(pointers) < 40  # the failed attempts did delete part of the thread
    faulty.injector.script = []
    memory.delete_thread(thread_id="t")
    assert [i for i in scan_all(faulty.verifier) if i["pk"]["S"] != "R#r"] == []


def test_unprocessed_batch_writes_raise_a_typed_error_naming_exactly_the_keys_not_written(faulty: Faulty) -> None:
    memory = faulty.store.get_store("memory")
    memory.save_thread(thread={"id": "t", "resourceId": "r"})
    memory.save_messages(messages=_messages("t", 40))
    faulty.store.table.max_batch_attempts = 3
    faulty.injector.rate = 1.0
    faulty.injector.weights = {"partial_batch": 1}
    faulty.injector.partial_keep = 1  # each attempt writes one request: 3 of the first 25, none of the last 15
    with pytest.raises(ThrottledError) as info:
        faulty.store.table.batch_write(deletes=[keys.message_ref_key(f"m{i:03d}") for i in range(40)])
    faulty.injector.rate = 0.0
    error = info.value
    assert error.retryable and error.code == "THROTTLED" and error.details["operation"] == "BatchWriteItem"
    unwritten = {tuple(k) for k in error.details["unprocessed"]}
    remaining = {(i["pk"]["S"], i["sk"]["S"]) for i in scan_all(faulty.verifier) if i["pk"]["S"].startswith("MI#")}
    assert unwritten == remaining and len(remaining) == 37


@pytest.mark.parametrize(("operation", "expected"), [
    ("UpdateItem", [("T#t", "T")]),
    ("TransactWriteItems", [("T#t", "M#2026-02-01T00:00:00.000000Z#m000"), ("MI#m000", "MI"), ("T#t", "T")]),
    ("BatchWriteItem", [("MI#m000", "MI"), ("MI#m001", "MI")]),  # delete_thread: pointers go first
    ("PutItem", [("A#a", "A")]),
])
def test_a_write_that_outlasts_the_retries_names_its_keys_and_changes_nothing(
        faulty: Faulty, operation: str, expected: list[tuple[str, str]]) -> None:
    memory = faulty.store.get_store("memory")
    agents = faulty.store.get_store("agents")
    memory.save_thread(thread={"id": "t", "resourceId": "r", "title": "before"})
    agents.create(agent={"id": "a", "name": "a", "metadata": {"k": 0}})
    memory.save_messages(messages=_messages("t", 2))
    before = snapshot_table(faulty.verifier)
    faulty.injector.script = [(operation, "throttle_pte")] * 20
    with pytest.raises(ThrottledError) as info:
        if operation == "UpdateItem":
            memory.save_thread(thread={"id": "t", "resourceId": "r", "title": "after"})
        elif operation == "TransactWriteItems":
            memory.delete_messages(["m000"])
        elif operation == "BatchWriteItem":
            memory.delete_thread(thread_id="t")
        else:
            agents.update(id="a", metadata={"k": 1})
    faulty.injector.script = []
    error = info.value
    assert error.retryable and error.details["operation"] == operation
    assert sorted(tuple(k) for k in error.details["unprocessed"]) == sorted(expected)
    after = snapshot_table(faulty.verifier)
    if operation == "BatchWriteItem":
        # delete_thread first turns the thread's derived message counters off (its cascade is not atomic);
        # that is the only change a failed cascade leaves, and no stored record changes
        derived = {"_mc", "_mcr", "_mcx", "_mcz", "_rev"}
        thread_key = ("T#t", "T")
        assert "_mcz" in after[thread_key]
        before[thread_key] = {k: v for k, v in before[thread_key].items() if k not in derived}
        after[thread_key] = {k: v for k, v in after[thread_key].items() if k not in derived}
    assert after == before
    assert "before" not in str(error) and "text 0" not in repr(error)  # ids only, no payloads


def test_a_create_whose_answer_was_lost_is_not_reported_as_a_conflict(faulty: Faulty) -> None:
    """The request is applied, the answer is lost, botocore resends it and the resend fails its
    'must not exist' condition: the call must still succeed (the item is this call's own write)."""
    experiments = faulty.store.get_store("experiments")
    datasets = faulty.store.get_store("datasets")
    for kind in AFTER:
        faulty.injector.script = [("PutItem", kind)]
        created = experiments.create_experiment(id=f"e-{kind}", name="x")
        assert experiments.get_experiment_by_id(id=created.id) is not None
        faulty.injector.script = [("PutItem", kind)]
        dataset = datasets.create_dataset(name=f"auto-{kind}")  # generated id
        assert datasets.get_dataset_by_id(id=dataset.id) is not None
    assert faulty.injector.script == []
    assert sum(1 for i in scan_all(faulty.verifier) if i.get("_et", {}).get("S") == "dataset") == len(AFTER)


def test_compare_and_set_whose_answer_was_lost_reports_its_own_win(faulty: Faulty) -> None:
    wf = faulty.store.get_store("workflows")
    for size in (10, 400_000):  # inline and chunked snapshots
        run = f"r{size}"
        wf.persist_workflow_snapshot(workflow_name="wf", run_id=run,
                                     snapshot={"status": "suspended", "blob": "x" * size, "context": {}})
        faulty.injector.script = [("UpdateItem", "timeout_after")]
        outcome = wf.update_workflow_state(workflow_name="wf", run_id=run,
                                           opts={"status": "running", "expectedStatus": "suspended"})
        assert outcome is not None and outcome["status"] == "running"
        faulty.injector.script = [("UpdateItem", "reset_after")]
        context = wf.update_workflow_results(workflow_name="wf", run_id=run, step_id="s",
                                             result={"status": "success"}, request_context={})
        assert context == {"s": {"status": "success"}}
        loaded = faulty.verifier.get_store("workflows").load_workflow_snapshot(workflow_name="wf", run_id=run)
        assert loaded is not None and loaded["status"] == "running" and loaded["context"] == context


def test_a_chunked_snapshot_write_with_an_unknown_outcome_never_loses_the_live_chunks(faulty: Faulty) -> None:
    """The head update of a chunked snapshot is applied but every answer is lost until botocore gives up:
    the call reads the head back, finds its own write and succeeds; the chunks it wrote stay."""
    wf = faulty.store.get_store("workflows")
    big = {"status": "running", "blob": faulty.injector._rng.randbytes(360_000).hex()}
    # the first write of a run puts head and index entry with TransactWriteItems; later writes that keep
    # status, resource and expiry update the head alone with UpdateItem: both kinds lose their answers here
    faulty.injector.script = [("TransactWriteItems", "timeout_after")] * 9
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r", snapshot={**big, "blob": "small"})
    faulty.injector.script = [("UpdateItem", "timeout_after")] * 9
    wf.persist_workflow_snapshot(workflow_name="wf", run_id="r", snapshot=big)
    assert faulty.verifier.get_store("workflows").load_workflow_snapshot(workflow_name="wf", run_id="r") == big
    faulty.injector.script = []


def test_a_staged_dataset_batch_survives_a_lost_claim_answer(faulty: Faulty) -> None:
    """A batch too large for one transaction claims the dataset with a conditional UpdateItem. When that
    answer is lost and the resend fails its condition, the batch must recognise its own claim instead of
    waiting for its own lock to expire."""
    datasets = faulty.store.get_store("datasets")
    datasets.max_transaction_actions = 12
    datasets.lock_wait_attempts = 6
    datasets.create_dataset(id="d", name="d")
    faulty.injector.script = [("UpdateItem", "timeout_after")]
    inserted = datasets.batch_insert_items(dataset_id="d", items=[{"input": i} for i in range(20)])
    assert len(inserted) == 20
    dataset = datasets.get_dataset_by_id(id="d")
    assert dataset is not None and dataset.version == 1
    raw = faulty.verifier.table.get_item(keys.dataset_key("d"))
    assert raw is not None and "lock" not in raw and raw["itemCount"]["N"] == "20"
