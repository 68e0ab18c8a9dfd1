"""Fault injection on one store's botocore client (a ``before-send`` hook registered first).

Every HTTP attempt the client makes (botocore retries included) passes through :meth:`FaultInjector.handler`,
which may replace it with a fault:

* ``throttle_pte`` / ``throttle``: HTTP 400 ProvisionedThroughputExceededException / ThrottlingException,
  nothing applied;
* ``http500`` / ``http503``: InternalServerError / ServiceUnavailable, nothing applied;
* ``reset_before`` / ``timeout_before``: the connection is reset or times out before the server saw the
  request (botocore ``ConnectionClosedError`` / ``ReadTimeoutError``);
* ``reset_after`` / ``timeout_after`` / ``http500_after``: the request IS applied, then the response is lost
  (reset, read timeout) or replaced by a 500: the ambiguous outcome a client must survive;
* ``partial_batch``: a BatchWriteItem / BatchGetItem applies only part of its requests and reports the rest
  as ``UnprocessedItems`` / ``UnprocessedKeys``, as DynamoDB does under load.

The request is forwarded to the backend by the injector itself when a fault needs it (after-faults, partial
batches): over HTTP for DynamoDB Local, through moto's own stubber for moto. A request the injector answered
is re-addressed to ``fault-injected.invalid`` so that moto's stubber (a later handler of the same event)
ignores it. moto ignores ``ClientRequestToken``; on moto the injector gives TransactWriteItems the documented
DynamoDB behaviour (a token seen with a successful response answers a retry without re-applying it).

Faults apply per calling thread: :meth:`outage` makes every attempt of the current thread fail (after a
given number of good ones), so a multi-request operation can be cut at any point.
"""

from __future__ import annotations

import io
import json
import random
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

BEFORE = ("throttle_pte", "throttle", "http500", "http503", "reset_before", "timeout_before")
AFTER = ("reset_after", "timeout_after", "http500_after")
PARTIAL = "partial_batch"
ALL_KINDS = (*BEFORE, *AFTER, PARTIAL)
DEFAULT_WEIGHTS: dict[str, float] = {
    "throttle_pte": 3, "throttle": 2, "http500": 1, "http503": 1, "reset_before": 1, "timeout_before": 1,
    "reset_after": 1, "timeout_after": 1, "http500_after": 1, "partial_batch": 3,
}
OUTAGE_WEIGHTS: dict[str, float] = {
    "throttle_pte": 2, "throttle": 1, "http500": 1, "http503": 1, "reset_before": 1, "timeout_before": 1,
    "reset_after": 1, "timeout_after": 1, "http500_after": 1,
}
EXEMPT = frozenset({"CreateTable", "DeleteTable", "DescribeTable", "DescribeTimeToLive", "UpdateTimeToLive",
                    "Scan"})
"""Table administration and the verifier's scans are never faulted."""

