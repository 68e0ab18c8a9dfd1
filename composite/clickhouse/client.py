"""The one seam between the observability store and clickhouse-connect (server over HTTP(S), or chDB).

``clickhouse_connect`` and ``chdb`` are imported only when the first connection is made, never at import
time. Every driver exception is translated here by ``translate_clickhouse_error`` (``raise ... from exc``).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlparse

from mastra_dynamo.errors import (
    BackendError,
    ConfigurationError,
    RetryableError,
    StorageError,
    TableNotFoundError,
)

T = TypeVar("T")

_ACCESS_CODES = frozenset({192, 193, 194, 195, 497, 516})
"""UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, IP_ADDRESS_NOT_ALLOWED, ACCESS_DENIED, AUTHENTICATION_FAILED"""
_MISSING_CODES = frozenset({60, 81})
"""UNKNOWN_TABLE, UNKNOWN_DATABASE"""
_RETRYABLE_CODES = frozenset({159, 202, 203, 209, 210, 241, 242, 252, 425})
"""TIMEOUT_EXCEEDED, TOO_MANY_SIMULTANEOUS_QUERIES, NO_FREE_CONNECTION, SOCKET_TIMEOUT, NETWORK_ERROR,
MEMORY_LIMIT_EXCEEDED, TABLE_IS_READ_ONLY, TOO_MANY_PARTS, SYSTEM_ERROR"""


def translate_clickhouse_error(exc: BaseException, *, operation: str, table: str | None = None) -> StorageError:
    """Map a clickhouse-connect / chDB exception to the StorageError family.

    Details carry the ClickHouse error code and name only, never query text or values.
    """
    if isinstance(exc, StorageError):
        return exc
    details: dict[str, Any] = {"operation": operation, "exception": type(exc).__name__}
    if table:
        details["table"] = table
    code = getattr(exc, "code", None)
    name = getattr(exc, "name", None)
    if isinstance(code, int):
        details["clickhouse_code"] = code
    if isinstance(name, str):
        details["clickhouse_name"] = name
    label = f"{code} {name}" if name else str(code)
    if code in _ACCESS_CODES:
        return ConfigurationError(f"{operation}: ClickHouse refused the credentials or access ({label})",
                                  code="ACCESS_DENIED", details=details, cause=exc)
    if code in _MISSING_CODES:
        return TableNotFoundError(
            f"{operation}: {table or 'the observability table'} does not exist ({label}); "
            "call ClickHouseObservabilityStore.init() first",
            details=details, cause=exc,
        )
    if code in _RETRYABLE_CODES:
        return RetryableError(f"{operation}: transient ClickHouse failure ({label})", details=details, cause=exc)
    type_name = type(exc).__name__
    message = str(exc)
    if "chdb engine" in message or "EmbeddedServer already initialized" in message:
        return ConfigurationError(
            f"{operation}: chDB hosts one engine path per process and another path is already open; "
            "give every embedded store in this process the same `path`",
            code="CHDB_PATH_CONFLICT", details=details, cause=exc,
        )
    if type_name == "OperationalError" or isinstance(exc, ConnectionError | TimeoutError):
        return RetryableError(f"{operation}: could not reach ClickHouse ({type_name})", details=details, cause=exc)
    if code is not None:
        return BackendError(f"{operation}: ClickHouse rejected the request ({label})", details=details, cause=exc)
    return BackendError(f"{operation}: unexpected ClickHouse client failure ({type_name})", details=details,
                        cause=exc)


@dataclass(frozen=True)
class ConnectionSettings:
    """Where to connect: a ClickHouse server (host or dsn) or embedded chDB (neither; ``path``)."""

    host: str | None = None
    port: int | None = None
    username: str = "default"
    password: str = field(default="", repr=False)
    secure: bool = False
    dsn: str | None = field(default=None, repr=False)
    path: str | None = None
    connect_timeout: int = 10
    send_receive_timeout: int = 300
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        return self.host is None and (self.dsn is None or self.dsn.startswith("chdb:"))


def _import_driver(embedded: bool) -> Any:
    extra = "chdb" if embedded else "clickhouse"
    try:
        import clickhouse_connect

        if embedded:
            import chdb  # noqa: F401  (clickhouse-connect's chdb backend needs it)
    except ImportError as exc:
        raise ConfigurationError(
            f"the ClickHouse observability store needs optional packages: pip install 'mastra-dynamo[{extra}]'",
            code="MISSING_DRIVER", details={"extra": extra}, cause=exc,
        ) from exc
    return clickhouse_connect


def connect(settings: ConnectionSettings, *, pool_manager: Any = None) -> tuple[Any, str | None]:
    """A clickhouse-connect client and, for chDB, the resolved engine path. ``pool_manager``: what the HTTP
    transport sends its requests through (a urllib3 ``PoolManager`` or an object with its ``request``/``clear``
    methods); default: clickhouse-connect's own pool.

    Raises:
        ConfigurationError: driver not installed; credentials refused; chDB path conflict.
        RetryableError: the server could not be reached.
        BackendError: any other failure.
    """
    driver = _import_driver(settings.embedded)
    try:
        if settings.embedded:
            path = settings.path
            if settings.dsn is not None:
                location = urlparse(settings.dsn)
                client = driver.get_client(dsn=settings.dsn, settings=dict(settings.settings))
                return client, location.path or location.netloc or None
            if path is None:
                path = tempfile.mkdtemp(prefix="mastra-chdb-")
            path = os.path.realpath(path)
            os.makedirs(path, exist_ok=True)
            return driver.get_client(dsn=f"chdb://{path}", settings=dict(settings.settings)), path
        kwargs: dict[str, Any] = {
            "username": settings.username,
            "password": settings.password,
            "secure": settings.secure,
            "connect_timeout": settings.connect_timeout,
            "send_receive_timeout": settings.send_receive_timeout,
            # One client serves many threads: server-side sessions would serialize (and reject) them.
            "autogenerate_session_id": False,
            "settings": dict(settings.settings),
        }
        if settings.dsn is not None:
            kwargs["dsn"] = settings.dsn
            # The dsn's own user and password unless others were given (the defaults would override them).
            if settings.username == "default":
                del kwargs["username"]
            if not settings.password:
                del kwargs["password"]
        if settings.host is not None:
            kwargs["host"] = settings.host
        if settings.port is not None:
            kwargs["port"] = settings.port
        if pool_manager is not None:
            kwargs["pool_mgr"] = pool_manager
        return driver.get_client(**kwargs), None
    except Exception as exc:
        raise translate_clickhouse_error(exc, operation="Connect") from exc


class ClickHouseClient:
    """A lazily connected clickhouse-connect client whose every call translates errors.

    Thread-safe: the first call connects (once); clickhouse-connect clients handle concurrent calls (HTTP uses
    a connection pool; the chDB backend serializes calls on its handle).
    """

    def __init__(self, settings: ConnectionSettings, *, factory: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self._factory = factory
        self._client: Any = None
        self._lock = threading.Lock()
        self._pool_manager: Any = None
        self.path: str | None = None

    def use_pool_manager(self, pool_manager: Any) -> None:
        """Before connecting: send the HTTP transport's requests through ``pool_manager`` (see :func:`connect`;
        None: clickhouse-connect's own pool). The async store's transport."""
        self._pool_manager = pool_manager

    @property
    def driver(self) -> Any:
        """The underlying clickhouse-connect client (connects on first use)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    if self._factory is not None:
                        self._client = self._factory()
                    else:
                        self._client, self.path = connect(self.settings, pool_manager=self._pool_manager)
        return self._client

    def _call(self, operation: str, table: str | None, fn: Callable[[Any], T]) -> T:
        client = self.driver
        try:
            return fn(client)
        except Exception as exc:
            raise translate_clickhouse_error(exc, operation=operation, table=table) from exc

    def command(self, sql: str, params: Mapping[str, Any] | None = None, *, operation: str,
                table: str | None = None, settings: Mapping[str, Any] | None = None) -> Any:
        """Run a statement (DDL, DELETE, ...); returns clickhouse-connect's command result."""
        return self._call(operation, table, lambda c: c.command(sql, parameters=dict(params or {}) or None,
                                                               settings=dict(settings or {}) or None))

    def query(self, sql: str, params: Mapping[str, Any] | None = None, *, operation: str,
              table: str | None = None, settings: Mapping[str, Any] | None = None
              ) -> tuple[tuple[str, ...], list[Sequence[Any]]]:
        """Run a SELECT; returns (column names, rows)."""
        def run(client: Any) -> tuple[tuple[str, ...], list[Sequence[Any]]]:
            result = client.query(sql, parameters=dict(params or {}) or None, settings=dict(settings or {}) or None)
            return tuple(result.column_names), list(result.result_rows)

        return self._call(operation, table, run)

    def insert(self, table: str, rows: Sequence[Sequence[Any]], *, column_names: Sequence[str],
               column_types: Sequence[str], operation: str, settings: Mapping[str, Any] | None = None) -> None:
        """Insert ``rows`` in one request (Native format; column types given, so no DESCRIBE round trip)."""
        self._call(operation, table, lambda c: c.insert(
            table, list(rows), column_names=list(column_names), column_type_names=list(column_types),
            settings=dict(settings or {}) or None,
        ))

    def close(self) -> None:
        """Close the underlying client (idempotent; never raises)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception as exc:  # closing never raises to the caller
                _ = exc


__all__ = ["ClickHouseClient", "ConnectionSettings", "connect", "translate_clickhouse_error"]
