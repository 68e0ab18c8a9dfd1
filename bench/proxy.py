"""A counting HTTP proxy in front of a DynamoDB endpoint (DynamoDB Local or moto server).

Both clients of the side-by-side benchmark (botocore in Python, the AWS SDK v3 in Node) send their requests
through this proxy, so they are counted the same way: by the ``X-Amz-Target`` header
(``DynamoDB_20120810.<Operation>``).

- Consumed capacity: for operations that accept it, the proxy adds ``ReturnConsumedCapacity: INDEXES`` to a
  request that did not ask for it, records the ``ConsumedCapacity`` of the response and removes it again
  (recomputing ``X-Amz-Crc32``), so the client sees the response it would have seen. The local endpoints do
  not check request signatures, so rewriting the body is harmless there. DynamoDB Local reports realistic
  numbers; moto reports placeholders.
- Transactions: DynamoDB Local under-reports TransactWriteItems (identical per-item capacities inside one
  transaction are counted once), so for each of them the proxy reads the before-images of its items (one
  strongly consistent BatchGetItem on its own connection, before forwarding) and, when it succeeded, the
  after-images of its Puts and Updates (after the response, before answering the client, so the client's next
  write cannot overtake the read), and records ``bench.pricing``'s figure as ``cu`` / ``gsi_cu`` / ``gsi``
  (a cancelled one is priced too). Every record also carries DynamoDB Local's own figure as ``cu_reported`` /
  ``gsi_cu_reported``; a TransactWriteItems record adds ``gsi_reported`` and ``priced`` (False: it could not
  be priced, or is an idempotent replay, and keeps the reported figure). These side requests (and the one
  DescribeTable per table they need) are not recorded and are outside ``ms``.
- Attribution: the benchmark driver calls ``GET /__bench/mark?label=<op>`` before each storage call (outside its
  timing). Every request until the next mark belongs to that call. ``GET /__bench/dump`` returns the calls
  recorded since the last dump, as JSON, and starts a new log.

Run: ``python -m bench.proxy --upstream http://127.0.0.1:8000 --port 0`` prints ``PORT <n>`` when ready.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import socket
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.pricing import Action, Item, Priced, TableShape, parse_actions, price_transaction

CAPACITY_OPERATIONS = frozenset({
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
    "TransactWriteItems", "TransactGetItems",
})
AUTH_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")
"""Copied onto the proxy's own requests: DynamoDB Local keeps tables per access key and region."""
TOKEN_MEMORY_S = 600.0
"""DynamoDB's idempotency window: a successful token sent again within it is a replay, billed as a read."""
HOP_HEADERS = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te",
                         "trailer", "proxy-authorization", "proxy-authenticate"})


def capacity_units(consumed: Any) -> tuple[float, dict[str, float]]:
    """(total, per global secondary index) capacity units of a ConsumedCapacity value (one dict or a list of
    them, as returned with ``ReturnConsumedCapacity: INDEXES``)."""
    entries = consumed if isinstance(consumed, list) else [consumed] if isinstance(consumed, dict) else []
    total = 0.0
    indexes: dict[str, float] = {}
    for entry in entries:
        total += float(entry.get("CapacityUnits", 0) or 0)
        for name, index in (entry.get("GlobalSecondaryIndexes") or {}).items():
            indexes[name] = indexes.get(name, 0.0) + float(index.get("CapacityUnits", 0) or 0)
    return total, indexes


class SideRequestError(Exception):
    """A request the proxy sent for itself failed; the transaction keeps DynamoDB Local's reported figure."""


