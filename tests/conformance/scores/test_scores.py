"""Spec 3.3 scores: save (validation, ids, createdAt), get, the four listings with their filters, tenancy,
ordering (newest first) and complete pagination."""

from __future__ import annotations

import itertools
import math
import uuid
from typing import Any

import pytest

from mastra_dynamo.errors import ValidationError
from mastra_dynamo.stores.scores import DynamoScoresStore
from tests.conftest import FakeClock

from .data import ids, payload, save


# ------------------------------------------------------------------------------------------ save / get
def test_save_and_get_round_trip(sc: DynamoScoresStore, clock: FakeClock) -> None:
    data = payload(traceId="trace-1", spanId="span-1", resourceId="res-1", threadId="thread-1",
                   organizationId="org-1", projectId="proj-1", batchId="batch-1", datasetId="ds-1",
                   datasetItemId="item-1", structuredOutput=True, additionalContext={"k": [1, 2]},
                   requestContext={"user": "u1"}, extractStepResult={"facts": ["a"]}, extractPrompt="extract",
                   analyzeStepResult={"verdict": "ok"}, analyzePrompt="analyze", reasonPrompt="why",
                   preprocessStepResult={"p": None}, preprocessPrompt="pre", generateScorePrompt="gs",
                   generateReasonPrompt="gr")
    saved = sc.save_score(score=data).score
    assert saved.created_at == clock.now
    assert saved.updated_at is None or saved.updated_at == clock.now
    for key, value in data.items():
        assert saved.to_mastra()[key] == value, key
    uuid.UUID(saved.id)  # a generated id is a UUID
    assert sc.get_score_by_id(id=saved.id) == saved


def test_minimal_payload(sc: DynamoScoresStore) -> None:
    data = {"scorerId": "s", "entityId": "e", "runId": "r", "score": 1, "scorer": {}, "source": "TEST",
            "entity": {}}
    saved = sc.save_score(score=data).score
    assert (saved.scorer_id, saved.entity_id, saved.run_id, saved.score, saved.source) == ("s", "e", "r", 1, "TEST")
    assert saved.entity_type is None and saved.trace_id is None and saved.organization_id is None
    assert sc.get_score_by_id(id=saved.id) == saved


def test_snake_case_payload(sc: DynamoScoresStore) -> None:
    saved = sc.save_score(score={"scorer_id": "s", "entity_id": "e", "entity_type": "WORKFLOW", "run_id": "r",
                                 "score": 0.5, "scorer": {"name": "n"}, "source": "LIVE", "entity": {"id": "e"},
                                 "organization_id": "org"}).score
    fetched = sc.get_score_by_id(id=saved.id)
    assert fetched is not None
    assert (fetched.scorer_id, fetched.entity_type, fetched.organization_id) == ("s", "WORKFLOW", "org")


def test_score_values_round_trip_exactly(sc: DynamoScoresStore) -> None:
    for value in (0, 1, -3.5, 0.1, 30.4, 1 / 3, 1e-9, 123456789.123):
        saved = sc.save_score(score=payload(score=value)).score
        fetched = sc.get_score_by_id(id=saved.id)
        assert fetched is not None and fetched.score == value


def test_nullable_fields_accept_null(sc: DynamoScoresStore) -> None:
    nulls = {"organizationId": None, "projectId": None, "batchId": None, "datasetId": None, "datasetItemId": None,
             "reason": None, "metadata": None}
    saved = sc.save_score(score=payload(**nulls)).score
    fetched = sc.get_score_by_id(id=saved.id)
    assert fetched is not None
    assert fetched.organization_id is None and fetched.project_id is None and fetched.dataset_item_id is None
    assert fetched.reason is None and fetched.metadata is None
    assert ids(sc.list_scores_by_scorer_id(scorer_id="scorer-1")) == [saved.id]


def test_empty_strings_and_nested_nulls_round_trip(sc: DynamoScoresStore) -> None:
    saved = sc.save_score(score=payload(reason="", output={"text": "", "n": None, "l": [None, ""]},
                                        metadata={"": "", "x": None})).score
    fetched = sc.get_score_by_id(id=saved.id)
    assert fetched is not None
    assert fetched.reason == "" and fetched.output == {"text": "", "n": None, "l": [None, ""]}
    assert fetched.metadata == {"": "", "x": None}


