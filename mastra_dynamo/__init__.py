"""mastra-dynamo: Mastra's storage domains for Python on one DynamoDB table.

Importing the package is cheap: names are loaded on first use (PEP 562), so ``import mastra_dynamo.schema``
(used by infra code) does not pull in pydantic, and nothing here imports botocore, ClickHouse, chDB or CDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Domain": "mastra_dynamo.domains",
    "MemoryStorage": "mastra_dynamo.domains",
    "BackendError": "mastra_dynamo.errors",
    "ConfigurationError": "mastra_dynamo.errors",
    "ConflictError": "mastra_dynamo.errors",
    "ItemTooLargeError": "mastra_dynamo.errors",
    "NotFoundError": "mastra_dynamo.errors",
    "RetryableError": "mastra_dynamo.errors",
    "StorageError": "mastra_dynamo.errors",
    "TableMismatchError": "mastra_dynamo.errors",
    "TableNotFoundError": "mastra_dynamo.errors",
    "ThrottledError": "mastra_dynamo.errors",
    "UnsupportedError": "mastra_dynamo.errors",
    "ValidationError": "mastra_dynamo.errors",
    "CloneThreadResult": "mastra_dynamo.records",
    "Message": "mastra_dynamo.records",
    "MessageList": "mastra_dynamo.records",
    "MessagePage": "mastra_dynamo.records",
    "Resource": "mastra_dynamo.records",
    "Thread": "mastra_dynamo.records",
    "ThreadPage": "mastra_dynamo.records",
    "TABLE_SPEC": "mastra_dynamo.schema.table",
    "TableSpec": "mastra_dynamo.schema.table",
    "DynamoDBStore": "mastra_dynamo.store",
    "EntityTtl": "mastra_dynamo.ttl",
    "RunFenceConflictError": "mastra_dynamo.errors",
    "RunFence": "mastra_dynamo.records.run_fencing",
    "run_fence_scope": "mastra_dynamo.fence_scope",
    "run_outside_run_fence_scope": "mastra_dynamo.fence_scope",
    "resolve_run_fence": "mastra_dynamo.fence_scope",
    "matches_run_fence": "mastra_dynamo.fence_scope",
    "is_run_fence_conflict_error": "mastra_dynamo.fence_scope",
}

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
    "RunFence",
    "RunFenceConflictError",
    "StorageError",
    "TableMismatchError",
    "TableNotFoundError",
    "TableSpec",
    "Thread",
    "ThreadPage",
    "ThrottledError",
    "UnsupportedError",
    "ValidationError",
    "is_run_fence_conflict_error",
    "matches_run_fence",
    "resolve_run_fence",
    "run_fence_scope",
    "run_outside_run_fence_scope",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mastra_dynamo' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from mastra_dynamo.domains import Domain, MemoryStorage
    from mastra_dynamo.errors import (
        BackendError,
        ConfigurationError,
        ConflictError,
        ItemTooLargeError,
        NotFoundError,
        RetryableError,
        RunFenceConflictError,
        StorageError,
        TableMismatchError,
        TableNotFoundError,
        ThrottledError,
        UnsupportedError,
        ValidationError,
    )
    from mastra_dynamo.fence_scope import (
        is_run_fence_conflict_error,
        matches_run_fence,
        resolve_run_fence,
        run_fence_scope,
        run_outside_run_fence_scope,
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
    from mastra_dynamo.records.run_fencing import RunFence
    from mastra_dynamo.schema.table import TABLE_SPEC, TableSpec
    from mastra_dynamo.store import DynamoDBStore
    from mastra_dynamo.ttl import EntityTtl
