"""Experiments domain (spec 3.7) on the table: experiments and their per-item results.

An experiment is the item collection ``E#<experimentId>``: the experiment item ``E`` (fields as plain
attributes, JSON fields as JSON text, plus review counters), its results ``ER#<resultId>`` (gsi1
``EX#<experimentId>`` by ``startedAt``), and one slot per ``(itemId, attempt)`` ``EK#<item>#<attempt>``
naming the result that upserts replace. A pointer ``EI#<resultId>`` resolves a result id without its
experiment. Experiments are listed through gsi3 (``EA#<shard>``, all experiments by ``createdAt``,
write-sharded) or gsi2 (``ED#<datasetId>``).

Every result write is one transaction with the experiment's counters (``resultCount``, ``needsReview``,
``reviewed``, ``complete``), so ``get_review_summary`` reads experiment items only. When the result's item
is a dataset item, the transaction also checks that the item is not purged and writes a link row into the
dataset's collection; ``purge_item`` sets the purge flag first and then follows the links, so no result can
escape the scrub (results written after the flag are stored scrubbed).
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from mastra_dynamo.dynamo.client import TableClient, TransactionCancelled, key_attr
from mastra_dynamo.dynamo.codec import (
    FieldKind,
    Item,
    check_item_size,
    decode_value,
    encode_json,
    encode_value,
)
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ConflictError, NotFoundError, ValidationError
from mastra_dynamo.pagination import Pagination, paginate
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.datasets import UNSET, DatasetTenancyFilters, ListPagination, Unset
from mastra_dynamo.records.experiments import (
    Experiment,
    ExperimentResult,
    ExperimentResultInput,
    ExperimentResultsPage,
    ExperimentReviewCounts,
    ExperimentsPage,
)
from mastra_dynamo.records.scores import PaginationInfo
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.base import MAX_CONFLICT_RETRIES, DynamoDomain
from mastra_dynamo.validate import is_list, optional_id, require_id, resolve_order

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
_UPDATABLE_EXPERIMENT = ("status", "total_items", "succeeded_count", "failed_count", "skipped_count",
                         "started_at", "completed_at", "name", "description", "metadata")


def _encode(record: Any, fields: dict[str, tuple[str, FieldKind]], *, entity: str) -> Item:
    """Attributes of the record's non-None fields (None and missing are both absent)."""
    data = record.model_dump(by_alias=False, mode="python", exclude_none=True)
    item: Item = {}
    for name, (attr, kind) in fields.items():
        if name in data:
            value = data[name]
            item[attr] = encode_value(value, kind, field=f"{entity}.{attr}")
    return item


