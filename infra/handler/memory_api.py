"""A small Lambda handler over the memory domain: append a message to a thread, read a thread's history.

Deployed by ``infra/stacks/memory_function_stack.py`` as the top-level module ``memory_api`` next to the
``mastra_dynamo`` package; imports nothing but the library and the standard library.

The store (and its boto3 client) is created ONCE per container, at import time, outside the handler, with
``disable_init=True``: the table is provisioned by the CDK stack from the same TABLE_SPEC the library checks, so
no DescribeTable/DescribeTimeToLive runs on cold start or per invocation. (Call ``STORE.init()`` yourself if you
want the layout check, e.g. in a deployment smoke test; it needs only the granted Describe* actions.)

Environment:
    MASTRA_TABLE_NAME: the table (set by the stack from the table construct).
    AWS_REGION: set by the Lambda runtime.
    MASTRA_TTL: optional JSON per-entity retention, e.g. ``{"message": {"enabled": true,
        "defaultTtlSeconds": 2592000}}`` (the stack enables the table's ``ttl`` attribute; this sets the values).

Events::

    {"op": "append", "threadId": "t1", "resourceId": "user-1", "message": {"id": "m1", "role": "user",
     "content": "Hello"}}
    {"op": "history", "threadId": "t1", "limit": 20}

Responses are JSON-serialisable dicts: ``{"ok": true, ...}`` or ``{"ok": false, "error": {"code", "message"}}``
for a StorageError (the handler never leaks a stack trace for a client error).
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from mastra_dynamo import DynamoDBStore, StorageError

TABLE_ENV = "MASTRA_TABLE_NAME"
TTL_ENV = "MASTRA_TTL"
MAX_HISTORY = 100


def _ttl_from_env() -> dict[str, Any] | None:
    raw = os.environ.get(TTL_ENV, "").strip()
    if not raw:
        return None
    config = json.loads(raw)
    if not isinstance(config, dict):
        raise ValueError(f"{TTL_ENV} must be a JSON object of per-entity retention")
    return config


STORE = DynamoDBStore(
    id="mastra-lambda",
    table_name=os.environ[TABLE_ENV],
    region=os.environ["AWS_REGION"],
    ttl=_ttl_from_env(),
    disable_init=True,
)
MEMORY = STORE.get_store("memory")


class BadRequest(ValueError):
    """The event is malformed (reported as code ``BAD_REQUEST``)."""


def _text(event: dict[str, Any], key: str) -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"'{key}' must be a non-empty string")
    return value


def _append(event: dict[str, Any]) -> dict[str, Any]:
    thread_id = _text(event, "threadId")
    resource_id = _text(event, "resourceId")
    message = event.get("message")
    if not isinstance(message, dict):
        raise BadRequest("'message' must be an object")
    thread = MEMORY.get_thread_by_id(thread_id=thread_id)
    if thread is None:
        MEMORY.save_thread(thread={"id": thread_id, "resourceId": resource_id, "title": event.get("title")})
    record = {"id": uuid.uuid4().hex, **message, "threadId": thread_id, "resourceId": resource_id}
    saved = MEMORY.save_messages(messages=[record])
    return {"ok": True, "messages": [m.to_mastra() for m in saved.messages]}


def _history(event: dict[str, Any]) -> dict[str, Any]:
    thread_id = _text(event, "threadId")
    limit = event.get("limit", 20)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_HISTORY:
        raise BadRequest(f"'limit' must be an integer within 1..{MAX_HISTORY}")
    page = MEMORY.list_messages(thread_id=thread_id, per_page=limit, order_by={"direction": "DESC"})
    messages = [m.to_mastra() for m in reversed(page.messages)]
    return {"ok": True, "threadId": thread_id, "messages": messages, "total": page.total, "hasMore": page.has_more}


_OPS = {"append": _append, "history": _history}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Dispatch on ``event["op"]``; StorageError and malformed events become ``{"ok": false, "error": ...}``."""
    op = event.get("op") if isinstance(event, dict) else None
    fn = _OPS.get(op) if isinstance(op, str) else None
    try:
        if fn is None:
            raise BadRequest(f"'op' must be one of {sorted(_OPS)}")
        return fn(event)
    except BadRequest as exc:
        return {"ok": False, "error": {"code": "BAD_REQUEST", "message": str(exc)}}
    except StorageError as exc:
        return {"ok": False, "error": {"code": exc.code, "message": exc.message, "retryable": exc.retryable}}
