"""Memory domain on DynamoDB: threads, messages, resources."""

from mastra_dynamo.stores.memory.store import DynamoMemoryStore

__all__ = ["DynamoMemoryStore"]