def _decode(item: Item, fields: dict[str, tuple[str, FieldKind]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, (attr, kind) in fields.items():
        if attr in item:
            data[name] = decode_value(item[attr], kind)
    return data


def _s(item: Item, name: str) -> str | None:
    value = item.get(name)
    if value is None or "S" not in value:
        return None
    text: str = value["S"]
    return text


def _n(item: Item, name: str) -> int:
    value = item.get(name)
    return int(value["N"]) if value and "N" in value else 0


def _ttl(item: Item, attribute: str) -> int | None:
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


def _window(pagination: ListPagination | Mapping[str, Any] | None) -> Pagination:
    pg = coerce(ListPagination, pagination or {}, what="pagination")
    return paginate(pg.page, pg.per_page, default=DEFAULT_PER_PAGE)


def _info(pagination: Pagination, total: int) -> PaginationInfo:
    return PaginationInfo(total=total, page=pagination.page, per_page=pagination.per_page,
                          has_more=pagination.has_more(total))


def _scope(filters: DatasetTenancyFilters | Mapping[str, Any] | None) -> DatasetTenancyFilters:
    return coerce(DatasetTenancyFilters, filters or {}, what="filters")


def _in_scope(item: Item, scope: DatasetTenancyFilters) -> bool:
    if scope.organization_id is not None and _s(item, "organizationId") != scope.organization_id:
        return False
    return scope.project_id is None or _s(item, "projectId") == scope.project_id


class DynamoExperimentsStore(DynamoDomain):
    """Experiments and results. See docs/access-patterns.md for the requests behind each method."""

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _backoff(self, attempt: int) -> None:
        """Jittered pause after a lost race (every result write also updates its experiment's counters)."""
        self._sleep(random.uniform(0, min(0.2, 0.003 * (2 ** min(attempt, 8)))))

    # ------------------------------------------------------------------ experiments
    def _experiment_item(self, record: Experiment, *, expires_at: int | None) -> Item:
        key = keys.experiment_key(record.id)
        item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk},
                      **_encode(record, EXPERIMENT_FIELDS, entity="experiment")}
        for counter in REVIEW_COUNTERS:
            item[counter] = {"N": "0"}
        sk = keys.time_sk(record.created_at, record.id)
        item["gsi3pk"] = {"S": keys.experiments_global_pk(keys.shard_of(record.id, keys.GLOBAL_SHARDS))}
        item["gsi3sk"] = {"S": sk}
        if record.dataset_id is not None:
            item["gsi2pk"] = {"S": keys.experiments_by_dataset_pk(record.dataset_id)}
            item["gsi2sk"] = {"S": sk}
        return self.stamp(item, ENTITY_EXPERIMENT, expires_at=expires_at)

    @staticmethod
    def _decode_experiment(item: Item) -> Experiment:
        return Experiment.model_validate(_decode(item, EXPERIMENT_FIELDS))

    def create_experiment(
        self,
        *,
        id: str | None = None,
        name: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        provenance: Mapping[str, Any] | None = None,
        runner_attestation: Mapping[str, Any] | None = None,
        experiment_set_id: str | None = None,
        comparison_id: str | None = None,
        variant_id: str | None = None,
        trial_index: int | None = None,
        dataset_id: str | None = None,
        dataset_version: int | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        scorer_ids: Sequence[str] | None = None,
        total_items: int = 0,
        agent_version: str | None = None,
        organization_id: str | None = None,
        project_id: str | None = None,
    ) -> Experiment:
        """Create an experiment: status ``pending``, counters 0, ``started_at``/``completed_at`` None.
        Raises ValidationError, ConflictError EXPERIMENT_ID_CONFLICT (the id exists)."""
        experiment_id = require_id(id, field="id") if id is not None else str(uuid.uuid4())
        optional_id(dataset_id, field="dataset_id")
        now = self.now()
        record = coerce(Experiment, {
            "id": experiment_id, "name": name, "description": description, "metadata": metadata,
            "provenance": provenance, "runner_attestation": runner_attestation,
            "experiment_set_id": experiment_set_id, "comparison_id": comparison_id, "variant_id": variant_id,
            "trial_index": trial_index, "dataset_id": dataset_id, "dataset_version": dataset_version,
            "target_type": target_type, "target_id": target_id, "scorer_ids": scorer_ids, "status": "pending",
            "total_items": total_items, "agent_version": agent_version, "organization_id": organization_id,
            "project_id": project_id, "created_at": now, "updated_at": now}, what="experiment")
        item = self._experiment_item(record, expires_at=self.ttl.expires_at("experiment"))
        check_item_size(item, entity="experiment", entity_id=experiment_id)
        expr = Expr()
        t = expr.name(self.spec.ttl_attribute)
        try:
            self.table.call("PutItem", **expr.apply({
                "TableName": self.table.table_name, "Item": item,
                "ConditionExpression": (f"attribute_not_exists({expr.name('pk')}) OR "
                                        f"{t} <= {expr.n(self.ttl.now_epoch())}")}))
        except ConflictError:
            if self.table.get_item(keys.experiment_key(experiment_id)) == item:
                return record  # a resend of this very request (its answer was lost) found its own write
            raise ConflictError(f"experiment {experiment_id!r} already exists", code="EXPERIMENT_ID_CONFLICT",
                                details={"experiment_id": experiment_id}) from None
        return record

    def get_experiment_by_id(self, *, id: str,
                             filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> Experiment | None:
        """The experiment, or None when missing, expired or outside the tenancy filters."""
        require_id(id, field="id")
        item = self.alive(self.table.get_item(keys.experiment_key(id)))
        if item is None or not _in_scope(item, _scope(filters)):
            return None
        return self._decode_experiment(item)

    def update_experiment(
        self,
        *,
        id: str,
        status: str | Unset = UNSET,
        total_items: int | Unset = UNSET,
        succeeded_count: int | Unset = UNSET,
        failed_count: int | Unset = UNSET,
        skipped_count: int | Unset = UNSET,
        started_at: datetime | str | Unset | None = UNSET,
        completed_at: datetime | str | Unset | None = UNSET,
        name: str | Unset | None = UNSET,
        description: str | Unset | None = UNSET,
        metadata: Mapping[str, Any] | Unset | None = UNSET,
        filters: DatasetTenancyFilters | Mapping[str, Any] | None = None,
    ) -> Experiment:
        """Set the given fields (None clears a nullable one) with one conditional UpdateItem.
        Raises NotFoundError EXPERIMENT_NOT_FOUND (missing, expired or outside the tenancy filters)."""
        require_id(id, field="id")
        scope = _scope(filters)
        given = {k: v for k, v in {
            "status": status, "total_items": total_items, "succeeded_count": succeeded_count,
            "failed_count": failed_count, "skipped_count": skipped_count, "started_at": started_at,
            "completed_at": completed_at, "name": name, "description": description, "metadata": metadata,
        }.items() if v is not UNSET}
        for name_ in ("status", "total_items", "succeeded_count", "failed_count", "skipped_count"):
            if name_ in given and given[name_] is None:
                del given[name_]
        probe = coerce(Experiment, {"id": id, "created_at": self.now(), "updated_at": self.now(), **given},
                       what="experiment")
        expr = Expr()
        sets: list[str] = []
        removes: list[str] = []
        for field_name in given:
            attr, kind = EXPERIMENT_FIELDS[field_name]
            value = getattr(probe, field_name)
            if value is None:
                removes.append(expr.name(attr))
                continue
            if hasattr(value, "model_dump"):
                value = value.model_dump(by_alias=True, exclude_unset=True)
            sets.append(f"{expr.name(attr)} = {expr.value(encode_value(value, kind, field=attr))}")
        sets.append(f"{expr.name('updatedAt')} = {expr.s(keys.ts(self.now()))}")
        condition = [f"attribute_exists({expr.name('pk')})", self.not_expired(expr)]
        if scope.organization_id is not None:
            condition.append(f"{expr.name('organizationId')} = {expr.s(scope.organization_id)}")
        if scope.project_id is not None:
            condition.append(f"{expr.name('projectId')} = {expr.s(scope.project_id)}")
        update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            result = self.table.call("UpdateItem", **expr.apply({
                "TableName": self.table.table_name, "Key": key_attr(keys.experiment_key(id)),
                "UpdateExpression": update, "ConditionExpression": " AND ".join(condition),
                "ReturnValues": "ALL_NEW"}))
        except ConflictError:
            raise NotFoundError(f"Experiment not found: {id}", code="EXPERIMENT_NOT_FOUND",
                                details={"experiment_id": id}) from None
        return self._decode_experiment(result["Attributes"])

    def list_experiments(
        self,
        *,
        dataset_id: str | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        agent_version: str | None = None,
        status: str | None = None,
        experiment_set_id: str | None = None,
        comparison_id: str | None = None,
        variant_id: str | None = None,
        trial_index: int | None = None,
        filters: DatasetTenancyFilters | Mapping[str, Any] | None = None,
        pagination: ListPagination | Mapping[str, Any] | None = None,
        order_by: Any = None,
    ) -> ExperimentsPage:
        """Experiments matching every given filter, newest first by default (``order_by`` field createdAt
        or status; ties by id)."""
        optional_id(dataset_id, field="dataset_id")
        if trial_index is not None and (isinstance(trial_index, bool) or not isinstance(trial_index, int)):
            raise ValidationError("trial_index must be an integer", code="INVALID_INPUT")
        scope = _scope(filters)
        page = _window(pagination)
        field, direction = resolve_order(order_by, allowed=("createdAt", "status"), default_field="createdAt",
                                         default_direction="DESC", strict=True)
        if dataset_id is not None:
            queries = [listing.PartitionQuery("gsi2", "gsi2pk", "gsi2sk", keys.experiments_by_dataset_pk(dataset_id))]
        else:
            queries = [listing.PartitionQuery("gsi3", "gsi3pk", "gsi3sk", keys.experiments_global_pk(s))
                       for s in keys.all_shards(keys.GLOBAL_SHARDS)]
        equal: dict[str, str | None] = {
            "datasetId": dataset_id, "targetType": target_type, "targetId": target_id,
            "agentVersion": agent_version, "status": status, "experimentSetId": experiment_set_id,
            "comparisonId": comparison_id, "variantId": variant_id, "organizationId": scope.organization_id,
            "projectId": scope.project_id}

        def flt(expr: Expr) -> str:
            clauses = [f"{expr.name(self.spec.entity_attribute)} = {expr.s(ENTITY_EXPERIMENT)}",
                       self.not_expired(expr)]
            clauses += [f"{expr.name(a)} = {expr.s(v)}" for a, v in equal.items() if v is not None]
            if trial_index is not None:
                clauses.append(f"{expr.name('trialIndex')} = {expr.n(trial_index)}")
            return " AND ".join(clauses)

        if field == "status":
            rows = listing.collect(self.table, queries, ascending=True, filter_builder=flt, offset=0, limit=None)
            rows.sort(key=lambda r: r["id"]["S"])
            rows.sort(key=lambda r: _s(r, "status") or "", reverse=direction == "DESC")
            chosen = rows[page.offset:page.end]
            return ExperimentsPage(experiments=[self._decode_experiment(r) for r in chosen],
                                   pagination=_info(page, len(rows)))
        items, total = listing.page_with_total(self.table, queries, ascending=direction == "ASC",
                                               filter_builder=flt, offset=page.offset, limit=page.limit)
        return ExperimentsPage(experiments=[self._decode_experiment(r) for r in items],
                               pagination=_info(page, total or 0))

    def delete_experiment(self, *, id: str, filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> None:
        """Delete the experiment and all its results (idempotent; not atomic: calling again finishes an
        interrupted delete). Missing or outside the tenancy filters: no-op."""
        require_id(id, field="id")
        item = self.table.get_item(keys.experiment_key(id))
        if item is not None:
            if self.alive(item) is not None and not _in_scope(item, _scope(filters)):
                return
            self.table.call("DeleteItem", TableName=self.table.table_name, Key=key_attr(keys.experiment_key(id)))
        self._delete_children(id)

    def _delete_children(self, experiment_id: str) -> None:
        """Delete results, slots, result pointers and dataset links of an experiment."""
        query = listing.PartitionQuery(None, "pk", "sk", keys.experiment_key(experiment_id).pk,
                                       sk_between=(keys.EXPERIMENT_SLOT_PREFIX, "ER$"), consistent=True)
        expr = Expr()
        params = expr.apply({**query.params(ascending=True, expr=expr, filter_expression=None, limit=None),
                             "ProjectionExpression": ", ".join(expr.name(a) for a in (
                                 "pk", "sk", "id", "itemId", "linkDatasetId"))})
        deletes: list[Key] = []
        for row in self.table.query_items(params):
            deletes.append(Key(row["pk"]["S"], row["sk"]["S"]))
            if row["sk"]["S"].startswith(keys.EXPERIMENT_RESULT_PREFIX) and "id" in row:
                result_id = row["id"]["S"]
                deletes.append(keys.experiment_result_ref_key(result_id))
                dataset_id, item_id = _s(row, "linkDatasetId"), _s(row, "itemId")
                if dataset_id is not None and item_id is not None:
                    deletes.append(keys.dataset_item_link_key(dataset_id, item_id, experiment_id, result_id))
        self.table.batch_write(deletes=deletes)

    # ------------------------------------------------------------------ results
    def _result_item(self, record: ExperimentResult, *, rev: int, link_dataset_id: str | None,
                     expires_at: int | None) -> Item:
        key = keys.experiment_result_key(record.experiment_id, record.id)
        item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}, **_encode(record, RESULT_FIELDS, entity="result")}
        if record.tags:
            item["tagSet"] = {"SS": sorted(set(record.tags))}
        if link_dataset_id is not None:
            item["linkDatasetId"] = {"S": link_dataset_id}
        item[self.spec.revision_attribute] = {"N": str(rev)}
        item["gsi1pk"] = {"S": keys.experiment_results_pk(record.experiment_id)}
        item["gsi1sk"] = {"S": keys.time_sk(record.started_at, record.id)}
        item = self.stamp(item, ENTITY_RESULT, expires_at=expires_at)
        check_item_size(item, entity="experiment result", entity_id=record.id)
        return item

    @staticmethod
    def _decode_result(item: Item) -> ExperimentResult:
        return ExperimentResult.model_validate(_decode(item, RESULT_FIELDS))

    def add_experiment_result(
        self,
        *,
        experiment_id: str,
        item_id: str,
        input: Any = None,
        output: Any = None,
        ground_truth: Any = None,
        metadata: Mapping[str, Any] | None = None,
        error: Mapping[str, Any] | None = None,
        started_at: datetime | str | None = None,
        completed_at: datetime | str | None = None,
        retry_count: int = 0,
        attempt: int = 0,
        trace_id: str | None = None,
        status: str | None = None,
        tags: Sequence[str] | None = None,
        tool_mock_report: Any = None,
        item_dataset_version: int | None = None,
        organization_id: str | None = None,
        project_id: str | None = None,
        id: str | None = None,
    ) -> ExperimentResult:
        """Add a result (``id`` optional; ``started_at``/``completed_at`` default to now; tenancy defaults to
        the experiment's). When the item is a purged dataset item, the payload fields (input, output, ground
        truth, error, tags, tool mock report) are stored as None and ``metadata`` is the purge marker.

        Raises: NotFoundError EXPERIMENT_NOT_FOUND; ConflictError EXPERIMENT_RESULT_ID_CONFLICT;
        ValidationError (INVALID_INPUT, INVALID_JSON, EXPERIMENT_TENANCY_MISMATCH)."""
        data = coerce(ExperimentResultInput, {
            "id": id, "experiment_id": experiment_id, "item_id": item_id, "input": input, "output": output,
            "ground_truth": ground_truth, "metadata": metadata, "error": error, "started_at": started_at,
            "completed_at": completed_at, "retry_count": retry_count, "attempt": attempt, "trace_id": trace_id,
            "status": status, "tags": tags, "tool_mock_report": tool_mock_report,
            "item_dataset_version": item_dataset_version, "organization_id": organization_id,
            "project_id": project_id}, what="result")
        return self._write_result(data, upsert=False)

    def upsert_experiment_result(
        self,
        *,
        experiment_id: str,
        item_id: str,
        input: Any = None,
        output: Any = None,
        ground_truth: Any = None,
        metadata: Mapping[str, Any] | None = None,
        error: Mapping[str, Any] | None = None,
        started_at: datetime | str | None = None,
        completed_at: datetime | str | None = None,
        retry_count: int = 0,
        attempt: int = 0,
        trace_id: str | None = None,
        status: str | None = None,
        tags: Sequence[str] | None = None,
        tool_mock_report: Any = None,
        item_dataset_version: int | None = None,
        organization_id: str | None = None,
        project_id: str | None = None,
        id: str | None = None,
    ) -> ExperimentResult:
        """Insert, or replace the result keyed by ``(experiment_id, item_id, attempt)``: a replacement keeps
        the stored ``id``, ``created_at`` and ``comment`` (``id`` is used only for an insert). Same purge rule
        and errors as ``add_experiment_result``; concurrent upserts of one key converge on one result."""
        data = coerce(ExperimentResultInput, {
            "id": id, "experiment_id": experiment_id, "item_id": item_id, "input": input, "output": output,
            "ground_truth": ground_truth, "metadata": metadata, "error": error, "started_at": started_at,
            "completed_at": completed_at, "retry_count": retry_count, "attempt": attempt, "trace_id": trace_id,
            "status": status, "tags": tags, "tool_mock_report": tool_mock_report,
            "item_dataset_version": item_dataset_version, "organization_id": organization_id,
            "project_id": project_id}, what="result")
        return self._write_result(data, upsert=True)

    def _write_result(self, data: ExperimentResultInput, *, upsert: bool) -> ExperimentResult:
        require_id(data.experiment_id, field="experiment_id")
        require_id(data.item_id, field="item_id")
        if data.id is not None:
            require_id(data.id, field="id")
        for name in ("trace_id", "organization_id", "project_id"):
            optional_id(getattr(data, name), field=name)
        if data.attempt < 0 or data.retry_count < 0:
            raise ValidationError("attempt and retry_count must be >= 0", code="INVALID_INPUT")
        exp_key = keys.experiment_key(data.experiment_id)
        ref_key = keys.dataset_item_ref_key(data.item_id)
        slot_key = keys.experiment_result_slot_key(data.experiment_id, data.item_id, data.attempt)
        for attempt in range(MAX_WRITE_ATTEMPTS):
            if attempt:
                self._backoff(attempt)
            found = self.table.batch_get([exp_key, ref_key, slot_key])
            experiment = self.alive(found.get((exp_key.pk, exp_key.sk)))
            if experiment is None:
                raise NotFoundError(f"Experiment not found: {data.experiment_id}", code="EXPERIMENT_NOT_FOUND",
                                    details={"experiment_id": data.experiment_id})
            pointer = self.alive(found.get((ref_key.pk, ref_key.sk)))
            slot = self.alive(found.get((slot_key.pk, slot_key.sk)))
            existing: Item | None = None
            if upsert and slot is not None:
                existing = self.alive(self.table.get_item(
                    keys.experiment_result_key(data.experiment_id, slot["resultId"]["S"])))
            try:
                return self._try_write(data, experiment, pointer, slot, existing, upsert=upsert)
            except _Again:
                continue
        raise ConflictError("experiment result: too much contention; retry",
                            details={"experiment_id": data.experiment_id, "item_id": data.item_id})

    def _try_write(self, data: ExperimentResultInput, experiment: Item, pointer: Item | None, slot: Item | None,
                   existing: Item | None, *, upsert: bool) -> ExperimentResult:
        now = self.now()
        organization_id = data.organization_id or _s(experiment, "organizationId")
        project_id = data.project_id or _s(experiment, "projectId")
        for given, owned, label in ((data.organization_id, _s(experiment, "organizationId"), "organization_id"),
                                    (data.project_id, _s(experiment, "projectId"), "project_id")):
            if given is not None and owned is not None and given != owned:
                raise ValidationError(f"result {label} differs from the experiment's",
                                      code="EXPERIMENT_TENANCY_MISMATCH",
                                      details={"experiment_id": data.experiment_id, "field": label})
        values = data.model_dump(exclude={"id"})
        values.update(organization_id=organization_id, project_id=project_id,
                      started_at=data.started_at or now, completed_at=data.completed_at or now)
        purged = pointer is not None and pointer.get("purged", {}).get("BOOL", False)
        if purged:
            purged_at = _s(pointer, "purgedAt") if pointer is not None else None
            values.update(input=None, output=None, ground_truth=None, error=None, tags=None, tool_mock_report=None,
                          metadata={"__purged": True, "purgedAt": purged_at})
        if existing is not None:
            values.update(id=existing["id"]["S"], created_at=decode_value(existing["createdAt"], "datetime"),
                          comment=_s(existing, "comment"))
        else:
            values.update(id=data.id or str(uuid.uuid4()), created_at=now, comment=None)
        record = coerce(ExperimentResult, values, what="result")
        link_dataset = _s(pointer, "datasetId") if pointer is not None else None
        expires_at = _ttl(experiment, self.spec.ttl_attribute)
        rev = (_n(existing, self.spec.revision_attribute) + 1) if existing is not None else 1
        item = self._result_item(record, rev=rev, link_dataset_id=link_dataset, expires_at=expires_at)
        actions: list[dict[str, Any]] = []
        roles: list[str] = []

        def add(role: str, action: dict[str, Any]) -> None:
            roles.append(role)
            actions.append(action)

        if existing is not None:
            expr = Expr()
            old_rev = existing.get(self.spec.revision_attribute)
            rev_name = expr.name(self.spec.revision_attribute)
            cond = f"{rev_name} = {expr.value(old_rev)}" if old_rev else f"attribute_not_exists({rev_name})"
            add("result", {"Put": expr.apply({"Item": item, "ConditionExpression": cond})})
        else:
            add("result", {"Put": self._create(item)})
            ref = self.stamp({**key_attr(keys.experiment_result_ref_key(record.id)),
                              "experimentId": {"S": record.experiment_id}, "itemId": {"S": record.item_id},
                              "attempt": {"N": str(record.attempt)}}, ENTITY_RESULT_REF, expires_at=expires_at)
            add("ref", {"Put": self._create(ref)})
            add("slot", self._slot_action(record, slot, expires_at, upsert=upsert))
        if pointer is not None and link_dataset is not None and not purged:
            expr = Expr()
            add("item", {"ConditionCheck": expr.apply({
                "Key": key_attr(keys.dataset_item_ref_key(record.item_id)),
                "ConditionExpression": (f"attribute_exists({expr.name('pk')}) AND "
                                        f"attribute_not_exists({expr.name('purged')})")})})
            link = self.stamp({**key_attr(keys.dataset_item_link_key(link_dataset, record.item_id,
                                                                     record.experiment_id, record.id)),
                               "datasetId": {"S": link_dataset}, "itemId": {"S": record.item_id},
                               "experimentId": {"S": record.experiment_id}, "resultId": {"S": record.id}},
                              ENTITY_ITEM_LINK, expires_at=_ttl(pointer, self.spec.ttl_attribute))
            add("link", {"Put": {"Item": link}})
        old_status = _s(existing, "status") if existing is not None else None
        deltas: dict[str, int] = {} if existing is not None else {"resultCount": 1}
        if old_status in STATUS_COUNTERS:
            deltas[STATUS_COUNTERS[old_status]] = deltas.get(STATUS_COUNTERS[old_status], 0) - 1
        if record.status in STATUS_COUNTERS:
            deltas[STATUS_COUNTERS[record.status]] = deltas.get(STATUS_COUNTERS[record.status], 0) + 1
        add("experiment", self._counters(record.experiment_id, deltas))
        try:
            self.table.transact_write(actions)
        except TransactionCancelled as exc:
            failed = {roles[i] for i, r in enumerate(exc.reasons) if r == "ConditionalCheckFailed" and i < len(roles)}
            if existing is None and data.id is not None and failed & {"result", "ref"}:
                raise ConflictError(f"experiment result {data.id!r} already exists",
                                    code="EXPERIMENT_RESULT_ID_CONFLICT", details={"result_id": data.id}) from None
            if not any(r in ("ConditionalCheckFailed", "TransactionConflict") for r in exc.reasons if r):
                raise
            raise _Again() from None
        return record

    def _create(self, item: Item) -> dict[str, Any]:
        expr = Expr()
        return expr.apply({"Item": item, "ConditionExpression":
                           f"attribute_not_exists({expr.name('pk')}) OR NOT {self.not_expired(expr)}"})

    def _slot_action(self, record: ExperimentResult, slot: Item | None, expires_at: int | None, *,
                     upsert: bool) -> dict[str, Any]:
        """The slot of (experiment, item, attempt) names the newest result; an upsert creates it only if it is
        still the way it was read (absent, or pointing at a result that no longer exists)."""
        key = keys.experiment_result_slot_key(record.experiment_id, record.item_id, record.attempt)
        expr = Expr()
        sets = [f"{expr.name('resultId')} = {expr.s(record.id)}", f"{expr.name('itemId')} = {expr.s(record.item_id)}",
                f"{expr.name('attempt')} = {expr.n(record.attempt)}",
                f"{expr.name(self.spec.entity_attribute)} = {expr.s(ENTITY_SLOT)}",
                f"{expr.name(self.spec.schema_version_attribute)} = {expr.n(self.spec.schema_version)}"]
        if expires_at is not None:
            sets.append(f"{expr.name(self.spec.ttl_attribute)} = {expr.n(expires_at)}")
        update = "SET " + ", ".join(sets) + f" ADD {expr.name('resultIds')} {expr.value({'SS': [record.id]})}"
        params: dict[str, Any] = {"Key": key_attr(key), "UpdateExpression": update}
        if upsert:
            if slot is None:
                params["ConditionExpression"] = (f"attribute_not_exists({expr.name('pk')}) OR "
                                                 f"NOT {self.not_expired(expr)}")
            else:
                params["ConditionExpression"] = f"{expr.name('resultId')} = {expr.value(slot['resultId'])}"
        return {"Update": expr.apply(params)}

    def _counters(self, experiment_id: str, deltas: Mapping[str, int]) -> dict[str, Any]:
        expr = Expr()
        condition = f"attribute_exists({expr.name('pk')}) AND {self.not_expired(expr)}"
        adds = [f"{expr.name(attr)} {expr.n(delta)}" for attr, delta in deltas.items() if delta]
        key = key_attr(keys.experiment_key(experiment_id))
        if not adds:
            return {"ConditionCheck": expr.apply({"Key": key, "ConditionExpression": condition})}
        return {"Update": expr.apply({"Key": key, "UpdateExpression": "ADD " + ", ".join(adds),
                                      "ConditionExpression": condition})}

    def update_experiment_result(
        self,
        *,
        id: str,
        experiment_id: str | None = None,
        status: str | Unset | None = UNSET,
        tags: Sequence[str] | Unset | None = UNSET,
        comment: str | Unset | None = UNSET,
    ) -> ExperimentResult:
        """Change a result's review fields (None clears; ``comment=None`` removes the comment).
        Raises NotFoundError EXPERIMENT_RESULT_NOT_FOUND (missing, or of another experiment)."""
        require_id(id, field="id")
        if experiment_id is not None:
            require_id(experiment_id, field="experiment_id")
        ref = self.alive(self.table.get_item(keys.experiment_result_ref_key(id)))
        owner = _s(ref, "experimentId") if ref is not None else None
        if owner is None or (experiment_id is not None and owner != experiment_id):
            raise NotFoundError(f"Experiment result not found: {id}", code="EXPERIMENT_RESULT_NOT_FOUND",
                                details={"result_id": id})
        for attempt in range(MAX_CONFLICT_RETRIES * 4):
            if attempt:
                self._backoff(attempt)
            stored = self.alive(self.table.get_item(keys.experiment_result_key(owner, id)))
            if stored is None:
                raise NotFoundError(f"Experiment result not found: {id}", code="EXPERIMENT_RESULT_NOT_FOUND",
                                    details={"result_id": id})
            current = self._decode_result(stored)
            given = {name: value for name, value in (("status", status), ("tags", tags), ("comment", comment))
                     if value is not UNSET}
            data = current.model_dump()
            data.update({k: (list(v) if k == "tags" and v is not None else v) for k, v in given.items()})
            record = coerce(ExperimentResult, data, what="result")
            expr = Expr()
            sets: list[str] = []
            removes: list[str] = []
            for name in given:
                value = getattr(record, name)
                if value is None:
                    removes.append(expr.name(name))
                else:
                    kind = RESULT_FIELDS[name][1]
                    sets.append(f"{expr.name(name)} = {expr.value(encode_value(value, kind, field=name))}")
            if "tags" in given:
                if record.tags:
                    sets.append(f"{expr.name('tagSet')} = {expr.value({'SS': sorted(set(record.tags))})}")
                else:
                    removes.append(expr.name("tagSet"))
            rev = expr.name(self.spec.revision_attribute)
            old_rev = stored.get(self.spec.revision_attribute)
            sets.append(f"{rev} = if_not_exists({rev}, {expr.n(0)}) + {expr.n(1)}")
            update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
            cond = f"{rev} = {expr.value(old_rev)}" if old_rev else f"attribute_not_exists({rev})"
            actions: list[dict[str, Any]] = [{"Update": expr.apply({
                "Key": key_attr(keys.experiment_result_key(owner, id)), "UpdateExpression": update,
                "ConditionExpression": cond})}]
            deltas: dict[str, int] = {}
            if current.status != record.status:
                if current.status in STATUS_COUNTERS:
                    deltas[STATUS_COUNTERS[current.status]] = -1
                if record.status in STATUS_COUNTERS:
                    deltas[STATUS_COUNTERS[record.status]] = 1
            if deltas:
                actions.append(self._counters(owner, deltas))
            try:
                self.table.transact_write(actions)
            except TransactionCancelled as exc:
                if not any(r in ("ConditionalCheckFailed", "TransactionConflict") for r in exc.reasons if r):
                    raise
                if len(exc.reasons) > 1 and exc.reasons[1] == "ConditionalCheckFailed":
                    raise NotFoundError(f"Experiment not found: {owner}", code="EXPERIMENT_NOT_FOUND",
                                        details={"experiment_id": owner}) from None
                continue
            return record
        raise ConflictError(f"update_experiment_result: too much contention on {id!r}; retry",
                            details={"result_id": id})

    def get_experiment_result_by_id(self, *, id: str, filters: DatasetTenancyFilters | Mapping[str, Any] | None = None
                                    ) -> ExperimentResult | None:
        """The result, or None when missing, expired or outside the tenancy filters."""
        require_id(id, field="id")
        scope = _scope(filters)
        ref = self.alive(self.table.get_item(keys.experiment_result_ref_key(id)))
        owner = _s(ref, "experimentId") if ref is not None else None
        if owner is None:
            return None
        stored = self.alive(self.table.get_item(keys.experiment_result_key(owner, id)))
        if stored is None or not _in_scope(stored, scope):
            return None
        return self._decode_result(stored)

    def list_experiment_results(
        self,
        *,
        experiment_id: str,
        trace_id: str | None = None,
        status: str | None = None,
        tags: Sequence[str] | None = None,
        filters: DatasetTenancyFilters | Mapping[str, Any] | None = None,
        pagination: ListPagination | Mapping[str, Any] | None = None,
        order_by: Any = None,
    ) -> ExperimentResultsPage:
        """Results of an experiment (by ``startedAt`` ascending by default; ``order_by`` field startedAt or
        createdAt). ``tags``: results carrying all of them."""
        require_id(experiment_id, field="experiment_id")
        if tags is not None and not is_list(tags):
            raise ValidationError("tags must be a list", code="INVALID_INPUT")
        scope = _scope(filters)
        page = _window(pagination)
        field, direction = resolve_order(order_by, allowed=("startedAt", "createdAt"), default_field="startedAt",
                                         default_direction="ASC", strict=True)
        equal = {"traceId": trace_id, "status": status, "organizationId": scope.organization_id,
                 "projectId": scope.project_id}

        def flt(expr: Expr) -> str:
            clauses = [f"{expr.name(self.spec.entity_attribute)} = {expr.s(ENTITY_RESULT)}", self.not_expired(expr)]
            clauses += [f"{expr.name(a)} = {expr.s(v)}" for a, v in equal.items() if v is not None]
            clauses += [f"contains({expr.name('tagSet')}, {expr.s(t)})" for t in (tags or [])]
            return " AND ".join(clauses)

        if field == "createdAt":
            query = listing.PartitionQuery(None, "pk", "sk", keys.experiment_key(experiment_id).pk,
                                           sk_prefix=keys.EXPERIMENT_RESULT_PREFIX, consistent=True)
            rows = listing.collect(self.table, [query], ascending=True, filter_builder=flt, offset=0, limit=None)
            rows.sort(key=lambda r: f"{r['createdAt']['S']}#{keys.component(r['id']['S'])}",
                      reverse=direction == "DESC")
            return ExperimentResultsPage(results=[self._decode_result(r) for r in rows[page.offset:page.end]],
                                         pagination=_info(page, len(rows)))
        queries = [listing.PartitionQuery("gsi1", "gsi1pk", "gsi1sk", keys.experiment_results_pk(experiment_id))]
        items, total = listing.page_with_total(self.table, queries, ascending=direction == "ASC", filter_builder=flt,
                                               offset=page.offset, limit=page.limit)
        return ExperimentResultsPage(results=[self._decode_result(r) for r in items],
                                     pagination=_info(page, total or 0))

    def delete_experiment_results(self, *, experiment_id: str,
                                  filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> None:
        """Delete every result of an experiment and reset its review counters. With tenancy filters, an
        experiment that is missing or outside them is left alone. Not atomic; idempotent."""
        require_id(experiment_id, field="experiment_id")
        scope = _scope(filters)
        if scope.organization_id is not None or scope.project_id is not None:
            parent = self.alive(self.table.get_item(keys.experiment_key(experiment_id)))
            if parent is None or not _in_scope(parent, scope):
                return
        self._delete_children(experiment_id)
        expr = Expr()
        sets = ", ".join(f"{expr.name(c)} = {expr.n(0)}" for c in REVIEW_COUNTERS)
        with contextlib.suppress(ConflictError):  # the experiment itself is gone
            self.table.call("UpdateItem", **expr.apply({
                "TableName": self.table.table_name, "Key": key_attr(keys.experiment_key(experiment_id)),
                "UpdateExpression": f"SET {sets}", "ConditionExpression": f"attribute_exists({expr.name('pk')})"}))

    def get_review_summary(self, *, filters: DatasetTenancyFilters | Mapping[str, Any] | None = None
                           ) -> list[ExperimentReviewCounts]:
        """Per experiment with results: ``{experiment_id, total, needs_review, reviewed, complete}`` (from
        counters kept in the same transactions as the results)."""
        scope = _scope(filters)
        queries = [listing.PartitionQuery("gsi3", "gsi3pk", "gsi3sk", keys.experiments_global_pk(s))
                   for s in keys.all_shards(keys.GLOBAL_SHARDS)]

        def flt(expr: Expr) -> str:
            clauses = [f"{expr.name(self.spec.entity_attribute)} = {expr.s(ENTITY_EXPERIMENT)}",
                       self.not_expired(expr), f"{expr.name('resultCount')} > {expr.n(0)}"]
            for attr, value in (("organizationId", scope.organization_id), ("projectId", scope.project_id)):
                if value is not None:
                    clauses.append(f"{expr.name(attr)} = {expr.s(value)}")
            return " AND ".join(clauses)

        rows = listing.collect(self.table, queries, ascending=True, filter_builder=flt, offset=0, limit=None)
        return [ExperimentReviewCounts(experiment_id=r["id"]["S"], total=_n(r, "resultCount"),
                                       needs_review=_n(r, "needsReview"), reviewed=_n(r, "reviewed"),
                                       complete=_n(r, "complete")) for r in rows]

    def dangerously_clear_all(self) -> None:
        """Delete every experiment item of this table. Admin only: reads the whole table with a Scan."""
        from mastra_dynamo.admin import scan_entities  # admin: not a request path

        self.table.batch_write(deletes=list(scan_entities(
            self.table, (ENTITY_EXPERIMENT, ENTITY_RESULT, ENTITY_SLOT, ENTITY_RESULT_REF, ENTITY_ITEM_LINK))))


class _Again(Exception):
    """Internal: a result write lost a race; read again."""


__all__ = ["DynamoExperimentsStore", "scrub_result"]
