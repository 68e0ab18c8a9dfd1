"""Fixtures of the scores conformance cases. Scores take ``created_at`` from the store's clock, so every case
runs on a store whose clock the test moves (distinct, known creation times give a deterministic order)."""

from __future__ import annotations

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.scores import DynamoScoresStore


@pytest.fixture
def sc(clocked_store: DynamoDBStore) -> DynamoScoresStore:
    return clocked_store.get_store("scores")  # type: ignore[no-any-return]
