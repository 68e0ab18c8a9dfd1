"""The datasets models store exactly the items the hand-built layout stored (no migration), read them back
identically, and the cheap paths (``encode_item``, request shapes, filter shapes) equal what PynamoDB builds."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from pynamodb.attributes import Attribute
from pynamodb.expressions.operand import Value

from mastra_dynamo.dynamo.codec import COMPRESS_MIN_BYTES, Item, decode_json, decode_value, encode_json
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME, TableItem
from mastra_dynamo.models.datasets import (
    DatasetModel,
    DatasetVersionModel,
    ExternalIdModel,
    ItemCurrentModel,
    ItemPayloadModel,
    ItemPointerModel,
    ItemRowModel,
    key_of,
    link_of,
)
from mastra_dynamo.models.layout import Stored, typed
from mastra_dynamo.models.table import model_schema
from mastra_dynamo.records.base import json_data
from mastra_dynamo.records.datasets import Dataset, DatasetItem, DatasetItemRow, DatasetVersion
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.table import TABLE_SPEC
from mastra_dynamo.stores.datasets import item_reads, item_writes, mutations, store
from mastra_dynamo.stores.datasets.shapes import MARK_KEY, FilterShape, Shape, query_request
from tests.unit.pynamodb_reference import pynamodb_decode, pynamodb_serialize

NOW = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
LATER = datetime(2026, 1, 3, 4, 5, 6, 7000, tzinfo=UTC)
BIG = {"text": "x" * (COMPRESS_MIN_BYTES * 2)}
SV = {"N": str(TABLE_SPEC.schema_version)}


# ---------------------------------------------------------------------------- reference layout
# The item builders and decoders of stores/datasets/items.py before the models, with the store's stamping.
def stamp(item: Item, entity: str, expires_at: int | None) -> Item:
    item["_et"] = {"S": entity}
    item["_sv"] = dict(SV)
    if expires_at is not None:
        item["ttl"] = {"N": str(expires_at)}
    return item


def reference_dataset(record: Dataset, *, item_count: int, version_count: int, rev: int,
                      expires_at: int | None) -> Item:
    key = keys.dataset_key(record.id)
    data = json_data(record, what="dataset", by_alias=True, include={
        "name", "description", "metadata", "input_schema", "ground_truth_schema", "request_context_schema",
        "tags", "target_type", "target_ids", "scorer_ids", "organization_id", "project_id", "candidate_key",
        "candidate_id"})
    data = {k: v for k, v in data.items() if v is not None}
    created, updated = keys.ts(record.created_at), keys.ts(record.updated_at)
    cid = keys.component(record.id)
    shard = keys.shard_of(record.id, keys.GLOBAL_SHARDS)
    item: Item = {
        "pk": {"S": key.pk}, "sk": {"S": key.sk},
        "id": {"S": record.id},
        "data": encode_json(data, field="dataset"),
        "nameLower": {"S": record.name.lower()},
        "version": {"N": str(record.version)},
        "itemCount": {"N": str(item_count)},
        "versionCount": {"N": str(version_count)},
        "createdAt": {"S": created},
        "updatedAt": {"S": updated},
        "gsi3pk": {"S": keys.datasets_global_pk(shard)}, "gsi3sk": {"S": f"{created}#{cid}"},
        "gsi4pk": {"S": keys.datasets_global_pk(shard)}, "gsi4sk": {"S": f"{updated}#{cid}"},
        "_rev": {"N": str(rev)},
    }
    for attr in ("organizationId", "projectId", "candidateKey", "candidateId", "targetType"):
        value = data.get(attr)
        if isinstance(value, str):
            item[attr] = {"S": value}
    if record.target_ids:
        item["targetIdSet"] = {"SS": sorted(set(record.target_ids))}
    return stamp(item, "dataset", expires_at)


def reference_decode_dataset(item: Item) -> Dataset:
    data = decode_json(item["data"])
    data["id"] = item["id"]["S"]
    data["version"] = int(item["version"]["N"])
    data["createdAt"] = decode_value(item["createdAt"], "datetime")
    data["updatedAt"] = decode_value(item["updatedAt"], "datetime")
    return Dataset.model_validate(data)


def reference_row(*, dataset_id: str, item_id: str, version: int, payload: dict[str, Any],
                  external_id: str | None, organization_id: str | None, project_id: str | None,
                  created_at: str, updated_at: str, is_deleted: bool, purged: bool = False,
                  valid_to: int | None = None, expires_at: int | None = None) -> Item:
    key = keys.dataset_item_row_key(dataset_id, item_id, version)
    item: Item = {
        "pk": {"S": key.pk}, "sk": {"S": key.sk},
        "id": {"S": item_id},
        "datasetId": {"S": dataset_id},
        "datasetVersion": {"N": str(version)},
        "data": encode_json(dict(payload), field="item"),
        "createdAt": {"S": created_at},
        "updatedAt": {"S": updated_at},
        "isDeleted": {"BOOL": is_deleted},
    }
    if external_id is not None:
        item["externalId"] = {"S": external_id}
    if organization_id is not None:
        item["organizationId"] = {"S": organization_id}
    if project_id is not None:
        item["projectId"] = {"S": project_id}
    if purged:
        item["purged"] = {"BOOL": True}
    if valid_to is not None:  # the transfer target's closed rows
        item["validTo"] = {"N": str(valid_to)}
    return stamp(item, "dataset_item_row", expires_at)


def reference_current(row: Item) -> Item:
    dataset_id, item_id = row["datasetId"]["S"], row["id"]["S"]
    key = keys.dataset_item_current_key(dataset_id, item_id)
    item: Item = {k: v for k, v in row.items() if k not in ("validTo", "closedBy", "stage", "stageNew")}
    item["pk"], item["sk"] = {"S": key.pk}, {"S": key.sk}
    if not row["isDeleted"].get("BOOL", False):
        cid = keys.component(item_id)
        pk = keys.dataset_items_pk(dataset_id)
        item["gsi1pk"], item["gsi1sk"] = {"S": pk}, {"S": f"{row['createdAt']['S']}#{cid}"}
        item["gsi2pk"], item["gsi2sk"] = {"S": pk}, {"S": f"{row['updatedAt']['S']}#{cid}"}
    item["_et"] = {"S": "dataset_item_current"}
    return item


def _s(item: Item, name: str) -> str | None:
    value = item.get(name)
    return None if value is None or "S" not in value else str(value["S"])


def reference_decode_item(item: Item) -> DatasetItem:
    data = decode_json(item["data"])
    data.update({
        "id": item["id"]["S"], "datasetId": item["datasetId"]["S"],
        "datasetVersion": int(item["datasetVersion"]["N"]), "externalId": _s(item, "externalId"),
        "organizationId": _s(item, "organizationId"), "projectId": _s(item, "projectId"),
        "createdAt": decode_value(item["createdAt"], "datetime"),
        "updatedAt": decode_value(item["updatedAt"], "datetime"),
    })
    return DatasetItem.model_validate(data)


def reference_decode_row(item: Item, *, committed: int) -> DatasetItemRow:
    base = reference_decode_item(item).model_dump(by_alias=False)
    valid_to = int(item["validTo"]["N"]) if "validTo" in item else None
    if valid_to is not None and valid_to > committed:
        valid_to = None
    return DatasetItemRow.model_validate({**base, "valid_to": valid_to,
                                          "is_deleted": bool(item["isDeleted"].get("BOOL", False))})


def reference_version(dataset_id: str, version: int, version_id: str, created_at: str,
                      expires_at: int | None) -> Item:
    key = keys.dataset_version_key(dataset_id, version)
    return stamp({"pk": {"S": key.pk}, "sk": {"S": key.sk}, "id": {"S": version_id},
                  "datasetId": {"S": dataset_id}, "version": {"N": str(version)},
                  "createdAt": {"S": created_at}}, "dataset_version", expires_at)


def reference_pointer(dataset_id: str, item_id: str, purged_at: str | None, expires_at: int | None) -> Item:
    key = keys.dataset_item_ref_key(item_id)
    item = stamp({"pk": {"S": key.pk}, "sk": {"S": key.sk}, "datasetId": {"S": dataset_id},
                  "itemId": {"S": item_id}}, "dataset_item_ref", expires_at)
    if purged_at is not None:
        item["purged"] = {"BOOL": True}
        item["purgedAt"] = {"S": purged_at}
    return item


def reference_external_id(dataset_id: str, external_id: str, item_id: str, digest: str,
                          expires_at: int | None) -> Item:
    key = keys.dataset_external_id_key(dataset_id, external_id)
    return stamp({"pk": {"S": key.pk}, "sk": {"S": key.sk}, "datasetId": {"S": dataset_id},
                  "externalId": {"S": external_id}, "itemId": {"S": item_id}, "payloadHash": {"S": digest}},
                  "dataset_external_id", expires_at)


def same_item(model: type[TableItem], values: dict[str, Any], reference: Item) -> None:
    """The cheap encoding, PynamoDB's serialization and the reference are one item, and PynamoDB reads the
    reference back into the same item."""
    assert model.encode_item(values) == reference
    assert model(**values).serialize() == pynamodb_serialize(model(**values)) == reference
    assert model.from_raw_data(reference).serialize() == reference
    names = tuple(model.get_attributes())
    assert model.decode_attributes(reference, names) == pynamodb_decode(model, reference, names)


# ---------------------------------------------------------------------------- datasets
def dataset(**fields: Any) -> Dataset:
    base: dict[str, Any] = {"id": "ds#1", "name": "Golden Set", "version": 3, "createdAt": NOW, "updatedAt": LATER}
    return Dataset.model_validate({**base, **fields})


DATASETS = {
    "minimal": dataset(),
    "described": dataset(description="d", metadata={"": [1, 1.5, None, True]}, tags=["a", "b"],
                         scorerIds=["s"], inputSchema={"type": "object"}, groundTruthSchema={"type": "string"}),
    "tenancy and candidate": dataset(organizationId="org", projectId="p", candidateKey="ck", candidateId="ci"),
    "targets": dataset(targetType="agent", targetIds=["b", "a", "b"]),
    "no targets": dataset(targetType="workflow", targetIds=[]),
    "compressed": dataset(metadata=BIG, name="Ünïcode ✓"),
}


@pytest.mark.parametrize("expires_at", [None, 1_900_000_000])
@pytest.mark.parametrize("shape", list(DATASETS))
def test_a_dataset_item_is_the_hand_built_item(shape: str, expires_at: int | None) -> None:
    record = DATASETS[shape]
    values = DatasetModel.values(record, item_count=5, version_count=4, rev=9, expires_at=expires_at)
    reference = reference_dataset(record, item_count=5, version_count=4, rev=9, expires_at=expires_at)
    same_item(DatasetModel, values, reference)
    assert DatasetModel.record_from_raw(reference) == reference_decode_dataset(reference) == record
    assert DatasetModel.descriptive_from_raw(reference) == decode_json(reference["data"])


def test_large_dataset_descriptions_are_compressed() -> None:
    item = DatasetModel.encode_item(DatasetModel.values(DATASETS["compressed"], item_count=0, version_count=0, rev=1))
    assert set(item["data"]) == {"B"}


def test_a_locked_and_projecting_dataset_reads_back() -> None:
    raw = {**reference_dataset(DATASETS["minimal"], item_count=1, version_count=1, rev=2, expires_at=None),
           "lock": {"S": "tok"}, "lockAt": {"N": "1767323045123"}, "lockState": {"S": "active"},
           "lockVersion": {"N": "4"}, "projecting": {"N": "3"}}
    assert DatasetModel.from_raw_data(raw).serialize() == raw
    assert DatasetModel.decode_attributes(raw, ("lock", "lock_at", "lock_state", "lock_version", "projecting")) == {
        "lock": "tok", "lock_at": 1767323045123, "lock_state": "active", "lock_version": 4, "projecting": 3}
    state = mutations.DatasetState.of(raw)
    assert (state.dataset_id, state.rev, state.version, state.expires_at) == ("ds#1", 2, 3, None)
    assert state.created_at.value == {"S": keys.ts(NOW)}


# ---------------------------------------------------------------------------- rows
def row_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"dataset_id": "ds#1", "item_id": "it%1", "version": 7,
                            "payload": {"input": {"q": "é"}, "metadata": {"k": 1.5}}, "external_id": None,
                            "organization_id": None, "project_id": None, "is_deleted": False}
    args.update(overrides)
    return args


ROWS = {
    "minimal": row_args(),
    "external id and tenancy": row_args(external_id="ext#1", organization_id="org", project_id="p"),
    "tombstone": row_args(is_deleted=True),
    "purged tombstone": row_args(is_deleted=True, purged=True,
                                 payload={"metadata": {"__purged": True, "purgedAt": "2026-01-02T03:04:05.123Z"}}),
    "closed": row_args(valid_to=9),
    "compressed": row_args(payload={"input": BIG}),
    "empty payload": row_args(payload={}),
}


@pytest.mark.parametrize("expires_at", [None, 1_900_000_000])
@pytest.mark.parametrize("shape", list(ROWS))
def test_history_and_current_rows_are_the_hand_built_items(shape: str, expires_at: int | None) -> None:
    args = ROWS[shape]
    values = ItemRowModel.values(**args, created_at=NOW, updated_at=LATER, expires_at=expires_at)
    reference = reference_row(**args, created_at=keys.ts(NOW), updated_at=keys.ts(LATER), expires_at=expires_at)
    same_item(ItemRowModel, values, reference)
    current = reference_current(reference)
    assert ItemCurrentModel.from_row(reference) == current
    assert ItemCurrentModel.from_raw_data(current).serialize() == current
    for model in (ItemRowModel, ItemCurrentModel, ItemPayloadModel):
        assert model.record_from_raw(reference) == reference_decode_item(reference)
    assert ItemCurrentModel.record_from_raw(current) == reference_decode_item(current)
    for committed in (7, 8, 9, 12):
        assert ItemRowModel.row_from_raw(reference, committed=committed) == \
            reference_decode_row(reference, committed=committed)


def test_a_tombstone_current_row_has_no_index_keys() -> None:
    row = ItemRowModel.encode_item(ItemRowModel.values(**ROWS["tombstone"], created_at=NOW, updated_at=LATER))
    current = ItemCurrentModel.from_row(row)
    assert not {"gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"} & set(current)
    live = ItemCurrentModel.from_row(ItemRowModel.encode_item(ItemRowModel.values(**ROWS["minimal"], created_at=NOW,
                                                                              updated_at=LATER)))
    assert live["gsi1pk"] == {"S": "DC#ds%231"}
    assert live["gsi1sk"] == {"S": f"{keys.ts(NOW)}#it%251"} and live["gsi2sk"] == {"S": f"{keys.ts(LATER)}#it%251"}


def test_a_stored_row_with_staging_tags_projects_without_them() -> None:
    row = {**reference_row(**ROWS["minimal"], created_at=keys.ts(NOW), updated_at=keys.ts(LATER)),
           "validTo": {"N": "9"}, "closedBy": {"S": "tok"}, "stage": {"S": "tok"}, "stageNew": {"BOOL": True},
           "_sv": {"N": "1"}}
    assert ItemRowModel.from_raw_data(row).serialize() == row
    assert ItemCurrentModel.from_row(row) == reference_current(row)  # the row's own _sv is kept, as before
    staged = {**row, **ItemRowModel.encode_values({"stage": "t2", "stage_new": True})}
    assert staged["stage"] == {"S": "t2"} and staged["stageNew"] == {"BOOL": True}


# ---------------------------------------------------------------------------- versions, ids, pointers
@pytest.mark.parametrize("expires_at", [None, 1_900_000_000])
def test_version_external_id_and_pointer_items(expires_at: int | None) -> None:
    version = DatasetVersionModel.values("ds#1", 12, "v-1", NOW, expires_at=expires_at)
    reference = reference_version("ds#1", 12, "v-1", keys.ts(NOW), expires_at)
    same_item(DatasetVersionModel, version, reference)
    assert DatasetVersionModel.record_from_raw(reference) == DatasetVersion(id="v-1", dataset_id="ds#1", version=12,
                                                                            created_at=NOW)
    same_item(ExternalIdModel, ExternalIdModel.values("ds#1", "e#1", "it1", "abc", expires_at=expires_at),
              reference_external_id("ds#1", "e#1", "it1", "abc", expires_at))
    for purged_at in (None, "2026-01-02T03:04:05.123Z", ""):
        same_item(ItemPointerModel, ItemPointerModel.values("ds#1", "it1", purged_at=purged_at, expires_at=expires_at),
                  reference_pointer("ds#1", "it1", purged_at, expires_at))


def test_links_are_read_by_key_and_ids_only() -> None:
    key = keys.dataset_item_link_key("ds", "it", "ex#1", "r" * 300)
    raw: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}, "_et": {"S": "dataset_item_link"},
                 "experimentId": {"S": "ex#1"}, "resultId": {"S": "r" * 300}}
    assert key_of(raw) == key
    assert link_of(raw) == ("ex#1", "r" * 300)
    assert link_of({"pk": raw["pk"], "sk": raw["sk"]}) == (None, None)


def test_the_models_declare_the_tables_indexes() -> None:
    assert model_schema(DatasetModel)["gsis"] == model_schema(TableItem)["gsis"]
    assert requests.index_keys(ItemCurrentModel.gsi1) == ("gsi1", "gsi1pk", "gsi1sk")
    assert requests.index_keys(DatasetModel.gsi4) == ("gsi4", "gsi4pk", "gsi4sk")
    assert DatasetModel.rev.attr_name == TABLE_SPEC.revision_attribute


# ---------------------------------------------------------------------------- request and filter shapes
def spell(expression: str, names: dict[str, str], values: dict[str, Any]) -> str:
    """An expression with each placeholder replaced by its name or value."""
    def one(match: re.Match[str]) -> str:
        placeholder = match.group(0)
        return names[placeholder] if placeholder.startswith("#") else str(next(iter(values[placeholder].values())))

    return re.sub(r"[#:][a-z]*\d+", one, expression)


class DirectSlots:
    """Slots that hand PynamoDB the real values: the request PynamoDB builds for them directly."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __call__(self, name: str, attr: Attribute[Any]) -> Value:
        return Value(typed(attr, self.values[name]))


