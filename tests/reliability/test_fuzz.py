"""Bad input, hypothesis-driven: every public method of every domain is called with hostile arguments (ids:
empty, blank, separators, unicode, lone surrogates, very long, not strings; values: NaN/inf, huge numbers,
deep nesting, non-JSON types, 5 MB strings; pagination extremes; broken dates). Only StorageError
subclasses may escape, and a call that raised leaves the table exactly as it was (raw Scan before/after).

Arguments are drawn from the parameter names (``*_id`` is an id, ``page`` a page, ``metadata`` a JSON value,
records get valid shapes with hostile fields), mixed with the ids of seeded entities so that calls also reach
the write paths. One table per domain; the method is drawn too, so hypothesis shrinks to one call.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastra_dynamo import DynamoDBStore, StorageError

from .conftest import SOAK, SOAK_FACTOR, snapshot_table

EXAMPLES_PER_METHOD = 5 * SOAK_FACTOR
FIVE_MB = os.urandom(1_300_000).hex() * 2  # 5.2 MB of text that compresses to ~1.3 MB: too large for an item
ITEM = "<seeded item id>"

# ------------------------------------------------------------------ building blocks


def _deep(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def _deep_dict(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


class Weird:
    def __repr__(self) -> str:
        return "<Weird>"


SEEDED_IDS = ["t1", "r1", "m1", "m2", "wf", "run1", "s1", "a1", "v2", "d1", "e1", "res1", ITEM]
HOSTILE_IDS = ["", " ", "\t\n", "#", "%", "~", "a#b", "T#t1", "t1#M#", "%23", "~" + "0" * 64, "M$", "é", "𝄞 ü",
               "\x00", "\ud800", "x" * 257, "x" * 4097, "é" * 2100, "a" * 4096]
NOT_STRINGS: list[Any] = [None, 0, 1.5, True, b"id", ["t1"], {"id": "t1"}, Weird()]
IDS = st.one_of(st.sampled_from(SEEDED_IDS), st.sampled_from(HOSTILE_IDS), st.text(max_size=12),
                st.sampled_from(NOT_STRINGS))
OK_IDS = st.sampled_from(SEEDED_IDS)
TEXT = st.one_of(st.text(max_size=16), st.sampled_from(["", "\ud800", "x" * 5000, FIVE_MB]),
                 st.sampled_from(NOT_STRINGS))
BAD_VALUES: list[Any] = [float("nan"), float("inf"), -float("inf"), 10**400, -(10**40), Decimal("NaN"),
                         Decimal("1e400"), Weird(), {1, 2}, b"\xff\x00", complex(1, 2), _deep(3000),
                         _deep_dict(3000), _deep(40), FIVE_MB, "x" * 5_000_000, "\ud800", {"\ud800": 1},
                         {1: "int key"}, {None: 1}, {"nested": {"bad": float("nan")}}, [Weird()]]
JSON_OK = st.recursive(st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
                       | st.text(max_size=8), lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)
VALUES = st.one_of(st.sampled_from(BAD_VALUES), JSON_OK)
OBJECTS = st.one_of(st.dictionaries(st.text(max_size=6), VALUES, max_size=3), st.sampled_from(BAD_VALUES),
                    st.sampled_from(NOT_STRINGS))
INTS = st.one_of(st.sampled_from([0, 1, -1, 2**31, 2**53 + 1, 2**63, 10**40, -(10**40), True, 1.5, "3", None,
                                  float("nan")]), st.integers(-3, 30))
PAGES = st.sampled_from([None, 0, 1, 3, -1, 2**31, 2**53, 2**63, 10**30, True, False, 1.5, "1"])
PER_PAGES = st.sampled_from([None, 0, 1, 2, 100, -1, 2**31, 2**53, 2**63, 10**30, True, False, 1.5, "10"])
PAGINATION = st.one_of(st.fixed_dictionaries({}, optional={"page": PAGES, "perPage": PER_PAGES}),
                       st.sampled_from(NOT_STRINGS))
FAR = timezone(timedelta(hours=14))
DATES = st.one_of(
    st.sampled_from([datetime.min, datetime.max, datetime(1, 1, 1, tzinfo=FAR), datetime(9999, 12, 31, 23, 59,
                     tzinfo=timezone(timedelta(hours=-14))), datetime(5, 1, 1, tzinfo=UTC), "garbage", "",
                     "2026-13-40", "2026-01-01", "0001-01-01T00:00:00+14:00", 0, 1.5, None]),
    st.datetimes(timezones=st.sampled_from([UTC, FAR])))
ORDER = st.one_of(st.fixed_dictionaries({}, optional={"field": st.sampled_from(["createdAt", "updatedAt", "name",
                                                                               "status", "bogus", 3]),
                                                      "direction": st.sampled_from(["ASC", "desc", "x", None, 1])}),
                  st.sampled_from(NOT_STRINGS))
TENANCY = st.one_of(st.fixed_dictionaries({}, optional={"organizationId": IDS, "projectId": IDS}),
                    st.sampled_from(NOT_STRINGS))
LISTS_OF_IDS = st.one_of(st.lists(IDS, max_size=4), st.sampled_from(["t1", None, {"a": 1}, [[]]]))
STATUS = st.one_of(st.sampled_from(["running", "suspended", "needs-review", "complete", "draft", "pending",
                                    "published", "bogus"]), TEXT)


def _record(required: dict[str, Any], optional: dict[str, Any]) -> Any:
    return st.one_of(st.fixed_dictionaries(required, optional=optional), st.sampled_from(NOT_STRINGS))


THREAD = _record({"id": IDS, "resourceId": IDS}, {"title": TEXT, "metadata": OBJECTS, "createdAt": DATES,
                                                 "updatedAt": DATES, "bogus": VALUES})
RESOURCE = _record({"id": IDS}, {"workingMemory": TEXT, "metadata": OBJECTS, "createdAt": DATES})
MESSAGE = st.fixed_dictionaries({"id": IDS, "threadId": IDS, "role": st.sampled_from(["user", "assistant", "x"]),
                                 "content": st.one_of(TEXT, OBJECTS)},
                                optional={"resourceId": IDS, "createdAt": DATES, "type": TEXT})
MESSAGES = st.one_of(st.lists(MESSAGE, max_size=3), st.sampled_from(NOT_STRINGS))
UPDATES = st.one_of(st.lists(st.fixed_dictionaries({"id": IDS}, optional={
    "content": st.one_of(st.fixed_dictionaries({}, optional={"content": TEXT, "metadata": OBJECTS}), VALUES),
    "threadId": IDS, "role": st.sampled_from(["user", "x"])}), max_size=3), st.sampled_from(NOT_STRINGS))
INCLUDE = st.one_of(st.lists(st.fixed_dictionaries({"id": IDS}, optional={
    "withPreviousMessages": INTS, "withNextMessages": INTS}), max_size=2), st.sampled_from(NOT_STRINGS))
MESSAGE_FILTER = st.one_of(st.fixed_dictionaries({}, optional={
    "dateRange": st.fixed_dictionaries({}, optional={"start": DATES, "end": DATES, "startExclusive": VALUES}),
    "metadata": OBJECTS}), st.sampled_from(NOT_STRINGS))
SCORE = _record({"scorerId": IDS, "entityId": IDS, "runId": IDS,
                 "score": st.one_of(st.floats(), st.sampled_from([10**400, "1", None])), "scorer": OBJECTS,
                 "source": st.sampled_from(["LIVE", "TEST", "bogus"]), "entity": OBJECTS},
                {"id": IDS, "traceId": IDS, "spanId": IDS, "metadata": OBJECTS, "input": VALUES,
                 "organizationId": IDS, "entityType": TEXT})
AGENT = _record({"id": IDS}, {"name": TEXT, "instructions": VALUES, "metadata": OBJECTS, "authorId": IDS,
                              "visibility": TEXT, "model": VALUES})
VERSION = _record({"agentId": IDS, "versionNumber": INTS}, {"id": IDS, "instructions": VALUES})
SNAPSHOT = st.one_of(st.fixed_dictionaries({"status": STATUS}, optional={"context": OBJECTS, "value": VALUES}),
                     VALUES, TEXT)
STATE = _record({"status": STATUS}, {"expectedStatus": st.one_of(STATUS, st.lists(STATUS, max_size=2)),
                                     "result": VALUES, "suspendedPaths": OBJECTS})
ITEMS = st.one_of(st.lists(st.fixed_dictionaries({"input": VALUES}, optional={
    "externalId": IDS, "groundTruth": VALUES, "metadata": OBJECTS}), max_size=3), st.sampled_from(NOT_STRINGS))
SCHEMA = st.one_of(st.sampled_from([{"type": "object"}, {"type": "bogus"}, {"$ref": "#/nope"}, {"type": "string"}]),
                   OBJECTS)

BY_NAME: dict[str, Any] = {
    "thread": THREAD, "resource": RESOURCE, "messages": MESSAGES, "include": INCLUDE, "score": SCORE,
    "agent": AGENT, "version": st.one_of(VERSION, INTS), "snapshot": SNAPSHOT, "opts": STATE, "items": ITEMS,
    "page": PAGES, "per_page": PER_PAGES, "pagination": PAGINATION, "order_by": ORDER, "filters": TENANCY,
    "options": st.one_of(st.fixed_dictionaries({}, optional={"messageLimit": INTS, "messageFilter": OBJECTS}),
                         st.sampled_from(NOT_STRINGS)),
    "status": STATUS, "version_number": INTS, "dataset_version": INTS, "trial_index": INTS, "total_items": INTS,
    "attempt": INTS, "retry_count": INTS, "succeeded_count": INTS, "failed_count": INTS, "skipped_count": INTS,
    "item_dataset_version": INTS, "include_total": VALUES, "favorited_only": VALUES, "tags": LISTS_OF_IDS,
    "scorer_ids": LISTS_OF_IDS, "target_ids": LISTS_OF_IDS, "message_ids": LISTS_OF_IDS, "item_ids": LISTS_OF_IDS,
    "entity_ids": LISTS_OF_IDS, "ids": LISTS_OF_IDS, "input_schema": SCHEMA, "ground_truth_schema": SCHEMA,
    "request_context_schema": SCHEMA, "tool_mocks": st.one_of(st.lists(OBJECTS, max_size=2), VALUES),
    "started_at": DATES, "completed_at": DATES, "created_at": DATES, "updated_at": DATES, "from_date": DATES,
    "to_date": DATES, "metadata": OBJECTS, "request_context": OBJECTS, "source": OBJECTS, "provenance": OBJECTS,
    "runner_attestation": OBJECTS, "error": OBJECTS, "filter": st.one_of(MESSAGE_FILTER, st.fixed_dictionaries(
        {}, optional={"resourceId": IDS, "metadata": OBJECTS})),
}
TEXT_PARAMS = {"title", "name", "description", "search", "working_memory", "comment", "visibility", "entity_type",
               "target_type", "agent_version", "unmocked_tool_policy", "candidate_key", "step_id"}


def _for(name: str) -> Any:
    if name in BY_NAME:
        return BY_NAME[name]
    if name in TEXT_PARAMS:
        return TEXT
    if name == "id" or name.endswith("_id") or name in ("workflow_name",):
        return IDS
    return VALUES


SPECIAL: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "update": ({"id": IDS}, {"metadata": OBJECTS, "status": STATUS, "author_id": IDS, "visibility": TEXT,
                             "active_version_id": IDS}),
    "list_resolved": ({}, {"page": PAGES, "per_page": PER_PAGES, "metadata": OBJECTS, "author_id": IDS,
                           "entity_ids": LISTS_OF_IDS, "status": STATUS}),
    "copy_thread": ({"source_thread_id": IDS}, {"new_thread_id": IDS, "resource_id": IDS,
                                                "options": BY_NAME["options"]}),
    "create_dataset_version": ({"dataset_id": IDS, "version": INTS}, {}),
    "get_item_history": ({"item_id": IDS}, {}),
}
"""Methods taking ``**kwargs`` or positional arguments: their parameters, spelled out."""


def arguments(method: Callable[..., Any], name: str) -> Any:
    if name in SPECIAL:
        required_special, optional_special = SPECIAL[name]
        return st.fixed_dictionaries(required_special, optional=optional_special)
    required, optional = {}, {}
    for param in inspect.signature(method).parameters.values():
        if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        strategy = _for(param.name)
        if param.default is param.empty:
            required[param.name] = strategy
        else:
            optional[param.name] = strategy
    return st.fixed_dictionaries(required, optional=optional)


METHODS: dict[str, list[str]] = {
    "memory": ["get_thread_by_id", "save_thread", "update_thread", "delete_thread", "list_threads",
               "get_resource_by_id", "save_resource", "update_resource", "save_messages", "update_messages",
               "delete_messages", "list_messages", "list_messages_by_id", "list_messages_by_resource_id",
               "clone_thread", "copy_thread"],
    "workflows": ["persist_workflow_snapshot", "load_workflow_snapshot", "get_workflow_run_by_id",
                  "delete_workflow_run_by_id", "list_workflow_runs", "update_workflow_results",
                  "update_workflow_state"],
    "scores": ["save_score", "get_score_by_id", "list_scores_by_scorer_id", "list_scores_by_run_id",
               "list_scores_by_entity_id", "list_scores_by_span"],
    "agents": ["create", "get_by_id", "get_by_id_resolved", "update", "delete", "list", "list_resolved",
               "create_version", "get_version", "get_version_by_number", "get_latest_version", "list_versions",
               "delete_version", "delete_versions_by_parent_id", "count_versions", "get_versions"],
    "datasets": ["create_dataset", "get_dataset_by_id", "update_dataset", "delete_dataset", "list_datasets",
                 "add_item", "batch_insert_items", "update_item", "delete_item", "batch_delete_items", "purge_item",
                 "list_items", "get_items_by_version", "get_item_by_id", "get_item_history",
                 "create_dataset_version", "list_dataset_versions"],
    "experiments": ["create_experiment", "get_experiment_by_id", "update_experiment", "list_experiments",
                    "delete_experiment", "add_experiment_result", "upsert_experiment_result",
                    "update_experiment_result", "get_experiment_result_by_id", "list_experiment_results",
                    "delete_experiment_results", "get_review_summary"],
}
POSITIONAL = {"delete_messages": "message_ids", "create_dataset_version": None, "get_item_history": "item_id"}
READS = ("get_", "list_", "load_", "count_")


def seed(store: DynamoDBStore) -> str:
    """One entity of every kind, with the ids SEEDED_IDS names. Returns the seeded dataset item's id."""
    memory = store.get_store("memory")
    memory.save_thread(thread={"id": "t1", "resourceId": "r1", "title": "seed", "metadata": {"k": 1}})
    memory.save_messages(messages=[{"id": mid, "threadId": "t1", "resourceId": "r1", "role": "user",
                                    "content": mid} for mid in ("m1", "m2")])
    memory.save_resource(resource={"id": "r1", "workingMemory": "wm"})
    store.get_store("workflows").persist_workflow_snapshot(workflow_name="wf", run_id="run1",
                                                           snapshot={"status": "suspended", "context": {}},
                                                           resource_id="r1")
    store.get_store("scores").save_score(score={"id": "s1", "scorerId": "sc", "entityId": "e", "runId": "run1",
                                                "score": 0.5, "scorer": {}, "source": "TEST", "entity": {}})
    agents = store.get_store("agents")
    agents.create(agent={"id": "a1", "name": "a", "authorId": "r1"})
    agents.create_version(version={"id": "v2", "agentId": "a1", "versionNumber": 2})
    datasets = store.get_store("datasets")
    datasets.create_dataset(id="d1", name="d", organization_id="r1")
    item = datasets.add_item(dataset_id="d1", input={"q": 1}, external_id="x1")
    experiments = store.get_store("experiments")
    experiments.create_experiment(id="e1", dataset_id="d1", organization_id="r1")
    experiments.add_experiment_result(id="res1", experiment_id="e1", item_id=item.id, output="o")
    return item.id


