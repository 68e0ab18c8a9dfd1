"""Fixtures of the datasets/experiments conformance cases: the domain stores on the per-test table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.datasets import DynamoDatasetsStore
from mastra_dynamo.stores.experiments import DynamoExperimentsStore
from tests.conftest import Backend, FakeClock, make_store

DAY = 86400


def datasets_of(store: DynamoDBStore) -> DynamoDatasetsStore:
    wired = store.get_store("datasets")
    if wired is not None:  # the store's own (with MASTRA_DYNAMO_API=async: the async API's, through the shim)
        return wired  # type: ignore[no-any-return]
    return DynamoDatasetsStore(table=store.table, ttl=store.ttl, clock=store.clock)


def experiments_of(store: DynamoDBStore) -> DynamoExperimentsStore:
    wired = store.get_store("experiments")
    if wired is not None:
        return wired  # type: ignore[no-any-return]
    return DynamoExperimentsStore(table=store.table, ttl=store.ttl, clock=store.clock)


@pytest.fixture
def datasets(store: DynamoDBStore) -> DynamoDatasetsStore:
    return datasets_of(store)


@pytest.fixture
def experiments(store: DynamoDBStore) -> DynamoExperimentsStore:
    return experiments_of(store)


@dataclass
class Clocked:
    """Stores on a table whose clock (and TTL clock) only moves when the test says so."""

    store: DynamoDBStore
    clock: FakeClock
    datasets: DynamoDatasetsStore
    experiments: DynamoExperimentsStore


@pytest.fixture
def clocked(backend: Backend, clock: FakeClock) -> Iterator[Clocked]:
    s = make_store(backend, clock=clock, ttl={
        "dataset": {"enabled": True, "defaultTtlSeconds": DAY},
        "experiment": {"enabled": True, "defaultTtlSeconds": DAY},
    })
    s.create_table()
    s.init()
    try:
        yield Clocked(s, clock, datasets_of(s), experiments_of(s))
    finally:
        try:
            s.delete_table()
        finally:
            s.close()