class ImageReader:
    """Reads item images and table shapes for transaction pricing, on the proxy's own connection (one per
    thread, apart from the forwarding connection). Nothing it sends is recorded."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.local = threading.local()
        self.lock = threading.Lock()
        self.shapes: dict[str, TableShape] = {}

    def _call(self, operation: str, payload: dict[str, Any], auth: dict[str, str]) -> dict[str, Any]:
        body = json.dumps(payload).encode()
        headers = {**auth, "Content-Type": "application/x-amz-json-1.0", "Content-Length": str(len(body)),
                   "X-Amz-Target": f"DynamoDB_20120810.{operation}", "Host": f"{self.host}:{self.port}"}
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request("POST", "/", body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise SideRequestError(f"{operation}: {exc}") from exc
        if response.status != 200:
            raise SideRequestError(f"{operation}: HTTP {response.status} {data[:200]!r}")
        parsed: dict[str, Any] = json.loads(data)
        return parsed

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            conn.connect()
            assert conn.sock is not None
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.local.conn = conn
        return conn

    def shapes_of(self, transact_items: list[dict[str, Any]], auth: dict[str, str]) -> dict[str, TableShape]:
        """The shape of every table the transaction names (DescribeTable once per table name)."""
        names = {body["TableName"] for entry in transact_items for body in entry.values()}
        for name in names - self.shapes.keys():
            shape = TableShape.from_description(self._call("DescribeTable", {"TableName": name}, auth)["Table"])
            with self.lock:
                self.shapes[name] = shape
        return {name: self.shapes[name] for name in names}

    def images(self, actions: list[Action], tables: dict[str, TableShape], auth: dict[str, str]
               ) -> list[Item | None]:
        """The current item of every action (None: no item), by strongly consistent BatchGetItem (a transaction
        has at most 100 actions, BatchGetItem takes 100 keys; keys it leaves unprocessed are asked again)."""
        found: dict[tuple[str, str], Item] = {}
        pending: dict[str, list[Item]] = {}
        for action in actions:
            pending.setdefault(action.table, []).append(action.key)
        for _ in range(20):
            if not pending:
                return [found.get((a.table, _key_id(a.key))) for a in actions]
            request = {name: {"Keys": keys, "ConsistentRead": True} for name, keys in pending.items()}
            response = self._call("BatchGetItem", {"RequestItems": request}, auth)
            for name, items in (response.get("Responses") or {}).items():
                for item in items:
                    found[(name, _key_id(tables[name].key_of(item)))] = item
            pending = {name: r["Keys"] for name, r in (response.get("UnprocessedKeys") or {}).items() if r["Keys"]}
        raise SideRequestError("BatchGetItem: keys left unprocessed")


def _key_id(key: Item) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


class TransactionPricing:
    """One TransactWriteItems in flight: its actions and before-images, then its priced capacity."""

    def __init__(self, reader: ImageReader, payload: dict[str, Any], auth: dict[str, str]) -> None:
        self.reader, self.auth = reader, auth
        self.tables = reader.shapes_of(payload["TransactItems"], auth)
        self.actions = parse_actions(payload["TransactItems"], self.tables)
        self.before = reader.images(self.actions, self.tables, auth)

    def price(self, succeeded: bool) -> Priced:
        """Succeeded: priced from before- and after-images. Otherwise the transaction was cancelled."""
        return price_transaction(self.actions, self.before, self._after() if succeeded else None, self.tables)

    def _after(self) -> list[Item | None]:
        """After-images: read for Put and Update; a Delete leaves no item and a ConditionCheck leaves it as it was."""
        written = [a for a in self.actions if a.kind in ("Put", "Update")]
        read = iter(self.reader.images(written, self.tables, self.auth) if written else [])
        after: list[Item | None] = []
        for action, old in zip(self.actions, self.before, strict=True):
            if action.kind in ("Put", "Update"):
                after.append(next(read))
            else:
                after.append(None if action.kind == "Delete" else old)
        return after


class Recorder:
    """The call log: one entry per mark, holding the requests sent until the next mark."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None

    def _open(self, label: str) -> dict[str, Any]:
        self.current = {"label": label, "requests": []}
        self.calls.append(self.current)
        return self.current

    def mark(self, label: str) -> None:
        with self.lock:
            self._open(label)

    def record(self, request: dict[str, Any]) -> None:
        with self.lock:
            current = self.current if self.current is not None else self._open("(unmarked)")
            current["requests"].append(request)

    def dump(self) -> list[dict[str, Any]]:
        with self.lock:
            calls, self.calls, self.current = self.calls, [], None
            return calls


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms Nagle/delayed-ACK stalls
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self._finish(body)

    def _finish(self, body: bytes) -> None:
        """End the headers and send them together with the body in one write."""
        buffer: list[bytes] = self._headers_buffer  # type: ignore[attr-defined]
        buffer.append(b"\r\n")
        self.wfile.write(b"".join(buffer) + body)
        buffer.clear()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/__bench/mark":
            label = parse_qs(url.query).get("label", ["?"])[0]
            self.server.recorder.mark(label)
            self._reply(200, b"{}")
        elif url.path == "/__bench/dump":
            self._reply(200, json.dumps(self.server.recorder.dump()).encode())
        elif url.path == "/__bench/ping":
            self._reply(200, b"{}")
        else:
            self._forward(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._forward(self.rfile.read(length) if length else b"")

    def _upstream(self) -> http.client.HTTPConnection:
        local = self.server.local
        conn: http.client.HTTPConnection | None = getattr(local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.server.upstream_host, self.server.upstream_port, timeout=120)
            conn.connect()
            assert conn.sock is not None
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            local.conn = conn
        return conn

    def _forward(self, body: bytes) -> None:
        target = self.headers.get("X-Amz-Target", "")
        operation = target.rsplit(".", 1)[-1] if target else self.command
        payload = _json_object(body) if operation in CAPACITY_OPERATIONS and body else None
        injected = payload is not None and "ReturnConsumedCapacity" not in payload
        if payload is not None and injected:
            payload["ReturnConsumedCapacity"] = "INDEXES"
            body = json.dumps(payload).encode()
        pricing = self._start_pricing(payload) if operation == "TransactWriteItems" and payload else None
        started = time.perf_counter()
        answer = self._send_upstream(body)
        if answer is None:
            self._reply(502, b'{"__type":"bench#ProxyError","message":"upstream failed"}')
            return
        elapsed = time.perf_counter() - started
        status, response_headers, data = answer
        error = _error_type(status, data) if status >= 400 else None
        parsed = _json_object(data) if operation in CAPACITY_OPERATIONS and status < 400 and data else None
        total, indexes = capacity_units(parsed.get("ConsumedCapacity")) if parsed else (0.0, {})
        if parsed is not None and injected and "ConsumedCapacity" in parsed:
            del parsed["ConsumedCapacity"]
            data = json.dumps(parsed, separators=(",", ":")).encode()
        record: dict[str, Any] = {"op": operation, **_capacity_fields(total, indexes), "cu_reported": total,
                                  "gsi_cu_reported": sum(indexes.values()), "ms": elapsed * 1000,
                                  "req_bytes": len(body), "resp_bytes": len(data), "error": error}
        if operation == "TransactWriteItems":
            record.update(self._finish_pricing(pricing, payload or {}, status, error, indexes))
        self.server.recorder.record(record)
        self.send_response(status)
        for key, value in response_headers:
            lower = key.lower()
            if lower in HOP_HEADERS or lower in ("content-length", "x-amz-crc32"):
                continue
            self.send_header(key, value)
        self.send_header("X-Amz-Crc32", str(zlib.crc32(data) & 0xFFFFFFFF))
        self.send_header("Content-Length", str(len(data)))
        self._finish(data)

    def _send_upstream(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """The upstream's (status, headers, body) for the client's request; None when it cannot be reached."""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS and
                   k.lower() not in ("content-length", "host")}
        headers["Host"] = f"{self.server.upstream_host}:{self.server.upstream_port}"
        headers["Content-Length"] = str(len(body))
        for _ in (1, 2):
            conn = self._upstream()
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.getheaders(), response.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                conn.close()
                self.server.local.conn = None
        return None

    def _start_pricing(self, payload: dict[str, Any]) -> TransactionPricing | None:
        """Before-images of a transaction's items, read before it is forwarded. None when it cannot be priced
        (an idempotent replay, which DynamoDB bills as a read of the stored result, or a failed side request):
        the record then keeps DynamoDB Local's figure."""
        if self.server.is_replay(payload.get("ClientRequestToken")):
            return None
        auth = {name: self.headers[name] for name in AUTH_HEADERS if self.headers.get(name)}
        try:
            return TransactionPricing(self.server.images, payload, auth)
        except (SideRequestError, KeyError, StopIteration, TypeError, ValueError):
            return None

    def _finish_pricing(self, pricing: TransactionPricing | None, payload: dict[str, Any], status: int,
                        error: str | None, reported_indexes: dict[str, float]) -> dict[str, Any]:
        """The fields of a TransactWriteItems record that replace (or, unpriced, keep) the reported figure."""
        kept = {"gsi_reported": reported_indexes, "priced": False}
        if status < 400:
            self.server.remember(payload.get("ClientRequestToken"))
        elif error != "TransactionCanceledException":
            return kept  # rejected before running (validation, idempotency mismatch...): nothing consumed
        if pricing is None:
            return kept
        try:
            priced = pricing.price(succeeded=status < 400)
        except (SideRequestError, KeyError, TypeError, ValueError):
            return kept
        return {**_capacity_fields(priced.total, priced.indexes), "gsi_reported": reported_indexes, "priced": True}


def _json_object(data: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(data)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _error_type(status: int, data: bytes) -> str:
    parsed = _json_object(data)
    return str(parsed.get("__type", "")).rsplit("#", 1)[-1] if parsed is not None else str(status)


def _capacity_fields(total: float, indexes: dict[str, float]) -> dict[str, Any]:
    return {"cu": total, "gsi_cu": sum(indexes.values()), "gsi": indexes}


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, upstream: str) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        url = urlsplit(upstream)
        self.upstream_host = url.hostname or "127.0.0.1"
        self.upstream_port = url.port or 80
        self.recorder = Recorder()
        self.local = threading.local()
        self.images = ImageReader(self.upstream_host, self.upstream_port)
        self.tokens: dict[str, float] = {}
        self.tokens_lock = threading.Lock()

    def is_replay(self, token: str | None) -> bool:
        """Whether ``token`` belongs to a transaction that succeeded within DynamoDB's idempotency window."""
        with self.tokens_lock:
            return token is not None and time.monotonic() - self.tokens.get(token, -math.inf) < TOKEN_MEMORY_S

    def remember(self, token: str | None) -> None:
        if token is None:
            return
        now = time.monotonic()
        with self.tokens_lock:
            if len(self.tokens) > 10_000:
                self.tokens = {t: at for t, at in self.tokens.items() if now - at < TOKEN_MEMORY_S}
            self.tokens.setdefault(token, now)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = _ProxyServer(args.port, args.upstream)
    parent = os.getppid()

    def orphan_watch() -> None:  # exit with the benchmark process, however it ends
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=orphan_watch, daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