def test_given_id_is_honoured(sc: DynamoScoresStore) -> None:
    assert sc.get_score_by_id(id="my-score#1") is None
    saved = sc.save_score(score=payload(id="my-score#1")).score
    assert saved.id == "my-score#1"
    fetched = sc.get_score_by_id(id="my-score#1")
    assert fetched is not None and fetched == saved
    assert ids(sc.list_scores_by_run_id(run_id="run-1")) == ["my-score#1"]
    assert sc.get_score_by_id(id="my-score") is None and sc.get_score_by_id(id="MY-SCORE#1") is None


def test_generated_ids_are_unique(sc: DynamoScoresStore) -> None:
    first = sc.save_score(score=payload()).score
    second = sc.save_score(score=payload()).score
    assert first.id != second.id
    assert sc.list_scores_by_scorer_id(scorer_id="scorer-1").pagination.total == 2


def test_resave_keeps_created_at(sc: DynamoScoresStore, clock: FakeClock) -> None:
    created = clock.now
    save(sc, clock, id="s1", score=0.1)
    save(sc, clock, id="s2", score=0.2)
    clock.advance(hours=1)
    again = sc.save_score(score=payload(id="s1", score=0.9, reason="re-scored")).score
    assert again.created_at == created
    assert again.updated_at is None or again.updated_at == clock.now
    fetched = sc.get_score_by_id(id="s1")
    assert fetched is not None
    assert fetched.created_at == created and fetched.score == 0.9 and fetched.reason == "re-scored"
    listed = sc.list_scores_by_scorer_id(scorer_id="scorer-1")
    assert ids(listed) == ["s2", "s1"] and listed.pagination.total == 2  # one score, still at its creation time


def test_resave_replaces_the_listing_keys(sc: DynamoScoresStore, clock: FakeClock) -> None:
    save(sc, clock, id="s1", runId="run-a", traceId="t", spanId="sp", organizationId="org-1")
    sc.save_score(score=payload(id="s1", runId="run-b", scorerId="scorer-2", entityType="WORKFLOW"))
    assert sc.list_scores_by_run_id(run_id="run-a").pagination.total == 0
    assert ids(sc.list_scores_by_run_id(run_id="run-b")) == ["s1"]
    assert sc.list_scores_by_scorer_id(scorer_id="scorer-1").pagination.total == 0
    assert ids(sc.list_scores_by_scorer_id(scorer_id="scorer-2")) == ["s1"]
    assert sc.list_scores_by_entity_id(entity_id="agent-1", entity_type="AGENT").pagination.total == 0
    assert ids(sc.list_scores_by_entity_id(entity_id="agent-1", entity_type="WORKFLOW")) == ["s1"]
    assert sc.list_scores_by_span(trace_id="t", span_id="sp").pagination.total == 0  # no span any more
    assert sc.list_scores_by_run_id(run_id="run-b", filters={"organization_id": "org-1"}).pagination.total == 0
    fetched = sc.get_score_by_id(id="s1")
    assert fetched is not None and fetched.trace_id is None and fetched.organization_id is None


# ------------------------------------------------------------------------------------------ validation
REQUIRED = ["scorerId", "entityId", "runId", "score", "scorer", "source", "entity"]


def test_missing_required_field_is_rejected(sc: DynamoScoresStore) -> None:
    for field in REQUIRED:
        with pytest.raises(ValidationError) as info:
            sc.save_score(score=payload(id="bad", **{field: ...}))
        assert info.value.code == "SAVE_SCORE_VALIDATION_FAILED", field
        assert sc.get_score_by_id(id="bad") is None, field


