"""Fixtures of the reliability suite: stores with a fault injector, a fault-free verifier on the same table,
raw scans, and the soak switch.

``MASTRA_DYNAMO_SOAK=1`` (``make soak``) multiplies operation counts and hypothesis examples; the default
run stays bounded (the whole suite in a few minutes on both backends).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore
from tests.conftest import Backend, make_store

from .faults import FaultInjector, fast_botocore_backoff

SOAK = os.environ.get("MASTRA_DYNAMO_SOAK") == "1"
SOAK_FACTOR = int(os.environ.get("MASTRA_DYNAMO_SOAK_FACTOR", "10")) if SOAK else 1


def scaled(count: int) -> int:
    """An operation count of the default run, multiplied in the soak run."""
    return count * SOAK_FACTOR


def scan_all(store: DynamoDBStore) -> list[dict[str, Any]]:
    """Every raw item of the store's table (a Scan through the store's own client; Scan is never faulted)."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": store.table_name, "ConsistentRead": True}
    while True:
        page = store.table.raw.scan(**params)
        items.extend(page.get("Items", []))
        if not page.get("LastEvaluatedKey"):
            return items
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def snapshot_table(store: DynamoDBStore) -> dict[tuple[str, str], dict[str, Any]]:
    """The whole table as {(pk, sk): item}: compare two of these to prove a call changed nothing."""
    return {(i["pk"]["S"], i["sk"]["S"]): i for i in scan_all(store)}


def fast_sleeps(store: DynamoDBStore) -> None:
    """Shrink the library's own backoff sleeps (batch retries) 20x for bounded tests."""
    store.table._sleep = lambda seconds: time.sleep(seconds / 20)


@dataclass
class Faulty:
    """A store whose client goes through a fault injector, and a verifier store on the same table whose
    client does not."""

    backend: Backend
    store: DynamoDBStore
    verifier: DynamoDBStore
    injector: FaultInjector


@pytest.fixture
def faulty(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Iterator[Faulty]:
    fast_botocore_backoff(monkeypatch)
    store = make_store(backend)
    store.create_table()
    store.init()
    fast_sleeps(store)
    verifier = DynamoDBStore(id="verifier", table_name=store.table_name, region="us-east-1",
                             endpoint_url=backend.endpoint_url)
    injector = FaultInjector(store.table.raw, moto=backend.name == "moto", rate=0.0, seed=1234)
    try:
        yield Faulty(backend, store, verifier, injector)
    finally:
        injector.remove()
        try:
            store.delete_table()
        finally:
            store.close()
            verifier.close()
