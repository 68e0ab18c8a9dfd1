"""A small Lambda handler over the memory domain: append a message to a thread, read a thread's history.

Deployed by ``infra/stacks/memory_function_stack.py`` as the top-level module ``memory_api`` next to the
``mastra_dynamo`` package, behind a function URL with ``AWS_IAM`` authentication (API Gateway works too);
imports nothing but the library, its dependencies (botocore, pynamodb, pydantic) and the standard library.

**botocore.** The dependency layer leaves the AWS SDK to the runtime by default (``infra/packaging.py``:
``RUNTIME_PROVIDED``), whose version AWS does not fix. Before the library (and pynamodb) import the rest of
botocore, :func:`check_botocore` compares the botocore on ``sys.path`` with the library's range
(``BOTOCORE_RANGE``, pyproject.toml's ``botocore`` requirement) and, outside it, fails the import (the function's
INIT) with a ``ConfigurationError`` (``UNSUPPORTED_BOTOCORE``) that says to deploy with
``-c mastra:layerBoto=true``. boto3 is not imported here (the client comes from a botocore session), so its
version does not matter.

**Who is calling.** The caller is taken from the request's authorizer context, never from the body:
``requestContext.authorizer.iam.userArn`` (function URL or HTTP API with IAM auth), ``...authorizer.jwt.claims.sub``
(HTTP API JWT authorizer), ``...authorizer.lambda.principalId`` (HTTP API Lambda authorizer),
``...authorizer.claims.sub`` (REST API Cognito authorizer) or ``...authorizer.principalId`` (REST API Lambda
authorizer). The identity, prefixed with its kind (``iam:``, ``jwt:``, ...), is the thread's ``resourceId``.
An event without one (a direct invocation, an unauthenticated route) is refused with 401.

**Ownership.** Every read and write first loads the thread with ``get_thread_by_id(thread_id=...,
resource_id=caller)`` (a strongly consistent read); a thread of another caller answers 404 exactly like a missing
one. Threads are created by ``append`` without ``threadId`` under a new random id (returned), so no caller can
create, and thereby take over, a thread whose id someone else uses: the library's ``save_thread`` is an upsert
that would overwrite the owner. Message ids are assigned here too, because ``save_messages`` with the id of an
existing message moves that message into the given thread.

**Time.** The store is created ONCE per container, at import time, with ``disable_init=True`` (no DescribeTable
on cold start). Its client's timeouts and attempts come from the function's timeout
(``MASTRA_FUNCTION_TIMEOUT_SECONDS``, set by the stack; :func:`client_budget`), and each invocation's deadline
(``context.get_remaining_time_in_millis()``) stops new attempts that could not finish in time. DynamoDB trouble
therefore ends as a typed retryable error (``THROTTLED``/``RETRYABLE``, HTTP 503) inside the invocation, not as
a Lambda timeout.

Environment:
    MASTRA_TABLE_NAME: the table (set by the stack).
    AWS_REGION: set by the Lambda runtime.
    MASTRA_FUNCTION_TIMEOUT_SECONDS: the function's timeout (default 10).
    MASTRA_TTL: optional JSON per-entity retention, e.g. ``{"message": {"enabled": true,
        "defaultTtlSeconds": 2592000}}`` (the stack enables the table's ``ttl`` attribute; this sets the values).

Request bodies (JSON)::

    {"op": "append", "message": {"role": "user", "content": "Hello"}, "title": "Support"}   # new thread
    {"op": "append", "threadId": "<id>", "message": {"role": "user", "content": "More"}}
    {"op": "history", "threadId": "<id>", "limit": 20}

Responses: ``{"statusCode", "headers", "body"}`` whose body is ``{"ok": true, ...}`` or ``{"ok": false, "error":
{"code", "message", "retryable"}}`` (no stack traces): 400 ``BAD_REQUEST``/validation codes, 401 ``UNAUTHORIZED``,
403 ``FORBIDDEN``, 404 ``NOT_FOUND``, 503 for retryable storage errors (with ``Retry-After``), 500 otherwise.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import botocore
from botocore.config import Config
from botocore.exceptions import ClientError
from pydantic import ValidationError as PydanticValidationError

from mastra_dynamo.errors import ConfigurationError, StorageError, ValidationError

BOTOCORE_RANGE = ((1, 34, 0), (2,))
"""botocore versions the library supports: at least the first, below the second (pyproject.toml's
``botocore>=1.34.0,<2``; a test keeps the two equal)."""


def check_botocore(version: str = botocore.__version__) -> None:
    """Raise ``ConfigurationError`` (``UNSUPPORTED_BOTOCORE``) unless ``version`` is within ``BOTOCORE_RANGE``."""
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:3])
    lowest, below = BOTOCORE_RANGE
    if lowest <= numbers < below:
        return
    supported = f">={'.'.join(map(str, lowest))},<{'.'.join(map(str, below))}"
    raise ConfigurationError(
        f"botocore {version} (from {os.path.dirname(botocore.__file__ or '?')}) is outside the range mastra-dynamo "
        f"supports ({supported}). The Lambda runtime's own SDK is used unless the dependency layer bundles one: "
        "deploy with `cdk deploy -c mastra:layerBoto=true` (the layer then holds constraints/lock.txt's "
        "boto3/botocore), or use a newer runtime (mastra:lambdaPython).",
        code="UNSUPPORTED_BOTOCORE", details={"botocore": version, "supported": supported})


check_botocore()  # before the library's modules (and pynamodb) import more of botocore

from mastra_dynamo import DynamoDBStore, Message  # noqa: E402
from mastra_dynamo.dynamo.session import create_dynamodb_client  # noqa: E402

TABLE_ENV = "MASTRA_TABLE_NAME"
TTL_ENV = "MASTRA_TTL"
TIMEOUT_ENV = "MASTRA_FUNCTION_TIMEOUT_SECONDS"
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_HISTORY = 100
LIBRARY_BACKOFF_SECONDS = 2.0
"""Longest pause the library takes between its own attempts (batch remainders, lost races)."""
MARGIN_SECONDS = 0.25
"""Left for answering after the last DynamoDB request."""


@dataclass(frozen=True)
class ClientBudget:
    """The DynamoDB client's limits for a function timeout, and when to stop starting requests."""

    connect_timeout: float
    read_timeout: float
    max_attempts: int
    """Attempts per request, the first included (botocore's ``total_max_attempts``; its ``max_attempts`` option
    counts retries only)."""
    reserve_seconds: float
    """A request attempt starts only while more than this is left of the invocation: one attempt (connect +
    read), the longest pause before the next one, and a margin to answer."""

    def boto_config(self) -> Config:
        return Config(connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
                      retries={"mode": "standard", "total_max_attempts": self.max_attempts})