BAD_VALUES = [
    ("score", math.nan),
    ("score", math.inf),
    ("score", -math.inf),
    ("score", "high"),
    ("score", None),
    ("score", [1]),
    ("source", "PROD"),
    ("source", "live"),
    ("source", None),
    ("scorer", "helpfulness"),
    ("scorer", None),
    ("entity", ["agent-1"]),
    ("entity", None),
    ("scorerId", ""),
    ("scorerId", "   "),
    ("scorerId", None),
    ("entityId", 123),
    ("entityId", ""),
    ("runId", None),
    ("runId", ""),
    ("id", ""),
    ("traceId", ""),
    ("organizationId", ""),
]


def test_bad_values_are_rejected(sc: DynamoScoresStore) -> None:
    for field, value in BAD_VALUES:
        with pytest.raises(ValidationError) as info:
            sc.save_score(score=payload(**{field: value}))
        assert info.value.code == "SAVE_SCORE_VALIDATION_FAILED", (field, value)
    assert sc.list_scores_by_scorer_id(scorer_id="scorer-1").pagination.total == 0
    assert sc.list_scores_by_run_id(run_id="run-1").pagination.total == 0


def test_rejected_resave_keeps_the_stored_score(sc: DynamoScoresStore) -> None:
    saved = sc.save_score(score=payload(id="s1")).score
    with pytest.raises(ValidationError):
        sc.save_score(score=payload(id="s1", score=math.nan))
    assert sc.get_score_by_id(id="s1") == saved


def test_payload_must_be_a_mapping(sc: DynamoScoresStore) -> None:
    with pytest.raises(ValidationError) as info:
        sc.save_score(score="not a score")  # type: ignore[arg-type]
    assert info.value.code == "SAVE_SCORE_VALIDATION_FAILED"


# ------------------------------------------------------------------------------------------ listings
@pytest.fixture
def seeded(sc: DynamoScoresStore, clock: FakeClock) -> DynamoScoresStore:
    """Scores saved one second apart, so ``sN`` is newer than ``sM`` when N > M."""
    rows: list[dict[str, Any]] = [
        {"id": "s01", "scorerId": "sc-a", "entityId": "agent-1", "entityType": "AGENT", "runId": "run-1",
         "source": "LIVE", "traceId": "tr-1", "spanId": "sp-1", "organizationId": "org-1", "projectId": "p-1"},
        {"id": "s02", "scorerId": "sc-a", "entityId": "agent-2", "entityType": "AGENT", "runId": "run-1",
         "source": "TEST", "traceId": "tr-1", "spanId": "sp-2", "organizationId": "org-1", "projectId": "p-2"},
        {"id": "s03", "scorerId": "sc-b", "entityId": "agent-1", "entityType": "AGENT", "runId": "run-2",
         "source": "LIVE", "traceId": "tr-1", "spanId": "sp-1", "organizationId": "org-2", "projectId": "p-1"},
        {"id": "s04", "scorerId": "sc-a", "entityId": "wf-1", "entityType": "WORKFLOW", "runId": "run-2",
         "source": "LIVE", "organizationId": "org-1", "projectId": "p-1"},
        {"id": "s05", "scorerId": "sc-a", "entityId": "agent-1", "entityType": "AGENT", "runId": "run-1",
         "source": "TEST", "traceId": "tr-2", "spanId": "sp-1"},
        {"id": "s06", "scorerId": "sc-a", "entityId": "agent-1", "entityType": "WORKFLOW", "runId": "run-3",
         "source": "LIVE", "traceId": "tr-1", "spanId": "sp-1", "organizationId": "org-1", "projectId": "p-1"},
        {"id": "s07", "scorerId": "sc-b", "entityId": "agent-1", "entityType": "AGENT", "runId": "run-1",
         "source": "LIVE", "traceId": "tr-1", "spanId": "sp-1", "organizationId": "org-1", "projectId": "p-2"},
        {"id": "s08", "scorerId": "sc-a", "entityId": "agent-1", "entityType": "AGENT", "runId": "run-3",
         "source": "LIVE", "organizationId": "org-2", "projectId": "p-2"},
        {"id": "s09", "scorerId": "sc-a", "entityId": "agent-1", "runId": "run-1", "source": "LIVE",
         "entityType": ..., "traceId": "tr-1", "spanId": ...},
    ]
    for row in rows:
        save(sc, clock, **row)
    return sc


