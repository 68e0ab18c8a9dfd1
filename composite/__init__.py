"""Composite storage: route each Mastra storage domain to the store that owns it.

``MastraCompositeStore`` and ``ClickHouseObservabilityStore`` live here. Importing ``mastra_dynamo`` never
imports this package or its optional ClickHouse/chDB drivers.
"""
