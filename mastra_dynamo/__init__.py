"""mastra-dynamo: Mastra's storage domains for Python on one DynamoDB table.

Importing the package is cheap (no boto3 until a store is built; no ClickHouse, chDB or CDK ever).
"""

from mastra_dynamo.domains import Domain, MemoryStorage
from mastra_dynamo.errors import (
    BackendError,
    ConfigurationError,
    ConflictError,
    ItemTooLargeError,
    NotFoundError,
    RetryableError,
    StorageError,
    TableMismatchError,
    TableNotFoundError,
    ThrottledError,
    UnsupportedError,
    ValidationError,
)
from mastra_dynamo.records import (
    CloneThreadResult,
    Message,
    MessageList,
    MessagePage,
    Resource,
    Thread,
    ThreadPage,
)
from mastra_dynamo.schema.table import TABLE_SPEC, TableSpec
from mastra_dynamo.store import DynamoDBStore
from mastra_dynamo.ttl import EntityTtl

__version__ = "0.1.0"

__all__ = [
    "TABLE_SPEC",
    "BackendError",
    "CloneThreadResult",
    "ConfigurationError",
    "ConflictError",
    "Domain",
    "DynamoDBStore",
    "EntityTtl",
    "ItemTooLargeError",
    "MemoryStorage",
    "Message",
    "MessageList",
    "MessagePage",
    "NotFoundError",
    "Resource",
    "RetryableError",
    "StorageError",
    "TableMismatchError",
    "TableNotFoundError",
    "TableSpec",
    "Thread",
    "ThreadPage",
    "ThrottledError",
    "UnsupportedError",
    "ValidationError",
]
