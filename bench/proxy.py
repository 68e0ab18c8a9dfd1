"""A counting HTTP proxy in front of a DynamoDB endpoint (DynamoDB Local or moto server).

Both clients of the side-by-side benchmark (botocore in Python, the AWS SDK v3 in Node) send their requests
through this proxy, so they are counted the same way: by the ``X-Amz-Target`` header
(``DynamoDB_20120810.<Operation>``).

- Consumed capacity: for operations that accept it, the proxy adds ``ReturnConsumedCapacity: INDEXES`` to a
  request that did not ask for it, records the ``ConsumedCapacity`` of the response and removes it again
  (recomputing ``X-Amz-Crc32``), so the client sees the response it would have seen. The local endpoints do
  not check request signatures, so rewriting the body is harmless there. DynamoDB Local reports realistic
  numbers; moto reports placeholders.
- Attribution: the benchmark driver calls ``GET /__bench/mark?label=<op>`` before each storage call (outside its
  timing). Every request until the next mark belongs to that call. ``GET /__bench/dump`` returns the calls
  recorded since the last dump, as JSON, and starts a new log.

Run: ``python -m bench.proxy --upstream http://127.0.0.1:8000 --port 0`` prints ``PORT <n>`` when ready.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CAPACITY_OPERATIONS = frozenset({
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
    "TransactWriteItems", "TransactGetItems",
})
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
        injected = False
        if operation in CAPACITY_OPERATIONS and body:
            try:
                payload = json.loads(body)
                if isinstance(payload, dict) and "ReturnConsumedCapacity" not in payload:
                    payload["ReturnConsumedCapacity"] = "INDEXES"
                    body = json.dumps(payload).encode()
                    injected = True
            except ValueError:
                pass
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS and
                   k.lower() not in ("content-length", "host")}
        headers["Host"] = f"{self.server.upstream_host}:{self.server.upstream_port}"
        headers["Content-Length"] = str(len(body))
        started = time.perf_counter()
        for attempt in (1, 2):
            conn = self._upstream()
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                conn.close()
                self.server.local.conn = None
                if attempt == 2:
                    self._reply(502, b'{"__type":"bench#ProxyError","message":"upstream failed"}')
                    return
        elapsed = time.perf_counter() - started
        total = 0.0
        indexes: dict[str, float] = {}
        error = None
        if response.status >= 400:
            try:
                error = str(json.loads(data).get("__type", "")).rsplit("#", 1)[-1]
            except ValueError:
                error = str(response.status)
        elif operation in CAPACITY_OPERATIONS and data:
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and "ConsumedCapacity" in parsed:
                total, indexes = capacity_units(parsed["ConsumedCapacity"])
                if injected:
                    del parsed["ConsumedCapacity"]
                    data = json.dumps(parsed, separators=(",", ":")).encode()
        self.server.recorder.record({"op": operation, "cu": total, "gsi_cu": sum(indexes.values()), "gsi": indexes,
                                     "ms": elapsed * 1000, "req_bytes": len(body), "resp_bytes": len(data),
                                     "error": error})
        self.send_response(response.status)
        for key, value in response.getheaders():
            lower = key.lower()
            if lower in HOP_HEADERS or lower in ("content-length", "x-amz-crc32"):
                continue
            self.send_header(key, value)
        self.send_header("X-Amz-Crc32", str(zlib.crc32(data) & 0xFFFFFFFF))
        self.send_header("Content-Length", str(len(data)))
        self._finish(data)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, upstream: str) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        url = urlsplit(upstream)
        self.upstream_host = url.hostname or "127.0.0.1"
        self.upstream_port = url.port or 80
        self.recorder = Recorder()
        self.local = threading.local()


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
