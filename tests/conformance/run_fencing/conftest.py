from __future__ import annotations

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.run_fencing import MemoryFenceOps, RunOwnershipOps


@pytest.fixture
def owners(clocked_store: DynamoDBStore) -> RunOwnershipOps:
    return clocked_store.get_store("workflows")


@pytest.fixture
def fences(clocked_store: DynamoDBStore) -> MemoryFenceOps:
    memory: MemoryFenceOps = clocked_store.get_store("memory")
    return memory
