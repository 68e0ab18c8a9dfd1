"""Which reads are strongly consistent (README, "Consistency and cost"; ``DynamoDBStore(consistent_reads=...)``).

Always strong: message histories, by-id message lookups, workflow snapshots (resume reads what suspend wrote)
and every read that plans a conditional write. Eventual by default, strong with ``consistent_reads=True``:
threads and resources by id and the records of thread and workflow-run listings (their entries come from an
index, which is eventually consistent anyway). A listed head that is older than its chunks is read again,
strongly, so a listing never fails on a snapshot rewritten meanwhile.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.schema import keys
from tests.conftest import Backend, fresh_store


@contextmanager
def reads(store: DynamoDBStore) -> Iterator[list[tuple[str, bool]]]:
    """(operation, ConsistentRead) of every read the store sends inside the block."""
    seen: list[tuple[str, bool]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in ("GetItem", "Query"):
            seen.append((model.name, bool(params.get("ConsistentRead"))))
        elif model.name == "BatchGetItem":
            for request in params["RequestItems"].values():
                seen.append((model.name, bool(request.get("ConsistentRead"))))

    events = store.table.raw.meta.events
    events.register("provide-client-params.dynamodb.*", record, unique_id="test-read-consistency")
    try:
        yield seen
    finally:
        events.unregister("provide-client-params.dynamodb.*", unique_id="test-read-consistency")


def seeded(store: DynamoDBStore) -> None:
    memory, wf = store.get_store("memory"), store.get_store("workflows")
    memory.save_thread(thread={"id": "t1", "resourceId": "r1", "title": "one"})
    memory.save_messages(messages=[{"id": "m1", "threadId": "t1", "resourceId": "r1", "role": "user",
                                    "content": "hello"}])
    memory.update_resource(resource_id="r1", working_memory="# notes")
    for i in range(3):
        wf.persist_workflow_snapshot(workflow_name="wf", run_id=f"run-{i}", resource_id="r1",
                                     snapshot={"runId": f"run-{i}", "status": "running", "context": {}})


def calls(store: DynamoDBStore) -> dict[str, tuple[bool, Callable[[], Any]]]:
    """Each read: (whether it follows ``consistent_reads``, the call)."""
    memory, wf = store.get_store("memory"), store.get_store("workflows")
    return {
        "get_thread_by_id": (True, lambda: memory.get_thread_by_id(thread_id="t1")),
        "get_resource_by_id": (True, lambda: memory.get_resource_by_id(resource_id="r1")),
        "list_threads": (True, lambda: memory.list_threads(filter={"resourceId": "r1"})),
        "list_workflow_runs": (True, lambda: wf.list_workflow_runs(workflow_name="wf")),
        "list_messages": (False, lambda: memory.list_messages(thread_id="t1")),
        "list_messages_by_id": (False, lambda: memory.list_messages_by_id(message_ids=["m1"])),
        "load_workflow_snapshot": (False, lambda: wf.load_workflow_snapshot(workflow_name="wf", run_id="run-0")),
        "get_workflow_run_by_id": (False, lambda: wf.get_workflow_run_by_id(run_id="run-0")),
    }


@pytest.mark.parametrize("strong", [False, True], ids=["default", "consistent_reads"])
def test_each_read_is_as_consistent_as_documented(backend: Backend, strong: bool) -> None:
    with fresh_store(backend, api="sync", consistent_reads=strong) as store:
        seeded(store)
        for name, (optional, call) in calls(store).items():
            with reads(store) as seen:
                result = call()
            assert result is not None, name
            if optional:
                # index Queries are eventual whatever the option (a GSI cannot be read strongly); records follow it
                record_reads = [c for op, c in seen if op in ("GetItem", "BatchGetItem")]
                assert record_reads and all(c is strong for c in record_reads), (name, seen)
            else:
                assert seen and all(c for _, c in seen), (name, seen)
        runs = store.get_store("workflows").list_workflow_runs(workflow_name="wf").runs
        assert [r.run_id for r in runs] == ["run-2", "run-1", "run-0"]


def test_a_listed_head_older_than_its_chunks_is_read_again(backend: Backend) -> None:
    """An eventually consistent head read can return a head whose chunk generation a newer write has
    replaced (and deleted): the run is then read again, strongly, and listed with its current snapshot."""
    with fresh_store(backend, api="sync") as store:
        wf = store.get_store("workflows")

        def big(version: int) -> dict[str, Any]:
            return {"runId": "big", "status": "running", "version": version,
                    "context": {"doc": os.urandom(300 * 1024).hex()}}  # incompressible: chunked

        wf.persist_workflow_snapshot(workflow_name="wf", run_id="big", snapshot=big(1))
        stale = store.table.get_item(keys.run_key("wf", "big"))
        assert stale is not None
        wf.persist_workflow_snapshot(workflow_name="wf", run_id="big", snapshot=big(2))
        with reads(store) as seen:
            run = wf._run_of_head(stale)  # what runs_of does with each head its BatchGetItem returned
        assert run is not None and run.snapshot["version"] == 2
        assert ("GetItem", True) in seen  # the head, read again strongly
