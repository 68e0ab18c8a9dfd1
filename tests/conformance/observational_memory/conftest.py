from __future__ import annotations

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.memory.observational import ObservationalMemoryOps


@pytest.fixture
def om(clocked_store: DynamoDBStore) -> ObservationalMemoryOps:
    memory: ObservationalMemoryOps = clocked_store.get_store("memory")
    return memory
