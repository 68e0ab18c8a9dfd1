"""Composite storage: route each Mastra storage domain to the store that owns it.

``MastraCompositeStore`` and ``ClickHouseObservabilityStore`` live here. Importing ``mastra_dynamo`` never
imports this package or its optional ClickHouse/chDB drivers, and importing this package never imports the
drivers either (they load on the first ClickHouse connection).

Typical wiring: memory (and the other DynamoDB domains) from a ``DynamoDBStore``, observability from ClickHouse::

    from mastra_dynamo import DynamoDBStore
    from mastra_dynamo.composite import ClickHouseObservabilityStore, MastraCompositeStore

    storage = MastraCompositeStore(
        id="app",
        default=DynamoDBStore(id="ddb", table_name="mastra", region="eu-west-1"),
        domains={"observability": ClickHouseObservabilityStore(host="clickhouse.internal", port=8123)},
    )
    storage.init()
"""

from mastra_dynamo.composite.clickhouse import AsyncClickHouseObservabilityStore, ClickHouseObservabilityStore
from mastra_dynamo.composite.observability import ObservabilityStorage
from mastra_dynamo.composite.registry import DOMAIN_KEYS, EDITOR_DOMAINS
from mastra_dynamo.composite.spans import (
    CreateSpanRecord,
    PaginationInfo,
    SpanList,
    SpanRecord,
    SpanResult,
    SpanUpdate,
    Trace,
    TracePage,
    TracesFilter,
    TraceSpan,
    TraceStatus,
)
from mastra_dynamo.composite.store import MastraCompositeStore

__all__ = [
    "DOMAIN_KEYS",
    "EDITOR_DOMAINS",
    "AsyncClickHouseObservabilityStore",
    "ClickHouseObservabilityStore",
    "CreateSpanRecord",
    "MastraCompositeStore",
    "ObservabilityStorage",
    "PaginationInfo",
    "SpanList",
    "SpanRecord",
    "SpanResult",
    "SpanUpdate",
    "Trace",
    "TracePage",
    "TraceSpan",
    "TraceStatus",
    "TracesFilter",
]
