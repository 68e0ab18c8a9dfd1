"""Security posture: error messages, error details and log records carry ids, never payloads or credentials;
the operations the library sends are exactly those the IAM grant of infra/ allows.

Failing calls of every domain are run with a distinctive marker in every value (message text, metadata,
snapshots, dataset items, results, titles) and with fake credentials in the environment; every exception's
``str``, ``repr``, ``details`` and formatted cause chain, and every log record (all loggers at INFO and
above, this library's loggers at DEBUG), must be free of both. botocore's own DEBUG logging (off unless an
application turns it on) prints whole requests and must stay off in production (SECURITY.md).
"""

from __future__ import annotations

import ast
import base64
import contextlib
import json
import logging
import os
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore, StorageError
from tests.conftest import Backend, make_store

from .faults import FaultInjector, fast_botocore_backoff

PAYLOAD = "PAYLOAD-7f3a9c-do-not-log"
ACCESS_KEY = "AKIAFAKEQ7RELIABILITY"
SECRET_KEY = "fakeSecret/7Hq2+RELIABILITY+do-not-log"
SESSION_TOKEN = "FAKEsessionTOKEN-RELIABILITY-do-not-log"
SECRETS = (PAYLOAD, ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)
ROOT = Path(__file__).resolve().parents[2]


class Weird:
    def __repr__(self) -> str:
        return PAYLOAD


@pytest.fixture
def secret_store(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDBStore]:
    fast_botocore_backoff(monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    store = make_store(backend, max_snapshot_bytes=50_000)
    store.create_table()
    store.init()
    try:
        yield store
    finally:
        store.delete_table()
        store.close()


def _failing_calls(store: DynamoDBStore) -> list[tuple[str, Callable[[], Any]]]:
    memory, wf, scores = store.get_store("memory"), store.get_store("workflows"), store.get_store("scores")
    agents, datasets = store.get_store("agents"), store.get_store("datasets")
    experiments = store.get_store("experiments")
    big = PAYLOAD + os.urandom(300_000).hex()
    huge = PAYLOAD + base64.b64encode(os.urandom(17_500_000)).decode()  # over the message limit compressed
    memory.save_thread(thread={"id": "t", "resourceId": "r"})
    datasets.create_dataset(id="typed", name="typed", input_schema={"type": "integer"})
    datasets.add_item(dataset_id="typed", input=1, external_id="x")
    experiments.create_experiment(id="e")
    return [
        ("non-JSON content", lambda: memory.save_messages(messages=[
            {"id": "m", "threadId": "t", "role": "user", "content": {"text": PAYLOAD, "n": float("nan")}}])),
        ("oversized message", lambda: memory.save_messages(messages=[
            {"id": "m", "threadId": "t", "role": "user", "content": huge}])),
        ("bad role", lambda: memory.save_messages(messages=[
            {"id": "m", "threadId": "t", "role": PAYLOAD, "content": PAYLOAD}])),
        ("non-JSON metadata", lambda: memory.save_thread(thread={"id": "t", "resourceId": "r", "title": PAYLOAD,
                                                                "metadata": {"k": Weird()}})),
        ("title not a string", lambda: memory.save_thread(thread={"id": "t", "resourceId": "r",
                                                                 "title": [PAYLOAD]})),
        ("missing thread", lambda: memory.update_thread(id="missing", title=PAYLOAD, metadata={"k": PAYLOAD})),
        ("bad update", lambda: memory.update_messages(messages=[{"id": "m", "role": PAYLOAD}])),
        ("bad clone", lambda: memory.clone_thread(source_thread_id="t", title=[PAYLOAD])),
        ("non-JSON snapshot", lambda: wf.persist_workflow_snapshot(workflow_name="wf", run_id="r",
                                                                   snapshot={"s": PAYLOAD, "n": Weird()})),
        ("oversized snapshot", lambda: wf.persist_workflow_snapshot(workflow_name="wf", run_id="r",
                                                                    snapshot={"s": big})),
        ("bad state", lambda: wf.update_workflow_state(workflow_name="wf", run_id="r",
                                                       opts={"status": [PAYLOAD]})),
        ("bad date", lambda: wf.persist_workflow_snapshot(workflow_name="wf", run_id="r", snapshot={},
                                                          created_at=PAYLOAD)),  # type: ignore[arg-type]
        ("bad score", lambda: scores.save_score(score={
            "scorerId": "s", "entityId": "e", "runId": "r", "score": float("nan"), "scorer": {"p": PAYLOAD},
            "source": PAYLOAD, "entity": {}, "reason": PAYLOAD})),
        ("bad agent", lambda: agents.create(agent={"id": "a", "instructions": PAYLOAD, "metadata": PAYLOAD})),
        ("bad agent version", lambda: agents.create_version(version={
            "agentId": "a", "versionNumber": PAYLOAD, "instructions": PAYLOAD})),
        ("bad agent update", lambda: (agents.create(agent={"id": "a2"}),
                                      agents.update(id="a2", visibility=[PAYLOAD]))),
        ("schema violation", lambda: datasets.add_item(dataset_id="typed", input=PAYLOAD)),
        ("identity conflict", lambda: datasets.add_item(dataset_id="typed", input=2, external_id="x")),
        ("non-JSON item", lambda: datasets.add_item(dataset_id="typed", input={"p": PAYLOAD, "n": float("inf")})),
        ("missing dataset", lambda: datasets.update_dataset(id="missing", name=PAYLOAD)),
        ("bad experiment", lambda: experiments.create_experiment(name=PAYLOAD, trial_index=PAYLOAD)),  # type: ignore[arg-type]
        ("missing experiment", lambda: experiments.add_experiment_result(experiment_id="missing", item_id="i",
                                                                         output=PAYLOAD, input=PAYLOAD)),
        ("bad result", lambda: experiments.add_experiment_result(experiment_id="e", item_id="i", status=PAYLOAD,
                                                                 output=PAYLOAD)),
    ]


def _exposed(exc: BaseException) -> str:
    details = exc.details if isinstance(exc, StorageError) else {}
    return "\n".join([str(exc), repr(exc), json.dumps(details, default=str), *traceback.format_exception(exc)])


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="mastra_dynamo")
    caplog.set_level(logging.DEBUG, logger="mastra_dynamo.composite")
    return caplog


