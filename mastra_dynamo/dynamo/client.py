"""TableClient: every DynamoDB request of the library goes through here.

Responsibilities: the botocore error seam (``translate_backend_error``), request counting per operation,
complete pagination helpers (always loop on ``LastEvaluatedKey``), BatchGet/BatchWrite chunking with
deduplication and retries of unprocessed keys (exponential backoff with jitter; a typed retryable error
naming what was not processed when the budget runs out), and TransactWriteItems with client request
tokens and parsed cancellation reasons.
"""

from __future__ import annotations

import base64
import functools
import os
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from mastra_dynamo.dynamo.bridge import pause
from mastra_dynamo.dynamo.codec import AttributeValue, Item
from mastra_dynamo.errors import (
    ConflictError,
    RetryableError,
    StorageError,
    ThrottledError,
    translate_backend_error,
)
from mastra_dynamo.schema.keys import Key


@dataclass
class ActiveFence:
    """The run fence of the call in progress (run_fencing.FenceChecks.fencing): every write the call sends
    carries ``check`` (a ConditionCheck transaction action); a failed check raises ``conflict()``."""

    check: dict[str, Any]
    conflict: Callable[[], StorageError]
    writes: int = 0
    """Write requests sent under the fence so far."""


ACTIVE_FENCE: ContextVar[ActiveFence | None] = ContextVar("mastra_dynamo_active_fence", default=None)


@contextmanager
def active_fence(fence: ActiveFence | None) -> Iterator[None]:
    """Within the block every TableClient write carries ``fence`` (None: no fence, e.g. writes that no fenced
    record names)."""
    token = ACTIVE_FENCE.set(fence)
    try:
        yield
    finally:
        ACTIVE_FENCE.reset(token)


_SINGLE_WRITES = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}

_UUID_VARIANT_CLEAR, _UUID_VARIANT = ~(0xC000 << 48), 0x8000 << 48
_UUID_VERSION_CLEAR, _UUID_VERSION = ~(0xF000 << 64), 4 << 76


def uuid4_hex() -> str:
    """``uuid.uuid4().hex``: the same random version-4 UUID (16 bytes of ``os.urandom`` with the RFC 4122
    variant and version bits set), without building a ``uuid.UUID``."""
    value = int.from_bytes(os.urandom(16), "big")
    return "%032x" % ((((value & _UUID_VARIANT_CLEAR) | _UUID_VARIANT) & _UUID_VERSION_CLEAR) | _UUID_VERSION)


def write_token() -> str:
    """A random 12-character text (72 bits, base64url) marking one write of an item: what a conditional
    update of that item expects to find. A third of a UUID's stored bytes, on items written every turn."""
    return base64.urlsafe_b64encode(os.urandom(9)).decode("ascii")


def transaction_capacity() -> int:
    """Actions a caller may put in one transaction: 100, less the fence check of an active run fence."""
    return MAX_TRANSACT_ITEMS - (0 if ACTIVE_FENCE.get() is None else 1)


MAX_BATCH_GET = 100
MAX_BATCH_WRITE = 25
MAX_TRANSACT_ITEMS = 100


class TransactionCancelled(ConflictError):
    """A transaction was cancelled; ``reasons`` holds one code per action (``None`` = that action was fine)."""

    code = "TRANSACTION_CANCELLED"

    def __init__(self, message: str, *, reasons: list[str | None], old_items: list[Item | None],
                 details: dict[str, Any] | None = None, cause: BaseException | None = None) -> None:
        super().__init__(message, details=details, cause=cause)
        self.reasons = reasons
        self.old_items = old_items

    @property
    def condition_failed(self) -> bool:
        return any(r == "ConditionalCheckFailed" for r in self.reasons)


