"""Spec 3.2 listWorkflowRuns: every filter and combination, newest first, totals and page/per_page."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from mastra_dynamo.errors import ValidationError
from mastra_dynamo.records.workflows import WorkflowRuns
from mastra_dynamo.stores.workflows import DynamoWorkflowsStore

from .data import at, snapshot


@dataclass(frozen=True)
class Seed:
    workflow_name: str
    run_id: str
    resource_id: str | None
    status: str
    created_at: datetime


SEEDS = [
    Seed("wf-a", "a1", "res-1", "success", at(days=1)),
    Seed("wf-a", "a2", "res-1", "suspended", at(days=2)),
    Seed("wf-b", "b1", "res-1", "success", at(days=3)),
    Seed("wf-a", "a3", "res-2", "success", at(days=4)),
    Seed("wf-a", "a4", None, "failed", at(days=5)),
    Seed("wf-b", "b2", "res-2", "running", at(days=6)),
    Seed("wf-b", "b3", None, "suspended", at(days=7)),
    Seed("wf-a", "a5", "res-2", "suspended", at(days=8)),
    Seed("wf-a", "a6", "res-1", "success", at(days=9)),
    Seed("wf-c", "c1", "res-3", "waiting", at(days=10)),
]
"""Ten runs over three workflows, three resources (and none) and four statuses, one per day.
Seeded in a shuffled order so that write order never explains the listing order."""


def seed(wf: DynamoWorkflowsStore, seeds: list[Seed] = SEEDS) -> None:
    order = [seeds[i] for i in (3, 0, 9, 5, 1, 7, 2, 8, 4, 6)] if seeds is SEEDS else seeds
    for s in order:
        wf.persist_workflow_snapshot(workflow_name=s.workflow_name, run_id=s.run_id, resource_id=s.resource_id,
                                     snapshot=snapshot(s.run_id, s.status), created_at=s.created_at,
                                     updated_at=s.created_at + timedelta(hours=1))


def expected(*, workflow_name: str | None = None, resource_id: str | None = None, status: str | None = None,
             from_date: datetime | None = None, to_date: datetime | None = None) -> list[str]:
    """Run ids of the matching seeds, newest first."""
    hits = [s for s in SEEDS
            if (workflow_name is None or s.workflow_name == workflow_name)
            and (resource_id is None or s.resource_id == resource_id)
            and (status is None or s.status == status)
            and (from_date is None or s.created_at >= from_date)
            and (to_date is None or s.created_at <= to_date)]
    return [s.run_id for s in sorted(hits, key=lambda s: s.created_at, reverse=True)]


def ids(result: WorkflowRuns) -> list[str]:
    return [r.run_id for r in result.runs]


@pytest.fixture
def seeded(wf: DynamoWorkflowsStore) -> DynamoWorkflowsStore:
    seed(wf)
    return wf


# ------------------------------------------------------------------------------------------ basics
def test_empty_table_lists_nothing(wf: DynamoWorkflowsStore) -> None:
    result = wf.list_workflow_runs()
    assert result.runs == [] and result.total == 0
    assert wf.list_workflow_runs(workflow_name="wf", page=0, per_page=10).total == 0


def test_all_runs_newest_first_with_full_records(seeded: DynamoWorkflowsStore) -> None:
    result = seeded.list_workflow_runs()
    assert ids(result) == expected() == ["c1", "a6", "a5", "b3", "b2", "a4", "a3", "b1", "a2", "a1"]
    assert result.total == 10
    by_id = {s.run_id: s for s in SEEDS}
    for run in result.runs:
        s = by_id[run.run_id]
        assert run.workflow_name == s.workflow_name
        assert run.resource_id == s.resource_id
        assert run.created_at == s.created_at
        assert run.updated_at == s.created_at + timedelta(hours=1)
        assert run.snapshot == snapshot(s.run_id, s.status)


def test_single_filters(seeded: DynamoWorkflowsStore) -> None:
    by_name = seeded.list_workflow_runs(workflow_name="wf-a")
    assert ids(by_name) == ["a6", "a5", "a4", "a3", "a2", "a1"] and by_name.total == 6
    assert ids(seeded.list_workflow_runs(workflow_name="wf-b")) == ["b3", "b2", "b1"]
    assert seeded.list_workflow_runs(workflow_name="wf").total == 0  # no prefix matching
    assert seeded.list_workflow_runs(workflow_name="WF-A").total == 0  # case-sensitive
    by_resource = seeded.list_workflow_runs(resource_id="res-1")
    assert ids(by_resource) == ["a6", "b1", "a2", "a1"] and by_resource.total == 4
    assert seeded.list_workflow_runs(resource_id="res").total == 0
    # status matches the snapshot's status
    assert ids(seeded.list_workflow_runs(status="suspended")) == ["a5", "b3", "a2"]
    assert ids(seeded.list_workflow_runs(status="success")) == ["a6", "a3", "b1", "a1"]
    assert seeded.list_workflow_runs(status="canceled").total == 0


def test_filter_pairs(seeded: DynamoWorkflowsStore) -> None:
    name_status = seeded.list_workflow_runs(workflow_name="wf-a", status="suspended")
    assert ids(name_status) == ["a5", "a2"] and name_status.total == 2
    assert seeded.list_workflow_runs(workflow_name="wf-c", status="suspended").total == 0
    resource_status = seeded.list_workflow_runs(resource_id="res-1", status="success")
    assert ids(resource_status) == ["a6", "b1", "a1"] and resource_status.total == 3
    name_dates = seeded.list_workflow_runs(workflow_name="wf-a", from_date=at(days=2), to_date=at(days=8))
    assert ids(name_dates) == ["a5", "a4", "a3", "a2"] and name_dates.total == 4
    assert ids(seeded.list_workflow_runs(workflow_name="wf-a", resource_id="res-2")) == ["a5", "a3"]
    assert ids(seeded.list_workflow_runs(workflow_name="wf-b", resource_id="res-1")) == ["b1"]
    assert ids(seeded.list_workflow_runs(status="suspended", to_date=at(days=7))) == ["b3", "a2"]
    assert ids(seeded.list_workflow_runs(resource_id="res-2", from_date=at(days=5))) == ["a5", "b2"]


def test_status_filter_follows_state_changes(seeded: DynamoWorkflowsStore) -> None:
    assert seeded.update_workflow_state(workflow_name="wf-b", run_id="b3", opts={"status": "running"}) is not None
    seeded.persist_workflow_snapshot(workflow_name="wf-a", run_id="a1", snapshot=snapshot("a1", "suspended"))
    assert ids(seeded.list_workflow_runs(status="suspended")) == ["a5", "a2", "a1"]
    assert ids(seeded.list_workflow_runs(status="running")) == ["b3", "b2"]
    assert ids(seeded.list_workflow_runs(workflow_name="wf-a", status="success")) == ["a6", "a3"]


def test_date_filters_are_inclusive(seeded: DynamoWorkflowsStore) -> None:
    assert ids(seeded.list_workflow_runs(from_date=at(days=8))) == ["c1", "a6", "a5"]
    assert ids(seeded.list_workflow_runs(from_date=at(days=8, ms=1))) == ["c1", "a6"]
    assert ids(seeded.list_workflow_runs(to_date=at(days=2))) == ["a2", "a1"]
    assert ids(seeded.list_workflow_runs(to_date=at(days=2, ms=-1))) == ["a1"]
    both = seeded.list_workflow_runs(from_date=at(days=3), to_date=at(days=5))
    assert ids(both) == ["a4", "a3", "b1"] and both.total == 3
    assert ids(seeded.list_workflow_runs(from_date=at(days=4), to_date=at(days=4))) == ["a3"]
    assert seeded.list_workflow_runs(from_date=at(days=4, ms=1), to_date=at(days=5, ms=-1)).total == 0
    assert seeded.list_workflow_runs(from_date=at(days=100)).total == 0
    assert seeded.list_workflow_runs(to_date=at(days=-100)).total == 0


def test_inverted_date_range_matches_nothing(seeded: DynamoWorkflowsStore) -> None:
    for filters in ({}, {"workflow_name": "wf-a"}, {"resource_id": "res-1"}, {"status": "success"}):
        result = seeded.list_workflow_runs(from_date=at(days=6), to_date=at(days=5), **filters)  # type: ignore[arg-type]
        assert result.runs == [] and result.total == 0, filters


def test_every_filter_combination(seeded: DynamoWorkflowsStore) -> None:
    names = [None, "wf-a", "wf-b", "nope"]
    resources = [None, "res-1", "res-2"]
    statuses = [None, "success", "suspended"]
    ranges: list[tuple[datetime | None, datetime | None]] = [
        (None, None), (at(days=3), None), (None, at(days=6)), (at(days=2), at(days=8))]
    checked = 0
    for name, resource, status, (start, end) in itertools.product(names, resources, statuses, ranges):
        filters: dict[str, Any] = {"workflow_name": name, "resource_id": resource, "status": status,
                                   "from_date": start, "to_date": end}
        want = expected(**filters)
        got = seeded.list_workflow_runs(**filters)
        assert (ids(got), got.total) == (want, len(want)), filters
        checked += 1
    assert checked == 144
    for name, resource, status in itertools.product([None, "wf-a"], [None, "res-1"], [None, "success"]):
        filters = {"workflow_name": name, "resource_id": resource, "status": status}
        want = expected(**filters)
        got = seeded.list_workflow_runs(**filters, page=1, per_page=2)
        assert (ids(got), got.total) == (want[2:4], len(want)), filters


def test_thread_id_is_accepted(seeded: DynamoWorkflowsStore) -> None:
    # best effort upstream: a store may ignore it, but it must not fail or invent runs
    result = seeded.list_workflow_runs(workflow_name="wf-a", thread_id="thread-1")
    assert set(ids(result)) <= set(expected(workflow_name="wf-a"))
    assert result.total >= len(result.runs)


# ------------------------------------------------------------------------------------------ pagination
def test_pagination(seeded: DynamoWorkflowsStore) -> None:
    pages = [seeded.list_workflow_runs(page=p, per_page=3) for p in range(5)]
    assert [ids(p) for p in pages] == [["c1", "a6", "a5"], ["b3", "b2", "a4"], ["a3", "b1", "a2"], ["a1"], []]
    assert all(p.total == 10 for p in pages)
    # with filters: total counts every match, not the page
    first = seeded.list_workflow_runs(workflow_name="wf-a", page=0, per_page=4)
    second = seeded.list_workflow_runs(workflow_name="wf-a", page=1, per_page=4)
    assert ids(first) == ["a6", "a5", "a4", "a3"] and first.total == 6
    assert ids(second) == ["a2", "a1"] and second.total == 6
    dated = seeded.list_workflow_runs(from_date=at(days=2), to_date=at(days=9), page=1, per_page=3)
    assert ids(dated) == ["b2", "a4", "a3"] and dated.total == 8
    status = seeded.list_workflow_runs(status="success", resource_id="res-1", page=0, per_page=1)
    assert ids(status) == ["a6"] and status.total == 3
    # per_page larger than everything, zero, False
    large = seeded.list_workflow_runs(page=0, per_page=1000)
    assert ids(large) == expected() and large.total == 10
    zero = seeded.list_workflow_runs(workflow_name="wf-b", page=0, per_page=0)
    assert zero.runs == [] and zero.total == 3
    everything = seeded.list_workflow_runs(page=0, per_page=False)
    assert ids(everything) == expected() and everything.total == 10


def test_only_page_or_only_per_page_returns_everything(seeded: DynamoWorkflowsStore) -> None:
    for kwargs in ({"page": 2}, {"per_page": 2}, {"page": 0}, {}):
        result = seeded.list_workflow_runs(**kwargs)  # type: ignore[arg-type]
        assert (ids(result), result.total) == (expected(), 10), kwargs
        named = seeded.list_workflow_runs(workflow_name="wf-a", **kwargs)  # type: ignore[arg-type]
        assert ids(named) == expected(workflow_name="wf-a"), kwargs


def test_invalid_pagination_is_rejected(seeded: DynamoWorkflowsStore) -> None:
    for kwargs in ({"page": -1, "per_page": 10}, {"page": -1}, {"page": -3, "workflow_name": "wf-a"},
                   {"page": 0, "per_page": -5}):
        with pytest.raises(ValidationError):
            seeded.list_workflow_runs(**kwargs)  # type: ignore[arg-type]


def test_many_runs_of_one_workflow_are_merged_in_order(wf: DynamoWorkflowsStore) -> None:
    """Enough runs to land in every write shard of a workflow (and of the global listing)."""
    many = [Seed("busy", f"run-{i:02d}", "res-busy" if i % 2 else None, "success" if i % 3 else "failed",
                 at(hours=i)) for i in range(40)]
    seed(wf, list(reversed(many)))
    newest_first = [s.run_id for s in reversed(many)]
    assert ids(wf.list_workflow_runs(workflow_name="busy")) == newest_first
    assert ids(wf.list_workflow_runs()) == newest_first
    assert ids(wf.list_workflow_runs(status="failed")) == [r for r in newest_first if int(r[-2:]) % 3 == 0]
    paged = [ids(wf.list_workflow_runs(workflow_name="busy", page=p, per_page=7)) for p in range(6)]
    assert list(itertools.chain.from_iterable(paged)) == newest_first
    window = wf.list_workflow_runs(workflow_name="busy", from_date=at(hours=10), to_date=at(hours=19), page=1,
                                   per_page=4)
    assert ids(window) == ["run-15", "run-14", "run-13", "run-12"] and window.total == 10