def test_errors_and_logs_carry_no_payload_and_no_credentials(secret_store: DynamoDBStore,
                                                             logs: pytest.LogCaptureFixture) -> None:
    leaks: list[str] = []
    calls = _failing_calls(secret_store)
    for label, call in calls:
        with pytest.raises(StorageError) as info:
            call()
        text = _exposed(info.value)
        leaks += [f"{label}: {secret[:12]}" for secret in SECRETS if secret in text]
    assert leaks == []
    assert not any(secret in logs.text for secret in SECRETS)
    assert not any(secret in repr(secret_store) for secret in SECRETS)


def test_backend_failures_name_keys_not_payloads_or_credentials(secret_store: DynamoDBStore, backend: Backend,
                                                                logs: pytest.LogCaptureFixture) -> None:
    memory = secret_store.get_store("memory")
    injector = FaultInjector(secret_store.table.raw, moto=backend.name == "moto", rate=0.0)
    message = {"id": "m1", "threadId": "t", "resourceId": "r", "role": "user", "content": PAYLOAD}
    failures: list[StorageError] = []
    for kind in ("throttle_pte", "http500", "timeout_before", "unrecognized_client", "access_denied"):
        injector.script = [("TransactWriteItems", kind)] * 20
        with pytest.raises(StorageError) as info:
            memory.save_messages(messages=[message])
        failures.append(info.value)
    injector.remove()
    assert [f.code for f in failures] == ["THROTTLED", "RETRYABLE", "RETRYABLE", "ACCESS_DENIED", "ACCESS_DENIED"]
    for failure in failures:
        text = _exposed(failure)
        assert not any(secret in text for secret in SECRETS), failure.code
        assert failure.details["operation"] == "TransactWriteItems"
    named = sorted(tuple(k) for k in failures[0].details["unprocessed"])
    assert named[0] == ("MI#m1", "MI") and named[1] == ("T#t", "L#r")  # pointer, link of resource r
    assert named[2][0] == "T#t" and named[2][1].startswith("M#")
    assert not any(secret in logs.text for secret in SECRETS)


def _granted_actions() -> set[str]:
    """STORAGE_ACTIONS of infra/components/storage_table.py, read without importing the CDK."""
    tree = ast.parse((ROOT / "infra" / "components" / "storage_table.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "STORAGE_ACTIONS":
            value = ast.literal_eval(node.value)  # type: ignore[arg-type]
            return {a.removeprefix("dynamodb:") for a in value}
    raise AssertionError("STORAGE_ACTIONS not found in infra/components/storage_table.py")


def test_the_grant_covers_exactly_what_a_workload_of_every_domain_sends(secret_store: DynamoDBStore) -> None:
    """Dynamic complement of tests/infra/test_access_and_function.py (which checks the synthesized policy
    and the operations named in the code): run every domain and compare what was sent with the grant."""
    store = secret_store
    for _, call in _failing_calls(store):
        with contextlib.suppress(StorageError):
            call()
    from .campaign import Worker

    worker = Worker(0, store, store, FaultInjector(store.table.raw, moto=False, rate=0.0), ops=150, seed=3)
    worker.run()
    worker.verify()
    # creating the table (the fixture's create_table: CreateTable, UpdateTimeToLive) is not the workload
    sent = set(store.request_counts()) - {"CreateTable", "UpdateTimeToLive"}
    granted = _granted_actions()
    transaction_parts = {"PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"}
    assert sent - {"TransactWriteItems"} <= granted, sorted(sent - granted)
    assert "Scan" not in sent
    assert granted - sent <= transaction_parts, sorted(granted - sent)  # nothing granted that is never used
    assert "TransactWriteItems" in sent and transaction_parts <= granted
