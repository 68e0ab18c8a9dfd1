"""Scores of one scorer live in one index partition: a page is one Query, plus a COUNT only when more follow.

Also checked: the order (newest first; equal creation times in one order that every page follows) and complete
pagination of that partition.
"""

from __future__ import annotations

import itertools

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.schema import keys
from mastra_dynamo.stores.scores import DynamoScoresStore
from tests.conformance.workflows.data import spent
from tests.conftest import FakeClock

from .data import ids, save


def seed(sc: DynamoScoresStore, clock: FakeClock, scorer: str, count: int) -> list[str]:
    """``count`` scores of ``scorer`` (with scores of another scorer in between), newest first."""
    saved = []
    for i in range(count):
        saved.append(save(sc, clock, id=f"{scorer}-{i:03d}", scorerId=scorer).id)
        save(sc, clock, scorerId=f"other-{scorer}")
    return list(reversed(saved))


def test_every_score_of_a_scorer_is_in_one_partition(clocked_store: DynamoDBStore, sc: DynamoScoresStore,
                                                     clock: FakeClock) -> None:
    for score_id in seed(sc, clock, "scorer", 12):
        item = clocked_store.table.get_item(keys.score_key(score_id))
        assert item is not None and item["gsi1pk"] == {"S": keys.scores_by_scorer_pk("scorer")}


def test_a_page_with_nothing_after_it_is_one_query(clocked_store: DynamoDBStore, sc: DynamoScoresStore,
                                                   clock: FakeClock) -> None:
    newest_first = seed(sc, clock, "scorer", 7)
    for pagination in ({"page": 0, "per_page": 7}, {"page": 0, "per_page": 20}, {"page": 1, "per_page": 4},
                       {"page": 0, "per_page": False}, None):
        before = clocked_store.request_counts()
        page = sc.list_scores_by_scorer_id(scorer_id="scorer", pagination=pagination)
        assert spent(clocked_store, before) == {"Query": 1}, pagination
        assert page.pagination.total == 7 and not page.pagination.has_more, pagination
    last = sc.list_scores_by_scorer_id(scorer_id="scorer", pagination={"page": 1, "per_page": 4})
    assert ids(last) == newest_first[4:]


def test_a_page_with_more_after_it_is_one_query_and_one_count(clocked_store: DynamoDBStore,
                                                              sc: DynamoScoresStore, clock: FakeClock) -> None:
    newest_first = seed(sc, clock, "scorer", 12)
    pages = []
    for p in range(3):
        before = clocked_store.request_counts()
        pages.append(sc.list_scores_by_scorer_id(scorer_id="scorer", pagination={"page": p, "per_page": 5}))
        assert spent(clocked_store, before) == ({"Query": 2} if p < 2 else {"Query": 1}), p  # COUNT if more
    assert list(itertools.chain.from_iterable(ids(p) for p in pages)) == newest_first
    assert [p.pagination.total for p in pages] == [12, 12, 12]
    assert [p.pagination.has_more for p in pages] == [True, True, False]
    before = clocked_store.request_counts()
    filtered = sc.list_scores_by_scorer_id(scorer_id="scorer", source="LIVE", pagination={"page": 0, "per_page": 5})
    assert spent(clocked_store, before) == {"Query": 2}
    assert ids(filtered) == newest_first[:5] and filtered.pagination.total == 12


def test_equal_creation_times_keep_one_order_across_pages(clocked_store: DynamoDBStore,
                                                          sc: DynamoScoresStore) -> None:
    """Index sort keys are the creation time alone: scores created at the same time share one, and the index
    keeps them in one order (by table key) that every page of the listing follows."""
    for score_id in ("b", "d", "a", "e", "c"):  # the clock does not move: one creation time
        sc.save_score(score={"id": score_id, "scorerId": "tied", "entityId": "e", "runId": "r", "score": 1,
                             "scorer": {}, "source": "TEST", "entity": {}})
    everything = ids(sc.list_scores_by_scorer_id(scorer_id="tied"))
    assert sorted(everything) == ["a", "b", "c", "d", "e"]
    for per_page in (1, 2, 3):
        pages = [sc.list_scores_by_scorer_id(scorer_id="tied", pagination={"page": p, "per_page": per_page})
                 for p in range(-(-5 // per_page))]
        assert list(itertools.chain.from_iterable(ids(p) for p in pages)) == everything, per_page
        assert [p.pagination.total for p in pages] == [5] * len(pages)
    assert ids(sc.list_scores_by_scorer_id(scorer_id="tied")) == everything
