"""Item mapping of the datasets entities: dataset, SCD-2 rows (history ``I#`` and current ``IC#``), dataset
versions, external-id records and item pointers.

The descriptive fields of a dataset and the payload of an item are stored as JSON text (``data``; zlib
compressed when large) for exact round-trips; the attributes that listings filter or sort on are copied next
to it as plain attributes. Optional index and filter attributes are omitted, never written as blanks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mastra_dynamo.dynamo.codec import Item, decode_json, decode_value, dumps_json, encode_json
from mastra_dynamo.records.base import json_data
from mastra_dynamo.records.datasets import Dataset, DatasetItem, DatasetItemRow, DatasetVersion
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.table import TABLE_SPEC

ENTITY_DATASET = "dataset"
ENTITY_ROW = "dataset_item_row"
ENTITY_CURRENT = "dataset_item_current"
ENTITY_VERSION = "dataset_version"
ENTITY_EXTERNAL_ID = "dataset_external_id"
ENTITY_ITEM_REF = "dataset_item_ref"
ENTITY_ITEM_LINK = "dataset_item_link"

PAYLOAD_FIELDS = (
    "input", "groundTruth", "expectedTrajectory", "toolMocks", "unmockedToolPolicy", "scorerIds",
    "requestContext", "metadata", "source",
)
"""The item payload (what external-id idempotency compares), in Mastra's camelCase."""
SCRUBBED_FIELDS = ("input", "groundTruth", "expectedTrajectory", "toolMocks", "requestContext")
"""Payload fields a purge removes (``metadata`` becomes the purge marker)."""

DATASET_DESCRIPTIVE = (
    "name", "description", "metadata", "inputSchema", "groundTruthSchema", "requestContextSchema", "tags",
    "targetType", "targetIds", "scorerIds", "organizationId", "projectId", "candidateKey", "candidateId",
)
IMMUTABLE_DATASET_FIELDS = ("organizationId", "projectId", "candidateKey", "candidateId")
DATASET_COPIED = ("organizationId", "projectId", "candidateKey", "candidateId", "targetType")
LOCK_ATTRIBUTES = ("lock", "lockAt", "lockState", "lockVersion")


def s(item: Item, name: str) -> str | None:
    value = item.get(name)
    if value is None or "S" not in value:
        return None
    text: str = value["S"]
    return text


def n(item: Item, name: str, default: int = 0) -> int:
    value = item.get(name)
    if value is None or "N" not in value:
        return default
    return int(value["N"])


def ttl_of(item: Item, attribute: str) -> int | None:
    value = item.get(attribute)
    return int(value["N"]) if value and "N" in value else None


