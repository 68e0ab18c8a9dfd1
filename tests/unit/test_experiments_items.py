"""The experiments domain's models serialize to the items the hand-built layout stored, and read them back.

The reference builders below are the item builders of ``stores/experiments`` (and the transfer target's
slot, pointer and link rows) before the models, kept here to pin the layout: items written by either
read back identically.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mastra_dynamo.dynamo.codec import COMPRESS_MIN_BYTES, FieldKind, Item, decode_json, encode_value
from mastra_dynamo.errors import ItemTooLargeError, ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import TableItem, epoch_datetime
from mastra_dynamo.models.experiment_attributes import EPOCH_SECONDS
from mastra_dynamo.models.experiments import (
    DatasetItemLinkItem,
    DatasetItemPointerView,
    ExperimentItem,
    ExperimentResultItem,
    ExperimentResultRefItem,
    ExperimentResultSlotItem,
    not_purged,
)
from mastra_dynamo.records.experiments import Experiment, ExperimentResult
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.table import TABLE_SPEC
from mastra_dynamo.stores.experiments.collection import absent_or_expired, live
from mastra_dynamo.stores.experiments.shapes import (
    KEY_MARK,
    UNBOUND,
    Marks,
    filter_shape,
    key_values,
    put_shape,
    shape,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
LATER = NOW + timedelta(seconds=90)
EXPIRES = 1_900_000_000

# ---------------------------------------------------------------------------- reference layout
EXPERIMENT_FIELDS: dict[str, tuple[str, FieldKind]] = {
    "id": ("id", "str"), "name": ("name", "str"), "description": ("description", "str"),
    "metadata": ("metadata", "json"), "provenance": ("provenance", "json"),
    "runner_attestation": ("runnerAttestation", "json"), "experiment_set_id": ("experimentSetId", "str"),
    "comparison_id": ("comparisonId", "str"), "variant_id": ("variantId", "str"),
    "trial_index": ("trialIndex", "int"), "dataset_id": ("datasetId", "str"),
    "dataset_version": ("datasetVersion", "int"), "target_type": ("targetType", "str"),
    "target_id": ("targetId", "str"), "scorer_ids": ("scorerIds", "json"), "status": ("status", "str"),
    "total_items": ("totalItems", "int"), "succeeded_count": ("succeededCount", "int"),
    "failed_count": ("failedCount", "int"), "skipped_count": ("skippedCount", "int"),
    "agent_version": ("agentVersion", "str"), "organization_id": ("organizationId", "str"),
    "project_id": ("projectId", "str"), "started_at": ("startedAt", "datetime"),
    "completed_at": ("completedAt", "datetime"), "created_at": ("createdAt", "datetime"),
    "updated_at": ("updatedAt", "datetime"),
}
RESULT_FIELDS: dict[str, tuple[str, FieldKind]] = {
    "id": ("id", "str"), "experiment_id": ("experimentId", "str"), "item_id": ("itemId", "str"),
    "item_dataset_version": ("itemDatasetVersion", "int"), "input": ("input", "json"),
    "output": ("output", "json"), "ground_truth": ("groundTruth", "json"), "metadata": ("metadata", "json"),
    "error": ("error", "json"), "started_at": ("startedAt", "datetime"),
    "completed_at": ("completedAt", "datetime"), "retry_count": ("retryCount", "int"),
    "attempt": ("attempt", "int"), "trace_id": ("traceId", "str"), "status": ("status", "str"),
    "tags": ("tags", "json"), "comment": ("comment", "str"), "tool_mock_report": ("toolMockReport", "json"),
    "organization_id": ("organizationId", "str"), "project_id": ("projectId", "str"),
    "created_at": ("createdAt", "datetime"),
}


def stamp(item: Item, entity: str, expires_at: int | None) -> Item:
    item["_et"] = {"S": entity}
    item["_sv"] = {"N": str(TABLE_SPEC.schema_version)}
    if expires_at is not None:
        item["ttl"] = {"N": str(expires_at)}
    return item


def encode_fields(record: Any, fields: dict[str, tuple[str, FieldKind]], *, entity: str) -> Item:
    data = record.model_dump(by_alias=False, mode="python", exclude_none=True)
    return {attr: encode_value(data[name], kind, field=f"{entity}.{attr}")
            for name, (attr, kind) in fields.items() if name in data}


def reference_experiment(record: Experiment, expires_at: int | None) -> Item:
    key = keys.experiment_key(record.id)
    item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk},
                  **encode_fields(record, EXPERIMENT_FIELDS, entity="experiment")}
    for counter in ("resultCount", "needsReview", "reviewed", "complete"):
        item[counter] = {"N": "0"}
    sk = keys.time_sk(record.created_at, record.id)
    item["gsi3pk"] = {"S": keys.experiments_global_pk(keys.shard_of(record.id, keys.GLOBAL_SHARDS))}
    item["gsi3sk"] = {"S": sk}
    if record.dataset_id is not None:
        item["gsi2pk"] = {"S": keys.experiments_by_dataset_pk(record.dataset_id)}
        item["gsi2sk"] = {"S": sk}
    return stamp(item, "experiment", expires_at)


def reference_result(record: ExperimentResult, rev: int, link_dataset_id: str | None,
                     expires_at: int | None) -> Item:
    key = keys.experiment_result_key(record.experiment_id, record.id)
    item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk},
                  **encode_fields(record, RESULT_FIELDS, entity="result")}
    if record.tags:
        item["tagSet"] = {"SS": sorted(set(record.tags))}
    if link_dataset_id is not None:
        item["linkDatasetId"] = {"S": link_dataset_id}
    item["_rev"] = {"N": str(rev)}
    item["gsi1pk"] = {"S": keys.experiment_results_pk(record.experiment_id)}
    item["gsi1sk"] = {"S": keys.time_sk(record.started_at, record.id)}
    return stamp(item, "experiment_result", expires_at)


def key_attr(key: keys.Key) -> Item:
    return {"pk": {"S": key.pk}, "sk": {"S": key.sk}}


def reference_ref(record: ExperimentResult, expires_at: int | None) -> Item:
    return stamp({**key_attr(keys.experiment_result_ref_key(record.id)),
                  "experimentId": {"S": record.experiment_id}, "itemId": {"S": record.item_id},
                  "attempt": {"N": str(record.attempt)}}, "experiment_result_ref", expires_at)


def reference_link(dataset_id: str, record: ExperimentResult, expires_at: int | None) -> Item:
    return stamp({**key_attr(keys.dataset_item_link_key(dataset_id, record.item_id, record.experiment_id,
                                                         record.id)),
                  "datasetId": {"S": dataset_id}, "itemId": {"S": record.item_id},
                  "experimentId": {"S": record.experiment_id}, "resultId": {"S": record.id}},
                 "dataset_item_link", expires_at)


def reference_slot(experiment_id: str, item_id: str, attempt: int, newest: str, ids: set[str],
                   expires_at: int | None) -> Item:
    return stamp({**key_attr(keys.experiment_result_slot_key(experiment_id, item_id, attempt)),
                  "resultId": {"S": newest}, "itemId": {"S": item_id}, "attempt": {"N": str(attempt)},
                  "resultIds": {"SS": sorted(ids)}}, "experiment_result_slot", expires_at)


# ---------------------------------------------------------------------------- records
BIG = {"text": "x" * (COMPRESS_MIN_BYTES * 2)}
EXPERIMENTS = {
    "minimal": Experiment(id="e#1", created_at=NOW, updated_at=NOW),
    "every field": Experiment(
        id="e/2", name="héllo ✓", description="d", metadata={"": [1, 1.5, None, True, {"deep": "x"}]},
        provenance={"source": "s", "sourceId": "i", "extra": 1},
        runner_attestation={"runnerId": "r", "invocationId": "inv"}, experiment_set_id="set",
        comparison_id="cmp", variant_id="v", trial_index=3, dataset_id="ds-1", dataset_version=7,
        target_type="agent", target_id="agent-1", scorer_ids=["s1", "s2"], status="running", total_items=10,
        succeeded_count=4, failed_count=1, skipped_count=2, agent_version="av", organization_id="org",
        project_id="p", started_at=NOW, completed_at=LATER, created_at=NOW, updated_at=LATER),
    "dataset only": Experiment(id="e3", dataset_id="ds", created_at=NOW, updated_at=NOW),
    "compressed": Experiment(id="e4", metadata=BIG, created_at=NOW, updated_at=NOW),
    "zero and empty": Experiment(id="e5", name="", trial_index=0, scorer_ids=[], metadata={}, created_at=NOW,
                                 updated_at=NOW),
}
RESULTS = {
    "minimal": ExperimentResult(id="r1", experiment_id="e1", item_id="i1", started_at=NOW, completed_at=LATER,
                                created_at=NOW),
    "every field": ExperimentResult(
        id="r#2", experiment_id="e/1", item_id="i%2", item_dataset_version=4, input={"prompt": "hi"},
        output="out", ground_truth=[1, 2], metadata={"m": None}, error={"message": "boom", "code": "E"},
        started_at=NOW, completed_at=LATER, retry_count=2, attempt=3, trace_id="t", status="needs-review",
        tags=["b", "a", "b"], comment="c", tool_mock_report={"calls": 1}, organization_id="org", project_id="p",
        created_at=NOW),
    "empty tags": ExperimentResult(id="r3", experiment_id="e1", item_id="i1", started_at=NOW, completed_at=NOW,
                                   tags=[], created_at=NOW),
    "compressed": ExperimentResult(id="r4", experiment_id="e1", item_id="i1", started_at=NOW, completed_at=NOW,
                                   output=BIG, created_at=NOW),
    "falsy json": ExperimentResult(id="r5", experiment_id="e1", item_id="i1", started_at=NOW, completed_at=NOW,
                                   input=0, output="", ground_truth=False, created_at=NOW),
}


# ---------------------------------------------------------------------------- layout
@pytest.mark.parametrize("expires_at", [None, EXPIRES])
@pytest.mark.parametrize("shape", list(EXPERIMENTS))
def test_an_experiment_item_serializes_to_the_stored_layout(shape: str, expires_at: int | None) -> None:
    record = EXPERIMENTS[shape]
    raw = ExperimentItem.new(record, expires_at=expires_at).serialize()
    assert raw == reference_experiment(record, expires_at)
    assert ExperimentItem.record_from_raw(raw) == record
    assert ExperimentItem.from_raw_data(raw).serialize() == raw


@pytest.mark.parametrize("link", [None, "ds-1"])
@pytest.mark.parametrize("expires_at", [None, EXPIRES])
@pytest.mark.parametrize("shape", list(RESULTS))
def test_a_result_item_serializes_to_the_stored_layout(shape: str, expires_at: int | None, link: str | None) -> None:
    record = RESULTS[shape]
    raw = ExperimentResultItem.new(record, rev=3, link_dataset_id=link, expires_at=expires_at).serialize()
    assert raw == reference_result(record, 3, link, expires_at)
    assert ExperimentResultItem.record_from_raw(raw) == record
    assert ExperimentResultItem.from_raw_data(raw).serialize() == raw


def test_the_experiment_layout_spelled_out() -> None:
    record = Experiment(id="e1", dataset_id="d", metadata={"a": 1}, trial_index=2, created_at=NOW, updated_at=NOW)
    ts = "2026-01-02T03:04:05.123456Z"
    sk = f"{ts}#e1"
    assert ExperimentItem.new(record, expires_at=EXPIRES).serialize() == {
        "pk": {"S": "E#e1"}, "sk": {"S": "E"}, "id": {"S": "e1"}, "metadata": {"S": '{"a":1}'},
        "trialIndex": {"N": "2"}, "datasetId": {"S": "d"}, "status": {"S": "pending"}, "totalItems": {"N": "0"},
        "succeededCount": {"N": "0"}, "failedCount": {"N": "0"}, "skippedCount": {"N": "0"},
        "createdAt": {"S": ts}, "updatedAt": {"S": ts}, "resultCount": {"N": "0"}, "needsReview": {"N": "0"},
        "reviewed": {"N": "0"}, "complete": {"N": "0"},
        "gsi2pk": {"S": "ED#d"}, "gsi2sk": {"S": sk},
        "gsi3pk": {"S": keys.experiments_global_pk(keys.shard_of("e1", keys.GLOBAL_SHARDS))}, "gsi3sk": {"S": sk},
        "_et": {"S": "experiment"}, "_sv": {"N": "2"}, "ttl": {"N": str(EXPIRES)},
    }


def test_large_json_fields_are_stored_compressed() -> None:
    raw = ExperimentResultItem.new(RESULTS["compressed"], rev=1, link_dataset_id=None, expires_at=None).serialize()
    assert set(raw["output"]) == {"B"} and decode_json(raw["output"]) == BIG


@pytest.mark.parametrize("expires_at", [None, EXPIRES])
def test_pointer_link_and_slot_rows(expires_at: int | None) -> None:
    record = RESULTS["every field"]
    assert ExperimentResultRefItem.new(record, expires_at=expires_at).serialize() == reference_ref(record,
                                                                                                  expires_at)
    assert DatasetItemLinkItem.new("ds", record, expires_at=expires_at).serialize() == reference_link(
        "ds", record, expires_at)
    slot = ExperimentResultSlotItem.new("e1", "i#1", 2, result_id="r2", result_ids=["r2", "r1"],
                                        expires_at=expires_at)
    assert slot.serialize() == reference_slot("e1", "i#1", 2, "r2", {"r1", "r2"}, expires_at)


def test_items_the_models_do_not_know_decode_as_before() -> None:
    """Attributes the hand-built layout read leniently: absent counters, a number written as a decimal."""
    raw = reference_experiment(EXPERIMENTS["minimal"], None)
    raw["totalItems"] = {"N": "5.0"}
    del raw["resultCount"]
    assert ExperimentItem.record_from_raw(raw).total_items == 5
    assert ExperimentItem.decode_attributes(raw, ("result_count",)) == {"result_count": None}
    pointer = {"pk": {"S": "DI#i"}, "sk": {"S": "DI"}, "datasetId": {"S": "d"}, "purged": {"BOOL": True},
               "purgedAt": {"S": "2026-01-01T00:00:00.000Z"}, "_et": {"S": "dataset_item_ref"}}
    assert DatasetItemPointerView.decode_attributes(pointer, ("dataset_id", "purged", "purged_at")) == {
        "dataset_id": "d", "purged": True, "purged_at": "2026-01-01T00:00:00.000Z"}


def test_invalid_values_are_validation_errors() -> None:
    bad_text = Experiment(id="e1", name="\ud800", created_at=NOW, updated_at=NOW)
    with pytest.raises(ValidationError) as err:
        ExperimentItem.new(bad_text, expires_at=None).serialize()
    assert err.value.code == "INVALID_TEXT" and err.value.details["field"] == "experiment.name"
    huge = Experiment(id="e1", trial_index=10 ** 40, created_at=NOW, updated_at=NOW)
    with pytest.raises(ValidationError) as err:
        ExperimentItem.new(huge, expires_at=None).serialize()
    assert err.value.code == "INVALID_NUMBER"


# ---------------------------------------------------------------------------- requests
def spelled(request: dict[str, Any], expression: str) -> str:
    names, values = request.get("ExpressionAttributeNames", {}), request.get("ExpressionAttributeValues", {})

    def one(match: re.Match[str]) -> str:
        p = match.group(0)
        return names[p] if p.startswith("#") else f"({next(iter(values[p].values()))})"

    return re.sub(r"[#:]\d+", one, request[expression])


def test_the_purge_check_of_a_dataset_item() -> None:
    check = requests.condition_check("t", keys.dataset_item_ref_key("i"), not_purged())
    assert spelled(check, "ConditionExpression") == "(attribute_exists (pk) AND attribute_not_exists (purged))"


def test_a_tag_filter_names_one_element_of_the_set() -> None:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    expression = ExperimentResultItem.tag_set.contains("x").serialize(names, values)
    assert expression == "contains (#0, :0)" and names == {"tagSet": "#0"} and values == {":0": {"S": "x"}}


# ---------------------------------------------------------------------------- cheap paths
@pytest.mark.parametrize("expires_at", [None, EXPIRES])
def test_serializing_attribute_by_attribute_equals_the_models_serialize(expires_at: int | None) -> None:
    for record in EXPERIMENTS.values():
        assert ExperimentItem.serialized(record, expires_at=expires_at) == ExperimentItem.new(
            record, expires_at=expires_at).serialize()
    for result in RESULTS.values():
        for link in (None, "ds"):
            assert ExperimentResultItem.serialized(result, rev=2, link_dataset_id=link, expires_at=expires_at) == (
                ExperimentResultItem.new(result, rev=2, link_dataset_id=link, expires_at=expires_at).serialize())
        assert ExperimentResultRefItem.serialized(result, expires_at=expires_at) == ExperimentResultRefItem.new(
            result, expires_at=expires_at).serialize()
        assert DatasetItemLinkItem.serialized("ds", result, expires_at=expires_at) == DatasetItemLinkItem.new(
            "ds", result, expires_at=expires_at).serialize()


def test_an_item_too_large_to_store_is_refused_by_its_model() -> None:
    noise = base64.b64encode(b"".join(hashlib.sha256(str(n).encode()).digest() for n in range(20_000))).decode()
    with pytest.raises(ItemTooLargeError) as info:
        ExperimentItem.serialized(Experiment(id="e1", metadata={"blob": noise}, created_at=NOW, updated_at=NOW),
                                  expires_at=None)
    assert (info.value.details["entity"], info.value.details["id"]) == ("experiment", "e1")
    result = ExperimentResult(id="r1", experiment_id="e1", item_id="i1", started_at=NOW, completed_at=NOW,
                              output=noise, created_at=NOW)
    with pytest.raises(ItemTooLargeError) as info:
        ExperimentResultItem.serialized(result, rev=1, link_dataset_id=None, expires_at=None)
    assert (info.value.details["entity"], info.value.details["id"]) == ("experiment result", "r1")


def test_a_bound_shape_is_the_request_pynamodb_builds() -> None:
    """Shapes built once with marked values, bound to a call's values, equal the requests PynamoDB builds
    with those values (keys, ``now``, JSON values, sets, counter deltas)."""
    now = 1_800_000_000
    key = keys.experiment_result_slot_key("e1", "i1", 0)
    slot = ExperimentResultSlotItem

    def slot_request(marks: Marks) -> dict[str, Any]:
        actions = [marks.set("result_id", slot.result_id), slot.item_type.set(slot),
                   slot.result_ids.add(marks("ids", slot.result_ids))]
        return requests.update_key(UNBOUND, KEY_MARK, actions, condition=absent_or_expired(marks))

    bound = shape(("test", "slot"), slot_request).bind("t", {**key_values(key), "result_id": "r1", "ids": {"r1"},
                                                             "now": now})
    assert bound == requests.update_key(
        "t", key, [slot.result_id.set("r1"), slot.item_type.set(slot), slot.result_ids.add({"r1"})],
        condition=TableItem.pk.does_not_exist() | ~TableItem.not_expired(1_800_000_000))

    result = ExperimentResultItem
    result_key = keys.experiment_result_key("e1", "r1")

    def review(marks: Marks) -> dict[str, Any]:
        return requests.update_key(UNBOUND, KEY_MARK, [marks.set("metadata", result.metadata),
                                                       result.comment.remove(), result.rev.set((result.rev | 0) + 1)],
                                   condition=result.rev == marks("rev", result.rev))

    for metadata in ({"small": 1}, BIG):
        bound = shape(("test", "review"), review).bind("t", {**key_values(result_key), "metadata": metadata,
                                                             "rev": 4})
        assert bound == requests.update_key(
            "t", result_key, [result.metadata.set(metadata), result.comment.remove(),
                              result.rev.set((result.rev | 0) + 1)], condition=result.rev == 4)
    experiment = ExperimentItem
    counters = shape(("test", "counters"), lambda marks: requests.update_key(
        UNBOUND, KEY_MARK, [experiment.result_count.add(marks("d", experiment.result_count))],
        condition=live(marks)))
    exp_key = keys.experiment_key("e1")
    assert counters.bind("t", {**key_values(exp_key), "d": -1, "now": now}) == requests.update_key(
        "t", exp_key, [experiment.result_count.add(-1)],
        condition=TableItem.pk.exists() & TableItem.not_expired(1_800_000_000))


def test_a_bound_put_carries_the_item_and_its_condition() -> None:
    record = RESULTS["every field"]
    raw = ExperimentResultItem.serialized(record, rev=1, link_dataset_id=None, expires_at=None)
    model = ExperimentResultItem.new(record, rev=1, link_dataset_id=None, expires_at=None)
    bound = put_shape(("test", "create"), absent_or_expired).bind("t", {"now": 1_800_000_000},
                                                                 Item=raw)
    assert bound == requests.put_item("t", model, condition=(
        TableItem.pk.does_not_exist() | ~TableItem.not_expired(1_800_000_000)))


def test_a_bound_filter_is_the_condition_pynamodb_serializes() -> None:
    model = ExperimentResultItem
    filtered = filter_shape(("test", "filter"), lambda marks: (
        model.item_type == model) & TableItem.not_expired(marks("now", EPOCH_SECONDS)) & (
        model.status == marks("status", model.status)))
    bound = filtered.bind({"now": 1_800_000_000, "status": "reviewed"})
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    expected_names: dict[str, str] = {}
    expected_values: dict[str, Any] = {}
    expected = ((model.item_type == model) & TableItem.not_expired(1_800_000_000)
                & (model.status == "reviewed")).serialize(expected_names, expected_values)
    assert bound.serialize(names, values) == expected
    assert (names, values) == (expected_names, expected_values)


def test_a_record_is_read_from_the_attributes_present() -> None:
    raw = ExperimentResultItem.serialized(RESULTS["every field"], rev=1, link_dataset_id="d", expires_at=EXPIRES)
    raw["comment"] = {"NULL": True}
    del raw["traceId"]
    decoded = ExperimentResultItem.decode_attributes(raw, ExperimentResultItem.FIELDS)
    assert ExperimentResultItem.record_from_raw(raw) == ExperimentResult.model_validate(
        {name: value for name, value in decoded.items() if value is not None})
    assert EPOCH_SECONDS.serialize(EXPIRES) == TableItem.ttl.serialize(epoch_datetime(EXPIRES))
