"""The Lambda handler on moto and DynamoDB Local: callers from the authorizer context, ownership on every read
and write, the store built once at import with no Describe* per invocation, retention applied; the botocore
versions it accepts (the Lambda runtime ships its own)."""

from __future__ import annotations

import base64
import importlib.util
import json
import secrets
import sys
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from infra.components.storage_table import STORAGE_ACTIONS
from infra.packaging import HANDLER_DIR, runtime_requirements
from mastra_dynamo import DynamoDBStore
from mastra_dynamo.errors import ConfigurationError
from mastra_dynamo.models.memory import MessageItem
from tests.conftest import Backend

TABLE = "mastra-handler"
ALICE = "arn:aws:sts::111122223333:assumed-role/app/alice"
BOB = "arn:aws:sts::111122223333:assumed-role/app/bob"


def load_handler(name: str = "memory_api_under_test") -> ModuleType:
    """A fresh import of infra/handler/memory_api.py, as a new Lambda container would do."""
    spec = importlib.util.spec_from_file_location(name, HANDLER_DIR / "memory_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as an import does (dataclasses look their module up there)
    spec.loader.exec_module(module)
    return module


def iam_event(caller: str | None, body: Any, *, base64_body: bool = False) -> dict[str, Any]:
    """A function URL (AWS_IAM auth) request as Lambda receives it."""
    raw = json.dumps(body)
    event: dict[str, Any] = {"version": "2.0", "requestContext": {"http": {"method": "POST"}}}
    if caller is not None:
        event["requestContext"]["authorizer"] = {"iam": {"userArn": caller, "accountId": "111122223333"}}
    event["body"] = base64.b64encode(raw.encode()).decode() if base64_body else raw
    event["isBase64Encoded"] = base64_body
    return event


def answer(response: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = json.loads(response["body"])
    return response["statusCode"], body


@pytest.fixture
def handler_module(monkeypatch: pytest.MonkeyPatch, backend: Backend) -> Iterator[ModuleType]:
    """The handler as a new container imports it, on moto or on DynamoDB Local (its endpoint through botocore's
    ``AWS_ENDPOINT_URL_DYNAMODB``; the handler's code has no endpoint option)."""
    table = f"{TABLE}-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("MASTRA_TABLE_NAME", table)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("MASTRA_TTL", json.dumps({"message": {"enabled": True, "defaultTtlSeconds": 3600}}))
    if backend.endpoint_url:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", backend.endpoint_url)
    else:
        monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    setup = DynamoDBStore(id="setup", table_name=table, region="us-east-1", endpoint_url=backend.endpoint_url)
    setup.create_table()
    module = load_handler()
    try:
        yield module
    finally:
        module.STORE.close()
        setup.delete_table()
        setup.close()


def append(module: ModuleType, caller: str | None, **body: Any) -> tuple[int, dict[str, Any]]:
    result: tuple[int, dict[str, Any]] = answer(module.handler(iam_event(caller, {"op": "append", **body})))
    return result


def history(module: ModuleType, caller: str | None, thread_id: str, **body: Any) -> tuple[int, dict[str, Any]]:
    event = iam_event(caller, {"op": "history", "threadId": thread_id, **body})
    result: tuple[int, dict[str, Any]] = answer(module.handler(event))
    return result


def test_two_callers_cannot_read_or_write_each_others_threads(handler_module: ModuleType) -> None:
    status, created = append(handler_module, ALICE, message={"role": "user", "content": "Hello"}, title="Support")
    assert status == 200 and created["ok"] is True
    thread_id = created["threadId"]
    stored = handler_module.MEMORY.get_thread_by_id(thread_id=thread_id)
    assert stored.resource_id == f"iam:{ALICE}" and stored.title == "Support"
    assert append(handler_module, ALICE, threadId=thread_id, message={"role": "user", "content": "More"})[0] == 200

    # Bob can neither append to Alice's thread nor read it; the answer is the one for a missing thread.
    status, body = append(handler_module, BOB, threadId=thread_id, message={"role": "user", "content": "injected"})
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
    status, body = history(handler_module, BOB, thread_id)
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
    assert history(handler_module, BOB, "no-such-thread")[1]["error"]["code"] == "NOT_FOUND"
    # Naming Alice (or anyone) in the body does not help: the identity comes from the authorizer only.
    status, body = append(handler_module, BOB, threadId=thread_id, resourceId=f"iam:{ALICE}",
                          message={"role": "user", "content": "injected"})
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    status, body = append(handler_module, BOB, threadId=thread_id,
                          message={"role": "user", "content": "injected", "resourceId": f"iam:{ALICE}"})
    assert status == 404
    # Message ids are the server's: an existing id would move that message into the caller's thread.
    status, mine = append(handler_module, BOB, message={"role": "user", "content": "Bob's"})
    assert status == 200
    first_of_alice = created["messages"][0]["id"]
    status, body = append(handler_module, BOB, threadId=mine["threadId"],
                          message={"id": first_of_alice, "role": "user", "content": "x"})
    assert (status, body["error"]["code"]) == (400, "BAD_REQUEST")

    status, alice_history = history(handler_module, ALICE, thread_id, limit=10)
    assert status == 200 and alice_history["total"] == 2
    assert [m["content"]["content"] for m in alice_history["messages"]] == ["Hello", "More"]  # oldest first
    assert {m["resourceId"] for m in alice_history["messages"]} == {f"iam:{ALICE}"}
    status, bob_history = history(handler_module, BOB, mine["threadId"])
    assert status == 200 and [m["content"]["content"] for m in bob_history["messages"]] == ["Bob's"]


def test_identity_comes_only_from_the_authorizer_context(handler_module: ModuleType) -> None:
    body = {"op": "append", "resourceId": "OTHER-USER", "message": {"role": "user", "content": "hi"}}
    for event in (
        body,  # a direct invocation: no request context at all
        iam_event(None, body),  # a request without an authorizer
        {"requestContext": {"authorizer": {"iam": {"userArn": ""}}}, "body": json.dumps(body)},
    ):
        status, result = answer(handler_module.handler(event))
        assert (status, result["error"]["code"]) == (401, "UNAUTHORIZED"), event
    jwt = {"requestContext": {"authorizer": {"jwt": {"claims": {"sub": "user-7"}}}},
           "body": json.dumps({"op": "append", "message": {"role": "user", "content": "hi"}})}
    status, result = answer(handler_module.handler(jwt))
    assert status == 200
    assert handler_module.MEMORY.get_thread_by_id(thread_id=result["threadId"]).resource_id == "jwt:user-7"
    status, result = answer(handler_module.handler(iam_event(ALICE, {"op": "append", "message": {
        "role": "user", "content": "encoded"}}, base64_body=True)))
    assert status == 200


def test_no_describe_calls_and_only_granted_operations(handler_module: ModuleType) -> None:
    store = handler_module.STORE
    assert store.disable_init is True
    thread_id = append(handler_module, ALICE, message={"role": "user", "content": "hi"})[1]["threadId"]
    for _ in range(3):
        append(handler_module, ALICE, threadId=thread_id, message={"role": "user", "content": "hi"})
        history(handler_module, ALICE, thread_id)
    counts = store.request_counts()
    assert not {"DescribeTable", "DescribeTimeToLive"} & set(counts), counts
    granted = {a.removeprefix("dynamodb:") for a in STORAGE_ACTIONS}
    assert set(counts) - {"TransactWriteItems"} <= granted, counts
    assert handler_module.STORE is store  # one store per container, reused across invocations


def test_retention_from_environment_sets_the_ttl_attribute(handler_module: ModuleType) -> None:
    status, body = append(handler_module, ALICE, message={"role": "user", "content": "expires"})
    assert status == 200
    message_id = body["messages"][0]["id"]
    client = boto3.client("dynamodb", region_name="us-east-1")  # the endpoint of the backend, from the environment
    items = client.scan(TableName=handler_module.STORE.table_name)["Items"]  # test-only Scan
    message_items = [i for i in items if i["_et"]["S"] == "message" and MessageItem.id_of(i) == message_id
                     and "ttl" in i]
    assert message_items, "the message carries the table's TTL attribute (epoch seconds)"


def test_bad_requests_are_reported_not_raised(handler_module: ModuleType) -> None:
    for body in (
        {},
        {"op": "drop"},
        {"op": "append", "threadId": "", "message": {"role": "user", "content": "x"}},
        {"op": "append", "message": "text"},
        {"op": "append", "message": {"role": "user", "content": "x"}, "title": 5},
        {"op": "history", "threadId": "t", "limit": 0},
        [1, 2],
    ):
        status, result = answer(handler_module.handler(iam_event(ALICE, body)))
        assert (status, result["ok"], result["error"]["code"]) == (400, False, "BAD_REQUEST"), body
    event = iam_event(ALICE, {})
    event["body"] = "{oops"
    assert answer(handler_module.handler(event))[0] == 400


def test_storage_errors_become_error_responses(handler_module: ModuleType) -> None:
    status, result = append(handler_module, ALICE, message={"role": "robot", "content": "x"})
    assert status == 400 and result["error"]["code"] == "INVALID_INPUT" and result["error"]["retryable"] is False
    assert handler_module.MEMORY.list_threads(filter={"resourceId": f"iam:{ALICE}"}).total == 0  # no empty thread
    # 800 KB of text is more than one item holds: stored in content parts, read back whole
    text = secrets.token_urlsafe(600_000)
    status, result = append(handler_module, ALICE, message={"role": "user", "content": text})
    assert status == 200
    status, page = history(handler_module, ALICE, result["threadId"])
    assert status == 200 and text in json.dumps(page)


def test_the_handler_checks_botocore_against_the_library_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTRA_TABLE_NAME", "mastra-range-check")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    module = load_handler("memory_api_range_check")  # only builds its client: no request is sent
    try:
        (botocore,) = [r for r in runtime_requirements() if canonicalize_name(r.name) == "botocore"]
        lowest, below = module.BOTOCORE_RANGE
        assert botocore.specifier == SpecifierSet(f">={'.'.join(map(str, lowest))},<{'.'.join(map(str, below))}")
        for version in ("1.34.0", "1.38.36", "1.40.61", "1.99.0"):  # 1.38.36: python3.12/3.13 runtimes, 2025-08
            module.check_botocore(version)
        for version in ("1.30.1", "1.33.13", "2.0.0", "unknown"):  # 1.30.1: python3.11 runtime, 2023-11
            with pytest.raises(ConfigurationError, match="mastra:layerBoto=true") as raised:
                module.check_botocore(version)
            assert raised.value.code == "UNSUPPORTED_BOTOCORE" and raised.value.details["botocore"] == version
    finally:
        module.STORE.close()
        sys.modules.pop("memory_api_range_check", None)
