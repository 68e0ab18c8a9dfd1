"""Fixtures of the agents conformance cases: the domain on a fresh table whose clock the test controls."""

from __future__ import annotations

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.agents import DynamoAgentsStore


@pytest.fixture
def agents(clocked_store: DynamoDBStore) -> DynamoAgentsStore:
    return clocked_store.get_store("agents")
