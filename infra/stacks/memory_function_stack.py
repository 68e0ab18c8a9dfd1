"""MemoryFunctionStack: the optional Lambda over the memory domain, granted access through the table construct."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.components.memory_function import MemoryApiFunction
from infra.components.storage_table import MastraStorageTable
from infra.packaging import DEFAULT_PYTHON


class MemoryFunctionStack(Stack):
    """The memory API function. The parent (this stack) wires ``storage.grant_storage_access(function)``.

    Args:
        storage: the table construct (usually ``StorageStack.storage``; a cross-stack reference).
        python_version: Python of the Lambda runtime (``3.11``-``3.13``); the staged layer must match it.
        code_dir / dependencies_dir: staged assets (see ``infra.packaging``).
        ttl_config: per-entity retention for the library (Mastra's ``{entity: {enabled, defaultTtlSeconds}}``).
        **kwargs: passed to ``Stack``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        storage: MastraStorageTable,
        python_version: str = DEFAULT_PYTHON,
        code_dir: Path,
        dependencies_dir: Path,
        ttl_config: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.api = MemoryApiFunction(
            self,
            "MemoryApi",
            python_version=python_version,
            code_dir=code_dir,
            dependencies_dir=dependencies_dir,
            table_name=storage.table_name,
            ttl_config=ttl_config,
        )
        storage.grant_storage_access(self.api.function)
        CfnOutput(self, "FunctionName", value=self.api.function.function_name,
                  description='Invoke with {"op": "append" | "history", "threadId": ...}')
