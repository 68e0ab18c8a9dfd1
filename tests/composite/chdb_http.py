"""A small ClickHouse HTTP interface over chDB, on 127.0.0.1, for tests.

It lets clickhouse-connect's HTTP transport (the one used against a real ClickHouse server) run against the
same embedded engine the direct chDB client uses. It speaks the parts of the protocol clickhouse-connect
needs: ``GET /ping``; queries in the POST body and/or the ``query`` URL parameter; ``database``; settings as URL
parameters; server-side parameters ``param_<name>`` (URL or multipart form fields); Basic auth or
``X-ClickHouse-User``/``-Key``; compressed request bodies (``Content-Encoding``) and chunked uploads; gzip
responses when asked; ``X-ClickHouse-*`` response headers (format, summary, query id, timezone, exception code).
Production uses a real ClickHouse server.

Each request runs on a fresh chDB connection handle, so ``USE``/``SET`` never leak between requests; all
handles share the process's one chDB engine (one engine path per process).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import socket
import tempfile
import threading
import uuid
import zlib
from email import policy as email_policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import chdb as _chdb

chdb: Any = _chdb  # untyped module

# URL parameters that are part of the HTTP protocol (or client bookkeeping), not ClickHouse settings.
_PROTOCOL_PARAMS = frozenset({
    "query", "database", "default_format", "user", "password", "query_id", "quota_key", "session_id",
    "session_timeout", "session_check", "compress", "decompress", "buffer_size", "wait_end_of_query",
    "client_protocol_version", "send_progress_in_http_headers", "http_headers_progress_interval_ms",
    "enable_http_compression", "role", "cancel_http_readonly_queries_on_client_close",
})
_INSERT_WITH_DATA = re.compile(rb"^\s*(INSERT\s+INTO\s+[^\n]+?)\s+FORMAT\s+(\w+)[ \t]*\r?\n(.*)\Z",
                               re.IGNORECASE | re.DOTALL)
_TRAILING_FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*\Z", re.IGNORECASE)
_RESULT_STATEMENT = re.compile(r"^\s*(\(?\s*SELECT|WITH|SHOW|DESC|DESCRIBE|EXISTS|EXPLAIN)\b", re.IGNORECASE)
_ERROR_CODE = re.compile(r"Code:\s*(\d+)")
_STATUS_BY_CODE = {516: 403, 60: 404, 81: 404, 62: 400}


def _decompress(data: bytes, encoding: str | None) -> bytes:
    if not encoding or encoding == "identity":
        return data
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding == "deflate":
        return zlib.decompress(data)
    if encoding == "lz4":
        import lz4.frame  # type: ignore[import-untyped]

        return bytes(lz4.frame.decompress(data))
    if encoding == "zstd":
        from clickhouse_connect.driver.compression import _zstd_decompress

        return bytes(_zstd_decompress(data))
    raise ValueError(f"unsupported Content-Encoding {encoding!r}")


class _Failure(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # headers and body leave in one write (flushed after each request)
    server: ChdbHttpServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    # ------------------------------------------------------------------ request parsing
    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out += self.rfile.read(size)
                self.rfile.readline()
            data = bytes(out)
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding")
        with self.server.lock:
            self.server.request_encodings.add(encoding or "identity")
        return _decompress(data, encoding)

    def _credentials(self, params: dict[str, str]) -> tuple[str, str]:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            return user, password
        if "X-ClickHouse-User" in self.headers:
            return self.headers["X-ClickHouse-User"], self.headers.get("X-ClickHouse-Key", "")
        return params.get("user", "default"), params.get("password", "")

    # ------------------------------------------------------------------ verbs
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.rstrip("/") == "/ping":
            self._send(200, b"Ok.\n", {"Content-Type": "text/plain; charset=UTF-8"})
            return
        self._handle(b"")

    def do_POST(self) -> None:
        try:
            body = self._body()
        except ValueError as exc:
            self._error(_Failure(400, f"Code: 400. Bad request body: {exc}"), str(uuid.uuid4()))
            return
        self._handle(body)

    def _form_fields(self, body: bytes) -> dict[str, str]:
        """multipart/form-data fields (clickhouse-connect sends large parameter sets this way)."""
        message = BytesParser(policy=email_policy.HTTP).parsebytes(
            f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body)
        fields: dict[str, str] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields[name] = payload.decode()
        return fields

    def _handle(self, body: bytes) -> None:
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        if self.headers.get("Content-Type", "").startswith("multipart/form-data"):
            params.update(self._form_fields(body))
            body = b""
        query_id = params.get("query_id") or str(uuid.uuid4())
        try:
            user, password = self._credentials(params)
            if (user, password) != (self.server.user, self.server.password):
                raise _Failure(516, f"Code: 516. DB::Exception: {user}: Authentication failed: password is "
                                    "incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)")
            query = params.get("query", "").encode()
            text = query + (b"\n" + body if query and body else body)
            if not text.strip():
                raise _Failure(62, "Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)")
            self._execute(text, params, query_id)
        except _Failure as failure:
            self._error(failure, query_id)
        except Exception as exc:  # chDB raises plain exceptions carrying "Code: N. DB::Exception: ..."
            message = str(exc)
            match = _ERROR_CODE.search(message)
            self._error(_Failure(int(match.group(1)) if match else 1002, message), query_id)

    # ------------------------------------------------------------------ execution
    def _execute(self, text: bytes, params: dict[str, str], query_id: str) -> None:
        bind = {k[6:]: v for k, v in params.items() if k.startswith("param_")}
        settings = {k: v for k, v in params.items() if k not in _PROTOCOL_PARAMS and not k.startswith("param_")}
        handle = chdb.connect(self.server.path)
        infile: str | None = None
        try:
            if params.get("database"):
                handle.query(f"USE `{params['database']}`", "TabSeparated")
            for key, value in settings.items():
                escaped = value.replace("\\", "\\\\").replace("'", "\\'")
                handle.query(f"SET {key} = '{escaped}'", "TabSeparated")
            insert = _INSERT_WITH_DATA.match(text)
            result_format: str | None = None
            if insert is not None and insert.group(3).strip():
                fd, infile = tempfile.mkstemp(suffix=".data")
                with os.fdopen(fd, "wb") as f:
                    f.write(insert.group(3))
                statement, fmt = insert.group(1).decode(), insert.group(2).decode()
                sql = f"{statement} FROM INFILE '{infile}' FORMAT {fmt}"
                output_format = "TabSeparated"
            else:
                sql = text.decode()
                embedded = _TRAILING_FORMAT.search(sql)
                output_format = embedded.group(1) if embedded else params.get("default_format", "TabSeparated")
                if embedded or _RESULT_STATEMENT.match(sql):
                    result_format = output_format
            result = handle.query(sql, output_format, params=bind) if bind else handle.query(sql, output_format)
            payload = result.bytes() or b""
            summary = self._summary(result, written=insert is not None)
        finally:
            handle.close()
            if infile is not None:
                os.unlink(infile)
        headers = {
            "Content-Type": "text/plain; charset=UTF-8" if result_format != "Native" else "application/octet-stream",
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Timezone": "UTC",
            "X-ClickHouse-Server-Display-Name": "chdb-http",
            "X-ClickHouse-Summary": json.dumps(summary),
        }
        if result_format is not None:
            headers["X-ClickHouse-Format"] = result_format
        # enable_http_compression defaults to on in current ClickHouse; the client lists what it accepts.
        if params.get("enable_http_compression", "1") == "1" and "gzip" in self.headers.get("Accept-Encoding", ""):
            payload = gzip.compress(payload)
            headers["Content-Encoding"] = "gzip"
        self._send(200, payload, headers)

    @staticmethod
    def _summary(result: Any, *, written: bool) -> dict[str, str]:
        try:
            rows, size = str(result.rows_read()), str(result.bytes_read())
            elapsed = str(int(result.elapsed() * 1e9))
        except Exception:
            return {}
        if written:
            return {"read_rows": "0", "read_bytes": "0", "written_rows": rows, "written_bytes": size,
                    "elapsed_ns": elapsed}
        return {"read_rows": rows, "read_bytes": size, "written_rows": "0", "written_bytes": "0",
                "elapsed_ns": elapsed}

    # ------------------------------------------------------------------ responses
    def _error(self, failure: _Failure, query_id: str) -> None:
        self._send(_STATUS_BY_CODE.get(failure.code, 500), (str(failure).rstrip() + "\n").encode(), {
            "Content-Type": "text/plain; charset=UTF-8",
            "X-ClickHouse-Exception-Code": str(failure.code),
            "X-ClickHouse-Query-Id": query_id,
        })

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


class ChdbHttpServer(ThreadingHTTPServer):
    """``ChdbHttpServer(path).start()`` serves the chDB engine at ``path`` on 127.0.0.1:<port>."""

    daemon_threads = True

    def __init__(self, path: str, *, user: str = "default", password: str = "") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.path = os.path.realpath(path)
        self.user = user
        self.password = password
        self.lock = threading.Lock()
        self.request_encodings: set[str] = set()
        """Content-Encodings of request bodies seen so far (tests check compressed inserts arrived)."""
        self._thread: threading.Thread | None = None
        self._keeper: Any = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> ChdbHttpServer:
        # Keep one handle open while serving: chDB starts its engine with the first open handle and shuts it
        # down with the last, which would otherwise happen on every request.
        self._keeper = chdb.connect(self.path)
        self._thread = threading.Thread(target=self.serve_forever, name="chdb-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None
