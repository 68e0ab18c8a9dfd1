"""ClickHouse (or embedded chDB) observability store. Importing this package does not import the drivers."""

from mastra_dynamo.composite.clickhouse.store import ClickHouseObservabilityStore

__all__ = ["ClickHouseObservabilityStore"]
