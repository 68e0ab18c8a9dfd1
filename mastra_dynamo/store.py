"""DynamoDBStore: every storage domain but observability on one DynamoDB table."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from mastra_dynamo import global_table as global_tables
from mastra_dynamo.clock import Clock, utc_now
from mastra_dynamo.domains import Domain
from mastra_dynamo.dynamo import session as client_session
from mastra_dynamo.dynamo.bridge import pause
from mastra_dynamo.dynamo.client import TableClient
from mastra_dynamo.errors import (
    StorageError,
    TableMismatchError,
    TableNotFoundError,
    ValidationError,
)
from mastra_dynamo.schema.table import TABLE_SPEC
from mastra_dynamo.ttl import EntityTtl, TtlPolicy

if TYPE_CHECKING:
    from botocore.config import Config

    from mastra_dynamo.stores.agents import DynamoAgentsStore
    from mastra_dynamo.stores.background_tasks import DynamoBackgroundTasksStore
    from mastra_dynamo.stores.datasets import DynamoDatasetsStore
    from mastra_dynamo.stores.experiments import DynamoExperimentsStore
    from mastra_dynamo.stores.memory import DynamoMemoryStore
    from mastra_dynamo.stores.scores import DynamoScoresStore
    from mastra_dynamo.stores.workflows import DynamoWorkflowsStore

_TABLE_NAME = re.compile(r"^[a-zA-Z0-9_.-]{3,255}$")
SUPPORTED_DOMAINS = (
    Domain.MEMORY, Domain.WORKFLOWS, Domain.SCORES, Domain.AGENTS, Domain.DATASETS, Domain.EXPERIMENTS,
    Domain.BACKGROUND_TASKS,
)
"""Domains this store implements today; other names answer None from get_store."""
_DOMAIN_ALIASES = {"background_tasks": Domain.BACKGROUND_TASKS.value}
"""snake_case spellings of the multi-word domain names."""
_SERVED = frozenset(d.value for d in SUPPORTED_DOMAINS)
_CREATE_TABLE_POLLS = 300
_CREATE_TABLE_POLL_SECONDS = 1.0


class DynamoDBStore:
    """Mastra storage domains on a single DynamoDB table.

    ``get_store("memory")`` returns the memory domain. ``get_store("observability")`` returns None: DynamoDB
    does not hold traces; compose this store with ``composite.MastraCompositeStore`` and a
    ``ClickHouseObservabilityStore`` for that domain.

    Args:
        id: non-empty store id.
        table_name: the DynamoDB table (3-255 characters of ``[a-zA-Z0-9_.-]``).
        region: AWS region. Default: ``AWS_REGION``, else what boto3 would resolve (``AWS_DEFAULT_REGION``, the
            profile's region); with ``client=`` the client's region.
        endpoint_url: a local endpoint (DynamoDB Local, moto) instead of AWS (``http(s)://host[:port]``).
        ttl: per-entity retention, e.g. ``{"message": {"enabled": True, "defaultTtlSeconds": 86400}}``.
        disable_init: tells the framework not to call ``init()`` automatically (a deployment may skip the
            DescribeTable check on cold start); calling ``init()`` explicitly still runs it.
        client: an existing boto3/botocore DynamoDB client to reuse (e.g. created once per Lambda container), or a
            boto3 DynamoDB resource (its client is used). Every request, ``create_table`` included, goes
            through it; ``region``, ``endpoint_url``, ``boto3_session`` and ``boto_config`` are then not used.
        boto3_session: a ``boto3.session.Session`` to create the client from (its profile, credentials, region).
        boto_config: a ``botocore.config.Config``; its options win over the library's client defaults (see
            ``mastra_dynamo.dynamo.session``: timeouts, pool size, retries when nothing else configures them).
        clock: injectable time source (tests).
        max_snapshot_bytes: cap on one workflow snapshot's serialized JSON (ItemTooLargeError above it).
        consistent_reads: read threads and resources by id, and the records of thread and workflow-run
            listings, with strongly consistent reads (twice the read capacity). By default these reads are
            eventually consistent; message histories, by-id message lookups, workflow snapshots and every read
            that plans a conditional write are always strongly consistent.
        global_table: None (default) for any table; ``"eventual"`` when the table is a multi-Region eventually
            consistent global table (``init()`` then refuses a single-Region table); ``"strong"`` (multi-Region
            strong consistency) is refused with ConfigurationError ``GLOBAL_TABLE_STRONG_UNSUPPORTED``: MRSC
            tables reject transactions and TTL (see ``mastra_dynamo.global_table`` and docs/deployment.md).

    Raises:
        ValidationError: invalid id or table name.
        ConfigurationError: no region given or configured (``MISSING_REGION``), an endpoint that is not an
            http(s) URL (``INVALID_ENDPOINT``), a client/session/config of the wrong kind, invalid TTL config,
            ``global_table="strong"`` (``GLOBAL_TABLE_STRONG_UNSUPPORTED``).
    """

    def __init__(
        self,
        *,
        id: str,
        table_name: str,
        region: str | None = None,
        endpoint_url: str | None = None,
        ttl: Mapping[str, EntityTtl | Mapping[str, Any]] | None = None,
        disable_init: bool = False,
        client: Any = None,
        clock: Clock | None = None,
        max_snapshot_bytes: int = 32 * 1024 * 1024,
        consistent_reads: bool = False,
        boto3_session: Any = None,
        boto_config: Config | None = None,
        global_table: global_tables.Consistency | None = None,
    ) -> None:
        if not isinstance(id, str) or not id.strip():
            raise ValidationError("DynamoDBStore: id must be provided and cannot be empty.", code="INVALID_STORE_ID")
        if not isinstance(table_name, str) or not _TABLE_NAME.match(table_name):
            raise ValidationError(
                f"DynamoDBStore: invalid table name {table_name!r} (3-255 characters of a-z A-Z 0-9 _ . -)",
                code="INVALID_TABLE_NAME",
            )
        self.global_table = global_tables.check_declared(global_table)
        self.global_table_info: global_tables.GlobalTableInfo | None = None
        """Replicas and multi-Region consistency of the table, set by ``init()``."""
        supplied = client
        if supplied is not None:
            client = client_session.supplied_client(supplied)
            endpoint_url = client_session.custom_endpoint(client)
        else:
            client = client_session.create_dynamodb_client(region=region, endpoint_url=endpoint_url,
                                                    boto3_session=boto3_session, boto_config=boto_config)
        self.id = id
        self.name = "DynamoDBStore"
        self.table_name = table_name
        self.region: str | None = client_session.client_region(client)
        """The region the client sends to."""
        self.endpoint_url = endpoint_url
        """The local endpoint requests go to (None: AWS)."""
        self.disable_init = disable_init
        self.max_snapshot_bytes = max_snapshot_bytes
        self.consistent_reads = consistent_reads
        self.clock: Clock = clock or utc_now
        self.ttl = TtlPolicy(ttl, clock=self.clock)
        self._owns_client = supplied is None
        self._client = client
        self.table = TableClient(client=self._client, table_name=table_name)
        self._init_lock = threading.Lock()
        self._initialized = False
        self._stores: dict[str, Any] = {}

    def settings(self) -> dict[str, Any]:
        """The arguments that build a store like this one on another client (the async API copies them)."""
        return {"id": self.id, "table_name": self.table_name, "region": self.region,
                "endpoint_url": self.endpoint_url, "ttl": self.ttl.config, "disable_init": self.disable_init,
                "clock": self.clock, "max_snapshot_bytes": self.max_snapshot_bytes,
                "consistent_reads": self.consistent_reads, "global_table": self.global_table}

    # ------------------------------------------------------------------ domains
    @property
    def stores(self) -> dict[str, Any]:
        """Domain name -> domain store, for every domain this store serves."""
        return {d.value: self.get_store(d.value) for d in SUPPORTED_DOMAINS}

    @overload
    def get_store(self, name: Literal["memory"]) -> DynamoMemoryStore: ...

    @overload
    def get_store(self, name: Literal["workflows"]) -> DynamoWorkflowsStore: ...

    @overload
    def get_store(self, name: Literal["scores"]) -> DynamoScoresStore: ...

    @overload
    def get_store(self, name: Literal["agents"]) -> DynamoAgentsStore: ...

    @overload
    def get_store(self, name: Literal["datasets"]) -> DynamoDatasetsStore: ...

    @overload
    def get_store(self, name: Literal["experiments"]) -> DynamoExperimentsStore: ...

    @overload
    def get_store(self, name: Literal["backgroundTasks", "background_tasks"]) -> DynamoBackgroundTasksStore: ...

    @overload
    def get_store(self, name: str) -> Any: ...

    def get_store(self, name: str) -> Any:
        """The domain store for ``name`` (Mastra's camelCase name or its snake_case spelling), or None when this
        store does not serve that domain."""
        name = _DOMAIN_ALIASES.get(name, name)
        if name not in _SERVED:
            return None
        store = self._stores.get(name)
        if store is None:
            store = self._make(name)
            store.owner_init = self.init
            self._stores[name] = store
        return store

    @staticmethod
    def domain_class(name: str) -> type[Any] | None:
        """The class of the domain store ``name`` serves (None when not served), without building one."""
        name = _DOMAIN_ALIASES.get(name, name)
        modules = {Domain.MEMORY: ("mastra_dynamo.stores.memory", "DynamoMemoryStore"),
                   Domain.WORKFLOWS: ("mastra_dynamo.stores.workflows", "DynamoWorkflowsStore"),
                   Domain.SCORES: ("mastra_dynamo.stores.scores", "DynamoScoresStore"),
                   Domain.AGENTS: ("mastra_dynamo.stores.agents", "DynamoAgentsStore"),
                   Domain.DATASETS: ("mastra_dynamo.stores.datasets", "DynamoDatasetsStore"),
                   Domain.EXPERIMENTS: ("mastra_dynamo.stores.experiments", "DynamoExperimentsStore"),
                   Domain.BACKGROUND_TASKS: ("mastra_dynamo.stores.background_tasks", "DynamoBackgroundTasksStore")}
        found = next((v for k, v in modules.items() if k.value == name), None)
        if found is None:
            return None
        import importlib

        cls: type[Any] = getattr(importlib.import_module(found[0]), found[1])
        return cls

    def _make(self, name: str) -> Any:
        cls = self.domain_class(name)
        assert cls is not None, name
        options: dict[str, Any] = {"table": self.table, "ttl": self.ttl, "clock": self.clock}
        if name in (Domain.MEMORY, Domain.BACKGROUND_TASKS, Domain.WORKFLOWS):
            options["consistent_reads"] = self.consistent_reads
        if name == Domain.WORKFLOWS:
            options["max_snapshot_bytes"] = self.max_snapshot_bytes
        return cls(**options)

    # ------------------------------------------------------------------ lifecycle
    def init(self) -> None:
        """Check the table: it exists and its key schema, GSIs and TTL match TABLE_SPEC, and it is not a
        multi-Region strongly consistent global table (``global_table_info`` then holds its replicas and mode).

        One DescribeTable and one DescribeTimeToLive, once per store (cached after success, retried after a
        failure). Raises TableNotFoundError or TableMismatchError with an actionable message, and
        ConfigurationError ``GLOBAL_TABLE_STRONG_UNSUPPORTED`` for an MRSC table.
        """
        with self._init_lock:
            if self._initialized:
                return
            description = self.table.call("DescribeTable", TableName=self.table_name)["Table"]
            ttl = self.table.call("DescribeTimeToLive", TableName=self.table_name).get(
                "TimeToLiveDescription", {}
            )
            self.global_table_info = global_tables.check_table(self.table_name, description, self.global_table)
            problems = TABLE_SPEC.describe_mismatches(description, ttl)
            older = TABLE_SPEC.older_layout(description)
            if older is not None:
                raise TableMismatchError(
                    f"table {self.table_name!r} holds the item layout of schema version {older} (mastra-dynamo "
                    f"0.1); this version writes schema version {TABLE_SPEC.schema_version}, whose items and "
                    "indexes differ. Move the data: export it with mastra-dynamo 0.1 (`mastra-dynamo export`), "
                    "create a new table with this version (infra/ or `mastra-dynamo table create`) and "
                    "`mastra-dynamo import` the export into it (the JSON Lines files do not depend on the layout).",
                    code="TABLE_LAYOUT_OUTDATED",
                    details={"table": self.table_name, "schema_version": older,
                             "expected_schema_version": TABLE_SPEC.schema_version, "problems": problems},
                )
            if problems:
                raise TableMismatchError(
                    f"table {self.table_name!r} does not match the layout mastra-dynamo needs: "
                    + "; ".join(problems)
                    + ". Deploy the CDK stack in infra/ (or `DynamoDBStore.create_table()` for local use).",
                    details={"table": self.table_name, "problems": problems},
                )
            self._initialized = True

    def create_table(self) -> None:
        """Create the table for local use and tests (production tables come from infra/, CDK): the CreateTable
        request of the item models (keys, GSIs; on-demand), a wait until the table is ACTIVE, then TTL on the
        ``ttl`` attribute. Every request goes through this store's client, like all others.

        Raises: ConflictError-family/ConfigurationError as translated from DynamoDB (e.g. the table exists)."""
        from mastra_dynamo.models.table import create_table_request

        self.table.call("CreateTable", **create_table_request(self.table_name))
        for _ in range(_CREATE_TABLE_POLLS):
            status = self.table.call("DescribeTable", TableName=self.table_name)["Table"].get("TableStatus")
            if status == "ACTIVE":
                break
            pause(_CREATE_TABLE_POLL_SECONDS)
        else:
            raise TableNotFoundError(f"table {self.table_name!r} did not become ACTIVE in time",
                                     code="TABLE_NOT_ACTIVE", details={"table": self.table_name})
        self.table.call("UpdateTimeToLive", TableName=self.table_name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": TABLE_SPEC.ttl_attribute})

    def delete_table(self) -> None:
        """Delete the table (local use and tests)."""
        try:
            self.table.call("DeleteTable", TableName=self.table_name)
        except TableNotFoundError:
            return

    def close(self) -> None:
        """Release the HTTP connections of a client this store created (a supplied client is left open)."""
        if self._owns_client:
            close = getattr(self._client, "close", None)
            if callable(close):
                try:
                    close()
                except Exception as exc:  # closing never raises to the caller
                    _ = exc

    def request_counts(self) -> dict[str, int]:
        """DynamoDB requests sent by this store so far, by operation."""
        return dict(self.table.request_counts)

    def __repr__(self) -> str:
        return f"DynamoDBStore(id={self.id!r}, table_name={self.table_name!r}, region={self.region!r})"


__all__ = ["DynamoDBStore", "StorageError"]