def test_list_by_scorer_newest_first(seeded: DynamoScoresStore) -> None:
    page = seeded.list_scores_by_scorer_id(scorer_id="sc-a")
    assert ids(page) == ["s09", "s08", "s06", "s05", "s04", "s02", "s01"]
    assert page.pagination.total == 7 and page.pagination.page == 0 and page.pagination.has_more is False
    created = [s.created_at for s in page.scores]
    assert created == sorted(created, reverse=True)
    assert ids(seeded.list_scores_by_scorer_id(scorer_id="sc-b")) == ["s07", "s03"]
    assert seeded.list_scores_by_scorer_id(scorer_id="sc").pagination.total == 0
    assert seeded.list_scores_by_scorer_id(scorer_id="SC-A").pagination.total == 0


def test_list_by_scorer_filters(seeded: DynamoScoresStore) -> None:
    def by(**kwargs: Any) -> list[str]:
        page = seeded.list_scores_by_scorer_id(scorer_id="sc-a", **kwargs)
        assert page.pagination.total == len(page.scores)
        return ids(page)

    assert by(entity_id="agent-1") == ["s09", "s08", "s06", "s05", "s01"]
    assert by(entity_type="AGENT") == ["s08", "s05", "s02", "s01"]
    assert by(entity_type="WORKFLOW") == ["s06", "s04"]
    assert by(source="TEST") == ["s05", "s02"]
    assert by(source="LIVE") == ["s09", "s08", "s06", "s04", "s01"]
    assert by(entity_id="agent-1", entity_type="AGENT") == ["s08", "s05", "s01"]
    assert by(entity_id="agent-1", entity_type="AGENT", source="LIVE") == ["s08", "s01"]
    assert by(entity_id="agent-1", source="TEST") == ["s05"]
    assert by(entity_id="wf-1", entity_type="AGENT") == []
    assert by(filters={"organization_id": "org-1"}) == ["s06", "s04", "s02", "s01"]
    assert by(filters={"organization_id": "org-1", "project_id": "p-1"}) == ["s06", "s04", "s01"]
    assert by(filters={"project_id": "p-2"}) == ["s08", "s02"]
    assert by(entity_id="agent-1", filters={"organization_id": "org-1"}) == ["s06", "s01"]
    assert by(source="LIVE", entity_type="AGENT", filters={"organizationId": "org-2", "projectId": "p-2"}) == ["s08"]
    assert by(filters={"organization_id": "org-3"}) == []


def test_list_by_run_id(seeded: DynamoScoresStore) -> None:
    page = seeded.list_scores_by_run_id(run_id="run-1")
    assert ids(page) == ["s09", "s07", "s05", "s02", "s01"] and page.pagination.total == 5
    assert ids(seeded.list_scores_by_run_id(run_id="run-2")) == ["s04", "s03"]
    assert ids(seeded.list_scores_by_run_id(run_id="run-1", filters={"organization_id": "org-1"})) == [
        "s07", "s02", "s01"]
    assert ids(seeded.list_scores_by_run_id(run_id="run-1", filters={"organization_id": "org-1",
                                                                     "project_id": "p-2"})) == ["s07", "s02"]
    assert ids(seeded.list_scores_by_run_id(run_id="run-3", filters={"project_id": "p-2"})) == ["s08"]
    assert seeded.list_scores_by_run_id(run_id="run-9").pagination.total == 0


def test_list_by_entity_needs_id_and_type(seeded: DynamoScoresStore) -> None:
    page = seeded.list_scores_by_entity_id(entity_id="agent-1", entity_type="AGENT")
    assert ids(page) == ["s08", "s07", "s05", "s03", "s01"] and page.pagination.total == 5
    assert ids(seeded.list_scores_by_entity_id(entity_id="agent-1", entity_type="WORKFLOW")) == ["s06"]
    assert ids(seeded.list_scores_by_entity_id(entity_id="wf-1", entity_type="WORKFLOW")) == ["s04"]
    assert seeded.list_scores_by_entity_id(entity_id="wf-1", entity_type="AGENT").pagination.total == 0
    assert ids(seeded.list_scores_by_entity_id(entity_id="agent-1", entity_type="AGENT",
                                               filters={"organization_id": "org-1"})) == ["s07", "s01"]
    assert ids(seeded.list_scores_by_entity_id(entity_id="agent-1", entity_type="AGENT",
                                               filters={"organization_id": "org-1", "project_id": "p-1"})) == ["s01"]


