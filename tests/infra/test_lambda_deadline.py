"""The example function's DynamoDB client fits the function's timeout: a throttled or unresponsive table ends
as a typed retryable error inside the invocation, not as a Lambda timeout.

A stub DynamoDB endpoint on 127.0.0.1 answers every request with a throttling error, or answers too late. The
only timing assertion is "before the invocation's deadline" (generous by construction).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import pytest

from mastra_dynamo.errors import RetryableError, ThrottledError, translate_backend_error
from tests.infra.test_handler import ALICE, iam_event, load_handler


class StubDynamoDB(ThreadingHTTPServer):
    """Every request: a ThrottlingException (``mode="throttle"``) or an answer after ``delay`` seconds."""

    daemon_threads = True

    def __init__(self, mode: str, delay: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.delay = delay
        self.requests = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: StubDynamoDB

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        with self.server.lock:
            self.server.requests += 1
        if self.server.mode == "slow":
            time.sleep(self.server.delay)
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                           "message": "Rate of requests exceeds the allowed throughput."}).encode()
        try:
            self.send_response(400)
            self.send_header("content-type", "application/x-amz-json-1.0")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (read timeout)

    def log_message(self, format: str, *args: Any) -> None:
        return


class Context:
    """The part of the Lambda context object the handler uses."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def stub(mode: str, delay: float = 0.0) -> Iterator[StubDynamoDB]:
    server = StubDynamoDB(mode, delay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def handler_on(server: StubDynamoDB, monkeypatch: pytest.MonkeyPatch, timeout: int) -> ModuleType:
    monkeypatch.setenv("MASTRA_TABLE_NAME", "mastra-deadline")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("MASTRA_FUNCTION_TIMEOUT_SECONDS", str(timeout))
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", server.url)  # botocore's service-specific endpoint variable
    monkeypatch.delenv("MASTRA_TTL", raising=False)
    return load_handler("memory_api_deadline")


@pytest.fixture
def throttling() -> Iterator[StubDynamoDB]:
    yield from stub("throttle")


@pytest.fixture
def unresponsive() -> Iterator[StubDynamoDB]:
    yield from stub("slow", delay=30.0)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The handler module without any endpoint (creating its client sends nothing)."""
    monkeypatch.setenv("MASTRA_TABLE_NAME", "mastra-deadline")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    module = load_handler("memory_api_offline")
    yield module
    module.STORE.close()


@pytest.mark.parametrize("timeout", [3, 10, 29, 30, 60, 900])
def test_client_budget_fits_the_function_timeout(offline: ModuleType, timeout: int) -> None:
    budget = offline.client_budget(timeout)
    attempt = budget.connect_timeout + budget.read_timeout
    assert budget.reserve_seconds >= attempt and budget.reserve_seconds < timeout
    assert 2 <= budget.max_attempts <= 5 and budget.read_timeout <= 5
    config = budget.boto_config()
    assert config.retries == {"mode": "standard", "total_max_attempts": budget.max_attempts}
    assert (config.connect_timeout, config.read_timeout) == (budget.connect_timeout, budget.read_timeout)


def test_a_throttled_table_answers_throttled_before_the_deadline(
    throttling: StubDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = handler_on(throttling, monkeypatch, timeout=10)
    try:
        context = Context(10.0)
        started = time.monotonic()
        response = module.handler(iam_event(ALICE, {"op": "append", "message": {"role": "user", "content": "hi"}}),
                                  context)
        assert time.monotonic() < context.deadline, f"answered after {time.monotonic() - started:.1f} s"
        body = json.loads(response["body"])
        assert response["statusCode"] == 503 and response["headers"]["retry-after"] == "1"
        assert body["error"]["code"] == ThrottledError.code and body["error"]["retryable"] is True
        assert throttling.requests == module.BUDGET.max_attempts  # the client's attempts, bounded
    finally:
        module.STORE.close()


def test_an_unresponsive_table_answers_retryable_before_the_deadline(
    unresponsive: StubDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = handler_on(unresponsive, monkeypatch, timeout=10)
    try:
        context = Context(6.0)  # what is left of the invocation when the handler starts
        response = module.handler(iam_event(ALICE, {"op": "history", "threadId": "t1"}), context)
        assert time.monotonic() < context.deadline
        body = json.loads(response["body"])
        assert response["statusCode"] == 503
        assert body["error"]["code"] == RetryableError.code and body["error"]["retryable"] is True
        assert unresponsive.requests < module.BUDGET.max_attempts  # the deadline stopped the retries early
    finally:
        module.STORE.close()


def test_the_deadline_error_is_the_librarys_retryable_error(offline: ModuleType) -> None:
    error = translate_backend_error(offline.DeadlineReached("GetItem", 0.5), operation="GetItem", table="t")
    assert isinstance(error, RetryableError) and not isinstance(error, ThrottledError)
    assert error.details["aws_code"] == "RequestTimeout"
