"""Fixtures of the scores conformance cases. Scores take ``created_at`` from the store's clock, so every case
runs on a store whose clock the test moves (distinct, known creation times give a deterministic order)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.scores import DynamoScoresStore
from tests.conftest import Backend, FakeClock, make_store


@pytest.fixture
def clock() -> FakeClock:
    """Real time, truncated to whole milliseconds (timestamps round-trip with millisecond precision)."""
    now = datetime.now(UTC)
    return FakeClock(now.replace(microsecond=now.microsecond // 1000 * 1000))


@pytest.fixture
def clocked_store(backend: Backend, clock: FakeClock) -> Iterator[DynamoDBStore]:
    s = make_store(backend, clock=clock)
    s.create_table()
    s.init()
    try:
        yield s
    finally:
        try:
            s.delete_table()
        finally:
            s.close()


@pytest.fixture
def sc(clocked_store: DynamoDBStore) -> DynamoScoresStore:
    return clocked_store.get_store("scores")  # type: ignore[no-any-return]
