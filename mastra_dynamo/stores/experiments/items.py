"""Item layout of the experiments domain: entity types, attribute maps of experiments and results, the
attribute, pagination and tenancy helpers, and the scrub of a result whose dataset item was purged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from mastra_dynamo.dynamo.client import TableClient, key_attr
from mastra_dynamo.dynamo.codec import FieldKind, Item, decode_value, encode_json, encode_value
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ConflictError
from mastra_dynamo.pagination import Pagination, paginate
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.datasets import DatasetTenancyFilters, ListPagination
from mastra_dynamo.records.scores import PaginationInfo
from mastra_dynamo.schema import keys

ENTITY_EXPERIMENT = "experiment"
ENTITY_RESULT = "experiment_result"
ENTITY_SLOT = "experiment_result_slot"
ENTITY_RESULT_REF = "experiment_result_ref"
ENTITY_ITEM_LINK = "dataset_item_link"
DEFAULT_PER_PAGE = 100
MAX_WRITE_ATTEMPTS = 50

EXPERIMENT_FIELDS: dict[str, tuple[str, FieldKind]] = {
    "id": ("id", "str"),
    "name": ("name", "str"),
    "description": ("description", "str"),
    "metadata": ("metadata", "json"),
    "provenance": ("provenance", "json"),
    "runner_attestation": ("runnerAttestation", "json"),
    "experiment_set_id": ("experimentSetId", "str"),
    "comparison_id": ("comparisonId", "str"),
    "variant_id": ("variantId", "str"),
    "trial_index": ("trialIndex", "int"),
    "dataset_id": ("datasetId", "str"),
    "dataset_version": ("datasetVersion", "int"),
    "target_type": ("targetType", "str"),
    "target_id": ("targetId", "str"),
    "scorer_ids": ("scorerIds", "json"),
    "status": ("status", "str"),
    "total_items": ("totalItems", "int"),
    "succeeded_count": ("succeededCount", "int"),
    "failed_count": ("failedCount", "int"),
    "skipped_count": ("skippedCount", "int"),
    "agent_version": ("agentVersion", "str"),
    "organization_id": ("organizationId", "str"),
    "project_id": ("projectId", "str"),
    "started_at": ("startedAt", "datetime"),
    "completed_at": ("completedAt", "datetime"),
    "created_at": ("createdAt", "datetime"),
    "updated_at": ("updatedAt", "datetime"),
}
RESULT_FIELDS: dict[str, tuple[str, FieldKind]] = {
    "id": ("id", "str"),
    "experiment_id": ("experimentId", "str"),
    "item_id": ("itemId", "str"),
    "item_dataset_version": ("itemDatasetVersion", "int"),
    "input": ("input", "json"),
    "output": ("output", "json"),
    "ground_truth": ("groundTruth", "json"),
    "metadata": ("metadata", "json"),
    "error": ("error", "json"),
    "started_at": ("startedAt", "datetime"),
    "completed_at": ("completedAt", "datetime"),
    "retry_count": ("retryCount", "int"),
    "attempt": ("attempt", "int"),
    "trace_id": ("traceId", "str"),
    "status": ("status", "str"),
    "tags": ("tags", "json"),
    "comment": ("comment", "str"),
    "tool_mock_report": ("toolMockReport", "json"),
    "organization_id": ("organizationId", "str"),
    "project_id": ("projectId", "str"),
    "created_at": ("createdAt", "datetime"),
}
PURGED_RESULT_FIELDS = ("input", "output", "groundTruth", "error", "tags", "toolMockReport")
"""Result attributes a purge of the dataset item removes (``metadata`` becomes the purge marker)."""
STATUS_COUNTERS = {"needs-review": "needsReview", "reviewed": "reviewed", "complete": "complete"}
REVIEW_COUNTERS = ("resultCount", "needsReview", "reviewed", "complete")


def encode_fields(record: Any, fields: dict[str, tuple[str, FieldKind]], *, entity: str) -> Item:
    """Attributes of the record's non-None fields (None and missing are both absent)."""
    data = record.model_dump(by_alias=False, mode="python", exclude_none=True)
    item: Item = {}
    for name, (attr, kind) in fields.items():
        if name in data:
            value = data[name]
            item[attr] = encode_value(value, kind, field=f"{entity}.{attr}")
    return item


def decode_fields(item: Item, fields: dict[str, tuple[str, FieldKind]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, (attr, kind) in fields.items():
        if attr in item:
            data[name] = decode_value(item[attr], kind)
    return data


def s(item: Item, name: str) -> str | None:
    value = item.get(name)
    if value is None or "S" not in value:
        return None
    text: str = value["S"]
    return text


def n(item: Item, name: str) -> int:
    value = item.get(name)
    return int(value["N"]) if value and "N" in value else 0


def ttl_of(item: Item, attribute: str) -> int | None:
    value = item.get(attribute)
    return int(value["N"]) if value and "N" in value else None


def scrub_result(table: TableClient, experiment_id: str, result_id: str, marker: Mapping[str, Any]) -> None:
    """Remove a result's payload (its dataset item was purged); ``metadata`` becomes ``marker``."""
    expr = Expr()
    removes = ", ".join(expr.name(a) for a in (*PURGED_RESULT_FIELDS, "tagSet"))
    rev = expr.name("_rev")
    meta = expr.value(encode_json(dict(marker), field="metadata"))
    with contextlib.suppress(ConflictError):  # the result is gone
        table.call("UpdateItem", **expr.apply({
            "TableName": table.table_name,
            "Key": key_attr(keys.experiment_result_key(experiment_id, result_id)),
            "UpdateExpression": (f"SET {expr.name('metadata')} = {meta},"
                                 f" {rev} = if_not_exists({rev}, {expr.n(0)}) + {expr.n(1)} REMOVE {removes}"),
            "ConditionExpression": f"attribute_exists({expr.name('pk')})"}))


def window(pagination: ListPagination | Mapping[str, Any] | None) -> Pagination:
    pg = coerce(ListPagination, pagination or {}, what="pagination")
    return paginate(pg.page, pg.per_page, default=DEFAULT_PER_PAGE)


def info(pagination: Pagination, total: int) -> PaginationInfo:
    return PaginationInfo(total=total, page=pagination.page, per_page=pagination.per_page,
                          has_more=pagination.has_more(total))


def scope(filters: DatasetTenancyFilters | Mapping[str, Any] | None) -> DatasetTenancyFilters:
    return coerce(DatasetTenancyFilters, filters or {}, what="filters")


def in_scope(item: Item, scope: DatasetTenancyFilters) -> bool:
    if scope.organization_id is not None and s(item, "organizationId") != scope.organization_id:
        return False
    return scope.project_id is None or s(item, "projectId") == scope.project_id