def _substitute(value: Any, item_id: str, depth: int = 0) -> Any:
    """Replace the placeholder of the seeded item id (in the top levels of an argument)."""
    if isinstance(value, str) and value == ITEM:
        return item_id
    if depth > 3:
        return value
    if isinstance(value, dict):
        return {k: _substitute(v, item_id, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, item_id, depth + 1) for v in value]
    return value


class Harness:
    """Calls a method and checks the contract: a StorageError or a result; after an error, an unchanged table.
    The table is scanned again only after a write that succeeded."""

    def __init__(self, store: DynamoDBStore, domain: str) -> None:
        self.store = store
        self.domain = store.get_store(domain)
        self.item_id = seed(store)
        self.table = snapshot_table(store)
        self.calls = 0
        self.rejected = 0

    def call(self, name: str, kwargs: dict[str, Any]) -> None:
        kwargs = _substitute(kwargs, self.item_id)
        method = getattr(self.domain, name)
        positional = POSITIONAL.get(name, "")
        self.calls += 1
        try:
            if name == "create_dataset_version":
                method(kwargs.pop("dataset_id", "d1"), kwargs.pop("version", 1))
            elif positional:
                method(kwargs.pop(positional, "t1"), **kwargs)
            else:
                method(**kwargs)
        except StorageError as exc:
            self.rejected += 1
            after = snapshot_table(self.store)
            assert after == self.table, f"{name} raised {exc.code} but changed the table"
            return
        except Exception as exc:
            raise AssertionError(f"{name} let an untyped {type(exc).__name__} escape: {exc!r}"[:500]) from exc
        if not name.startswith(READS):
            self.table = snapshot_table(self.store)


