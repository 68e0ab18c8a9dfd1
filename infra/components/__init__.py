"""Reusable constructs. ``MastraStorageTable`` is the one to import into your own CDK app."""

from infra.components.alarms import AlarmThresholds, MastraAlarms
from infra.components.backup import MastraTableBackup
from infra.components.memory_function import MemoryApiFunction
from infra.components.parameters import StorageReference
from infra.components.storage_table import (
    STORAGE_ACTIONS,
    MastraStorageTable,
    MaxThroughput,
    ProvisionedCapacity,
    grant_storage_access,
)

__all__ = [
    "STORAGE_ACTIONS",
    "AlarmThresholds",
    "MastraAlarms",
    "MastraStorageTable",
    "MastraTableBackup",
    "MaxThroughput",
    "MemoryApiFunction",
    "ProvisionedCapacity",
    "StorageReference",
    "grant_storage_access",
]
