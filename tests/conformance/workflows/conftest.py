"""Fixtures of the workflows conformance cases: the domain on the shared fresh-table store, and a store whose
clock the test controls (for default timestamps)."""

from __future__ import annotations

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.workflows import DynamoWorkflowsStore


@pytest.fixture
def wf(store: DynamoDBStore) -> DynamoWorkflowsStore:
    return store.get_store("workflows")  # type: ignore[no-any-return]


@pytest.fixture
def cwf(clocked_store: DynamoDBStore) -> DynamoWorkflowsStore:
    """The workflows domain of ``clocked_store``."""
    return clocked_store.get_store("workflows")  # type: ignore[no-any-return]