def client_budget(timeout_seconds: float) -> ClientBudget:
    """Client limits that fit a function timeout. For 10 s: connect 0.5 s, read 1.5 s, 3 attempts; no attempt
    starts with less than 4.25 s left. (The library's defaults, 20 s reads and 8 attempts, suit servers.)"""
    if timeout_seconds <= 0:
        raise ValueError("timeout_seconds must be positive")
    connect = min(2.0, max(0.2, 0.05 * timeout_seconds))
    read = min(5.0, max(0.5, 0.15 * timeout_seconds))
    attempts = 3 if timeout_seconds < 30 else 5
    # botocore's standard mode pauses rand(0, 1) * min(2 ** (n - 1), 20) s after attempt n.
    longest_pause = max(float(min(2 ** (attempts - 2), 20)), LIBRARY_BACKOFF_SECONDS)
    return ClientBudget(connect_timeout=connect, read_timeout=read, max_attempts=attempts,
                        reserve_seconds=connect + read + longest_pause + MARGIN_SECONDS)


class DeadlineReached(ClientError):  # type: ignore[misc]  # botocore has no type hints
    """Raised before a request attempt that could not finish within the invocation. It carries the error code
    ``RequestTimeout``, so the library reports it as a ``RetryableError`` naming the operation (and the keys of
    a write) like any other timeout; botocore does not retry it."""

    def __init__(self, operation: str, remaining: float) -> None:
        super().__init__({"Error": {"Code": "RequestTimeout",
                                    "Message": f"{remaining:.2f} s left of the invocation: not enough for "
                                               "another DynamoDB request"},
                          "ResponseMetadata": {"HTTPStatusCode": 408}}, operation)


_deadline: ContextVar[float | None] = ContextVar("mastra_invocation_deadline", default=None)
"""``time.monotonic()`` by which the current invocation must have answered (None outside invocations)."""


def make_client(budget: ClientBudget, *, region: str, endpoint_url: str | None = None) -> Any:
    """A DynamoDB client with the library's defaults under ``budget`` and the per-invocation deadline check."""
    client = create_dynamodb_client(region=region, endpoint_url=endpoint_url, boto_config=budget.boto_config())

    def check_deadline(request: Any = None, event_name: str = "", **_: Any) -> None:
        deadline = _deadline.get()
        if deadline is None:
            return
        remaining = deadline - time.monotonic()
        if remaining < budget.reserve_seconds:
            raise DeadlineReached(event_name.rsplit(".", 1)[-1] or "DynamoDB", remaining)

    client.meta.events.register("before-send.dynamodb", check_deadline)
    return client


def _ttl_from_env() -> dict[str, Any] | None:
    raw = os.environ.get(TTL_ENV, "").strip()
    if not raw:
        return None
    config = json.loads(raw)
    if not isinstance(config, dict):
        raise ValueError(f"{TTL_ENV} must be a JSON object of per-entity retention")
    return config


BUDGET = client_budget(float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT_SECONDS))
STORE = DynamoDBStore(
    id="mastra-lambda",
    table_name=os.environ[TABLE_ENV],
    client=make_client(BUDGET, region=os.environ["AWS_REGION"]),
    ttl=_ttl_from_env(),
    consistent_reads=True,  # ownership checks must see the latest owner
    disable_init=True,
)
MEMORY = STORE.get_store("memory")