_ERRORS = {
    "throttle_pte": (400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                     "The level of configured provisioned throughput for the table was exceeded."),
    "throttle": (400, "com.amazon.coral.availability#ThrottlingException",
                 "Rate of requests exceeds the allowed throughput."),
    "http500": (500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error"),
    "http500_after": (500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error"),
    "http503": (503, "com.amazon.coral.availability#ServiceUnavailableException", "Service unavailable"),
    "unrecognized_client": (400, "com.amazon.coral.service#UnrecognizedClientException",
                            "The security token included in the request is invalid."),
    "access_denied": (400, "com.amazon.coral.service#AccessDeniedException",
                      "User: arn:aws:sts::123456789012:assumed-role/app/session is not authorized to perform "
                      "this action on the table"),
}
_MUTED_URL = "http://fault-injected.invalid/"


class _Raw(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        data = self.read()
        if data:
            yield data


def _response(url: str, status: int, body: Mapping[str, Any]) -> AWSResponse:
    data = json.dumps(body).encode("utf-8")
    headers = {"Content-Type": "application/x-amz-json-1.0", "Content-Length": str(len(data)),
               "x-amzn-RequestId": "fault-injected"}
    return AWSResponse(url, status, headers, _Raw(data))


class _Local(threading.local):
    outage_after: int | None = None
    seen_in_outage: int = 0
    disabled: bool = False


class FaultInjector:
    """Injects faults into a fraction ``rate`` of the HTTP attempts of ``client`` (see the module docstring)."""

    def __init__(self, client: Any, *, moto: bool, rate: float = 0.1, seed: int = 0,
                 weights: Mapping[str, float] | None = None) -> None:
        self.client = client
        self.moto = moto
        self.rate = rate
        self.weights = dict(weights or DEFAULT_WEIGHTS)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._local = _Local()
        self.attempts: Counter[str] = Counter()
        """HTTP attempts seen, by operation (botocore retries included)."""
        self.injected: Counter[str] = Counter()
        """Faults injected, by kind."""
        self.injected_by_op: Counter[str] = Counter()
        self._tokens: dict[str, bytes] = {}
        self.partial_keep: int | None = None
        """How many requests a partial batch applies (default: a random share)."""
        self.script: list[tuple[str, str]] = []
        """Scripted faults: the next attempt of ``operation`` gets ``kind`` (in order, any thread)."""
        client.meta.events.register_first("before-send.dynamodb.*", self.handler,
                                          unique_id=f"fault-injector-{id(self)}")

    def remove(self) -> None:
        self.client.meta.events.unregister("before-send.dynamodb.*", unique_id=f"fault-injector-{id(self)}")

    # ------------------------------------------------------------------ control (per calling thread)
    @contextmanager
    def outage(self, after: int = 0) -> Iterator[None]:
        """Within the block, every attempt of this thread after the first ``after`` ones fails."""
        self._local.outage_after, self._local.seen_in_outage = after, 0
        try:
            yield
        finally:
            self._local.outage_after = None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No faults for this thread within the block."""
        previous = self._local.disabled
        self._local.disabled = True
        try:
            yield
        finally:
            self._local.disabled = previous

    @property
    def total_injected(self) -> int:
        return sum(self.injected.values())

    # ------------------------------------------------------------------ the hook
    def _choose(self, operation: str) -> str | None:
        local = self._local
        if operation in EXEMPT or local.disabled:
            return None
        with self._lock:
            if self.script and self.script[0][0] == operation:
                return self.script.pop(0)[1]
            if local.outage_after is not None:
                local.seen_in_outage += 1
                if local.seen_in_outage > local.outage_after:
                    return self._weighted(OUTAGE_WEIGHTS)
            if self._rng.random() >= self.rate:
                return None
            return self._weighted(self.weights)

    def _weighted(self, weights: Mapping[str, float]) -> str:
        kinds = list(weights)
        return self._rng.choices(kinds, weights=[weights[k] for k in kinds])[0]

    def handler(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            self.attempts[operation] += 1
        kind = self._choose(operation)
        if kind == PARTIAL and _batch_size(request, operation) < 2:
            kind = None  # only a batch of several requests can be partly processed
        if kind is not None:
            with self._lock:
                self.injected[kind] += 1
                self.injected_by_op[f"{operation}:{kind}"] += 1
        url = request.url
        if kind in BEFORE or (kind in _ERRORS and kind not in AFTER):
            if kind == "reset_before":
                raise ConnectionClosedError(endpoint_url=url)
            if kind == "timeout_before":
                raise ReadTimeoutError(endpoint_url=url)
            return self._error(request, kind)
        if kind in AFTER:
            self._forward(request, event_name, operation)
            if kind == "reset_after":
                raise ConnectionClosedError(endpoint_url=url)
            if kind == "timeout_after":
                raise ReadTimeoutError(endpoint_url=url)
            return self._error(request, kind)
        if kind == PARTIAL:
            return self._partial(request, event_name, operation)
        if self.moto and operation == "TransactWriteItems":
            return self._forward(request, event_name, operation)  # token emulation on moto
        return None

    # ------------------------------------------------------------------ helpers
    def _error(self, request: AWSPreparedRequest, kind: str) -> AWSResponse:
        status, code, message = _ERRORS[kind]
        url = request.url
        request.url = _MUTED_URL
        return _response(url, status, {"__type": code, "message": message})

    def _send(self, request: AWSPreparedRequest, event_name: str) -> tuple[int, bytes]:
        if self.moto:
            from moto.core.models import botocore_stubber

            response = botocore_stubber(event_name=event_name, request=request)
            assert response is not None, "moto did not answer a forwarded request"
        else:
            response = self.client._endpoint.http_session.send(request)
        return int(response.status_code), bytes(response.content)

    def _forward(self, request: AWSPreparedRequest, event_name: str, operation: str) -> AWSResponse:
        """Send the request to the backend now; the caller gets the backend's answer."""
        url = request.url
        token = None
        if self.moto and operation == "TransactWriteItems":
            token = json.loads(request.body or b"{}").get("ClientRequestToken")
            with self._lock:
                cached = self._tokens.get(token) if token else None
            if cached is not None:
                request.url = _MUTED_URL
                return AWSResponse(url, 200, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(cached))
        status, body = self._send(request, event_name)
        if token and status == 200:
            with self._lock:
                self._tokens[token] = body
        request.url = _MUTED_URL
        return AWSResponse(url, status, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body))

    def _partial(self, request: AWSPreparedRequest, event_name: str, operation: str) -> AWSResponse | None:
        body = json.loads(request.body or b"{}")
        ((table, spec),) = body["RequestItems"].items()
        entries = spec if operation == "BatchWriteItem" else spec["Keys"]
        with self._lock:
            keep = self._rng.randint(1, len(entries) - 1) if self.partial_keep is None else \
                min(self.partial_keep, len(entries) - 1)
            order = list(range(len(entries)))
            self._rng.shuffle(order)
        sent = [entries[i] for i in sorted(order[:keep])]
        held = [entries[i] for i in sorted(order[keep:])]
        if operation == "BatchWriteItem":
            body["RequestItems"][table] = sent
        else:
            body["RequestItems"][table] = {**spec, "Keys": sent}
        data = json.dumps(body).encode("utf-8")
        headers = dict(request.headers.items())
        headers["Content-Length"] = str(len(data))
        partial = AWSPreparedRequest(method=request.method, url=request.url, headers=headers, body=data,
                                     stream_output=False)
        status, answer = self._send(partial, event_name)
        url = request.url
        request.url = _MUTED_URL
        if status != 200:
            return AWSResponse(url, status, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(answer))
        parsed = json.loads(answer)
        if operation == "BatchWriteItem":
            parsed.setdefault("UnprocessedItems", {}).setdefault(table, []).extend(held)
        else:
            unprocessed = parsed.setdefault("UnprocessedKeys", {}).setdefault(table, {"Keys": []})
            if "ConsistentRead" in spec:
                unprocessed["ConsistentRead"] = spec["ConsistentRead"]
            unprocessed.setdefault("Keys", []).extend(held)
        return _response(url, 200, parsed)


def _batch_size(request: AWSPreparedRequest, operation: str) -> int:
    if operation not in ("BatchWriteItem", "BatchGetItem"):
        return 0
    ((_, spec),) = json.loads(request.body or b"{}")["RequestItems"].items()
    return len(spec if operation == "BatchWriteItem" else spec["Keys"])


def fast_botocore_backoff(monkeypatch: Any, scale: float = 0.002, cap: float = 0.05) -> None:
    """botocore's standard retry mode waits rand(0,1) * 2**attempt seconds; shrink it for bounded tests
    (the retry decisions, the attempt budget and the retry quota are unchanged)."""
    from botocore.retries import standard

    def delay_amount(self: Any, context: Any) -> float:
        return float(self._random() * min(scale * (2 ** (context.attempt_number - 1)), cap))

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", delay_amount)