def test_list_by_span_needs_trace_and_span(seeded: DynamoScoresStore) -> None:
    page = seeded.list_scores_by_span(trace_id="tr-1", span_id="sp-1")
    assert ids(page) == ["s07", "s06", "s03", "s01"] and page.pagination.total == 4
    assert ids(seeded.list_scores_by_span(trace_id="tr-1", span_id="sp-2")) == ["s02"]
    assert ids(seeded.list_scores_by_span(trace_id="tr-2", span_id="sp-1")) == ["s05"]
    assert seeded.list_scores_by_span(trace_id="tr-2", span_id="sp-2").pagination.total == 0
    assert ids(seeded.list_scores_by_span(trace_id="tr-1", span_id="sp-1",
                                          filters={"organization_id": "org-1", "project_id": "p-1"})) == ["s06", "s01"]
    assert ids(seeded.list_scores_by_span(trace_id="tr-1", span_id="sp-1", filters={"project_id": "p-2"})) == ["s07"]


def test_listings_return_full_records(seeded: DynamoScoresStore) -> None:
    stored = seeded.get_score_by_id(id="s06")
    assert stored is not None
    for page in (seeded.list_scores_by_scorer_id(scorer_id="sc-a"), seeded.list_scores_by_run_id(run_id="run-3"),
                 seeded.list_scores_by_entity_id(entity_id="agent-1", entity_type="WORKFLOW"),
                 seeded.list_scores_by_span(trace_id="tr-1", span_id="sp-1")):
        (found,) = [s for s in page.scores if s.id == "s06"]
        assert found == stored


# ------------------------------------------------------------------------------------------ pagination
def test_pages_total_and_has_more(seeded: DynamoScoresStore) -> None:
    pages = [seeded.list_scores_by_scorer_id(scorer_id="sc-a", pagination={"page": p, "per_page": 3})
             for p in range(4)]
    assert [ids(p) for p in pages] == [["s09", "s08", "s06"], ["s05", "s04", "s02"], ["s01"], []]
    assert [p.pagination.total for p in pages] == [7, 7, 7, 7]
    assert [p.pagination.has_more for p in pages] == [True, True, False, False]
    assert [(p.pagination.page, p.pagination.per_page) for p in pages] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    # a page that ends exactly at the last score has no more; camelCase perPage is accepted
    exact = seeded.list_scores_by_run_id(run_id="run-1", pagination={"page": 0, "perPage": 5})
    assert len(exact.scores) == 5 and exact.pagination.total == 5 and not exact.pagination.has_more
    after = seeded.list_scores_by_run_id(run_id="run-1", pagination={"page": 1, "perPage": 5})
    assert after.scores == [] and after.pagination.total == 5 and not after.pagination.has_more
    # per_page 0: no scores, but the total
    zero = seeded.list_scores_by_run_id(run_id="run-1", pagination={"page": 0, "per_page": 0})
    assert zero.scores == [] and zero.pagination.total == 5 and not zero.pagination.has_more


def test_pagination_with_filters(seeded: DynamoScoresStore) -> None:
    first = seeded.list_scores_by_scorer_id(scorer_id="sc-a", entity_id="agent-1",
                                            pagination={"page": 0, "per_page": 2})
    second = seeded.list_scores_by_scorer_id(scorer_id="sc-a", entity_id="agent-1",
                                             pagination={"page": 1, "per_page": 2})
    assert ids(first) == ["s09", "s08"] and ids(second) == ["s06", "s05"]
    assert first.pagination.total == second.pagination.total == 5
    assert first.pagination.has_more and second.pagination.has_more
    span = seeded.list_scores_by_span(trace_id="tr-1", span_id="sp-1", filters={"organization_id": "org-1"},
                                      pagination={"page": 1, "per_page": 2})
    assert ids(span) == ["s01"] and span.pagination.total == 3 and not span.pagination.has_more
    entity = seeded.list_scores_by_entity_id(entity_id="agent-1", entity_type="AGENT",
                                             filters={"project_id": "p-2"}, pagination={"page": 0, "per_page": 1})
    assert ids(entity) == ["s08"] and entity.pagination.total == 2 and entity.pagination.has_more


