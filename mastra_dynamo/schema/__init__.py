"""Table schema (single source of truth) and key builders. Standard library only: infra imports it."""

from mastra_dynamo.schema.table import TABLE_SPEC, GsiSpec, TableSpec

__all__ = ["TABLE_SPEC", "GsiSpec", "TableSpec"]