# ---------------------------------------------------------------- canonical payloads
def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def payload_hash(payload: Mapping[str, Any]) -> str:
    """Hash of the canonical payload: missing and null are equal, key order and 1 vs 1.0 do not matter."""
    try:
        canonical = {name: _canonical(payload.get(name)) for name in PAYLOAD_FIELDS}
    except RecursionError:
        from mastra_dynamo.errors import ValidationError

        raise ValidationError("item payload is nested too deep", code="INVALID_JSON") from None
    text = json.dumps(json.loads(dumps_json(canonical, field="item")), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def purge_marker(purged_at: str) -> dict[str, Any]:
    return {"__purged": True, "purgedAt": purged_at}


def scrub_payload(payload: Mapping[str, Any], purged_at: str) -> dict[str, Any]:
    """The payload of a purged item: personal data removed, ``metadata`` = the purge marker."""
    out = {k: v for k, v in payload.items() if k not in SCRUBBED_FIELDS}
    out["metadata"] = purge_marker(purged_at)
    return out


def iso_ms(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------- dataset
def dataset_item(record: Dataset, *, item_count: int, version_count: int, rev: int) -> Item:
    """The dataset item of ``record`` (unstamped: the caller adds ``_et``, ``_sv`` and ``ttl``)."""
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
        TABLE_SPEC.revision_attribute: {"N": str(rev)},
    }
    for attr in DATASET_COPIED:
        value = data.get(attr)
        if isinstance(value, str):
            item[attr] = {"S": value}
    if record.target_ids:
        item["targetIdSet"] = {"SS": sorted(set(record.target_ids))}
    return item


def decode_dataset(item: Item) -> Dataset:
    data = decode_json(item["data"])
    data["id"] = item["id"]["S"]
    data["version"] = n(item, "version")
    data["createdAt"] = decode_value(item["createdAt"], "datetime")
    data["updatedAt"] = decode_value(item["updatedAt"], "datetime")
    return Dataset.model_validate(data)


def dataset_descriptive(item: Item) -> dict[str, Any]:
    data: dict[str, Any] = decode_json(item["data"])
    return data


# ---------------------------------------------------------------- rows
def payload_of(value: Any) -> dict[str, Any]:
    """Mastra-JSON payload (camelCase, None fields omitted) of a payload record or mapping."""
    if hasattr(value, "model_dump"):
        raw = value.model_dump(by_alias=True, exclude_unset=True, exclude={"external_id"})
    else:
        raw = dict(value)
    return {name: raw[name] for name in PAYLOAD_FIELDS if raw.get(name) is not None}


def row_item(*, dataset_id: str, item_id: str, version: int, payload: Mapping[str, Any],
             external_id: str | None, organization_id: str | None, project_id: str | None,
             created_at: str, updated_at: str, is_deleted: bool, purged: bool = False) -> Item:
    """A history row ``I#<item>#<version>`` (unstamped; open: no ``validTo``)."""
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
    return item


_ROW_ONLY = ("validTo", "closedBy", "stage", "stageNew")


def current_item(row: Item) -> Item:
    """The current row ``IC#<item>`` for a history row: a copy, indexed on gsi1/gsi2 unless a tombstone."""
    dataset_id, item_id = row["datasetId"]["S"], row["id"]["S"]
    key = keys.dataset_item_current_key(dataset_id, item_id)
    item: Item = {k: v for k, v in row.items() if k not in _ROW_ONLY}
    item["pk"], item["sk"] = {"S": key.pk}, {"S": key.sk}
    if not row["isDeleted"].get("BOOL", False):
        cid = keys.component(item_id)
        pk = keys.dataset_items_pk(dataset_id)
        item["gsi1pk"], item["gsi1sk"] = {"S": pk}, {"S": f"{row['createdAt']['S']}#{cid}"}
        item["gsi2pk"], item["gsi2sk"] = {"S": pk}, {"S": f"{row['updatedAt']['S']}#{cid}"}
    return item


def row_payload(item: Item) -> dict[str, Any]:
    data: dict[str, Any] = decode_json(item["data"])
    return data


def decode_item(item: Item) -> DatasetItem:
    data = row_payload(item)
    data.update({
        "id": item["id"]["S"],
        "datasetId": item["datasetId"]["S"],
        "datasetVersion": n(item, "datasetVersion"),
        "externalId": s(item, "externalId"),
        "organizationId": s(item, "organizationId"),
        "projectId": s(item, "projectId"),
        "createdAt": decode_value(item["createdAt"], "datetime"),
        "updatedAt": decode_value(item["updatedAt"], "datetime"),
    })
    return DatasetItem.model_validate(data)


def decode_row(item: Item, *, committed: int) -> DatasetItemRow:
    """A history row as the caller sees it at the committed version (a close staged by an uncommitted
    batch is not visible yet)."""
    base = decode_item(item).model_dump(by_alias=False)
    valid_to = n(item, "validTo", 0) if "validTo" in item else None
    if valid_to is not None and valid_to > committed:
        valid_to = None
    return DatasetItemRow.model_validate({**base, "valid_to": valid_to,
                                          "is_deleted": bool(item["isDeleted"].get("BOOL", False))})


def sort_key(item: Item) -> str:
    """Listing order of items: createdAt, then escaped id (the gsi1 sort key)."""
    return f"{item['createdAt']['S']}#{keys.component(item['id']['S'])}"


def search_text(item: Item) -> tuple[str, str]:
    payload = row_payload(item)
    value = payload.get("input")
    truth = payload.get("groundTruth")
    first = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    second = "" if not truth else truth if isinstance(truth, str) else json.dumps(
        truth, separators=(",", ":"), ensure_ascii=False)
    return first.lower(), second.lower()


# ---------------------------------------------------------------- versions, pointers, external ids
def version_item(dataset_id: str, version: int, version_id: str, created_at: str) -> Item:
    key = keys.dataset_version_key(dataset_id, version)
    return {"pk": {"S": key.pk}, "sk": {"S": key.sk}, "id": {"S": version_id}, "datasetId": {"S": dataset_id},
            "version": {"N": str(version)}, "createdAt": {"S": created_at}}


def decode_version(item: Item) -> DatasetVersion:
    return DatasetVersion(id=item["id"]["S"], dataset_id=item["datasetId"]["S"], version=n(item, "version"),
                          created_at=decode_value(item["createdAt"], "datetime"))


def pointer_item(dataset_id: str, item_id: str) -> Item:
    key = keys.dataset_item_ref_key(item_id)
    return {"pk": {"S": key.pk}, "sk": {"S": key.sk}, "datasetId": {"S": dataset_id}, "itemId": {"S": item_id}}


def external_id_item(dataset_id: str, external_id: str, item_id: str, digest: str) -> Item:
    key = keys.dataset_external_id_key(dataset_id, external_id)
    return {"pk": {"S": key.pk}, "sk": {"S": key.sk}, "datasetId": {"S": dataset_id},
            "externalId": {"S": external_id}, "itemId": {"S": item_id}, "payloadHash": {"S": digest}}