def test_per_page_false_and_default_return_everything(seeded: DynamoScoresStore) -> None:
    page = seeded.list_scores_by_entity_id(entity_id="agent-1", entity_type="AGENT",
                                           pagination={"page": 0, "per_page": False})
    assert ids(page) == ["s08", "s07", "s05", "s03", "s01"]
    assert page.pagination.per_page is False and page.pagination.total == 5 and page.pagination.has_more is False
    for pagination in (None, {}, {"page": 0}):
        page = seeded.list_scores_by_scorer_id(scorer_id="sc-a", pagination=pagination)
        assert len(page.scores) == page.pagination.total == 7 and not page.pagination.has_more, pagination
    with pytest.raises(ValidationError):  # "page must be 0 when perPage is false"
        seeded.list_scores_by_scorer_id(scorer_id="sc-a", pagination={"page": 1, "per_page": False})


def test_invalid_pagination_is_rejected(seeded: DynamoScoresStore) -> None:
    for pagination in ({"page": -1, "per_page": 10}, {"page": 0, "per_page": -1}, {"page": 1.5, "per_page": 10}):
        with pytest.raises(ValidationError):
            seeded.list_scores_by_scorer_id(scorer_id="sc-a", pagination=pagination)
        with pytest.raises(ValidationError):
            seeded.list_scores_by_run_id(run_id="run-1", pagination=pagination)


def test_blank_listing_ids_are_rejected(sc: DynamoScoresStore) -> None:
    for blank in ("", "  "):
        with pytest.raises(ValidationError):
            sc.list_scores_by_scorer_id(scorer_id=blank)
        with pytest.raises(ValidationError):
            sc.list_scores_by_run_id(run_id=blank)
        with pytest.raises(ValidationError):
            sc.list_scores_by_entity_id(entity_id=blank, entity_type="AGENT")
        with pytest.raises(ValidationError):
            sc.list_scores_by_span(trace_id="t", span_id=blank)


def test_a_popular_scorer_is_listed_completely_and_in_order(sc: DynamoScoresStore, clock: FakeClock) -> None:
    saved = []
    for i in range(120):
        saved.append(sc.save_score(score=payload(id=f"score-{i:03d}", scorerId="popular", runId=f"run-{i % 3}",
                                                 source="TEST" if i % 4 == 0 else "LIVE")).score.id)
        clock.advance(milliseconds=1)
    newest_first = list(reversed(saved))
    everything = sc.list_scores_by_scorer_id(scorer_id="popular", pagination={"page": 0, "per_page": False})
    assert ids(everything) == newest_first and everything.pagination.total == 120
    assert ids(sc.list_scores_by_scorer_id(scorer_id="popular")) == newest_first
    pages = [sc.list_scores_by_scorer_id(scorer_id="popular", pagination={"page": p, "per_page": 25})
             for p in range(5)]
    assert list(itertools.chain.from_iterable(ids(p) for p in pages)) == newest_first
    assert [p.pagination.has_more for p in pages] == [True, True, True, True, False]
    assert all(p.pagination.total == 120 for p in pages)
    live = sc.list_scores_by_scorer_id(scorer_id="popular", source="LIVE", pagination={"page": 2, "per_page": 10})
    live_ids = [s for s in newest_first if int(s[-3:]) % 4 != 0]
    assert ids(live) == live_ids[20:30] and live.pagination.total == 90
    by_run = sc.list_scores_by_run_id(run_id="run-1")
    assert ids(by_run) == [s for s in newest_first if int(s[-3:]) % 3 == 1]