@pytest.mark.parametrize("domain", list(METHODS))
def test_only_typed_errors_escape_and_rejected_calls_change_nothing(store: DynamoDBStore, domain: str) -> None:
    harness = Harness(store, domain)
    names = METHODS[domain]
    strategies = {name: arguments(getattr(harness.domain, name), name) for name in names}

    @settings(max_examples=EXAMPLES_PER_METHOD * len(names), deadline=None, database=None, derandomize=not SOAK,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(names), label="method")
        harness.call(name, data.draw(strategies[name], label="kwargs"))

    run()
    print(f"\nfuzz {domain}: {harness.calls} calls, {harness.rejected} rejected with a StorageError")
    assert harness.calls >= EXAMPLES_PER_METHOD * len(names) and harness.rejected > 0


REGRESSIONS: list[tuple[str, str, dict[str, Any]]] = [
    # found by the fuzzer (default or soak runs); each once let an untyped exception escape or changed the table
    ("memory", "save_messages", {"messages": None}),
    ("memory", "list_messages", {"thread_id": "t1", "include": 5}),
    ("memory", "update_resource", {"resource_id": "r9", "metadata": 1.5}),
    ("memory", "update_resource", {"resource_id": "r1", "working_memory": "x" * 5_000_000}),
    ("memory", "update_resource", {"resource_id": "r9", "working_memory": {"id": "t1"}}),
    ("memory", "clone_thread", {"source_thread_id": "t1", "title": 3}),
    ("memory", "get_thread_by_id", {"thread_id": "\ud800"}),
    ("memory", "save_messages", {"messages": [{"id": "y5", "threadId": "t1", "role": "user", "content": "old",
                                               "createdAt": datetime(5, 1, 1, tzinfo=UTC)}]}),
    ("memory", "list_messages", {"thread_id": "t1", "per_page": _deep(3000)}),
    ("workflows", "persist_workflow_snapshot", {"workflow_name": "wf", "run_id": "n", "snapshot": 0}),
    ("workflows", "list_workflow_runs", {"from_date": b"x", "status": ["s"]}),
    ("workflows", "update_workflow_results", {"workflow_name": "wf", "run_id": "run1", "step_id": "s",
                                              "result": 1, "request_context": "ctx"}),
    ("workflows", "update_workflow_state", {"workflow_name": "wf", "run_id": "run1",
                                            "opts": {"status": "x", "extra": Weird()}}),
    ("scores", "save_score", {"score": {"scorerId": "s", "entityId": "e", "runId": "r", "score": 1.0,
                                        "scorer": {}, "source": "TEST", "entity": {}, "extra": Weird()}}),
    ("agents", "create", {"agent": {"id": "new", "model": Weird()}}),
    ("agents", "update", {"id": "a1", "metadata": "not a mapping"}),
    ("agents", "get_versions", {"ids": 7}),
    ("datasets", "create_dataset", {"name": "x", "input_schema": _deep_dict(3000)}),
    ("datasets", "create_dataset", {"name": "x", "metadata": {"k": Weird()}}),
    ("datasets", "add_item", {"dataset_id": "d1", "input": _deep(3000)}),
    ("datasets", "add_item", {"dataset_id": "d1", "input": datetime(1, 1, 1, tzinfo=FAR)}),
    ("datasets", "batch_insert_items", {"dataset_id": "d1", "items": 3}),
    ("datasets", "create_dataset", {"name": "x", "id": "\ud800"}),
    ("experiments", "list_experiments", {"dataset_id": 5, "trial_index": _deep(3000)}),
    ("experiments", "list_experiment_results", {"experiment_id": "e1", "tags": 5}),
]


@pytest.mark.parametrize("domain", list(METHODS))
def test_inputs_that_once_escaped_are_rejected_with_typed_errors(store: DynamoDBStore, domain: str) -> None:
    """The fuzzer's past findings, replayed deterministically; what was accepted can also be read back."""
    harness = Harness(store, domain)
    for name, kwargs in [(n, k) for d, n, k in REGRESSIONS if d == domain]:
        harness.call(name, dict(kwargs))
    for reader, args in (("list_workflow_runs", {}), ("list_messages", {"thread_id": "t1", "per_page": False})):
        if hasattr(harness.domain, reader):
            harness.call(reader, args)
