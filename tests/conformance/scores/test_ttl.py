"""Retention of scores (TTL entity ``score``) with an injected clock: expired scores are invisible on every
read path and in every total, even before DynamoDB deletes them."""

from __future__ import annotations

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.scores import DynamoScoresStore
from tests.conftest import Backend, FakeClock, StoreFactory, make_store

from .data import ids, payload, save

DAY = 86400


@pytest.fixture
def ttl_store(store_factory: StoreFactory) -> DynamoDBStore:
    return store_factory(ttl={"score": {"enabled": True, "defaultTtlSeconds": DAY}})


@pytest.fixture
def tsc(ttl_store: DynamoDBStore) -> DynamoScoresStore:
    return ttl_store.get_store("scores")  # type: ignore[no-any-return]


FULL = {"traceId": "tr", "spanId": "sp", "organizationId": "org", "projectId": "p"}


def _listed(sc: DynamoScoresStore) -> list[list[str]]:
    pages = [
        sc.list_scores_by_scorer_id(scorer_id="scorer-1"),
        sc.list_scores_by_scorer_id(scorer_id="scorer-1", entity_id="agent-1", source="LIVE",
                                    filters={"organization_id": "org"}),
        sc.list_scores_by_run_id(run_id="run-1"),
        sc.list_scores_by_entity_id(entity_id="agent-1", entity_type="AGENT"),
        sc.list_scores_by_span(trace_id="tr", span_id="sp", filters={"project_id": "p"}),
        sc.list_scores_by_span(trace_id="tr", span_id="sp", pagination={"page": 0, "per_page": 1}),
    ]
    for page in pages:
        assert page.pagination.total >= len(page.scores)
    return [ids(p) for p in pages]


def test_ttl_attribute_is_written_from_the_retention(ttl_store: DynamoDBStore, tsc: DynamoScoresStore,
                                                     clock: FakeClock) -> None:
    tsc.save_score(score=payload(id="s1"))
    item = ttl_store.table.raw.get_item(TableName=ttl_store.table_name, Key={"pk": {"S": "S#s1"}, "sk": {"S": "S"}},
                                        ConsistentRead=True)["Item"]
    assert int(item["ttl"]["N"]) == int(clock.now.timestamp()) + DAY


def test_scores_are_visible_until_they_expire(tsc: DynamoScoresStore, clock: FakeClock) -> None:
    save(tsc, clock, id="s1", **FULL)
    clock.advance(seconds=DAY - 60)
    assert tsc.get_score_by_id(id="s1") is not None
    assert _listed(tsc) == [["s1"]] * 6
    clock.advance(seconds=60)
    assert tsc.get_score_by_id(id="s1") is None
    assert _listed(tsc) == [[]] * 6


def test_totals_count_only_live_scores(tsc: DynamoScoresStore, clock: FakeClock) -> None:
    for i in range(3):
        save(tsc, clock, id=f"old-{i}", **FULL)
    clock.advance(seconds=DAY // 2)
    for i in range(2):
        save(tsc, clock, id=f"new-{i}", **FULL)
    clock.advance(seconds=DAY // 2)  # the old ones are now past their retention
    page = tsc.list_scores_by_scorer_id(scorer_id="scorer-1", pagination={"page": 0, "per_page": 1})
    assert ids(page) == ["new-1"] and page.pagination.total == 2 and page.pagination.has_more
    for listing in (tsc.list_scores_by_run_id(run_id="run-1"),
                    tsc.list_scores_by_entity_id(entity_id="agent-1", entity_type="AGENT"),
                    tsc.list_scores_by_span(trace_id="tr", span_id="sp"),
                    tsc.list_scores_by_scorer_id(scorer_id="scorer-1", filters={"organization_id": "org"})):
        assert ids(listing) == ["new-1", "new-0"] and listing.pagination.total == 2
    assert tsc.get_score_by_id(id="old-0") is None


def test_resave_after_expiry_starts_a_new_life(tsc: DynamoScoresStore, clock: FakeClock) -> None:
    save(tsc, clock, id="s1", runId="run-old", **FULL)
    clock.advance(seconds=DAY + 1)
    again = tsc.save_score(score=payload(id="s1", score=0.1)).score
    assert again.created_at == clock.now  # the expired score's createdAt is gone with it
    assert again.trace_id is None and again.run_id == "run-1"
    fetched = tsc.get_score_by_id(id="s1")
    assert fetched is not None and fetched.created_at == clock.now and fetched.score == 0.1
    assert ids(tsc.list_scores_by_run_id(run_id="run-1")) == ["s1"]
    assert tsc.list_scores_by_run_id(run_id="run-old").pagination.total == 0
    assert tsc.list_scores_by_span(trace_id="tr", span_id="sp").pagination.total == 0


def test_scores_without_retention_never_expire(backend: Backend, clock: FakeClock) -> None:
    s = make_store(backend, clock=clock, ttl={"workflow_snapshot": {"enabled": True, "defaultTtlSeconds": 60}})
    s.create_table()
    try:
        sc = s.get_store("scores")
        sc.save_score(score=payload(id="s1", **FULL))
        clock.advance(days=365)
        assert sc.get_score_by_id(id="s1") is not None
        assert _listed(sc) == [["s1"]] * 6
    finally:
        s.delete_table()
        s.close()
