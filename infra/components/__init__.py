"""Reusable constructs. ``MastraStorageTable`` is the one to import into your own CDK app."""

from infra.components.memory_function import MemoryApiFunction
from infra.components.storage_table import STORAGE_ACTIONS, MastraStorageTable, ProvisionedCapacity

__all__ = ["STORAGE_ACTIONS", "MastraStorageTable", "MemoryApiFunction", "ProvisionedCapacity"]
