"""Observability domain (spec 3.4) on ClickHouseObservabilityStore, over chDB and over the HTTP interface."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta
from typing import Any

import pytest

from mastra_dynamo.composite import ClickHouseObservabilityStore, ObservabilityStorage, SpanRecord, TraceStatus
from mastra_dynamo.errors import NotFoundError, ValidationError

from .spans_data import BASE_TIME, at, span, trace

Store = ClickHouseObservabilityStore


def total(store: Store, **filters: Any) -> int:
    return store.list_traces(filters=filters).pagination.total


def trace_ids(store: Store, **kwargs: Any) -> list[str]:
    return [s.trace_id for s in store.list_traces(**kwargs).spans]


# ------------------------------------------------------------------------------------------- create / read
def test_store_satisfies_protocol(observability: Store) -> None:
    assert isinstance(observability, ObservabilityStorage)
    assert observability.observability_strategy["preferred"] == "batch-with-updates"


def test_create_and_get_span_round_trips_every_field(observability: Store) -> None:
    data = span(
        "t1", "s1", end=1.5,
        attributes={"model": "gpt", "usage": {"tokens": 12}}, links=[{"traceId": "other"}],
        input={"messages": ["hi"]}, output="plain text", metadata={"k": "v", "n": 2}, tags=["prod", "beta"],
        scope={"core": "1.0.0"}, requestContext={"tenant": "acme"}, experimentId="exp", source="cloud",
        entityType="agent", entityId="a1", entityName="Agent One", entityVersionId="v1",
        parentEntityType="workflow_run", parentEntityId="w1", parentEntityName="W", parentEntityVersionId="wv",
        rootEntityType="workflow_run", rootEntityId="w0", rootEntityName="Root", rootEntityVersionId="rv",
        userId="u1", organizationId="o1", resourceId="r1", runId="run1", sessionId="sess", threadId="th",
        requestId="req", environment="production", serviceName="svc",
    )
    observability.create_span(span=data)
    result = observability.get_span(trace_id="t1", span_id="s1")
    assert result is not None
    got = result.span
    dumped = got.to_mastra()
    for key, value in data.items():
        if key in ("startedAt", "endedAt"):
            continue
        if value is None:
            assert key not in dumped
        else:
            assert dumped[key] == value, key
    assert got.started_at == BASE_TIME and got.started_at.tzinfo is UTC
    assert got.ended_at == at(seconds=1.5)
    assert got.created_at.tzinfo is UTC and got.updated_at == got.created_at
    assert dumped["startedAt"].endswith("Z")


def test_missing_reads_return_none_or_empty(observability: Store) -> None:
    assert observability.get_span(trace_id="nope", span_id="x") is None
    assert observability.get_root_span(trace_id="nope") is None
    assert observability.get_trace(trace_id="nope") is None
    assert observability.get_spans(trace_id="nope", span_ids=["a"]).spans == []
    assert observability.get_spans(trace_id="nope", span_ids=[]).spans == []


def test_get_trace_returns_all_spans_oldest_first(observability: Store) -> None:
    observability.batch_create_spans(records=list(reversed(trace("t1", children=3))))
    observability.create_span(span=span("t2", "root"))
    got = observability.get_trace(trace_id="t1")
    assert got is not None and got.trace_id == "t1"
    assert [s.span_id for s in got.spans] == ["root", "child-0", "child-1", "child-2"]
    root = observability.get_root_span(trace_id="t1")
    assert root is not None and root.span.span_id == "root"


def test_get_spans_returns_requested_and_omits_missing(observability: Store) -> None:
    observability.batch_create_spans(records=trace("t1", children=3))
    got = observability.get_spans(trace_id="t1", span_ids=["child-2", "child-0", "ghost"])
    assert [s.span_id for s in got.spans] == ["child-0", "child-2"]


def test_empty_string_parent_is_a_root(observability: Store) -> None:
    observability.create_span(span=span("t1", "r", parentSpanId=""))
    root = observability.get_root_span(trace_id="t1")
    assert root is not None and root.span.span_id == "r"
    assert total(observability) == 1


def test_recreating_a_span_replaces_it(observability: Store) -> None:
    observability.create_span(span=span("t1", "root", name="first"))
    observability.create_span(span=span("t1", "root", name="second"))
    got = observability.get_trace(trace_id="t1")
    assert got is not None and [s.name for s in got.spans] == ["second"]
    assert total(observability) == 1


def test_recreating_a_span_cannot_move_it(observability: Store) -> None:
    observability.batch_create_spans(records=trace("t1", children=1))
    with pytest.raises(ValidationError) as err:
        observability.batch_create_spans(records=[span("t2", "root"), span("t1", "root", start=5)])
    assert [p["index"] for p in err.value.details["errors"]] == [1]
    with pytest.raises(ValidationError):
        observability.create_span(span=span("t1", "child-0", parent="other", start=0.5))
    with pytest.raises(ValidationError):
        observability.batch_create_spans(records=[span("t3", "a"), span("t3", "a", parent="x")])
    assert observability.get_trace(trace_id="t2") is None and observability.get_trace(trace_id="t3") is None
    observability.batch_delete_traces(trace_ids=["t1"])
    observability.create_span(span=span("t1", "root", start=5))
    root = observability.get_root_span(trace_id="t1")
    assert root is not None and root.span.started_at == at(seconds=5)


def test_batch_create_many_spans(observability: Store) -> None:
    records = [span(f"t{i // 10}", f"s{i}", parent=None if i % 10 == 0 else f"s{i - i % 10}", start=i)
               for i in range(500)]
    observability.batch_create_spans(records=records)
    assert total(observability) == 50
    got = observability.get_trace(trace_id="t7")
    assert got is not None and len(got.spans) == 10
    observability.batch_create_spans(records=[])


def test_insert_batch_size_splits_requests(make_observability: Any) -> None:
    store = make_observability(insert_batch_size=7)
    store.init()
    store.batch_create_spans(records=[span("t", f"s{i}", parent=None if i == 0 else "s0") for i in range(30)])
    got = store.get_trace(trace_id="t")
    assert got is not None and len(got.spans) == 30


# ------------------------------------------------------------------------------------------- bad input
def test_bad_spans_reject_the_whole_batch_and_list_every_problem(observability: Store) -> None:
    records: list[Any] = [
        span("t1", "ok-1"),
        {"traceId": "t2", "spanId": "no-name"},
        span("t3", "bad-json", input=b"bytes"),
        span("t4", "  "),
        span("t5", "nan", attributes={"x": float("nan")}),
        span("t6", "ok-2"),
    ]
    with pytest.raises(ValidationError) as err:
        observability.batch_create_spans(records=records)
    assert err.value.code == "INVALID_SPANS"
    problems = err.value.details["errors"]
    assert [p["index"] for p in problems] == [1, 2, 3, 4]
    assert problems[0]["traceId"] == "t2" and problems[1]["spanId"] == "bad-json"
    assert err.value.details["total"] == 6
    assert total(observability) == 0
    assert observability.get_span(trace_id="t1", span_id="ok-1") is None


def test_create_span_rejects_unknown_fields_and_db_timestamps(observability: Store) -> None:
    with pytest.raises(ValidationError):
        observability.create_span(span=span("t1", "s1", bogus=1))
    with pytest.raises(ValidationError):
        observability.create_span(span=span("t1", "s1", createdAt=BASE_TIME))


def test_naive_and_iso_datetimes_are_utc(observability: Store) -> None:
    observability.create_span(span=span("t1", "a", startedAt=BASE_TIME.replace(tzinfo=None)))
    observability.create_span(span=span("t2", "a", startedAt=BASE_TIME.isoformat().replace("+00:00", "Z")))
    for trace_id in ("t1", "t2"):
        got = observability.get_span(trace_id=trace_id, span_id="a")
        assert got is not None and got.span.started_at == BASE_TIME


# ------------------------------------------------------------------------------------------- updates
def test_update_span_merges_and_never_shows_stale_or_duplicate(observability: Store) -> None:
    observability.batch_create_spans(records=trace("t1"))
    before = observability.get_span(trace_id="t1", span_id="root")
    assert before is not None
    for i in range(5):
        observability.update_span(trace_id="t1", span_id="root", updates={"output": {"step": i}})
    observability.update_span(trace_id="t1", span_id="root", updates={"endedAt": at(seconds=9)})
    got = observability.get_span(trace_id="t1", span_id="root")
    assert got is not None
    assert got.span.output == {"step": 4} and got.span.ended_at == at(seconds=9)
    assert got.span.name == before.span.name and got.span.created_at == before.span.created_at
    assert got.span.updated_at is not None and got.span.updated_at >= before.span.created_at
    full = observability.get_trace(trace_id="t1")
    assert full is not None and len(full.spans) == 3
    page = observability.list_traces()
    assert page.pagination.total == 1 and page.spans[0].status is TraceStatus.SUCCESS


def test_update_can_clear_a_field_with_none(observability: Store) -> None:
    observability.create_span(span=span("t1", "root", metadata={"a": 1}, output="x"))
    observability.update_span(trace_id="t1", span_id="root", updates={"output": None})
    got = observability.get_span(trace_id="t1", span_id="root")
    assert got is not None and got.span.output is None and got.span.metadata == {"a": 1}


def test_update_missing_span_raises_not_found(observability: Store) -> None:
    with pytest.raises(NotFoundError) as err:
        observability.update_span(trace_id="t1", span_id="ghost", updates={"output": 1})
    assert err.value.code == "SPAN_NOT_FOUND"


def test_update_rejects_changes_to_immutable_fields(observability: Store) -> None:
    observability.create_span(span=span("t1", "root"))
    observability.create_span(span=span("t1", "c", parent="root"))
    observability.update_span(trace_id="t1", span_id="root", updates={"startedAt": BASE_TIME, "parentSpanId": None})
    with pytest.raises(ValidationError) as err:
        observability.update_span(trace_id="t1", span_id="root", updates={"startedAt": at(seconds=1)})
    assert err.value.code == "IMMUTABLE_SPAN_FIELD"
    with pytest.raises(ValidationError):
        observability.update_span(trace_id="t1", span_id="c", updates={"parentSpanId": "other"})
    with pytest.raises(ValidationError):
        observability.update_span(trace_id="t1", span_id="c", updates={"traceId": "t9"})
    with pytest.raises(ValidationError):
        observability.update_span(trace_id="t1", span_id="c", updates={"name": None})


def test_batch_update_spans_skips_missing_and_applies_in_order(observability: Store) -> None:
    observability.batch_create_spans(records=trace("t1", children=2) + trace("t2", children=0))
    observability.batch_update_spans(records=[
        {"traceId": "t1", "spanId": "root", "updates": {"output": "first"}},
        {"traceId": "t1", "spanId": "child-0", "updates": {"error": {"message": "boom"}}},
        {"traceId": "t1", "spanId": "ghost", "updates": {"output": "never"}},
        {"trace_id": "t1", "span_id": "root", "updates": {"endedAt": at(seconds=5)}},
        {"traceId": "t2", "spanId": "root", "updates": {"endedAt": at(seconds=3)}},
    ])
    root = observability.get_span(trace_id="t1", span_id="root")
    assert root is not None and root.span.output == "first" and root.span.ended_at == at(seconds=5)
    child = observability.get_span(trace_id="t1", span_id="child-0")
    assert child is not None and child.span.error == {"message": "boom"}
    assert observability.get_span(trace_id="t1", span_id="ghost") is None
    full = observability.get_trace(trace_id="t1")
    assert full is not None and len(full.spans) == 3
    observability.batch_update_spans(records=[])


def test_batch_update_validates_everything_first(observability: Store) -> None:
    observability.create_span(span=span("t1", "root"))
    with pytest.raises(ValidationError) as err:
        observability.batch_update_spans(records=[
            {"traceId": "t1", "spanId": "root", "updates": {"output": "x"}},
            {"traceId": "t1", "updates": {"output": "y"}},
            {"traceId": "t1", "spanId": "root", "updates": {"nope": 1}},
        ])
    assert [p["index"] for p in err.value.details["errors"]] == [1, 2]
    got = observability.get_span(trace_id="t1", span_id="root")
    assert got is not None and got.span.output is None


def test_concurrent_writers(observability: Store) -> None:
    def write(i: int) -> None:
        observability.batch_create_spans(records=trace(f"t{i}", start=i, children=3))
        observability.update_span(trace_id=f"t{i}", span_id="root", updates={"endedAt": at(seconds=i + 9)})

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(12)))
    page = observability.list_traces(pagination={"page": 0, "perPage": 100})
    assert page.pagination.total == 12
    assert all(s.status is TraceStatus.SUCCESS for s in page.spans)


# ------------------------------------------------------------------------------------------- list_traces
def seed_traces(store: Store) -> None:
    store.batch_create_spans(records=[
        *trace("t-ok", start=0, end=10, entityType="agent", entityId="a1", userId="u1", environment="prod",
               metadata={"team": "core", "n": 1, "flag": True}, tags=["a", "b"], scope={"core": "1.0"}),
        *trace("t-err", start=20, end=30, entityType="workflow_run", entityId="w1", userId="u2",
               error={"message": "root failed"}, metadata={"team": "edge"}, tags=["a"]),
        *trace("t-run", start=40, entityType="agent", entityId="a2", userId="u1", environment="dev"),
        *trace("t-child-err", start=60, end=70, entityType="agent", spanType="workflow_run"),
    ])
    store.update_span(trace_id="t-child-err", span_id="child-1", updates={"error": {"message": "child failed"}})


def test_list_traces_lists_root_spans_with_status(observability: Store) -> None:
    seed_traces(observability)
    page = observability.list_traces()
    assert page.pagination.model_dump() == {"total": 4, "page": 0, "per_page": 10, "has_more": False}
    statuses = {s.trace_id: s.status for s in page.spans}
    assert statuses == {"t-ok": TraceStatus.SUCCESS, "t-err": TraceStatus.ERROR, "t-run": TraceStatus.RUNNING,
                        "t-child-err": TraceStatus.SUCCESS}
    assert all(s.parent_span_id is None for s in page.spans)
    assert page.to_mastra()["spans"][0]["status"] in {"success", "error", "running"}
    assert "perPage" in page.to_mastra()["pagination"]


def test_list_traces_ordering(observability: Store) -> None:
    seed_traces(observability)
    assert trace_ids(observability) == ["t-child-err", "t-run", "t-err", "t-ok"]
    assert trace_ids(observability, order_by={"field": "startedAt", "direction": "ASC"}) == \
        ["t-ok", "t-err", "t-run", "t-child-err"]
    assert trace_ids(observability, order_by={"field": "endedAt", "direction": "DESC"}) == \
        ["t-run", "t-child-err", "t-err", "t-ok"]
    assert trace_ids(observability, order_by={"field": "endedAt", "direction": "ASC"}) == \
        ["t-ok", "t-err", "t-child-err", "t-run"]


def test_list_traces_pagination(observability: Store) -> None:
    observability.batch_create_spans(records=[span(f"t{i:02d}", "root", start=i) for i in range(25)])
    first = observability.list_traces()
    assert len(first.spans) == 10 and first.pagination.has_more and first.pagination.total == 25
    last = observability.list_traces(pagination={"page": 2, "perPage": 10})
    assert [s.trace_id for s in last.spans] == [f"t{i:02d}" for i in range(4, -1, -1)]
    assert not last.pagination.has_more
    beyond = observability.list_traces(pagination={"page": 9, "per_page": 10})
    assert beyond.spans == [] and beyond.pagination.total == 25
    seen = [s.trace_id for p in range(5) for s in observability.list_traces(pagination={"page": p, "perPage": 6}).spans]
    assert sorted(seen) == [f"t{i:02d}" for i in range(25)] and len(set(seen)) == 25


@pytest.mark.parametrize("pagination", [{"perPage": 0}, {"perPage": 101}, {"page": -1}, {"perPage": "5"},
                                        {"perPage": True}, {"perPage": False}, {"limit": 3}])
def test_list_traces_rejects_bad_pagination(observability: Store, pagination: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        observability.list_traces(pagination=pagination)


def test_list_traces_rejects_bad_order_and_filters(observability: Store) -> None:
    with pytest.raises(ValidationError):
        observability.list_traces(order_by={"field": "name"})
    with pytest.raises(ValidationError):
        observability.list_traces(order_by={"direction": "sideways"})
    with pytest.raises(ValidationError):
        observability.list_traces(filters={"unknownField": 1})
    with pytest.raises(ValidationError):
        observability.list_traces(filters={"metadata": {"bad-key": 1}})
    with pytest.raises(ValidationError):
        observability.list_traces(filters={"status": "paused"})


def test_list_traces_field_filters(observability: Store) -> None:
    seed_traces(observability)
    assert total(observability, entityType="agent") == 3
    assert total(observability, entity_type="agent", userId="u1") == 2
    assert trace_ids(observability, filters={"entityId": "w1"}) == ["t-err"]
    assert trace_ids(observability, filters={"spanType": "workflow_run"}) == ["t-child-err"]
    assert trace_ids(observability, filters={"traceId": "t-run"}) == ["t-run"]
    assert total(observability, environment="prod") == 1
    assert total(observability, environment=None) == 2
    assert total(observability, userId="nobody") == 0


def test_list_traces_child_span_fields_do_not_match(observability: Store) -> None:
    observability.batch_create_spans(records=[span("t1", "root"), span("t1", "c", parent="root", userId="u9")])
    assert total(observability, userId="u9") == 0


def test_list_traces_status_and_child_error_filters(observability: Store) -> None:
    seed_traces(observability)
    assert trace_ids(observability, filters={"status": "error"}) == ["t-err"]
    assert trace_ids(observability, filters={"status": TraceStatus.RUNNING}) == ["t-run"]
    assert sorted(trace_ids(observability, filters={"status": "success"})) == ["t-child-err", "t-ok"]
    assert sorted(trace_ids(observability, filters={"hasChildError": True})) == ["t-child-err", "t-err"]
    assert sorted(trace_ids(observability, filters={"hasChildError": False})) == ["t-ok", "t-run"]
    assert trace_ids(observability, filters={"hasChildError": True, "entityType": "agent"}) == ["t-child-err"]


def test_status_filter_sees_only_the_latest_version(observability: Store) -> None:
    observability.create_span(span=span("t1", "root"))
    assert total(observability, status="running") == 1
    observability.update_span(trace_id="t1", span_id="root", updates={"endedAt": at(seconds=1)})
    assert total(observability, status="running") == 0
    assert total(observability, status="success") == 1
    observability.update_span(trace_id="t1", span_id="root", updates={"error": {"message": "late"}})
    assert total(observability, status="success") == 0
    assert total(observability, hasChildError=True) == 1


def test_list_traces_date_ranges(observability: Store) -> None:
    seed_traces(observability)
    assert sorted(trace_ids(observability, filters={"startedAt": {"start": at(seconds=20)}})) == \
        ["t-child-err", "t-err", "t-run"]
    assert trace_ids(observability, filters={"startedAt": {"start": at(seconds=20), "startExclusive": True,
                                                           "end": at(seconds=40)}}) == ["t-run"]
    assert trace_ids(observability, filters={"startedAt": {"end": at(seconds=20), "endExclusive": True}}) == ["t-ok"]
    assert trace_ids(observability, filters={"startedAt": {"start": at(microseconds=1), "end": at(seconds=20)}}) \
        == ["t-err"]
    assert sorted(trace_ids(observability, filters={"endedAt": {"start": at(seconds=10)}})) == \
        ["t-child-err", "t-err", "t-ok"]
    assert total(observability, endedAt={"start": at(seconds=0), "end": at(seconds=10), "endExclusive": True}) == 0


def test_list_traces_metadata_scope_and_tags(observability: Store) -> None:
    seed_traces(observability)
    assert trace_ids(observability, filters={"metadata": {"team": "core"}}) == ["t-ok"]
    assert trace_ids(observability, filters={"metadata": {"team": "core", "n": 1, "flag": True}}) == ["t-ok"]
    assert total(observability, metadata={"n": "1"}) == 0
    assert total(observability, metadata={"flag": 1}) == 0
    assert total(observability, metadata={"team": "core", "n": 2}) == 0
    assert total(observability, metadata={"missing": None}) == 0
    assert trace_ids(observability, filters={"scope": {"core": "1.0"}}) == ["t-ok"]
    assert sorted(trace_ids(observability, filters={"tags": ["a"]})) == ["t-err", "t-ok"]
    assert trace_ids(observability, filters={"tags": ["a", "b"]}) == ["t-ok"]
    assert total(observability, tags=["a", "zzz"]) == 0
    assert total(observability, tags=[]) == 4


def test_metadata_filter_values_are_typed(observability: Store) -> None:
    observability.batch_create_spans(records=[
        span("t1", "root", metadata={"v": None, "obj": {"a": [1, 2]}, "f": 1.5}),
        span("t2", "root", metadata={"v": 0}),
    ])
    assert trace_ids(observability, filters={"metadata": {"v": None}}) == ["t1"]
    assert trace_ids(observability, filters={"metadata": {"v": 0}}) == ["t2"]
    assert trace_ids(observability, filters={"metadata": {"obj": {"a": [1, 2]}}}) == ["t1"]
    assert trace_ids(observability, filters={"metadata": {"f": 1.5}}) == ["t1"]


def test_list_traces_accepts_naive_dates_and_records(observability: Store) -> None:
    from mastra_dynamo.composite import TracesFilter

    seed_traces(observability)
    spec = TracesFilter(started_at={"start": (BASE_TIME + timedelta(seconds=20)).replace(tzinfo=None),
                                    "end": at(seconds=20)})
    assert trace_ids(observability, filters=spec) == ["t-err"]


# ------------------------------------------------------------------------------------------- deletes
def test_batch_delete_traces(observability: Store) -> None:
    seed_traces(observability)
    observability.batch_delete_traces(trace_ids=["t-ok", "t-err", "ghost"])
    assert observability.get_trace(trace_id="t-ok") is None
    assert observability.get_span(trace_id="t-err", span_id="child-0") is None
    assert sorted(trace_ids(observability)) == ["t-child-err", "t-run"]
    observability.batch_delete_traces(trace_ids=[])
    assert total(observability) == 2


def test_batch_delete_limits_and_validation(observability: Store) -> None:
    with pytest.raises(ValidationError):
        observability.batch_delete_traces(trace_ids=[f"t{i}" for i in range(1001)])
    with pytest.raises(ValidationError):
        observability.batch_delete_traces(trace_ids="t1")
    with pytest.raises(ValidationError):
        observability.batch_delete_traces(trace_ids=[""])
    observability.batch_delete_traces(trace_ids=[f"t{i}" for i in range(1000)])


def test_batch_delete_scoped_to_organization_and_resource(observability: Store) -> None:
    observability.batch_create_spans(records=[
        *trace("t1", organizationId="acme", resourceId="r1"),
        *trace("t2", organizationId="other", resourceId="r1"),
        *trace("t3", organizationId="acme", resourceId="r2"),
    ])
    observability.batch_delete_traces(trace_ids=["t1", "t2", "t3"], organization_id="acme", resource_id="r1")
    assert sorted(trace_ids(observability)) == ["t2", "t3"]
    observability.batch_delete_traces(trace_ids=["t2", "t3"], organization_id="acme")
    assert trace_ids(observability) == ["t2"]
    assert observability.get_trace(trace_id="t3") is None


def test_deleted_trace_can_be_written_again(observability: Store) -> None:
    observability.batch_create_spans(records=trace("t1"))
    observability.batch_delete_traces(trace_ids=["t1"])
    observability.batch_create_spans(records=trace("t1", children=1))
    got = observability.get_trace(trace_id="t1")
    assert got is not None and len(got.spans) == 2 and total(observability) == 1


def test_dangerously_clear_all(observability: Store) -> None:
    seed_traces(observability)
    observability.dangerously_clear_all()
    assert total(observability) == 0 and observability.get_trace(trace_id="t-ok") is None


def test_span_record_accepts_both_key_styles() -> None:
    snake = SpanRecord(trace_id="t", span_id="s", name="n", span_type="generic", started_at=BASE_TIME,
                       created_at=BASE_TIME)
    camel = SpanRecord.model_validate({"traceId": "t", "spanId": "s", "name": "n", "spanType": "generic",
                                       "startedAt": BASE_TIME, "createdAt": BASE_TIME})
    assert snake == camel
