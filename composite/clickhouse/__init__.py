"""ClickHouse (or embedded chDB) observability store, sync and async. Importing this package does not import the
drivers."""

from mastra_dynamo.composite.clickhouse.aio import AsyncClickHouseObservabilityStore
from mastra_dynamo.composite.clickhouse.store import ClickHouseObservabilityStore

__all__ = ["AsyncClickHouseObservabilityStore", "ClickHouseObservabilityStore"]
