from __future__ import annotations

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.background_tasks import DynamoBackgroundTasksStore


@pytest.fixture
def bt(clocked_store: DynamoDBStore) -> DynamoBackgroundTasksStore:
    return clocked_store.get_store("backgroundTasks")
