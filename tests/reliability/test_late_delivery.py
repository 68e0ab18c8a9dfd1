"""Late delivery of a save_score request: a request held in the network past botocore's read timeout, resent
and acknowledged, then applied after a newer save of the same score, must not overwrite the newer score.

The fault is simulated without a network: the exact UpdateItem of a save is captured on its way through
``TableClient.call`` and later replayed, byte for byte, through the raw botocore client (the late delivery or
a resend)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.errors import ConflictError
from mastra_dynamo.stores.scores import DynamoScoresStore
from tests.conformance.scores.data import payload
from tests.conftest import Backend, FakeClock, fresh_store

from .conftest import snapshot_table


@pytest.fixture
def clocked(backend: Backend) -> Iterator[tuple[DynamoDBStore, FakeClock]]:
    clock = FakeClock()
    with fresh_store(backend, clock=clock) as s:
        yield s, clock


def capture_updates(store: DynamoDBStore, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record (a deep copy of) every UpdateItem the store sends, and let it through."""
    sent: list[dict[str, Any]] = []
    real = store.table.call

    def call(operation: str, **params: Any) -> dict[str, Any]:
        if operation == "UpdateItem":
            sent.append(copy.deepcopy(params))
        return real(operation, **params)

    monkeypatch.setattr(store.table, "call", call)
    return sent


def test_a_request_delivered_after_a_newer_save_fails_its_condition(
        clocked: tuple[DynamoDBStore, FakeClock], monkeypatch: pytest.MonkeyPatch) -> None:
    store, clock = clocked
    sc: DynamoScoresStore = store.get_store("scores")
    sent = capture_updates(store, monkeypatch)
    sc.save_score(score=payload(id="X", score=1.0))  # R1 (its resend R1' is what was acknowledged)
    (late,) = sent
    clock.advance(milliseconds=5)
    assert sc.save_score(score=payload(id="X", score=2.0)).score.score == 2.0  # R2, acknowledged
    before = snapshot_table(store)

    with pytest.raises(ClientError) as raised:
        store.table.raw.update_item(**late)  # R1 arrives at last
    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"

    got = sc.get_score_by_id(id="X")
    assert got is not None and got.score == 2.0
    assert snapshot_table(store) == before


def test_a_late_request_fails_even_when_the_clock_did_not_move(
        clocked: tuple[DynamoDBStore, FakeClock], monkeypatch: pytest.MonkeyPatch) -> None:
    store, _ = clocked  # the store's clock stands still: write times still increase from save to save
    sc: DynamoScoresStore = store.get_store("scores")
    sent = capture_updates(store, monkeypatch)
    sc.save_score(score=payload(id="X", score=1.0))
    sc.save_score(score=payload(id="X", score=2.0))
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        store.table.raw.update_item(**sent[0])
    got = sc.get_score_by_id(id="X")
    assert got is not None and got.score == 2.0


@pytest.mark.parametrize("existing", [False, True])
def test_a_resend_of_the_applied_request_succeeds_and_changes_nothing(
        clocked: tuple[DynamoDBStore, FakeClock], monkeypatch: pytest.MonkeyPatch, existing: bool) -> None:
    store, clock = clocked
    sc: DynamoScoresStore = store.get_store("scores")
    if existing:  # the resent request updates a score saved before
        sc.save_score(score=payload(id="X", score=0.5))
        clock.advance(milliseconds=5)
    sent = capture_updates(store, monkeypatch)
    saved = sc.save_score(score=payload(id="X", score=1.0)).score
    before = snapshot_table(store)
    clock.advance(milliseconds=5)

    response = store.table.raw.update_item(**sent[-1])  # botocore's resend, after the first one was applied
    assert response["Attributes"] == before[("S#X", "S")]
    assert snapshot_table(store) == before
    assert sc.get_score_by_id(id="X") == saved


def test_a_normal_save_is_still_one_request(clocked: tuple[DynamoDBStore, FakeClock]) -> None:
    store, clock = clocked
    sc: DynamoScoresStore = store.get_store("scores")
    for score in (1.0, 2.0, 3.0):
        before = store.request_counts()
        sc.save_score(score=payload(id="X", score=score))
        after = store.request_counts()
        assert {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)} == {"UpdateItem": 1}
        clock.advance(milliseconds=1)


def test_a_writer_whose_clock_lags_gets_a_conflict_and_writes_nothing(backend: Backend) -> None:
    ahead, behind = FakeClock(), FakeClock()
    behind.now = ahead.now - timedelta(seconds=2)
    with fresh_store(backend, clock=ahead) as first:
        second = DynamoDBStore(id="second", table_name=first.table_name, region="us-east-1",
                               endpoint_url=backend.endpoint_url, clock=behind)
        try:
            first.get_store("scores").save_score(score=payload(id="X", score=2.0))
            before = snapshot_table(first)
            lagging: DynamoScoresStore = second.get_store("scores")
            with pytest.raises(ConflictError) as raised:
                lagging.save_score(score=payload(id="X", score=1.0))
            assert second.request_counts() == {"UpdateItem": 1}  # the failed condition returned the item
            assert raised.value.code == "SCORE_NEWER_WRITE" and raised.value.details["id"] == "X"
            assert snapshot_table(first) == before
            lagging.save_score(score=payload(id="Y", score=1.0))  # other ids are not affected
            behind.advance(seconds=3)  # once its clock passes the stored write time, it saves again
            assert lagging.save_score(score=payload(id="X", score=3.0)).score.score == 3.0
        finally:
            second.close()
