"""Fixtures of the agents conformance cases: the domain on a fresh table whose clock the test controls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.agents import DynamoAgentsStore
from tests.conftest import Backend, FakeClock, make_store


@pytest.fixture
def clock() -> FakeClock:
    """Real time, truncated to whole milliseconds; moves only when a test advances it."""
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
def agents(clocked_store: DynamoDBStore) -> DynamoAgentsStore:
    return clocked_store.get_store("agents")
