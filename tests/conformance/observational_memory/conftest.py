from __future__ import annotations

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.memory.observational import ObservationalMemoryOps


@pytest.fixture
def om(clocked_store: DynamoDBStore) -> ObservationalMemoryOps:
    return ObservationalMemoryOps(table=clocked_store.table, ttl=clocked_store.ttl, clock=clocked_store.clock)
