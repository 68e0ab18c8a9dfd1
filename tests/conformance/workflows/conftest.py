"""Fixtures of the workflows conformance cases: the domain on the shared fresh-table store, and a store whose
clock the test controls (for default timestamps)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.workflows import DynamoWorkflowsStore
from tests.conftest import Backend, FakeClock, make_store


@pytest.fixture
def clock() -> FakeClock:
    """Real time, truncated to whole milliseconds (timestamps round-trip with millisecond precision)."""
    now = datetime.now(UTC)
    return FakeClock(now.replace(microsecond=now.microsecond // 1000 * 1000))


@pytest.fixture
def wf(store: DynamoDBStore) -> DynamoWorkflowsStore:
    return store.get_store("workflows")  # type: ignore[no-any-return]


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
def cwf(clocked_store: DynamoDBStore) -> DynamoWorkflowsStore:
    """The workflows domain of ``clocked_store``."""
    return clocked_store.get_store("workflows")  # type: ignore[no-any-return]