def failed_condition_item(exc: ConflictError) -> Item | None:
    """The item a failed condition was checked against, as the write returned it
    (``ReturnValuesOnConditionCheckFailure=ALL_OLD``; no read capacity): from a single write's error, or from
    the action of a cancelled transaction whose condition failed. None: the item is absent, or the answer did
    not carry it (the caller reads it when it must know which)."""
    if isinstance(exc, TransactionCancelled):
        return next((old for reason, old in zip(exc.reasons, exc.old_items, strict=False)
                     if reason == "ConditionalCheckFailed"), None)
    if isinstance(exc.cause, TransactionCancelled):  # a single write sent under a fence
        return failed_condition_item(exc.cause)
    response = getattr(exc.cause, "response", None)
    item = response.get("Item") if isinstance(response, dict) else None
    return item if isinstance(item, dict) else None


def key_of(item: Item) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["S"]


def key_attr(key: Key) -> Item:
    return {"pk": {"S": key.pk}, "sk": {"S": key.sk}}


class TableClient:
    """A thread-safe wrapper around one botocore DynamoDB client bound to one table."""

    def __init__(
        self,
        *,
        client: Any,
        table_name: str,
        max_batch_attempts: int = 10,
        sleep: Callable[[float], None] = pause,
    ) -> None:
        self._client = client
        self.table_name = table_name
        self.max_batch_attempts = max_batch_attempts
        self._sleep = sleep
        self._lock = threading.Lock()
        self.request_counts: Counter[str] = Counter()

    @property
    def raw(self) -> Any:
        return self._client

    # ------------------------------------------------------------------ low level
    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Send one request; translate any backend failure into the StorageError family. Under a run fence
        (:data:`ACTIVE_FENCE`) a single-item write is sent as a transaction with the fence's check."""
        fence = ACTIVE_FENCE.get()
        if fence is not None and operation in _SINGLE_WRITES:
            return self._fenced_single(operation, params)
        with self._lock:
            self.request_counts[operation] += 1
        method = getattr(self._client, _snake(operation))
        try:
            result: dict[str, Any] = method(**params)
        except StorageError:
            raise
        except Exception as exc:  # botocore ClientError / BotoCoreError / transport errors
            if operation == "TransactWriteItems":
                cancelled = _as_cancellation(exc)
                if cancelled is not None:
                    raise cancelled from exc
            error = translate_backend_error(exc, operation=operation, table=self.table_name)
            if isinstance(error, RetryableError) and operation in _WRITES:
                # Name what may not have been written (keys only: ids, never payloads).
                error.details["unprocessed"] = _written_keys(operation, params, self.table_name)
            raise error from exc
        return result

    def _backoff(self, attempt: int) -> None:
        delay = min(2.0, 0.025 * (2 ** attempt))
        self._sleep(random.uniform(0, delay))

    # ------------------------------------------------------------------ reads
    def get_item(self, key: Key, *, consistent: bool = True, projection: str | None = None,
                 names: dict[str, str] | None = None) -> Item | None:
        params: dict[str, Any] = {"TableName": self.table_name, "Key": key_attr(key), "ConsistentRead": consistent}
        if projection:
            params["ProjectionExpression"] = projection
            if names:
                params["ExpressionAttributeNames"] = names
        item: Item | None = self.call("GetItem", **params).get("Item")
        return item

    def batch_get(self, keys: Iterable[Key], *, consistent: bool = True) -> dict[tuple[str, str], Item]:
        """Get many items (deduplicated, chunked by 100, unprocessed keys retried). Missing keys are absent."""
        unique = list({(k.pk, k.sk): k for k in keys}.values())
        found: dict[tuple[str, str], Item] = {}
        for start in range(0, len(unique), MAX_BATCH_GET):
            pending: list[Item] = [key_attr(k) for k in unique[start:start + MAX_BATCH_GET]]
            attempt = 0
            while pending:
                response = self.call(
                    "BatchGetItem",
                    RequestItems={self.table_name: {"Keys": pending, "ConsistentRead": consistent}},
                )
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[key_of(item)] = item
                pending = response.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
                if pending:
                    attempt += 1
                    if attempt >= self.max_batch_attempts:
                        raise ThrottledError(
                            f"BatchGetItem: {len(pending)} keys still unprocessed after {attempt} attempts",
                            details={"unprocessed": [key_of(k) for k in pending], "operation": "BatchGetItem"},
                        )
                    self._backoff(attempt)
        return found

    def query_pages(self, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every page of a Query, following LastEvaluatedKey to the end (or until the caller stops)."""
        request = {"TableName": self.table_name, **params}
        while True:
            page = self.call("Query", **request)
            yield page
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def query_items(self, params: dict[str, Any]) -> Iterator[Item]:
        for page in self.query_pages(params):
            yield from page.get("Items", [])

    def query_count(self, params: dict[str, Any]) -> int:
        request = dict(params)
        request["Select"] = "COUNT"
        request.pop("ProjectionExpression", None)
        return sum(int(page.get("Count", 0)) for page in self.query_pages(request))

    # ------------------------------------------------------------------ writes
    def batch_write(self, *, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> int:
        """Write and delete many items: deduplicated per key (a put wins over a delete), 25 per request,
        UnprocessedItems retried with backoff. Raises ThrottledError listing unwritten keys. Returns the
        number of requests sent. Under a run fence the writes go as transactions carrying the fence's check
        (99 per transaction)."""
        if ACTIVE_FENCE.get() is not None:
            fenced: dict[tuple[str, str], dict[str, Any]] = {}
            for key in deletes:
                fenced[(key.pk, key.sk)] = {"Delete": {"Key": key_attr(key)}}
            for item in puts:
                fenced[key_of(item)] = {"Put": {"Item": item}}
            actions = list(fenced.values())
            for start in range(0, len(actions), MAX_TRANSACT_ITEMS - 1):
                self.transact_write(actions[start:start + MAX_TRANSACT_ITEMS - 1])
            return -(-len(actions) // (MAX_TRANSACT_ITEMS - 1))
        requests: dict[tuple[str, str], dict[str, Any]] = {}
        for key in deletes:
            requests[(key.pk, key.sk)] = {"DeleteRequest": {"Key": key_attr(key)}}
        for item in puts:
            requests[key_of(item)] = {"PutRequest": {"Item": item}}
        ordered = list(requests.values())
        sent = 0
        for start in range(0, len(ordered), MAX_BATCH_WRITE):
            pending = ordered[start:start + MAX_BATCH_WRITE]
            attempt = 0
            while pending:
                sent += 1
                try:
                    response = self.call("BatchWriteItem", RequestItems={self.table_name: pending})
                except RetryableError as exc:  # this chunk and the ones after it were not (all) written
                    exc.details["unprocessed"] = [_request_key(r)
                                                  for r in pending + ordered[start + MAX_BATCH_WRITE:]]
                    raise
                pending = response.get("UnprocessedItems", {}).get(self.table_name, [])
                if pending:
                    attempt += 1
                    if attempt >= self.max_batch_attempts:
                        remaining = pending + ordered[start + MAX_BATCH_WRITE:]
                        raise ThrottledError(
                            f"BatchWriteItem: {len(remaining)} writes not applied after {attempt} attempts",
                            details={"unprocessed": [_request_key(r) for r in remaining],
                                     "operation": "BatchWriteItem"},
                        )
                    self._backoff(attempt)
        return sent

    def _fenced_single(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """A single-item write under a fence: a transaction of the fence's check and the write. Its own failed
        condition is a ConflictError as without a fence; ``ReturnValues=ALL_NEW`` is answered by a strongly
        consistent read of the item afterwards (other return values are not available: empty); the item a
        failed condition saw is returned as without a fence (``failed_condition_item``)."""
        body = {k: v for k, v in params.items() if k != "ReturnValues"}
        try:
            self.transact_write([{_SINGLE_WRITES[operation]: body}])
        except TransactionCancelled as exc:
            raise ConflictError(f"{operation}: condition not met", details={"operation": operation},
                                cause=exc) from exc
        if params.get("ReturnValues") != "ALL_NEW":
            return {}
        key = params.get("Key") or {name: params["Item"][name] for name in ("pk", "sk")}
        item = self.call("GetItem", TableName=self.table_name, Key=key, ConsistentRead=True).get("Item")
        return {"Attributes": item or {}}

    def transact_write(self, actions: Sequence[dict[str, Any]], *, token: str | None = None) -> None:
        """One TransactWriteItems (<= 100 actions). Retries are idempotent through the client request token.
        Under a run fence the fence's check is added as the first action: a failed check raises the fence's
        conflict; any other cancellation is reported for the caller's actions alone.

        Raises TransactionCancelled (with per-action reasons) when DynamoDB cancels it."""
        if not actions:
            return
        fence = ACTIVE_FENCE.get()
        if fence is not None:
            fence.writes += 1
            try:
                self._transact([fence.check, *actions], token=token)
            except TransactionCancelled as exc:
                if exc.reasons and exc.reasons[0] == "ConditionalCheckFailed":
                    raise fence.conflict() from exc
                reasons, old = exc.reasons[1:], exc.old_items[1:]
                raise TransactionCancelled(
                    "transaction cancelled: " + ", ".join(r or "None" for r in reasons), reasons=reasons,
                    old_items=old, details={**exc.details, "reasons": reasons}, cause=exc.cause) from exc
            return
        self._transact(actions, token=token)

    def _transact(self, actions: Sequence[dict[str, Any]], *, token: str | None) -> None:
        if len(actions) > MAX_TRANSACT_ITEMS:
            raise ValueError("too many actions for one transaction")
        prepared = []
        for action in actions:
            ((kind, body),) = action.items()
            # an action naming its table is sent as it is (what ``{"TableName": ..., **body}`` gives it)
            prepared.append(action if "TableName" in body else {kind: {"TableName": self.table_name, **body}})
        self.call("TransactWriteItems", TransactItems=prepared, ClientRequestToken=token or uuid4_hex())


@functools.cache
def _snake(operation: str) -> str:
    out = []
    for i, ch in enumerate(operation):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})


def _written_keys(operation: str, params: dict[str, Any], table: str) -> list[tuple[str, str]]:
    """The (pk, sk) of every item a write request would change."""
    if operation == "PutItem":
        return [key_of(params["Item"])]
    if operation in ("UpdateItem", "DeleteItem"):
        return [key_of(params["Key"])]
    if operation == "BatchWriteItem":
        return [_request_key(r) for r in params.get("RequestItems", {}).get(table, [])]
    out: list[tuple[str, str]] = []
    for action in params.get("TransactItems", []):
        for kind, body in action.items():
            if kind == "Put":
                out.append(key_of(body["Item"]))
            elif kind in ("Update", "Delete"):
                out.append(key_of(body["Key"]))
    return out


def _request_key(request: dict[str, Any]) -> tuple[str, str]:
    if "PutRequest" in request:
        return key_of(request["PutRequest"]["Item"])
    return key_of(request["DeleteRequest"]["Key"])


def _as_cancellation(exc: BaseException) -> TransactionCancelled | None:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    if (response.get("Error") or {}).get("Code") != "TransactionCanceledException":
        return None
    raw: list[dict[str, Any]] = response.get("CancellationReasons") or []
    reasons: list[str | None] = []
    old: list[Item | None] = []
    for reason in raw:
        code = reason.get("Code")
        reasons.append(None if code in (None, "None") else str(code))
        old.append(reason.get("Item"))
    if not raw:
        # Some endpoints omit the list; recover the codes from the message "[ConditionalCheckFailed, None]".
        message = str((response.get("Error") or {}).get("Message", ""))
        if "[" in message:
            inner = message[message.index("[") + 1:message.rindex("]")] if "]" in message else ""
            reasons = [None if p.strip() in ("None", "") else p.strip() for p in inner.split(",")]
    return TransactionCancelled(
        "transaction cancelled: " + ", ".join(r or "None" for r in reasons),
        reasons=reasons,
        old_items=old,
        details={"operation": "TransactWriteItems", "reasons": reasons},
    )


def attr_s(item: Item, name: str) -> str | None:
    value: AttributeValue | None = item.get(name)
    if value is None or "S" not in value:
        return None
    text: str = value["S"]
    return text