class RequestError(ValueError):
    """A request the handler refuses; ``status`` and ``code`` go into the response."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _bad(message: str) -> RequestError:
    return RequestError(400, "BAD_REQUEST", message)


def caller_identity(event: Any) -> str | None:
    """The authenticated caller from ``requestContext.authorizer``, prefixed with its kind; None when absent."""
    context = event.get("requestContext") if isinstance(event, dict) else None
    authorizer = context.get("authorizer") if isinstance(context, dict) else None
    if not isinstance(authorizer, dict):
        return None

    def text(*path: str) -> str | None:
        node: Any = authorizer
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, str) and node else None

    for kind, path in (("iam", ("iam", "userArn")), ("jwt", ("jwt", "claims", "sub")),
                       ("lambda", ("lambda", "principalId")), ("cognito", ("claims", "sub")),
                       ("authorizer", ("principalId",))):
        value = text(*path)
        if value is not None:
            return f"{kind}:{value}"
    return None


def _body(event: dict[str, Any]) -> dict[str, Any]:
    raw = event.get("body")
    if raw is None:
        raise _bad("the request has no body")
    if not isinstance(raw, str):
        raise _bad("the body must be a JSON object")
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _bad("the body is not valid base64 UTF-8") from None
    try:
        body = json.loads(raw)
    except json.JSONDecodeError:
        raise _bad("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise _bad(f"'{key}' must be a non-empty string")
    return value


def _owned_thread(thread_id: str, caller: str) -> None:
    if MEMORY.get_thread_by_id(thread_id=thread_id, resource_id=caller) is None:
        raise RequestError(404, "NOT_FOUND", f"thread {thread_id!r} not found")  # or not the caller's


def _append(body: dict[str, Any], caller: str) -> dict[str, Any]:
    message = body.get("message")
    if not isinstance(message, dict):
        raise _bad("'message' must be an object")
    if "id" in message:
        raise _bad("message ids are assigned by the server")
    title = body.get("title")
    if title is not None and not isinstance(title, str):
        raise _bad("'title' must be a string")
    new_thread = body.get("threadId") is None
    thread_id = uuid.uuid4().hex if new_thread else _text(body, "threadId")  # new: an id nobody else holds
    try:  # a message the library would refuse is refused before a new thread is created for it
        record = Message.model_validate({**message, "id": uuid.uuid4().hex, "threadId": thread_id,
                                         "resourceId": caller})
    except PydanticValidationError as exc:
        raise RequestError(400, "INVALID_INPUT", f"invalid message: {exc.error_count()} error(s)") from None
    if new_thread:
        MEMORY.save_thread(thread={"id": thread_id, "resourceId": caller, "title": title})
    else:
        _owned_thread(thread_id, caller)
    saved = MEMORY.save_messages(messages=[record])
    return {"ok": True, "threadId": thread_id, "messages": [m.to_mastra() for m in saved.messages]}


def _history(body: dict[str, Any], caller: str) -> dict[str, Any]:
    thread_id = _text(body, "threadId")
    limit = body.get("limit", 20)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_HISTORY:
        raise _bad(f"'limit' must be an integer within 1..{MAX_HISTORY}")
    _owned_thread(thread_id, caller)
    page = MEMORY.list_messages(thread_id=thread_id, per_page=limit, order_by={"direction": "DESC"})
    messages = [m.to_mastra() for m in reversed(page.messages)]
    return {"ok": True, "threadId": thread_id, "messages": messages, "total": page.total, "hasMore": page.has_more}


_OPS = {"append": _append, "history": _history}


def _response(status: int, payload: dict[str, Any], *, retry_after: bool = False) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if retry_after:
        headers["retry-after"] = "1"
    return {"statusCode": status, "headers": headers, "body": json.dumps(payload, default=str)}


def _error(status: int, code: str, message: str, *, retryable: bool = False) -> dict[str, Any]:
    return _response(status, {"ok": False, "error": {"code": code, "message": message, "retryable": retryable}},
                     retry_after=retryable)


def _remaining_seconds(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000.0 if callable(remaining) else None


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Authenticate, dispatch on the body's ``op``, answer with an HTTP response (never a stack trace)."""
    remaining = _remaining_seconds(context)
    token = _deadline.set(time.monotonic() + remaining if remaining is not None else None)
    try:
        caller = caller_identity(event)
        if caller is None:
            return _error(401, "UNAUTHORIZED", "no authenticated caller in requestContext.authorizer")
        body = _body(event)
        if "resourceId" in body and body["resourceId"] != caller:
            return _error(403, "FORBIDDEN", "resourceId comes from the authenticated caller, not the body")
        op = body.get("op")
        fn = _OPS.get(op) if isinstance(op, str) else None
        if fn is None:
            raise _bad(f"'op' must be one of {sorted(_OPS)}")
        return _response(200, fn(body, caller))
    except RequestError as exc:
        return _error(exc.status, exc.code, str(exc))
    except StorageError as exc:
        status = 503 if exc.retryable else 400 if isinstance(exc, ValidationError) else 500
        return _error(status, exc.code, exc.message, retryable=exc.retryable)
    finally:
        _deadline.reset(token)
