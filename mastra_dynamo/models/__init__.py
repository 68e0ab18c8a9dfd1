"""PynamoDB models derived from the TableSpec (imported lazily: request paths do not need PynamoDB)."""

from mastra_dynamo.models.table import BoundSettings, bind, model_schema

__all__ = ["BoundSettings", "bind", "model_schema"]