def direct(shape: Shape, **values: Any) -> dict[str, Any]:
    return shape._build(DirectSlots(values))  # type: ignore[arg-type]


NOW_TTL = 1_800_000_000
CREATED = Stored({"S": keys.ts(NOW)})
SHAPES: dict[str, tuple[Shape, dict[str, Any]]] = {
    "bump": (mutations.BUMP, {"version": 4, "next_rev": 8, "delta": -2, "rev": 7, "created_at": CREATED,
                              "now": NOW_TTL}),
    "rev bump": (mutations.REV_BUMP, {"next_rev": 8, "rev": 7, "created_at": CREATED, "now": NOW_TTL}),
    "close": (mutations._CLOSE, {"version": 4}),
    "staged close": (mutations._CLOSE_STAGED, {"version": 4, "token": "tok"}),
    "claim": (mutations._CLAIM, {"token": "tok", "lock_at": 1767323045123, "version": 4, "next_rev": 8, "rev": 7,
                                 "created_at": CREATED, "now": NOW_TTL}),
    "heartbeat": (mutations._HEARTBEAT, {"lock_at": 1767323045123, "token": "tok"}),
    "commit": (mutations._COMMIT, {"version": 4, "delta": 3, "token": "tok", "read_version": 3}),
    "revoke": (mutations._REVOKE, {"token": "tok"}),
    "revoke expired": (mutations._REVOKE_EXPIRED, {"token": "tok", "lock_at": 1767323045123}),
    "reopen": (mutations._REOPEN, {"token": "tok"}),
    "release": (mutations._RELEASE, {"token": "tok"}),
    "projected": (mutations._PROJECTED, {"version": 4}),
    "flag purged": (item_writes._FLAG_PURGED, {"purged_at": "2026-01-02T03:04:05.123Z", "dataset_id": "ds#1"}),
    "scrub": (item_writes._SCRUB, {"data": {"metadata": {"__purged": True}, "big": BIG}}),
    "version added": (item_reads._VERSION_ADDED, {"now": NOW_TTL}),
    "detach": (store._DETACH, {"dataset_id": "ds#1"}),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_a_bound_update_shape_is_the_request_pynamodb_builds(name: str) -> None:
    shape, values = SHAPES[name]
    for _ in range(2):  # built once, bound twice
        assert shape.bind(UNBOUND_TABLE_NAME, MARK_KEY, **values) == direct(shape, **values)
    bound = shape.bind("table-a", keys.dataset_key("ds#1"), **values)
    assert bound["TableName"] == "table-a" and bound["Key"] == {"pk": {"S": "D#ds%231"}, "sk": {"S": "D"}}


PUTS: dict[str, tuple[Shape, dict[str, Any]]] = {
    "put": (mutations.PUT, {}),
    "create": (mutations.CREATE, {"now": NOW_TTL}),
    "project": (mutations._PROJECT, {"version": 4}),
    "create dataset": (store._CREATE, {"now": NOW_TTL}),
    "update dataset": (store._UPDATE, {"rev": 7, "created_at": CREATED, "now": NOW_TTL}),
}


@pytest.mark.parametrize("name", list(PUTS))
def test_a_bound_put_shape_is_the_request_pynamodb_builds(name: str) -> None:
    shape, values = PUTS[name]
    item = ItemPointerModel.encode_item(ItemPointerModel.values("ds", "it"))
    bound = shape.bind("t", item=item, **values)
    expected = {**direct(shape, **values), "TableName": "t", "Item": item}
    assert bound == expected


def test_the_expressions_read_as_before() -> None:
    """The conditions say what the hand-written ones said (PynamoDB's placeholders, same meaning)."""
    def spelled(request: dict[str, Any], field: str) -> str:
        return spell(request[field], request.get("ExpressionAttributeNames", {}),
                     request.get("ExpressionAttributeValues", {}))

    bump = mutations.BUMP.bind("t", keys.dataset_key("d"), **SHAPES["bump"][1])
    assert spelled(bump, "UpdateExpression") == "SET version = 4, _rev = 8 ADD itemCount -2, versionCount 1"
    assert spelled(bump, "ConditionExpression") == (
        f"((_rev = 7 AND createdAt = {keys.ts(NOW)}) AND (attribute_not_exists (ttl) OR ttl > 1800000000))")
    create = mutations.CREATE.bind("t", item={}, now=NOW_TTL)
    assert spelled(create, "ConditionExpression") == (
        "(attribute_not_exists (pk) OR (NOT (attribute_not_exists (ttl) OR ttl > 1800000000)))")
    commit = mutations._COMMIT.bind("t", keys.dataset_key("d"), **SHAPES["commit"][1])
    assert spelled(commit, "UpdateExpression") == (
        "SET version = 4, projecting = 4, _rev = _rev + 1 REMOVE lock, lockAt, lockState, lockVersion "
        "ADD itemCount 3, versionCount 1")
    assert spelled(commit, "ConditionExpression") == "((lock = tok AND lockState = active) AND version = 3)"


def test_a_filter_shape_is_the_filter_pynamodb_builds() -> None:
    now = 1_800_000_000
    condition = ((ItemRowModel.dataset_version <= 5)
                 & (ItemRowModel.valid_to.does_not_exist() | (ItemRowModel.valid_to > 5))
                 & (ItemRowModel.is_deleted == False)  # noqa: E712
                 & ItemRowModel.not_expired(now))
    shaped, built = Expr(), Expr()
    expression = item_reads._VISIBLE.builder(version=5, now=lambda: now)(shaped)
    assert expression == requests.condition_filter(lambda: condition)(built)
    assert (shaped.names, shaped.values) == (built.names, built.values)


def test_the_datasets_listing_filter() -> None:
    shape = FilterShape(lambda s: store._datasets_filter(s, ("organization_id",), 2, True))
    expr = Expr()
    expression = shape.builder(organization_id="org", target0="a", target1="b", name="gold",
                               now=1_800_000_000)(expr)
    assert spell(expression, expr.names, expr.values) == (
        "((((_et = dataset AND (attribute_not_exists (ttl) OR ttl > 1800000000)) AND organizationId = org) AND "
        "(contains (targetIdSet, a) OR contains (targetIdSet, b))) AND contains (nameLower, gold))")


def test_a_keys_only_collection_query() -> None:
    params = query_request("D#d", sk_prefix="", consistent=True,
                           projection=(TableItem.pk, TableItem.sk, ItemRowModel.id, TableItem.item_type))
    assert params == {"KeyConditionExpression": "#0 = :0", "ScanIndexForward": True, "ConsistentRead": True,
                      "ProjectionExpression": "#0, #1, #2, #3",
                      "ExpressionAttributeNames": {"#0": "pk", "#1": "sk", "#2": "id", "#3": "_et"},
                      "ExpressionAttributeValues": {":0": {"S": "D#d"}}}
    rows = query_request("D#d", sk_prefix="I#", consistent=True, filter=ItemRowModel.stage == "t")
    assert rows["KeyConditionExpression"] == "(#0 = :0 AND begins_with (#1, :1))"
    assert rows["FilterExpression"] == "#2 = :2" and rows["ExpressionAttributeNames"]["#2"] == "stage"
