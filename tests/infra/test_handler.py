"""The Lambda handler on moto: store built once at import, no Describe* per invocation, retention applied."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from types import ModuleType

import boto3
import pytest
from moto import mock_aws

from infra.components.storage_table import STORAGE_ACTIONS
from infra.packaging import HANDLER_DIR
from mastra_dynamo import DynamoDBStore

TABLE = "mastra-handler"


def _load_handler() -> ModuleType:
    """A fresh import of infra/handler/memory_api.py, as a new Lambda container would do."""
    spec = importlib.util.spec_from_file_location("memory_api_under_test", HANDLER_DIR / "memory_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def handler_module(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv("MASTRA_TABLE_NAME", TABLE)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("MASTRA_TTL", json.dumps({"message": {"enabled": True, "defaultTtlSeconds": 3600}}))
    with mock_aws():
        DynamoDBStore(id="setup", table_name=TABLE, region="us-east-1").create_table()
        module = _load_handler()
        yield module
        module.STORE.close()


def test_append_then_history(handler_module: ModuleType) -> None:
    handle = handler_module.handler
    for i, text in enumerate(["Hello", "How are you?"]):
        result = handle({"op": "append", "threadId": "t1", "resourceId": "user-1",
                         "message": {"id": f"m{i}", "role": "user", "content": text}})
        assert result["ok"] is True and result["messages"][0]["id"] == f"m{i}"
    history = handle({"op": "history", "threadId": "t1", "limit": 10})
    assert history["ok"] is True and history["total"] == 2
    assert [m["id"] for m in history["messages"]] == ["m0", "m1"]  # oldest first
    assert history["messages"][1]["content"]["content"] == "How are you?"
    assert handler_module.MEMORY.get_thread_by_id(thread_id="t1").resource_id == "user-1"


def test_no_describe_calls_and_only_granted_operations(handler_module: ModuleType) -> None:
    store = handler_module.STORE
    assert store.disable_init is True
    for i in range(3):
        handler_module.handler({"op": "append", "threadId": "t2", "resourceId": "u",
                                "message": {"id": f"x{i}", "role": "user", "content": "hi"}})
        handler_module.handler({"op": "history", "threadId": "t2"})
    counts = store.request_counts()
    assert not {"DescribeTable", "DescribeTimeToLive"} & set(counts), counts
    granted = {a.removeprefix("dynamodb:") for a in STORAGE_ACTIONS}
    assert set(counts) - {"TransactWriteItems"} <= granted, counts
    assert handler_module.STORE is store  # one store per container, reused across invocations


def test_retention_from_environment_sets_the_ttl_attribute(handler_module: ModuleType) -> None:
    handler_module.handler({"op": "append", "threadId": "t3", "resourceId": "u",
                            "message": {"id": "ttl-1", "role": "user", "content": "expires"}})
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=TABLE)["Items"]  # test-only Scan
    message_items = [i for i in items if i.get("id", {}).get("S") == "ttl-1" and "ttl" in i]
    assert message_items, "the message carries the table's TTL attribute (epoch seconds)"


def test_bad_events_are_reported_not_raised(handler_module: ModuleType) -> None:
    for event in (
        {},
        {"op": "drop"},
        {"op": "append", "threadId": "", "resourceId": "u", "message": {}},
        {"op": "append", "threadId": "t", "resourceId": "u", "message": "text"},
        {"op": "history", "threadId": "t", "limit": 0},
    ):
        result = handler_module.handler(event)
        assert result["ok"] is False and result["error"]["code"] == "BAD_REQUEST", event


def test_storage_errors_become_error_responses(handler_module: ModuleType) -> None:
    result = handler_module.handler({"op": "append", "threadId": "t4", "resourceId": "u",
                                     "message": {"id": "bad", "role": "robot", "content": "x"}})
    assert result["ok"] is False and result["error"]["code"] == "INVALID_INPUT"
